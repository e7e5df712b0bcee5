"""The aging workbook, read back cell by cell: what a clerk sees in Excel.

The tables' rows are written as SpreadsheetML text (cuijiao.reports.sheet_rows),
not through openpyxl's cells; these tests pin every cell of every table sheet
against the table the report gives (table_rows): value, type, number format,
bold totals row, text kept as text, names masked.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.cell.cell import Cell

from cuijiao.aging import Buckets, UnitLedger, build_report
from cuijiao.allocation import Charge, Payment
from cuijiao.money import to_decimal
from cuijiao.reports.aging_output import GroupBy, table_rows, write_xlsx
from cuijiao.reports.cells import neutralise
from cuijiao.reports.sheet_rows import Percent

AS_OF = date(2025, 3, 15)
# Text an XML writer must escape or keep exactly: markup characters, edge spaces, a carriage return,
# a formula, a figure-like text.
NAMES = ["A&B <C> \"D\" 'E'", "  张三 ", "李\r四", "=HYPERLINK(\"http://x\",\"y\")", "-12.50", "王五"]


def _ledgers() -> list[UnitLedger]:
    ledgers = []
    for number, name in enumerate(NAMES):
        unit = f"{number % 2 + 1}-{number + 101}"
        charges = [Charge(number * 10 + k, item, "2025-01", date(2025, 1 + k, 10), 10_000 + 137 * number,
                          date(2025, 1, 1))
                   for k, item in enumerate(("物业费", "车位管理费", "=1+2"))]
        payments = [Payment(number, date(2025, 3, 1), 3_333 * number)] if number else []
        ledgers.append(UnitLedger(unit, f"{number % 2 + 1}栋", name, charges, payments))
    return ledgers


def _expected(value: Any) -> tuple[Any, str]:
    """The value openpyxl reads back and the number format, for a value of the table."""
    if isinstance(value, Percent):
        return float(value), "0.00%"
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day), "yyyy-mm-dd"
    if isinstance(value, Decimal):
        return float(value), "#,##0.00"
    if isinstance(value, int):
        return value, "#,##0"
    return (None if value in ("", None) else value), "General"


def _read(cell: Cell) -> tuple[Any, str]:
    value = cell.value
    if isinstance(value, float | int) and not isinstance(value, bool) and cell.number_format != "#,##0":
        value = float(value)
    return value, cell.number_format


@pytest.mark.parametrize("unmask", [False, True])
def test_every_table_cell_is_the_reports_value_with_its_format(tmp_path: Path, unmask: bool) -> None:
    report = build_report(_ledgers(), AS_OF, Buckets((30, 90, 180, 365)))
    path = tmp_path / "账龄.xlsx"
    write_xlsx(path, report, unmask=unmask)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["汇总", "按楼栋", "按房屋", "按项目"]
    for title, by in (("按楼栋", GroupBy.BUILDING), ("按房屋", GroupBy.UNIT), ("按项目", GroupBy.ITEM)):
        headers, rows, footer = table_rows(report, by, unmask=unmask, money=to_decimal, typed=True)
        sheet = book[title]
        assert sheet.freeze_panes == "B2"
        read = list(sheet.iter_rows())
        assert len(read) == 1 + len(rows) + 1
        for number, (cells, values) in enumerate(zip(read, [headers, *rows, footer], strict=True)):
            bold = number in (0, len(read) - 1)
            assert len(cells) == len(values)
            for cell, value in zip(cells, values, strict=True):
                assert _read(cell) == _expected(value), (title, cell.coordinate)
                assert cell.data_type != "f" and bool(cell.font.b) == bold, (title, cell.coordinate)
                if isinstance(value, str) and value:
                    assert cell.data_type == "s"
                    assert cell.quotePrefix == (neutralise(value) != value), (title, cell.coordinate)
        widths = {key: dim.width for key, dim in sheet.column_dimensions.items()}
        assert widths == {openpyxl.utils.get_column_letter(k + 1): max(10, 2 * len(h) + 2)
                          for k, h in enumerate(headers)}
    owners = [row[2].value for row in book["按房屋"].iter_rows(min_row=2, max_row=len(NAMES) + 1)]
    if unmask:
        assert sorted(owners) == sorted(NAMES)  # escaped and read back exactly, spaces and \r included
        formula = next(row[2] for row in book["按房屋"].iter_rows() if row[2].value == NAMES[3])
        assert formula.quotePrefix and formula.data_type == "s"
    else:
        assert not set(owners) & set(NAMES) and all("*" in name for name in owners)


def test_a_text_with_a_character_a_workbook_cannot_hold_is_refused_as_before(tmp_path: Path) -> None:
    ledger = _ledgers()[0]
    bad = UnitLedger(ledger.unit_id, ledger.building, "张\x01三", ledger.charges, ledger.payments)
    with pytest.raises(openpyxl.utils.exceptions.IllegalCharacterError):
        write_xlsx(tmp_path / "账龄.xlsx", build_report([bad], AS_OF, Buckets((30, 90))), unmask=True)
    assert not (tmp_path / "账龄.xlsx").exists()
