"""Data is text, never code: cells for CSV files and workbooks a clerk opens in Excel.

A cell that starts with ``= + - @``, a tab or a carriage return is a formula
to Excel and LibreOffice (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``, DDE). An
owner's name, a unit id or a note from an export can start that way. In a CSV
such a cell is prefixed with ``'`` (OWASP's CSV-injection advice), which spreadsheet
programs show as text. In a workbook a text cell is stored as a string, which no
program evaluates, with Excel's quote-prefix style (it stays text when edited): the
clerk sees ``=1+1`` as it was exported, not ``'=1+1``. Our own figures (``-12.50``,
``97.50%``) stay numbers. Every CSV and workbook writer passes its cells through here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_FIGURE = re.compile(r"-?[0-9][0-9,]*(\.[0-9]+)?%?")


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` when a spreadsheet would read it as a formula; others as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS) and not _FIGURE.fullmatch(value):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row for ``csv.writer``: every text cell neutralised."""
    return [neutralise(value) for value in values]


def text_cell(sheet: WriteOnlyWorksheet, value: Any) -> Cell:
    """A workbook cell; text is neutralised and stored as a string, never as a formula."""
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        _as_text(cell)
    return cell


def _as_text(cell: Cell | WriteOnlyCell) -> None:
    cell.data_type = "s"
    if neutralise(cell.value) != cell.value:
        cell.quotePrefix = True


def neutralise_workbook(book: Workbook) -> None:
    """Every text cell of an in-memory workbook (pandas' ``to_excel``) as text: neutralised, never a formula."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    _as_text(cell)
