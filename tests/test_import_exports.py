"""Imports as exports really look: merged cells, subtotal and footer rows, cover
sheets, mixed encodings, and every problem of a file listed in one pass."""

import json
import sqlite3
from pathlib import Path

import openpyxl

from conftest import UNIT_HEADER, Invoke, unplaced, write_csv, write_xlsx
from cuijiao.ingest.readers import open_source

CHARGE_HEADER = ["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]


def count(db: Path, sql: str) -> object:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchone()[0]


def merged_units_workbook(path: Path) -> Path:
    """楼栋 merged down each block, a subtotal and footers, as a billing system prints it."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "业主"
    sheet.append(["翠湖花园业主资料"])
    sheet.merge_cells("A1:F1")
    sheet.append(UNIT_HEADER)
    sheet.append(["1-101", "1栋", "张三", "13800138000", "89.5", ""])
    sheet.append(["1-102", None, "李四", "13900139000", "120", ""])
    sheet.append(["1-103", None, "赵六", "13700137000", "95", ""])
    sheet.merge_cells("B3:B5")
    sheet.append(["1栋小计", None, None, None, "304.5", None])
    sheet.append(["2-201", "2栋", "王五", "", "75.25", ""])
    sheet.append(["2-202", None, "孙七", "", "80", ""])
    sheet.merge_cells("B7:B8")
    sheet.append(["", "小计：", "", "", "155.25", ""])
    sheet.append(["合 计", "", "", "", "459.75", ""])
    sheet.append(["总计", "", "", "", "459.75", ""])
    sheet.append([])
    sheet.append(["制表人：王会计", "", "审核：李经理", "", "", ""])
    sheet.append(["打印日期：2025-02-01"])
    workbook.save(path)
    return path


def test_merged_cells_take_the_merged_value(cli: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    path = merged_units_workbook(tmp_path / "units.xlsx")
    result = cli("--json", "import", "units", str(path))
    assert result.exit_code == 0, result.output
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        buildings = db.execute("SELECT unit_id, building FROM units ORDER BY unit_id").fetchall()
    assert buildings == [("1-101", "1栋"), ("1-102", "1栋"), ("1-103", "1栋"), ("2-201", "2栋"), ("2-202", "2栋")]
    report = json.loads(result.output)["files"][0]
    assert report["totals_rows"] == [6, 9, 10, 11]
    assert report["footer_rows"] == [13, 14]


def test_subtotal_in_any_column_and_footers_in_csv(with_units: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [
        CHARGE_HEADER,
        ["1-101", "物业费", "2025-01", "2025-01-10", "161.10"],
        ["", "1栋小计", "", "", "161.10"],
        ["1-102", "物业费", "2025-01", "2025-01-10", "120.00"],
        ["", "", "", "合 计", "281.10"],
        ["制表人：王会计", "", "审核：李经理"],
        ["打印日期 2025-02-01"],
    ])
    result = with_units("import", "charges", str(path))
    assert result.exit_code == 0, result.stderr
    assert "跳过合计行 2" in result.output
    assert "跳过表尾 2" in result.output
    assert count(workspace_dir / "cuijiao.db", "SELECT count(*) FROM charges") == 2


def test_a_formula_without_its_result_is_named_not_read_as_empty(with_units: Invoke, tmp_path: Path,
                                                                  workspace_dir: Path) -> None:
    """A workbook a program wrote (openpyxl here) holds formulas but not their results: the amount is
    not "missing", it was never calculated. The clerk is told so, at the cell, and what to do."""
    path = write_xlsx(tmp_path / "应收.xlsx", [
        CHARGE_HEADER,
        ["1-101", "物业费", "2025-01", "2025-01-10", "=80+81.1"],
        ["1-102", "物业费", "2025-01", "2025-01-10", 120],
        ["合计", "", "", "", "=SUM(E2:E3)"],  # a totals row is still told by its 合计
    ])
    result = with_units("import", "charges", str(path))
    assert result.exit_code == 2, result.output
    assert "应收.xlsx[Sheet1]:2:应收金额: 是公式（=80+81.1），文件中没有保存它的计算结果" in result.stderr
    assert "请用 Excel 或 WPS 打开该文件、保存后再导入" in result.stderr
    assert "为空" not in result.stderr and ":4:" not in result.stderr
    assert count(workspace_dir / "cuijiao.db", "SELECT count(*) FROM charges") == 0


def test_cover_sheet_first_names_the_sheet_with_the_columns(cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    workbook = openpyxl.Workbook()
    cover = workbook.active
    cover.title = "说明"
    cover.append(["本表由收费系统导出，数据在第二页"])
    cover.append(["导出人：王会计"])
    workbook.create_sheet("汇总").append(["楼栋", "户数"])
    data = workbook.create_sheet("明细")
    data.append(UNIT_HEADER)
    data.append(["1-101", "1栋", "张三", "13800138000", "89.5", ""])
    workbook.save(path)
    result = cli("import", "units", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "export.xlsx: 第一个工作表“说明”中没有找到房屋业主表头（工作表：说明、汇总、明细）；"
        "表头在工作表“明细”中，请加 --sheet 明细"
    )
    assert cli("import", "units", "--sheet", "明细", str(path)).exit_code == 0


def test_mixed_encodings_are_refused_at_the_first_foreign_line(cli: Invoke, tmp_path: Path,
                                                               workspace_dir: Path) -> None:
    typed_later = "2-201,二栋,王五,,75.25,\n".encode()  # typed into the file with a UTF-8 editor
    assert typed_later.decode("gb18030") != typed_later.decode()  # GB18030 reads it, as mojibake
    gb_first = tmp_path / "gb_then_utf8.csv"
    gb_first.write_bytes(
        ",".join(UNIT_HEADER).encode("gb18030") + b"\n"
        + "1-101,1栋,张三,13800138000,89.5,\n".encode("gb18030")
        + "1-102,1栋,李四,13900139000,120,\n".encode("gb18030")
        + typed_later
    )
    result = cli("import", "units", str(gb_first))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "gb_then_utf8.csv:4: 文件混用了两种编码：前面的行是 GB18030，这一行是 UTF-8。"
        "请在 Excel 中打开后另存为一种编码再导入"
    )
    utf8_first = tmp_path / "utf8_then_gb.csv"
    utf8_first.write_bytes(
        ",".join(UNIT_HEADER).encode() + b"\n"
        + "1-101,1栋,张三,13800138000,89.5,\n".encode()
        + "1-102,1栋,李四,13900139000,120,\n".encode("gb18030")
    )
    result = cli("import", "units", str(utf8_first))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "utf8_then_gb.csv:3: 文件混用了两种编码：前面的行是 UTF-8，这一行无法按 UTF-8 解码（可能是 GB18030）。"
        "请在 Excel 中打开后另存为一种编码再导入"
    )
    assert count(workspace_dir / "cuijiao.db", "SELECT count(*) FROM units") == 0


def test_detected_encoding_is_in_the_summary(cli: Invoke, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u.csv", [UNIT_HEADER, ["1-101", "1栋", "张三", "", "89.5", ""]])
    result = cli("import", "units", str(path))
    assert result.exit_code == 0, result.stderr
    assert "编码 GB18030" in result.output
    assert open_source(path).encoding == "gb18030"


def test_every_problem_in_one_pass(with_units: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    first = write_csv(tmp_path / "jan.csv", [CHARGE_HEADER, ["1-101", "物业费", "2025-01", "2025-01-10", "161.10"]])
    assert with_units("import", "charges", str(first)).exit_code == 0
    bad = write_csv(tmp_path / "feb.csv", [
        CHARGE_HEADER,
        ["1-101", "物业费", "2025-02", "2025-02-10", "五十元"],      # a cell error
        ["1-102", "物业费", "2025-02", "2025-02-10", "120.00"],
        ["1-102", "物业费", "2025-02", "2025-02-10", "120.00"],     # a duplicate within the import
        ["1-101", "物业费", "2025-01", "2025-01-10", "170.00"],     # a conflict with a stored row
        ["2-201", "水费", "2025-01", "2025-01-10", "-20"],          # an adjustment with nothing to adjust
    ])
    result = with_units("import", "charges", str(bad))
    assert result.exit_code == 2
    assert unplaced(result.stderr).splitlines() == [
        "feb.csv:2:应收金额: 金额“五十元”无法识别，应为数字，如 1,234.50",
        "feb.csv:4: 与第 3 行重复（同一身份：账单号，或房号+收费项目+所属期间）",
        "feb.csv:5: 与已导入的记录冲突：金额 161.10 → 170.00（确认以本文件为准请加 --replace）",
        "feb.csv:6: 负数金额是减免/红冲，但没有找到要冲减的应收（2-201 水费 2025-01）",
        "共 4 个错误，未导入任何数据",
    ]
    assert count(workspace_dir / "cuijiao.db", "SELECT count(*) FROM charges") == 1


def test_every_problem_in_one_pass_into_an_empty_table(with_units: Invoke, tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "c.csv", [
        CHARGE_HEADER,
        ["1-101", "物业费", "2025-02", "2025-02-10", "五十元"],
        ["1-102", "物业费", "2025-02", "2025-02-10", "120.00"],
        ["1-102", "物业费", "2025-02", "2025-02-10", "120.00"],
        ["2-201", "水费", "2025-01", "2025-01-10", "-20"],
    ])
    result = with_units("import", "charges", str(bad))
    assert unplaced(result.stderr).splitlines() == [
        "c.csv:2:应收金额: 金额“五十元”无法识别，应为数字，如 1,234.50",
        "c.csv:4: 与第 3 行重复（同一身份：账单号，或房号+收费项目+所属期间）",
        "c.csv:5: 负数金额是减免/红冲，但没有找到要冲减的应收（2-201 水费 2025-01）",
        "共 3 个错误，未导入任何数据",
    ]


def test_the_import_table_counts_totals_rows(with_units: Invoke, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [
        CHARGE_HEADER,
        ["1-101", "物业费", "2025-01", "2025-01-10", "161.10"],
        ["", "1栋小计", "", "", "161.10"],
        ["1-102", "物业费", "2025-01", "2025-01-10", "120.00"],
        ["", "", "", "合 计", "281.10"],
    ])
    result = with_units("import", "charges", str(path))
    assert result.exit_code == 0, result.stderr
    row = next(line for line in result.output.splitlines() if "c.csv" in line)
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells == ["c.csv", "2", "2", "0", "0", "0", "2", "0"]  # 合计行 is a count, not row numbers
