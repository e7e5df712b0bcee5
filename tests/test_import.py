"""Import through the CLI, on real files in the encodings clerks send."""

import csv
import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import UNIT_HEADER, UNITS, Invoke, unplaced, write_csv, write_xlsx
from cuijiao.cli import app

CHARGE_HEADER = ["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]
CHARGES = [
    ["1-101", "物业费", "2025年1月", "2025/1/10", "161.10"],
    ["1-101", "物业费", "2025年2月", "2025/2/10", "161.10"],
    ["1-102", "物业费", "202501", "2025-01-10", "1,216.00"],
    ["2-201", "公共能耗分摊费", "2025Q1", "2025年1月10日", "¥67.73"],
]
PAYMENT_HEADER = ["收据号", "房号", "实收金额", "收款日期", "收费项目", "所属期间"]


def rows(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db_path) as db:
        return db.execute(sql).fetchall()


def charges_file(tmp_path: Path, body: list[list[str]] | None = None, name: str = "charges.csv",
                 encoding: str = "gb18030") -> Path:
    return write_csv(tmp_path / name, [CHARGE_HEADER, *(CHARGES if body is None else body)], encoding)


def test_units_charges_payments_round_trip(with_units: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    result = with_units("import", "charges", str(charges_file(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "已导入应收：1 个文件，4 行，新增 4，未变 0，替换 0，拒绝 0" in result.output
    payments = write_csv(tmp_path / "payments.csv", [
        PAYMENT_HEADER,
        ["SJ001", "1-101", "161.10", "2025-01-12", "物业费", "2025-01"],
        ["", "1-102", "500", "2025-02-01", "", ""],
    ], "utf-8-sig")
    result = with_units("import", "payments", str(payments))
    assert result.exit_code == 0, result.output
    db = workspace_dir / "cuijiao.db"
    assert rows(db, "SELECT unit_id, item, period, due_date, amount_fen, kind FROM charges ORDER BY id") == [
        ("1-101", "物业费", "2025-01", "2025-01-10", 16110, "charge"),
        ("1-101", "物业费", "2025-02", "2025-02-10", 16110, "charge"),
        ("1-102", "物业费", "2025-01", "2025-01-10", 121600, "charge"),
        ("2-201", "公共能耗分摊费", "2025Q1", "2025-01-10", 6773, "charge"),
    ]
    assert rows(db, "SELECT receipt_no, unit_id, paid_on, amount_fen, item, period FROM payments ORDER BY id") == [
        ("SJ001", "1-101", "2025-01-12", 16110, "物业费", "2025-01"),
        (None, "1-102", "2025-02-01", 50000, None, None),
    ]
    assert rows(db, "SELECT unit_id, owner_name, phone, area_m2, tags FROM units ORDER BY unit_id")[1:] == [
        ("1-102", "李四", "13900139000", "120.00", "[]"),
        ("2-201", "王五", "", "75.25", '["困难", "空置"]'),
    ]


def test_reimport_changes_nothing_and_says_so(with_units: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    path = charges_file(tmp_path)
    assert with_units("import", "charges", str(path)).exit_code == 0
    before = rows(workspace_dir / "cuijiao.db", "SELECT * FROM charges ORDER BY id")
    again = with_units("import", "charges", str(path))
    assert again.exit_code == 0
    assert "已导入应收：1 个文件，4 行，新增 0，未变 4，替换 0，拒绝 0" in again.output
    assert rows(workspace_dir / "cuijiao.db", "SELECT * FROM charges ORDER BY id") == before
    # The same rows written differently (another period form, xlsx) are the same charges.
    xlsx = write_xlsx(tmp_path / "same.xlsx", [CHARGE_HEADER, ["1-101", "物业费", "2025-01", "2025-01-10", 161.1]],
                      title_rows=2)
    assert "新增 0，未变 1" in with_units("import", "charges", str(xlsx)).output


def test_units_reimport_updates_and_audits(with_units: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    changed = write_csv(tmp_path / "units2.csv", [
        ["房号", "楼栋", "业主姓名", "联系电话", "建筑面积"],
        ["1-101", "1栋", "张三", "13911112222", "89.50"],
        ["1-102", "1栋", "李四", "13900139000", "120"],
    ])
    result = with_units("import", "units", str(changed))
    # No 标签 column in this file: 1-101 keeps its tag 出租, 1-102 is unchanged.
    assert "新增 0，未变 1，替换 1" in result.output
    assert rows(workspace_dir / "cuijiao.db", "SELECT tags FROM units WHERE unit_id = '1-101'") == [('["出租"]',)]
    log = with_units("--json", "audit", "log", "--unit", "1-101")
    event = json.loads(log.output)["events"][0]
    assert event["kind"] == "unit.update"
    assert event["payload"]["changes"]["phone"] == {"before": "138****8000", "after": "139****2222"}
    unmasked = json.loads(with_units("--json", "audit", "log", "--unit", "1-101", "--unmask").output)["events"][0]
    assert unmasked["payload"]["changes"]["phone"] == {"before": "13800138000", "after": "13911112222"}


def test_conflict_needs_replace_and_is_audited(with_units: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    assert with_units("import", "charges", str(charges_file(tmp_path))).exit_code == 0
    changed = charges_file(tmp_path, [["1-101", "物业费", "2025年1月", "2025/1/10", "170.00"]], "fix.csv")
    result = with_units("import", "charges", str(changed))
    assert result.exit_code == 2
    assert unplaced(result.stderr).splitlines() == [
        "fix.csv:2: 与已导入的记录冲突：金额 161.10 → 170.00（确认以本文件为准请加 --replace）",
        "共 1 个错误，未导入任何数据",
    ]
    db = workspace_dir / "cuijiao.db"
    assert rows(db, "SELECT amount_fen FROM charges WHERE period = '2025-01' AND unit_id = '1-101'") == [(16110,)]
    result = with_units("import", "charges", "--replace", str(changed))
    assert result.exit_code == 0
    assert "替换 1" in result.output
    assert rows(db, "SELECT amount_fen FROM charges WHERE period = '2025-01' AND unit_id = '1-101'") == [(17000,)]
    event = json.loads(with_units("--json", "audit", "log", "--unit", "1-101").output)["events"][0]
    assert event["kind"] == "charges.replace"
    assert (event["payload"]["before"], event["payload"]["after"]) == ({"amount_fen": 16110}, {"amount_fen": 17000})


def test_every_bad_cell_is_named_and_nothing_is_imported(with_units: Invoke, tmp_path: Path,
                                                         workspace_dir: Path) -> None:
    bad = charges_file(tmp_path, [
        ["1-101", "物业费", "2025年1月", "2026-02-30", "161.10"],
        ["1-101", "物业费", "2025年2月", "2025/2/10", "五十元"],
        ["", "", "", "", ""],
        ["9-999", "物业费", "2025年1月", "2025/1/10", "10"],
        ["1-102", "物业费", "上月", "2025/1/10", ""],
        ["1-102", "物业费", "2025年3月", "2025/3/10", "88"],
    ], "bad.csv")
    result = with_units("import", "charges", str(bad))
    assert result.exit_code == 2
    assert unplaced(result.stderr).splitlines() == [
        "bad.csv:2:应缴日期: 日期“2026-02-30”不存在",
        "bad.csv:3:应收金额: 金额“五十元”无法识别，应为数字，如 1,234.50",
        "bad.csv:5:房号: 房号“9-999”不在房屋资料中，请先导入房屋业主文件（cuijiao import units）",
        "bad.csv:6:所属期间: 期间“上月”无法识别，应为 2025-01、2025年1月、202501 或 2025Q1",
        "bad.csv:6:应收金额: 金额为空",
        "共 5 个错误，未导入任何数据",
    ]
    assert rows(workspace_dir / "cuijiao.db", "SELECT count(*) FROM charges") == [(0,)]
    assert rows(workspace_dir / "cuijiao.db", "SELECT count(*) FROM imports WHERE kind = 'charges'") == [(0,)]


def test_skip_invalid_imports_good_rows_and_writes_rejects(with_units: Invoke, tmp_path: Path,
                                                           workspace_dir: Path) -> None:
    bad = charges_file(tmp_path, [
        ["1-101", "物业费", "2025年1月", "2025/1/10", "161.10"],
        ["1-101", "物业费", "2025年2月", "2025/2/10", "五十元"],
        ["1-101", "物业费", "2025年1月", "2025/1/10", "161.10"],
    ], "mixed.csv")
    result = with_units("import", "charges", "--skip-invalid", str(bad))
    assert result.exit_code == 3
    assert "新增 1，未变 0，替换 0，拒绝 2" in result.output
    rejected = tmp_path / "mixed.csv.rejected.csv"
    with rejected.open(encoding="utf-8-sig", newline="") as stream:
        assert list(csv.reader(stream)) == [
            ["原行号", "错误原因", *CHARGE_HEADER],
            ["3", "应收金额: 金额“五十元”无法识别，应为数字，如 1,234.50",
             "1-101", "物业费", "2025年2月", "2025/2/10", "五十元"],
            ["4", "与第 2 行重复（同一身份：账单号，或房号+收费项目+所属期间）",
             "1-101", "物业费", "2025年1月", "2025/1/10", "161.10"],
        ]
    assert rows(workspace_dir / "cuijiao.db", "SELECT rejected, inserted FROM imports WHERE kind='charges'") == [(2, 1)]


def test_dry_run_reports_but_writes_nothing(with_units: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    result = with_units("import", "charges", "--dry-run", str(charges_file(tmp_path)))
    assert result.exit_code == 0
    assert "试运行（未写入）应收：1 个文件，4 行，新增 4" in result.output
    assert rows(workspace_dir / "cuijiao.db", "SELECT count(*) FROM charges") == [(0,)]


def test_missing_column_lists_the_columns_found(with_units: Invoke, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [["房号", "项目名", "金额", "备注"], ["1-101", "物业费", "1", ""]])
    result = with_units("import", "charges", str(path))
    assert result.exit_code == 2
    assert unplaced(result.stderr).splitlines() == [
        "c.csv:1: 应收文件缺少必需的列：收费项目、所属期间、应缴日期"
        "（找到的列：A“房号”、B“项**”、C“金额”、D“备*”；不认识的列名只显示首字）。"
        "可在 cuijiao.toml 的 [import] synonyms 中添加列名",
        "共 1 个错误，未导入任何数据",
    ]


def test_workspace_synonyms_map_a_strange_header(with_units: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    config = workspace_dir / "cuijiao.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "synonyms = {}", 'synonyms = { item = ["项目名"], period = ["月份"], due_date = ["截止"] }'), encoding="utf-8")
    path = write_csv(tmp_path / "c.csv", [["房号", "项目名", "月份", "截止", "金额"],
                                          ["1-101", "物业费", "2025-01", "2025-01-10", "1"]])
    assert with_units("import", "charges", str(path)).exit_code == 0


def test_duplicated_header(with_units: Invoke, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [["房号", "房间号", "收费项目", "所属期间", "应缴日期", "应收金额"]])
    result = with_units("import", "charges", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "d.csv:1:B: 表头重复：第 A 列“房号”和第 B 列“房间号”都表示房号，请删除或改名其中一列"
    )


def test_empty_file_sheet_and_header_only(with_units: Invoke, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert with_units("import", "charges", str(empty)).stderr.splitlines()[0] == "empty.csv: 文件为空"
    sheet = write_xlsx(tmp_path / "blank.xlsx", [])
    assert with_units("import", "charges", str(sheet)).stderr.splitlines()[0] == (
        "blank.xlsx[Sheet1]: 文件或工作表为空，没有表头和数据"
    )
    header_only = charges_file(tmp_path, [], "header.csv")
    result = with_units("import", "charges", str(header_only))
    assert (result.exit_code, result.stderr.splitlines()[0]) == (2, "header.csv:1: 只有表头，没有数据行")


def test_blank_lines_and_totals_rows_are_skipped_and_reported(with_units: Invoke, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [
        ["翠湖花园应收明细"], [], CHARGE_HEADER, CHARGES[0], [], ["", "", "", "", ""], CHARGES[1],
        ["合计", "", "", "", "322.20"],
    ])
    result = with_units("--json", "import", "charges", str(path))
    report = json.loads(result.output)["files"][0]
    assert (report["inserted"], report["blank_rows"], report["totals_rows"]) == (2, 2, [8])


def test_same_receipt_twice_with_different_amounts(with_units: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [
        ["收据号", "房号", "实收金额", "收款日期"],
        ["SJ9", "1-101", "100", "2025-03-01"],
        ["SJ9", "1-101", "120", "2025-03-01"],
    ])
    result = with_units("import", "payments", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "p.csv:3: 与第 2 行重复（同一身份：收据号+收费项目+所属期间）"
    assert rows(workspace_dir / "cuijiao.db", "SELECT count(*) FROM payments") == [(0,)]
    header = ["收据号", "房号", "实收金额", "收款日期"]
    first = write_csv(tmp_path / "p1.csv", [header, ["SJ9", "1-101", "100", "2025-03-01"]])
    second = write_csv(tmp_path / "p2.csv", [header, ["SJ9", "1-101", "120", "2025-03-01"]])
    assert with_units("import", "payments", str(first)).exit_code == 0
    result = with_units("import", "payments", str(second))
    assert result.stderr.splitlines()[0] == (
        "p2.csv:2: 与已导入的记录冲突：金额 100.00 → 120.00（确认以本文件为准请加 --replace）"
    )


def test_payments_without_receipt_are_identified_by_content(with_units: Invoke, tmp_path: Path) -> None:
    header = ["房号", "实收金额", "收款日期"]
    path = write_csv(tmp_path / "bank.csv", [header, ["1-101", "100", "2025-03-01"], ["1-101", "100", "2025-03-01"]])
    assert "新增 2" in with_units("import", "payments", str(path)).output  # two real transfers
    assert "新增 0，未变 2" in with_units("import", "payments", str(path)).output


def test_refund_or_zero_payment_is_an_error(with_units: Invoke, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [["房号", "实收金额", "收款日期"], ["1-101", "-5", "2025-03-01"]])
    assert with_units("import", "payments", str(path)).stderr.splitlines()[0] == (
        "p.csv:2:实收金额: 实收金额应大于零（退款请在收费系统中处理后重新导出）"
    )


def test_adjustments_reduce_their_charge(with_units: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    assert with_units("import", "charges", str(charges_file(tmp_path))).exit_code == 0
    adjust = charges_file(tmp_path, [["1-101", "物业费", "2025-01", "2025-01-10", "-50"]], "adj.csv")
    result = with_units("import", "charges", str(adjust))
    assert result.exit_code == 0, result.stderr
    db = workspace_dir / "cuijiao.db"
    adjusted = "SELECT a.amount_fen, a.kind, t.period FROM charges a JOIN charges t ON a.adjusts_id = t.id"
    assert rows(db, adjusted) == [(-5000, "adjustment", "2025-01")]
    assert "新增 0，未变 1" in with_units("import", "charges", str(adjust)).output
    too_much = charges_file(tmp_path, [["1-101", "物业费", "2025-01", "2025-01-10", "-200"]], "big.csv")
    assert with_units("import", "charges", str(too_much)).stderr.splitlines()[0] == (
        "big.csv:2: 减免/红冲 200.00 超过该笔应收的余额 111.10（1-101 物业费 2025-01）"
    )
    orphan = charges_file(tmp_path, [["1-102", "物业费", "2025-09", "2025-09-10", "-10"]], "orphan.csv")
    assert with_units("import", "charges", str(orphan)).stderr.splitlines()[0] == (
        "orphan.csv:2: 负数金额是减免/红冲，但没有找到要冲减的应收（1-102 物业费 2025-09）"
    )


def test_adjustment_in_the_same_file_as_its_charge(with_units: Invoke, tmp_path: Path) -> None:
    path = charges_file(tmp_path, [["1-101", "物业费", "2025-01", "2025-01-10", "-20"], CHARGES[0]])
    assert "新增 2" in with_units("import", "charges", str(path)).output


def test_deposits_are_marked(with_units: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    path = charges_file(tmp_path, [["1-101", "装修押金", "2025-01", "2025-01-10", "2000"]])
    with_units("import", "charges", str(path))
    assert rows(workspace_dir / "cuijiao.db", "SELECT kind FROM charges") == [("deposit",)]


def test_every_import_is_recorded_with_its_digest(with_units: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    path = charges_file(tmp_path)
    with_units("import", "charges", str(path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert rows(workspace_dir / "cuijiao.db",
                "SELECT file_name, sha256, rows_read, inserted, encoding FROM imports WHERE kind='charges'") == [
        ("charges.csv", digest, 4, 4, "gb18030")]
    runs = rows(workspace_dir / "cuijiao.db", "SELECT command, outcome, os_user, version FROM runs ORDER BY id")
    assert [r[:2] for r in runs] == [("import units", "ok"), ("import charges", "ok")]
    assert with_units("audit", "verify").output.startswith("审计链完整")


def test_not_a_workspace(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["-w", str(tmp_path), "import", "units", "x.csv"])
    assert result.exit_code == 2
    assert unplaced(result.stderr) == (
        f"{tmp_path}: 不是 cuijiao 工作区（没有 cuijiao.toml）。请先运行 cuijiao init，或用 --workspace 指定工作区"
    )


def test_workspace_from_environment(workspace_dir: Path, units_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUIJIAO_WORKSPACE", str(workspace_dir))
    result = CliRunner().invoke(app, ["import", "units", str(units_file)])
    assert result.exit_code == 0, result.output


def test_duplicates_found_when_the_table_already_has_rows(with_units: Invoke, tmp_path: Path,
                                                          workspace_dir: Path) -> None:
    """The second import goes through staging, not the bulk load: same messages."""
    assert with_units("import", "charges", str(charges_file(tmp_path))).exit_code == 0
    twice = charges_file(tmp_path, [["1-102", "物业费", "2025-05", "2025-05-10", "10"],
                                     ["1-102", "物业费", "2025年5月", "2025-05-10", "10"]], "twice.csv")
    result = with_units("import", "charges", str(twice))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "twice.csv:3: 与第 2 行重复（同一身份：账单号，或房号+收费项目+所属期间）"
    result = with_units("import", "charges", "--skip-invalid", str(twice))
    assert (result.exit_code, "新增 1，未变 0，替换 0，拒绝 1" in result.output) == (3, True)
    assert rows(workspace_dir / "cuijiao.db", "SELECT count(*) FROM charges") == [(5,)]


def test_typed_workbook_cells(with_units: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    header = ["房号", "实收金额", "收款日期", "收据号"]
    book = write_xlsx(tmp_path / "pay.xlsx", [
        header,
        ["1-101", 161.1, dt.date(2025, 1, 12), 20250001],  # numbers and a real date cell
        ["1-102", 1216, 45667, "SJ-2"],  # an Excel serial in a number cell
    ], title_rows=2)
    result = with_units("import", "payments", str(book))
    assert result.exit_code == 0, result.stderr
    assert rows(workspace_dir / "cuijiao.db", "SELECT receipt_no, amount_fen, paid_on FROM payments ORDER BY id") == [
        ("20250001", 16110, "2025-01-12"), ("SJ-2", 121600, "2025-01-10")]


def test_utf16_tab_separated_export(with_units: Invoke, tmp_path: Path, workspace_dir: Path) -> None:
    text = "\t".join(CHARGE_HEADER) + "\n" + "\t".join(CHARGES[0]) + "\n"
    path = tmp_path / "unicode.txt"
    path.write_bytes(text.encode("utf-16"))
    result = with_units("import", "charges", str(path))
    assert result.exit_code == 0, result.stderr
    assert rows(workspace_dir / "cuijiao.db", "SELECT encoding FROM imports WHERE kind = 'charges'") == [("utf-16",)]


def test_many_rows_take_the_short_path_and_stay_exact(with_units: Invoke, tmp_path: Path,
                                                      workspace_dir: Path) -> None:
    body = [[unit, "物业费", f"2024-{month:02d}", f"2024/{month}/10", "100.50"]
            for unit in ("1-101", "1-102", "2-201") for month in range(1, 13)]
    path = charges_file(tmp_path, body, "year.csv")
    assert "新增 36" in with_units("import", "charges", str(path)).output
    totals = "SELECT count(*), sum(amount_fen), count(DISTINCT period) FROM charges"
    assert rows(workspace_dir / "cuijiao.db", totals) == [(36, 36 * 10050, 12)]


@pytest.mark.parametrize("count", ["6户", "共6户", "合计：6户"])
def test_a_totals_row_counting_units_in_the_unit_column_is_skipped(cli: Invoke, tmp_path: Path,
                                                                   count: str) -> None:
    """A units.xlsx 合计 row with the number of units under 房号 is a totals row, not a unit without an owner."""
    path = write_xlsx(tmp_path / "units.xlsx", [UNIT_HEADER, *UNITS, [count, "合计", "", "", "284.75", ""]],
                      sheet="房产资料")
    result = cli("--json", "import", "units", str(path))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["files"][0]
    assert (report["inserted"], report["totals_rows"]) == (len(UNITS), [len(UNITS) + 2])
    elsewhere = write_xlsx(tmp_path / "units2.xlsx", [UNIT_HEADER, *UNITS, [count, "", "", "", "284.75", "小计"]],
                           sheet="房产资料")
    report = json.loads(cli("--json", "import", "units", str(elsewhere)).output)["files"][0]
    assert report["totals_rows"] == [len(UNITS) + 2]


def test_a_twin_across_files_names_the_other_file(cli: Invoke, tmp_path: Path) -> None:
    header = ["房号", "楼栋", "业主姓名", "联系电话", "建筑面积"]
    first = write_csv(tmp_path / "一期.csv", [header, ["1-101", "1栋", "张三", "", "80"]])
    second = write_csv(tmp_path / "二期.csv", [header, ["2-201", "2栋", "李四", "", "80"],
                                              ["1-101", "1栋", "张三", "", "80"]])
    result = cli("import", "units", str(first), str(second))
    assert result.exit_code == 2
    assert "二期.csv:3" in result.output and "与一期.csv 第 2 行重复" in result.output, result.output


def test_a_file_that_cannot_be_read_does_not_hide_the_other_files_problems(with_units: Invoke,
                                                                          tmp_path: Path) -> None:
    assert with_units("import", "charges", str(charges_file(tmp_path))).exit_code == 0
    orphan = charges_file(tmp_path, [["1-102", "物业费", "2025-09", "2025-09-10", "-10"]], "orphan.csv")
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes("房号,收费项目,所属期间,应缴日期,应收金额\n".encode("gb18030")
                      + "1-101,物业费,2025-05,2025-05-10,100\n".encode("gb18030")
                      + "1-101,停车费,2025-05,2025-05-10,100\n".encode())
    result = with_units("import", "charges", str(orphan), str(mixed))
    assert result.exit_code == 2
    assert "orphan.csv:2: 负数金额是减免/红冲，但没有找到要冲减的应收" in result.stderr, result.stderr
    assert "mixed.csv:3: 文件混用了两种编码" in result.stderr, result.stderr
