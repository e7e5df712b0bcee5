"""The aging report as JSON, as rows for a table or CSV, and as a workbook.

Amounts leave here as strings with two decimals (JSON, CSV, terminal) or as
exact ``Decimal`` (workbook cells); names are masked unless the caller unmasks.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from cuijiao.aging import AgingReport, AgingRow, Collection
from cuijiao.dates import chinese_date
from cuijiao.fileio import atomic_path, atomic_writer
from cuijiao.money import format_yuan, to_decimal
from cuijiao.privacy import mask_name
from cuijiao.reports import sheet_rows
from cuijiao.reports.cells import csv_row, text_cell
from cuijiao.reports.sheet_rows import Percent


class GroupBy(StrEnum):
    UNIT = "unit"
    BUILDING = "building"
    ITEM = "item"


def rate(part: int, whole: int) -> str | None:
    """``"97.50%"``, rounded half up; None when there is nothing to divide by."""
    if not whole:
        return None
    percent = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{percent}%"


def kpi_json(kpi: Collection) -> dict[str, Any]:
    return {
        "billed": format_yuan(kpi.billed_fen), "collected": format_yuan(kpi.collected_fen),
        "collection_rate": rate(kpi.collected_fen, kpi.billed_fen),
        "arrears_start": format_yuan(kpi.arrears_start_fen),
        "arrears_collected": format_yuan(kpi.arrears_collected_fen),
        "arrears_rate": rate(kpi.arrears_collected_fen, kpi.arrears_start_fen),
    }


def _amounts(report: AgingReport, row: AgingRow) -> dict[str, Any]:
    by_bucket = dict.fromkeys(report.buckets.labels, "0.00")  # most buckets of most rows are empty
    for label, fen in row.overdue.items():
        by_bucket[label] = format_yuan(fen)
    return {
        "overdue_total": format_yuan(row.overdue_fen),
        "by_bucket": by_bucket,
        "by_item": {item: format_yuan(fen) for item, fen in sorted(row.by_item.items())},
        "not_yet_due": format_yuan(row.not_yet_due_fen),
        "credit": format_yuan(row.credit_fen),
        "oldest_due_date": row.oldest_due.isoformat() if row.oldest_due else None,
    }


def report_json(report: AgingReport, by: GroupBy, *, unmask: bool = False) -> dict[str, Any]:
    """PRODUCT.md §5: ``{"as_of", "rows": [...], "totals": {...}}``."""
    if by is GroupBy.UNIT:
        rows = [{"unit_id": r.key, "owner_name": r.owner_name if unmask else mask_name(r.owner_name),
                 **_amounts(report, r)} for r in report.units]
    elif by is GroupBy.BUILDING:
        rows = [{"building": r.key, "units": r.units, "units_owing": r.owing_units, **_amounts(report, r),
                 "kpi": kpi_json(r.kpi or Collection())} for r in report.by_building()]
    else:
        rows = [{"item": r.key, **_amounts(report, r)} for r in report.items]
        for row in rows:
            row.pop("credit")
            row.pop("by_item")
    totals = {"units": report.total.units, "units_owing": report.total.owing_units, **_amounts(report, report.total)}
    totals["kpi"] = {"from": report.as_of.replace(day=1).isoformat(), "to": report.as_of.isoformat(),
                     **kpi_json(report.total.kpi or Collection())}
    return {"as_of": report.as_of.isoformat(), "by": by.value, "rows": rows, "totals": totals}


# --- Rows for a table or CSV -------------------------------------------------

def table_rows(report: AgingReport, by: GroupBy, *, unmask: bool = False,
               money: Callable[[int], Any] = format_yuan,
               typed: bool = False) -> tuple[list[str], list[list[Any]], list[Any]]:
    """(headers, rows, totals row): what the terminal table, the CSV and the sheets show.

    ``typed`` (workbooks): rates as fractions a cell shows as a percentage, dates as dates.
    """
    _day = _date_cell if typed else _iso_day
    _rates = _fraction_rates if typed else _text_rates
    buckets = list(report.buckets.labels)
    total = report.total
    if by is GroupBy.UNIT:
        headers = ["房号", "楼栋", "业主", "欠费合计", *buckets, "未到期", "预收余额", "最早欠费应缴日"]
        rows = [[r.key, r.building, r.owner_name if unmask else mask_name(r.owner_name),
                 *_money_cells(report, r, money), money(r.not_yet_due_fen), money(r.credit_fen), _day(r)]
                for r in report.units]
        # The rows hold credit-only and not-yet-due units too: say how many of them owe, as the summary does.
        owing = f"（欠费 {total.owing_units} 户）" if total.units != total.owing_units else ""
        households = f"{total.units} 户{owing}"
        footer = ["合计", "", households, *_money_cells(report, total, money), money(total.not_yet_due_fen),
                  money(total.credit_fen), _day(total)]
    elif by is GroupBy.BUILDING:
        headers = ["楼栋", "欠费户数", "欠费合计", *buckets, "未到期", "预收余额", "当月收缴率", "当月清欠率"]
        rows = [[r.key, r.owing_units, *_money_cells(report, r, money), money(r.not_yet_due_fen),
                 money(r.credit_fen), *_rates(r.kpi)] for r in report.by_building()]
        footer = ["合计", total.owing_units, *_money_cells(report, total, money), money(total.not_yet_due_fen),
                  money(total.credit_fen), *_rates(total.kpi)]
    else:
        headers = ["收费项目", "欠费合计", *buckets, "未到期", "最早欠费应缴日"]
        rows = [[r.key, *_money_cells(report, r, money), money(r.not_yet_due_fen), _day(r)] for r in report.items]
        footer = ["合计", *_money_cells(report, total, money), money(total.not_yet_due_fen), _day(total)]
    return headers, rows, footer


def _money_cells(report: AgingReport, row: AgingRow, money: Callable[[int], Any]) -> list[Any]:
    return [money(row.overdue_fen), *(money(row.overdue[label]) for label in report.buckets.labels)]


def _text_rates(kpi: Collection | None) -> list[Any]:
    kpi = kpi or Collection()
    return [rate(kpi.collected_fen, kpi.billed_fen) or "—",
            rate(kpi.arrears_collected_fen, kpi.arrears_start_fen) or "—"]


def _fraction_rates(kpi: Collection | None) -> list[Any]:
    kpi = kpi or Collection()
    return [_fraction(kpi.collected_fen, kpi.billed_fen), _fraction(kpi.arrears_collected_fen, kpi.arrears_start_fen)]


def _iso_day(row: AgingRow) -> Any:
    return row.oldest_due.isoformat() if row.oldest_due else ""


def _date_cell(row: AgingRow) -> Any:
    return row.oldest_due


def write_csv(path: Path, report: AgingReport, by: GroupBy, *, unmask: bool = False) -> None:
    headers, rows, footer = table_rows(report, by, unmask=unmask)
    with atomic_writer(path, encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(csv_row(headers))
        writer.writerows(csv_row(row) for row in rows)
        writer.writerow(csv_row(footer))


def kpi_lines(report: AgingReport) -> list[str]:
    kpi = report.total.kpi or Collection()
    month = f"{chinese_date(report.as_of.replace(day=1))}至{report.as_of.day}日"
    return [
        f"{month}收缴率 {rate(kpi.collected_fen, kpi.billed_fen) or '—'}"
        f"（应收 {format_yuan(kpi.billed_fen, grouping=True)}，已收 {format_yuan(kpi.collected_fen, grouping=True)}）",
        f"{month}清欠率 {rate(kpi.arrears_collected_fen, kpi.arrears_start_fen) or '—'}"
        f"（月初欠费 {format_yuan(kpi.arrears_start_fen, grouping=True)}，"
        f"本月收回 {format_yuan(kpi.arrears_collected_fen, grouping=True)}）",
        KPI_FOOTNOTE[report.kpi_month],
    ]


# The formulas, as docs/law.md states them; each charge counts in one month only.
KPI_FOOTNOTE = {
    "due_date": "注：收缴率 = 应缴日期在本月的应收中，截至统计日已收（含预收）÷ 这些应收；"
                "清欠率 = 本月收款抵扣的往月欠费 ÷ 月初往月欠费余额。",
    "period_start": "注：收缴率 = 所属期间始于本月的应收中，截至统计日已收（含预收）÷ 这些应收；"
                    "清欠率 = 本月收款抵扣的往月欠费 ÷ 月初往月欠费余额。",
}


# --- Workbook -----------------------------------------------------------------

_BOLD = Font(bold=True)


def write_xlsx(path: Path, report: AgingReport, *, unmask: bool = False) -> None:
    """A workbook a finance manager keeps: summary with chart, buildings, units, items."""
    # The path first: a write-only sheet never saved spills lxml errors when it is collected.
    with atomic_path(path) as temp:
        workbook = Workbook(write_only=True)
        _summary_sheet(workbook.create_sheet("汇总"), report)
        tables = [_table_sheet(workbook.create_sheet(title), report, by, unmask=unmask)
                  for title, by in (("按楼栋", GroupBy.BUILDING), ("按房屋", GroupBy.UNIT), ("按项目", GroupBy.ITEM))]
        sheet_rows.save(workbook, temp, tables)


def _fraction(part: int, whole: int) -> Decimal | str:
    if not whole:
        return "—"
    return Percent((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def _cell(sheet: WriteOnlyWorksheet, value: Any, *, bold: bool = False) -> Cell:
    cell = text_cell(sheet, value)
    kind = sheet_rows.kind_of(value)
    if kind in sheet_rows.FORMATS:  # amounts, counts of units, rates, dates
        cell.number_format = sheet_rows.FORMATS[kind]
    if bold:
        cell.font = _BOLD
    return cell


def _table_sheet(sheet: WriteOnlyWorksheet, report: AgingReport, by: GroupBy, *, unmask: bool) -> sheet_rows.Rows:
    """The header through openpyxl; the rows and the bold totals row as text (a sheet of 50,000 units)."""
    headers, rows, footer = table_rows(report, by, unmask=unmask, money=to_decimal, typed=True)
    sheet.freeze_panes = "B2"
    for index, header in enumerate(headers):
        sheet.column_dimensions[_letter(index)].width = max(10, 2 * len(header) + 2)
    sheet.append([_cell(sheet, header, bold=True) for header in headers])
    return sheet_rows.Rows(sheet, 2, [*rows, footer], bold={len(rows)})


def _summary_sheet(sheet: WriteOnlyWorksheet, report: AgingReport) -> None:
    total, kpi = report.total, report.total.kpi or Collection()
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 18
    title = _cell(sheet, f"欠费账龄汇总（截至 {chinese_date(report.as_of)}）", bold=True)
    title.alignment = Alignment(horizontal="left")
    lines: list[list[Any]] = [
        [title], [],
        [_cell(sheet, "账龄（逾期天数）", bold=True), _cell(sheet, "欠费金额（元）", bold=True)],
        *([label, to_decimal(total.overdue[label])] for label in report.buckets.labels),
        ["欠费合计", to_decimal(total.overdue_fen)],
        ["未到期", to_decimal(total.not_yet_due_fen)],
        ["预收余额", to_decimal(total.credit_fen)],
        ["欠费户数", total.owing_units],
        [],
        [_cell(sheet, f"当月指标（{report.as_of:%Y-%m}-01 至 {report.as_of.isoformat()}）", bold=True)],
        ["当月应收", to_decimal(kpi.billed_fen)], ["当月已收", to_decimal(kpi.collected_fen)],
        ["收缴率", _fraction(kpi.collected_fen, kpi.billed_fen)],
        ["月初欠费", to_decimal(kpi.arrears_start_fen)], ["本月收回欠费", to_decimal(kpi.arrears_collected_fen)],
        ["清欠率", _fraction(kpi.arrears_collected_fen, kpi.arrears_start_fen)],
    ]
    for line in lines:
        sheet.append([value if isinstance(value, Cell) else _cell(sheet, value) for value in line])
    chart = BarChart()
    chart.title, chart.y_axis.title, chart.x_axis.title = "欠费账龄分布", "金额（元）", "逾期天数"
    chart.legend = None
    first, last = 4, 3 + len(report.buckets.labels)
    chart.add_data(Reference(sheet, min_col=2, min_row=first, max_row=last), titles_from_data=False)
    chart.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
    chart.width, chart.height = 18, 9
    sheet.add_chart(chart, "D3")


def _letter(index: int) -> str:
    return str(get_column_letter(index + 1))
