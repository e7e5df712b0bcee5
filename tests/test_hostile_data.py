"""Data is text, never markup or code (issue #12 item 3, output side).

Unit ids, owners' names, items and notes that look like Rich markup or like
spreadsheet formulas are shown and written as written: every command prints
them literally, and CSV and workbook cells holding them open in Excel as text.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from conftest import Invoke, write_csv
from cuijiao.reports.cells import neutralise, neutralise_workbook

HYPERLINK = '=HYPERLINK("http://x","y")'
DDE = "=cmd|' /C calc'!A0"
TAB_FORMULA = "\t=1+1"
MARKUP = "[/x]"

UNITS = [["房号", "楼栋", "业主姓名", "联系电话", "建筑面积"],
         [MARKUP, "[bold]1栋", HYPERLINK, "13800000001", "80"],
         [DDE, "+1栋", "@SUM(A1)", "13800000002", "80"],
         ["1-103", "-2+3", "[red]王五[/red]", "13800000003", "80"]]
ITEMS = {MARKUP: "[/item]物业费", DDE: "=1+2", "1-103": "@物业费"}


@pytest.fixture
def hostile(cli: Invoke, tmp_path: Path) -> Invoke:
    charges = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]] + [
        [unit, item, "2025-01", "2025-01-10", "100.00"] for unit, item in ITEMS.items()]
    payments = [["收据号", "房号", "实收金额", "收款日期"], ["[/r]", "1-103", "30.00", "2025-02-01"]]
    for kind, rows in (("units", UNITS), ("charges", charges), ("payments", payments)):
        result = cli("import", kind, str(write_csv(tmp_path / f"{kind}.csv", rows)))
        assert result.exit_code == 0, result.output
    for args in (["call", MARKUP, "--outcome", "拒接", "--note", "[/x] :warning: [bold]", "--on", "2025-03-01"],
                 ["dispute", DDE, "--reason", "[/reason]", "--on", "2025-03-01"],
                 ["hold", "1-103", "--until", "2025-04-01", "--reason", "[red]x", "--on", "2025-03-01"]):
        result = cli("record", *args)
        assert result.exit_code == 0, result.output
    return cli


COMMANDS = [
    (("aging", "--as-of", "2025-03-25", "--unmask"), MARKUP),
    (("aging", "--as-of", "2025-03-25", "--by", "building"), "[bold]1栋"),
    (("aging", "--as-of", "2025-03-25", "--by", "item"), "[/item]物业费"),
    (("unit", MARKUP, "--as-of", "2025-03-25", "--unmask"), "[/item]物业费"),
    (("unit", DDE, "--as-of", "2025-03-25"), DDE),
    (("unit", "1-103", "--as-of", "2025-03-25", "--unmask"), "[red]王五[/red]"),
    (("segment", "--as-of", "2025-03-25"), MARKUP),
    (("segment", "--as-of", "2025-03-25", "--explain", MARKUP), MARKUP),
    (("notices", "plan", "--as-of", "2025-03-25"), MARKUP),
    (("limitation", "--as-of", "2027-12-01"), MARKUP),
    (("audit", "log", "-n", "200", "--unmask"), "[/reason]"),
    (("audit", "log", "--unit", MARKUP, "--unmask"), "[/x] :warning: [bold]"),
]


@pytest.mark.parametrize(("args", "literal"), COMMANDS, ids=[" ".join(args[:3]) for args, _ in COMMANDS])
def test_markup_in_data_is_printed_as_written(hostile: Invoke, args: tuple[str, ...], literal: str) -> None:
    result = hostile(*args)
    assert result.exit_code == 0, result.output
    assert literal in result.output


def test_every_hostile_value_is_shown_literally(hostile: Invoke) -> None:
    table = hostile("aging", "--as-of", "2025-03-25", "--unmask").output
    for text in (MARKUP, DDE, HYPERLINK, "[bold]1栋", "[red]王五[/red]"):
        assert text in table
    statement = hostile("unit", MARKUP, "--as-of", "2025-03-25").output
    assert "[/item]物业费" in statement
    log = hostile("audit", "log", "--unit", MARKUP, "--unmask").output
    assert "[/x] :warning: [bold]" in log


def test_issued_notices_print_hostile_ids(hostile: Invoke) -> None:
    result = hostile("notices", "issue", "--as-of", "2025-03-25")
    assert result.exit_code in (0, 3), result.output  # 3: units without an address get no letter
    assert MARKUP in result.output


@pytest.mark.parametrize("value", [HYPERLINK, DDE, TAB_FORMULA, "+1", "-1+2", "@SUM(1)", "\r=1"])
def test_formula_leads_are_neutralised(value: str) -> None:
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["-12.50", "1,234.00", "97.50%", "1-101", "张三", "", MARKUP])
def test_figures_and_plain_text_are_left_alone(value: str) -> None:
    assert neutralise(value) == value


def _csv_cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return [cell for row in csv.reader(stream) for cell in row]


def _starts_formula(text: str) -> bool:
    return text.startswith(("=", "+", "-", "@", "\t", "\r")) and not text.lstrip("-").replace(".", "").isdigit()


@pytest.mark.parametrize("by", ["unit", "building", "item"])
def test_csv_report_cells_never_start_a_formula(hostile: Invoke, tmp_path: Path, by: str) -> None:
    out = tmp_path / f"{by}.csv"
    result = hostile("aging", "--as-of", "2025-03-25", "--by", by, "--format", "csv", "-o", str(out), "--unmask")
    assert result.exit_code == 0, result.output
    cells = _csv_cells(out)
    assert not [cell for cell in cells if _starts_formula(cell)]
    expected = {"unit": ["'" + HYPERLINK, "'" + DDE, "'@SUM(A1)"], "building": ["'+1栋", "'-2+3"],
                "item": ["'=1+2", "'@物业费"]}[by]
    for value in expected:
        assert value in cells


def test_workbook_cells_are_strings_not_formulas(hostile: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "账龄.xlsx"
    result = hostile("aging", "--as-of", "2025-03-25", "--format", "xlsx", "-o", str(out), "--unmask")
    assert result.exit_code == 0, result.output
    workbook = openpyxl.load_workbook(out)
    texts = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                    # Shown as exported (no visible '), kept as text when edited (Excel's quote prefix).
                    assert cell.quotePrefix or not _starts_formula(cell.value), (sheet.title, cell.coordinate)
    for value in (HYPERLINK, DDE, "+1栋", "=1+2"):
        assert value in texts


def test_json_keeps_the_data_exact(hostile: Invoke) -> None:
    rows = json.loads(hostile("--json", "aging", "--as-of", "2025-03-25", "--unmask").output)["rows"]
    assert {row["owner_name"] for row in rows} >= {HYPERLINK, "@SUM(A1)"}


def test_a_pandas_workbook_is_neutralised_in_place() -> None:
    frame = pd.DataFrame({"房号": [DDE, "1-101"], "业主": [HYPERLINK, "张三"], "欠费": [Decimal("-1.00"), 2]})
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="表", index=False)
        neutralise_workbook(writer.book)
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["表"]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert [cell.value for cell in cells[3:]] == [DDE, HYPERLINK, -1, "1-101", "张三", 2]
    assert [cell.quotePrefix for cell in cells[3:5]] == [True, True]


def test_rejected_rows_file_keeps_formulas_as_text(cli: Invoke, tmp_path: Path) -> None:
    rows = [["房号", "楼栋", "业主姓名", "联系电话", "建筑面积"],
            ["1-101", "1栋", "张三", "13800000001", "80"],
            ["1-102", "1栋", DDE, "13800000002", HYPERLINK]]  # the area is no number: rejected
    source = write_csv(tmp_path / "units.csv", rows)
    result = cli("import", "units", str(source), "--skip-invalid")
    assert result.exit_code == 3, result.output
    cells = _csv_cells(tmp_path / "units.csv.rejected.csv")
    assert "'" + DDE in cells
    assert "'" + HYPERLINK in cells
    assert not [cell for cell in cells if _starts_formula(cell)]
