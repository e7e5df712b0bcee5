"""Hostile and runaway cells: control characters, lengths, magnitudes, dates,
CSV fields past the csv module's limit, workbooks that claim absurd sizes."""

import csv
import sqlite3
import zipfile
from pathlib import Path

import openpyxl
import pytest

from conftest import UNIT_HEADER, Invoke, unplaced, write_csv, write_xlsx

CHARGE_HEADER = ["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]


def count(db: Path, sql: str) -> object:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchone()[0]


@pytest.mark.parametrize(("character", "code"), [
    ("\x1b", "U+001B"), ("\u202e", "U+202E"), ("\u200b", "U+200B"), ("\ufeff", "U+FEFF"), ("\x85", "U+0085"),
])
def test_control_characters_in_ids_and_names_are_refused(cli: Invoke, tmp_path: Path, workspace_dir: Path,
                                                         character: str, code: str) -> None:
    path = write_csv(tmp_path / "u.csv", [
        UNIT_HEADER,
        [f"1-10{character}1", "1栋", "张三", "", "89.5", ""],
        ["1-102", "1栋", f"李{character}四", "", "89.5", ""],
    ], "utf-8-sig")
    result = cli("import", "units", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        f"u.csv:2:房号: 房号含有不可见的控制字符（{code}），请在原文件中删除后再导入",
        f"u.csv:3:业主姓名: 业主姓名含有不可见的控制字符（{code}），请在原文件中删除后再导入",
    ]
    assert "李" not in result.stderr  # the name itself is not echoed
    assert count(workspace_dir / "cuijiao.db", "SELECT count(*) FROM units") == 0


def test_nul_in_a_csv_is_located(cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_bytes((",".join(UNIT_HEADER) + "\n1-101,1栋,张\x00三,,89.5,\n").encode())
    result = cli("import", "units", str(path))
    assert (result.exit_code, result.stderr.splitlines()[0]) == (
        2, "u.csv:2: 含有空字符（NUL），不是 CSV 或 Excel（.xlsx）文件，无法导入")


def test_control_characters_in_free_text_are_removed(cli: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    path = write_csv(tmp_path / "u.csv", [
        [*UNIT_HEADER, "通讯地址"],
        ["1-101", "1栋", "张三", "", "89.5", "出租\u200b", "翠湖路\x1b[31m1号\u202e"],
    ], "utf-8-sig")
    assert cli("import", "units", str(path)).exit_code == 0
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        assert db.execute("SELECT tags, address FROM units").fetchone() == ('["出租"]', "翠湖路[31m1号")


def test_cells_past_their_length_limit(cli: Invoke, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u.csv", [
        [*UNIT_HEADER, "通讯地址"],
        ["1" * 65, "1栋", "张三", "", "89.5", "", ""],
        ["1-102", "栋" * 201, "李四", "", "89.5", "", ""],
        ["1-103", "1栋", "王五", "", "89.5", "", "路" * 2001],
    ], "utf-8-sig")
    result = cli("import", "units", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:3] == [
        "u.csv:2:房号: 房号有 65 个字符，超过上限 64",
        "u.csv:3:楼栋: 楼栋有 201 个字符，超过上限 200",
        "u.csv:4:通讯地址: 通讯地址有 2,001 个字符，超过上限 2,000",
    ]


def test_length_limits_are_configurable(cli: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    config = workspace_dir / "cuijiao.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "[import]\n", "[import]\nmax_id_chars = 5\nmax_name_chars = 300\n"), encoding="utf-8")
    path = write_csv(tmp_path / "u.csv", [UNIT_HEADER, ["1-1-101", "栋" * 250, "张三", "", "89.5", ""]])
    result = cli("import", "units", str(path))
    assert unplaced(result.stderr).splitlines() == ["u.csv:2:房号: 房号有 7 个字符，超过上限 5",
                                                    "共 1 个错误，未导入任何数据"]


def test_csv_field_past_the_csv_limit(cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_bytes((",".join(UNIT_HEADER) + "\n1-101,1栋,\"" + "张" * (csv.field_size_limit() + 10)
                      + "\",,89.5,\n").encode())
    result = cli("import", "units", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "u.csv:2: 单元格超过 131,072 个字符，无法读取（不是正常的收费系统导出）"


def test_amounts_areas_and_dates_out_of_range(with_units: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    write_xlsx(path, [
        CHARGE_HEADER,
        ["1-101", "物业费", "2025-01", "2025-01-10", 1e13],
        ["1-101", "物业费", "2025-02", "2025-02-10", 12345],
        ["1-101", "物业费", "2025-03", "2025-03-10", 1e300],
        ["1-101", "物业费", "2025-04", "2200-04-10", "10"],
        ["1-101", "物业费", "1900-01", "1900-01-10", "10"],
        ["1-101", "物业费", "2025-05", "2025-05-10", "2,000,000,000,000.00"],
    ])
    _patch_sheet(path, {b"<v>12345</v>": b"<v>NaN</v>"})  # openpyxl will not write one
    result = with_units("import", "charges", str(path))
    assert result.exit_code == 2
    assert unplaced(result.stderr).splitlines() == [
        "c.xlsx[Sheet1]:2:应收金额: 金额“10000000000000”超出范围（绝对值应小于 1 万亿元）",
        "c.xlsx[Sheet1]:3:应收金额: 金额“nan”超出范围（绝对值应小于 1 万亿元）",
        "c.xlsx[Sheet1]:4:应收金额: 金额“1e+300”超出范围（绝对值应小于 1 万亿元）",
        "c.xlsx[Sheet1]:5:应缴日期: 日期“2200-04-10”超出范围（1950–2100 年）",
        "c.xlsx[Sheet1]:6:所属期间: 期间“1900-01”超出范围（1950–2100 年）",
        "c.xlsx[Sheet1]:6:应缴日期: 日期“1900-01-10”超出范围（1950–2100 年）",
        "c.xlsx[Sheet1]:7:应收金额: 金额“2,000,000,000,000.00”超出范围（绝对值应小于 1 万亿元）",
        "共 7 个错误，未导入任何数据",
    ]
    units = write_csv(tmp_path / "u.csv", [UNIT_HEADER, ["1-101", "1栋", "张三", "", "100001", ""],
                                           ["1-102", "1栋", "李四", "", "1e999999", ""]])
    result = with_units("import", "units", str(units))
    assert result.stderr.splitlines()[:2] == [
        "u.csv:2:建筑面积: 面积“100001”超过 100,000 平方米，请检查单位和小数点",
        "u.csv:3:建筑面积: 面积“1e999999”超过 100,000 平方米，请检查单位和小数点",
    ]


def _patch_sheet(path: Path, change: "dict[bytes, bytes]") -> None:
    """Rewrite the first worksheet's XML of a real workbook, as a broken exporter would."""
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    for old, new in change.items():
        assert old in sheet
        sheet = sheet.replace(old, new)
    parts["xl/worksheets/sheet1.xml"] = sheet
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_sheet_that_claims_millions_of_columns(cli: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    path = write_xlsx(tmp_path / "wide.xlsx", [UNIT_HEADER, ["1-101", "1栋", "张三", "", "89.5", "x"]])
    _patch_sheet(path, {b'<dimension ref="A1:F2"/>': b'<dimension ref="A1:ZZZZZ2000000"/>',
                        b'r="F2"': b'r="ZZZZZ2"'})
    result = cli("import", "units", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "wide.xlsx[Sheet1]:2: 单元格位置“ZZZZZ2”超出 Excel 的最大列数（16,384 列），文件已损坏"
    )
    assert count(workspace_dir / "cuijiao.db", "SELECT count(*) FROM units") == 0


def test_entity_expansion_is_refused(cli: Invoke, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "bomb.xlsx", [UNIT_HEADER, ["1-101", "1栋", "张三", "", "89.5", ""]])
    laughs = b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        b'<!ENTITY %s "%s">' % (bytes([98 + i]), bytes([97 + i]).join([b"&", b";"]) * 10) for i in range(8)) + b"]>"
    _patch_sheet(path, {b"<worksheet": laughs + b"<worksheet"})
    result = cli("import", "units", str(path))
    assert (result.exit_code, result.stderr.splitlines()[0]) == (
        2, "bomb.xlsx[Sheet1]: 工作簿中的 XML 含有 DTD 声明，不是正常的收费系统导出")


def test_header_not_found_masks_what_it_shows(with_units: Invoke, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", [["张三丰", "13812345678", "物业费", "备注"], ["1-101", "1"]])
    result = with_units("import", "charges", str(path))
    assert result.exit_code == 2
    message = result.stderr.splitlines()[0]
    assert message == (
        "c.xlsx[Sheet1]:1: 应收文件缺少必需的列：房号、收费项目、所属期间、应缴日期、金额"
        "（找到的列：A“张**”、B“138****5678”、C“物**”、D“备*”；不认识的列名只显示首字）。"
        "可在 cuijiao.toml 的 [import] synonyms 中添加列名"
    )
    assert "张三丰" not in result.stderr and "13812345678" not in result.stderr


def test_workbook_with_merged_title_and_openpyxl_dates(cli: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    """Real typed cells through the streaming reader: numbers, dates, a formula's cached text."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(UNIT_HEADER)
    sheet.append([101, "1栋", "张三", 13800138000, 89.5, None])
    workbook.save(tmp_path / "u.xlsx")
    assert cli("import", "units", str(tmp_path / "u.xlsx")).exit_code == 0
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        assert db.execute("SELECT unit_id, phone, area_m2 FROM units").fetchone() == ("101", "13800138000", "89.50")
