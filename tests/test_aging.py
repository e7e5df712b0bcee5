"""Aging, KPIs and the unit statement on a small estate whose every figure was worked out by hand."""

import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from rich.cells import cell_len

from conftest import Invoke, unplaced, write_csv
from cuijiao.arrears import aging_report
from cuijiao.demo import sample_workspace
from cuijiao.reports.aging_output import GroupBy, report_json
from cuijiao.workspace import open_workspace

CHARGES = [
    ["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
    ["1-101", "物业费", "2025-01", "2025-01-10", "100.00"],
    ["1-101", "物业费", "2025-02", "2025-02-10", "100.00"],
    ["1-101", "车位管理费", "2025-02", "2025-02-10", "50.00"],
    ["1-101", "物业费", "2025-03", "2025-03-10", "100.00"],
    ["1-101", "装修押金", "2025-01", "2025-01-05", "2000.00"],
    ["1-102", "物业费", "2025-01", "2025-01-10", "120.00"],
    ["1-102", "物业费", "2025-01", "2025-01-10", "-20.00"],
    ["1-102", "物业费", "2025-04", "2025-04-10", "120.00"],
    ["2-201", "物业费", "2025-03", "2025-03-10", "80.00"],
]
PAYMENTS = [
    ["收据号", "房号", "实收金额", "收款日期", "收费项目", "所属期间"],
    ["SJ1", "1-101", "120.00", "2025-02-12", "", ""],
    ["SJ2", "1-101", "50.00", "2025-03-12", "物业费", "2025-03"],
    ["SJ3", "2-201", "100.00", "2025-03-01", "", ""],
]
BUCKETS = ["1-30", "31-90", "91-180", "181-365", "366-730", "731-1095", "1096+"]


@pytest.fixture
def estate(with_units: Invoke, tmp_path: Path) -> Invoke:
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", CHARGES))).exit_code == 0
    assert with_units("import", "payments", str(write_csv(tmp_path / "p.csv", PAYMENTS))).exit_code == 0
    return with_units


def buckets(**amounts: str) -> dict[str, str]:
    named = {"b1_30": "1-30", "b31_90": "31-90"}
    return {label: amounts.get(next((k for k, v in named.items() if v == label), ""), "0.00") for label in BUCKETS}


def test_aging_json_by_unit_as_worked_out_by_hand(estate: Invoke) -> None:
    result = estate("--json", "aging", "--as-of", "2025-03-15")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.output)
    # 1-101: SJ1 (120.00, 2/12) pays January 100.00, then shares 20.00 over the two
    # February charges due the same day: 13.33 to 物业费, 6.67 to 车位管理费 (the larger
    # remainder takes the odd fen). SJ2 designates March 物业费: 50.00 of it.
    # 1-102: January 120.00 less 20.00 adjustment, unpaid; April is not billed yet.
    # 2-201: SJ3 on 3/1 prepays March (80.00) and leaves 20.00 credit.
    assert report["rows"] == [
        {"unit_id": "1-101", "owner_name": "张*", "overdue_total": "180.00",
         "by_bucket": buckets(b1_30="50.00", b31_90="130.00"),
         "by_item": {"物业费": "136.67", "车位管理费": "43.33"},
         "not_yet_due": "0.00", "credit": "0.00", "oldest_due_date": "2025-02-10"},
        {"unit_id": "1-102", "owner_name": "李*", "overdue_total": "100.00",
         "by_bucket": buckets(b31_90="100.00"), "by_item": {"物业费": "100.00"},
         "not_yet_due": "0.00", "credit": "0.00", "oldest_due_date": "2025-01-10"},
        {"unit_id": "2-201", "owner_name": "王*", "overdue_total": "0.00", "by_bucket": buckets(),
         "by_item": {}, "not_yet_due": "0.00", "credit": "20.00", "oldest_due_date": None},
    ]
    totals = report["totals"]
    assert (totals["overdue_total"], totals["credit"], totals["units"], totals["units_owing"]) == (
        "280.00", "20.00", 3, 2)
    assert totals["by_bucket"] == buckets(b1_30="50.00", b31_90="230.00")
    # March: billed 100.00 + 80.00, of which 50.00 (SJ2) + 80.00 (SJ3) collected.
    # Arrears on 3/1: 250.00 − 120.00 for 1-101, 100.00 for 1-102; none collected in March.
    assert totals["kpi"] == {"from": "2025-03-01", "to": "2025-03-15", "billed": "180.00", "collected": "130.00",
                             "collection_rate": "72.22%", "arrears_start": "230.00", "arrears_collected": "0.00",
                             "arrears_rate": "0.00%"}


def test_only_payments_up_to_the_date_count(estate: Invoke) -> None:
    report = json.loads(estate("--json", "aging", "--as-of", "2025-02-11").output)
    unit = next(row for row in report["rows"] if row["unit_id"] == "1-101")
    figures = (unit["overdue_total"], unit["by_bucket"]["31-90"], unit["by_bucket"]["1-30"])
    assert figures == ("250.00", "100.00", "150.00")


def test_aging_by_building_and_item(estate: Invoke) -> None:
    buildings = json.loads(estate("--json", "aging", "--as-of", "2025-03-15", "--by", "building").output)["rows"]
    assert [(b["building"], b["units"], b["units_owing"], b["overdue_total"], b["credit"]) for b in buildings] == [
        ("1栋", 2, 2, "280.00", "0.00"), ("2栋", 1, 0, "0.00", "20.00")]  # 2-201 is in credit, not in arrears
    table = estate("aging", "--as-of", "2025-03-15", "--by", "building").output
    cells = [[cell.strip() for cell in line.split("│")[1:3]] for line in table.splitlines() if line.startswith("│")]
    assert cells == [["1栋", "2"], ["2栋", "0"], ["合计", "2"]]  # 欠费户数: units in arrears only
    assert buildings[0]["kpi"]["collection_rate"] == "50.00%"  # 50.00 of 1-101's March 100.00
    items = json.loads(estate("--json", "aging", "--as-of", "2025-03-15", "--by", "item").output)["rows"]
    assert [(i["item"], i["overdue_total"], i["oldest_due_date"]) for i in items] == [
        ("物业费", "236.67", "2025-01-10"), ("车位管理费", "43.33", "2025-02-10")]


def test_aging_table_masks_names_unless_asked(estate: Invoke) -> None:
    table = estate("aging", "--as-of", "2025-03-15").output
    assert "张*" in table and "张三" not in table
    assert "合计" in table and "280.00" in table
    assert "2025年3月1日至15日收缴率 72.22%" in table
    assert "张三" in estate("aging", "--as-of", "2025-03-15", "--unmask").output


def test_aging_csv_and_workbook(estate: Invoke, tmp_path: Path) -> None:
    csv_path, book_path = tmp_path / "aging.csv", tmp_path / "aging.xlsx"
    assert estate("aging", "--as-of", "2025-03-15", "--format", "csv", "-o", str(csv_path)).exit_code == 0
    lines = csv_path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("房号,楼栋,业主,欠费合计,1-30,31-90")
    assert lines[-1].startswith("合计,,3 户（欠费 2 户）,280.00,50.00,230.00")
    assert estate("aging", "--as-of", "2025-03-15", "--format", "xlsx", "-o", str(book_path)).exit_code == 0
    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames == ["汇总", "按楼栋", "按房屋", "按项目"]
    units = book["按房屋"]
    assert [c.value for c in units[1]][:4] == ["房号", "楼栋", "业主", "欠费合计"]
    assert (units["A2"].value, float(units["D2"].value), units["D2"].number_format) == ("1-101", 180.0, "#,##0.00")
    assert units.freeze_panes == "B2"
    summary = {row[0].value: row[1] for row in book["汇总"].iter_rows() if row[0].value}
    assert (summary["收缴率"].value, summary["收缴率"].number_format) == (0.7222, "0.00%")  # 130.00 / 180.00
    assert (summary["清欠率"].value, summary["欠费户数"].value) == (0, 2)  # 2-201 has credit, not arrears
    with zipfile.ZipFile(book_path) as archive:
        assert any(name.startswith("xl/charts/chart") for name in archive.namelist())


def test_unit_statement_explains_every_payment(estate: Invoke) -> None:
    data = json.loads(estate("--json", "unit", "1-101", "--as-of", "2025-03-15").output)
    assert [(c["period"], c["item"], c["paid"], c["owed"], c["status"]) for c in data["charges"]] == [
        ("2025-01", "物业费", "100.00", "0.00", "已结清"),
        ("2025-02", "物业费", "13.33", "86.67", "逾期 33 天"),
        ("2025-02", "车位管理费", "6.67", "43.33", "逾期 33 天"),
        ("2025-03", "物业费", "50.00", "50.00", "逾期 5 天"),
    ]
    first, second = data["payments"]
    assert [(a["period"], a["item"], a["amount"], a["rule"]) for a in first["applied"]] == [
        ("2025-01", "物业费", "100.00", "oldest_due"),
        ("2025-02", "物业费", "13.33", "same_day_pro_rata"),
        ("2025-02", "车位管理费", "6.67", "same_day_pro_rata")]
    assert (second["designated"], second["applied"][0]["rule"]) == ("物业费 2025-03", "designated")
    text = estate("unit", "1-101", "--as-of", "2025-03-15").output
    assert "指定清偿：付款时指定了该项费用" in text
    assert "逾期欠费 180.00 元，未到期 0.00 元，预收余额 0.00 元" in text
    adjusted = json.loads(estate("--json", "unit", "1-102", "--as-of", "2025-03-15").output)["charges"][0]
    assert (adjusted["amount"], adjusted["adjustment"], adjusted["owed"]) == ("120.00", "-20.00", "100.00")


def test_bad_inputs(estate: Invoke, cli: Invoke) -> None:
    result = estate("aging", "--as-of", "2025-02-30")
    assert (result.exit_code, unplaced(result.stderr)) == (2, "--as-of：日期“2025-02-30”不存在")
    result = estate("unit", "1-10", "--as-of", "2025-03-15")
    assert (result.exit_code, unplaced(result.stderr)) == (2, "没有房号“1-10”。是否是：1-101、1-102？")
    result = estate("aging", "--format", "xlsx")
    assert (result.exit_code, unplaced(result.stderr)) == (2, "--format xlsx 需要用 -o 指定输出文件")


def test_empty_workspace_says_what_to_import(cli: Invoke) -> None:
    result = cli("aging", "--as-of", "2025-03-15")
    assert (result.exit_code, unplaced(result.stderr)) == (
        2, "工作区还没有数据：请先导入房屋业主（cuijiao import units），再导入应收和实收")


def test_parallel_aging_equals_one_process(tmp_path: Path) -> None:
    """The estate split over two worker processes gives exactly the one-process report."""
    target = sample_workspace(tmp_path / "sample")
    workspace = open_workspace(target)
    try:
        as_of = date(2026, 11, 25)
        single = aging_report(workspace, as_of, workers=1)
        split = aging_report(workspace, as_of, workers=2)
    finally:
        workspace.close()
    for by in GroupBy:
        assert report_json(split, by, unmask=True) == report_json(single, by, unmask=True)
    assert len(single.units) > 100


def test_json_to_a_file_and_no_file_for_a_table(estate: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "aging.json"
    assert estate("aging", "--as-of", "2025-03-15", "--format", "json", "-o", str(target)).exit_code == 0
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written == json.loads(estate("--json", "aging", "--as-of", "2025-03-15").output)
    result = estate("aging", "--as-of", "2025-03-15", "-o", str(tmp_path / "aging.txt"))
    assert (result.exit_code, unplaced(result.stderr)) == (
        2, "-o 只用于 csv、json、xlsx 格式；表格请直接在终端查看，或改用 --format csv")


def test_quiet_keeps_only_the_summary(estate: Invoke, workspace_dir: Path) -> None:
    assert estate("-q", "unit", "1-101", "--as-of", "2025-03-15").output.splitlines() == [
        f"房号 1-101：逾期欠费 180.00 元，未到期 0.00 元，预收余额 0.00 元（工作区 {workspace_dir}）"]
    (line,) = estate("-q", "audit", "log").output.splitlines()  # no table: the summary line alone
    assert line.startswith("共 ") and line.endswith(f"条记录（最新的在前）（工作区 {workspace_dir}）")


def test_workbook_rates_are_numbers_and_dates_are_dates(estate: Invoke, tmp_path: Path) -> None:
    book_path = tmp_path / "aging.xlsx"
    assert estate("aging", "--as-of", "2025-03-15", "--format", "xlsx", "-o", str(book_path)).exit_code == 0
    book = openpyxl.load_workbook(book_path)
    buildings = book["按楼栋"]
    headers = [c.value for c in buildings[1]]
    footer = list(buildings.iter_rows())[-1]
    rate_cell = footer[headers.index("当月收缴率")]
    assert (rate_cell.value, rate_cell.number_format) == (0.7222, "0.00%")
    units = book["按房屋"]
    day = units.cell(row=2, column=[c.value for c in units[1]].index("最早欠费应缴日") + 1)
    assert isinstance(day.value, datetime) and day.is_date and day.value.date().isoformat() == "2025-02-10"


def test_a_long_table_shows_the_largest_debts_first_and_says_how_to_see_all(
        estate: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINES", "13")  # a screen with room for one row beside the title, header and totals
    short = estate("aging", "--as-of", "2025-03-15").output
    assert "1-101" in short and "1-102" not in short  # 1-101 owes 180.00, the most
    assert "只显示欠费最多的 1 行" in short and "--all" in short and "--format csv" in short
    assert "280.00" in short  # the totals are of every row
    full = estate("aging", "--as-of", "2025-03-15", "--all").output
    assert "1-102" in full and "--all" not in full
    monkeypatch.setenv("LINES", "40")
    assert "--all" not in estate("aging", "--as-of", "2025-03-15").output  # every row fits a 40-line screen


def test_the_aging_by_unit_table_at_80_columns_prints_in_parts_keeping_every_figure_whole(
        estate: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = estate("aging", "--as-of", "2025-03-15").output
    assert max(cell_len(line) for line in out.splitlines() if line[:1] in "┏┃┡│├└") <= 80
    assert "（第 1/" in out and "部分）" in out
    wide = estate("aging", "--as-of", "2025-03-15", "--format", "json").output
    rows = json.loads(wide)["rows"]
    assert rows
    for unit in rows:  # each unit id once per part, and each of its figures whole on one line
        assert out.count(f" {unit['unit_id']} ") == out.count("部分）")
        for figure in (unit["overdue_total"], unit["not_yet_due"], unit["credit"], *unit["by_bucket"].values()):
            grouped = f"{Decimal(figure):,.2f}"
            assert any(f" {grouped} " in line for line in out.splitlines()), (unit["unit_id"], grouped)


def test_an_80_column_table_never_splits_a_unit_id_or_a_figure(
        estate: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = estate("segment", "--as-of", "2025-03-15", "--unmask").output
    assert "1-101" in out and "180.00" in out


def test_the_summary_counts_owners_in_arrears_apart_from_those_with_only_credit(estate: Invoke) -> None:
    # As of 2025-03-15 (worked out above): 1-101 and 1-102 owe; 2-201 only holds 20.00 of credit.
    result = estate("aging", "--as-of", "2025-03-15")
    assert result.exit_code == 0, result.stderr
    assert "欠费 2 户，逾期欠费合计 280.00 元；另有 1 户仅有未到期费用或预收余额" in result.output, result.output


def test_the_tables_total_row_says_how_many_of_its_units_owe(estate: Invoke) -> None:
    # 3 units listed as of 2025-03-15, 2 of them in arrears (2-201 holds only credit).
    result = estate("aging", "--as-of", "2025-03-15", "--all")  # the CSV's total row: test above
    assert result.exit_code == 0, result.stderr
    assert "3 户（欠费 2 户）" in result.output, result.output
