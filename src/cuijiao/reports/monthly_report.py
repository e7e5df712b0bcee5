"""The manager's monthly report: ``月报_<YYYY-MM>.docx`` and the same figures as ``.xlsx``.

Both files are written whole and atomically, so a killed run leaves last
run's file or this one's, never half of one.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from numbers import Integral
from pathlib import Path
from typing import Any

import pandas as pd
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from cuijiao.aging import AgingReport
from cuijiao.allocated import MonthTotals
from cuijiao.dates import chinese_date
from cuijiao.fileio import atomic_write_bytes
from cuijiao.money import format_yuan, to_decimal
from cuijiao.reports.cells import neutralise_workbook
from cuijiao.reports.charts import bucket_chart, find_cjk_font, rate_chart
from cuijiao.reports.monthly_figures import MonthlyFigures, gather, percent_text, rate
from cuijiao.store.audit import chain_head, format_head
from cuijiao.workspace import Workspace

_BODY_FONT = "宋体"
_KPI_HEADERS = ("月份", "当月应收", "当月已收", "收缴率", "月初欠费", "本月收回欠费", "清欠率")


def report_name(as_of: date, suffix: str) -> str:
    return f"月报_{as_of:%Y-%m}.{suffix}"


def write_monthly_report(workspace: Workspace, as_of: date, report: AgingReport, out_dir: Path, *,
                         waiting_approval: list[str], earlier: list[MonthTotals] | None = None) -> dict[str, Path]:
    """Gather the month's figures and write the report as .docx and .xlsx; returns what → path.
    ``earlier``: the earlier months' totals, when already read (see :func:`gather`).

    Both carry the audit chain's head as it stands now (``审计链头：N:HASH``): kept
    on paper, it lets ``audit verify --head`` catch later truncation or rewriting.
    """
    figures = gather(workspace, as_of, report, waiting_approval=waiting_approval, earlier=earlier)
    head = format_head(chain_head(workspace.db))
    docx_path, xlsx_path = out_dir / report_name(as_of, "docx"), out_dir / report_name(as_of, "xlsx")
    atomic_write_bytes(docx_path, report_docx(figures, font_setting=workspace.settings.report_font, head=head))
    atomic_write_bytes(xlsx_path, report_xlsx(figures, head=head))
    return {"report_docx": docx_path, "report_xlsx": xlsx_path}


def _yuan(fen: int) -> str:
    return format_yuan(fen, grouping=True)


def kpi_rows(figures: MonthlyFigures) -> list[list[str]]:
    return [[str(month), _yuan(int(row.billed)), _yuan(int(row.collected)),
             percent_text(rate(int(row.collected), int(row.billed))),
             _yuan(int(row.arrears_start)), _yuan(int(row.arrears_collected)),
             percent_text(rate(int(row.arrears_collected), int(row.arrears_start)))]
            for month, row in figures.kpis.iterrows()]


HEAD_LABEL = "审计链头："
_HEAD_NOTE = "（请另行保存此行，日后用 cuijiao audit verify --head 事件数:哈希 核对审计记录未被删改）"


def report_docx(figures: MonthlyFigures, *, font_setting: str = "", head: str = "") -> bytes:
    document = Document()
    _body_font(document)
    document.add_heading(f"{figures.estate} 物业费收缴月报（{figures.as_of.year}年{figures.as_of.month}月）", 0)
    document.add_paragraph(f"{figures.company}　截至{chinese_date(figures.as_of)}　金额单位：元")
    font = find_cjk_font(font_setting)
    this = figures.kpis.iloc[-1]
    document.add_heading("一、本月概要", 1)
    document.add_paragraph(
        f"收缴率 {percent_text(rate(int(this.collected), int(this.billed)))}"
        f"（当月应收 {_yuan(int(this.billed))}，已收 {_yuan(int(this.collected))}）；"
        f"清欠率 {percent_text(rate(int(this.arrears_collected), int(this.arrears_start)))}"
        f"（月初欠费 {_yuan(int(this.arrears_start))}，本月收回 {_yuan(int(this.arrears_collected))}）；"
        f"月末欠费 {figures.owing_units} 户，合计 {_yuan(figures.total_overdue_fen)}。")
    document.add_heading("二、近12个月收缴率与清欠率", 1)
    _table(document, list(_KPI_HEADERS), kpi_rows(figures))
    if font.path is None:
        document.add_paragraph(font.problem)
    else:
        months = list(figures.kpis.index)
        series = {"收缴率": [_percent_float(rate(int(r.collected), int(r.billed))) for _, r in figures.kpis.iterrows()],
                  "清欠率": [_percent_float(rate(int(r.arrears_collected), int(r.arrears_start)))
                          for _, r in figures.kpis.iterrows()]}
        document.add_picture(io.BytesIO(rate_chart(font.path, months, series)), width=Cm(15))
    document.add_heading("三、欠费账龄及较上月变动", 1)
    buckets = figures.buckets
    _table(document, ["逾期天数", "上月末", "本月末", "变动"],
           [[f"{label}天", _yuan(int(row.last_month)), _yuan(int(row.this_month)), _signed(int(row.change))]
            for label, row in buckets.iterrows()])
    if font.path is not None:
        document.add_picture(io.BytesIO(bucket_chart(
            font.path, [str(label) for label in buckets.index],
            [int(v) / 100 for v in buckets["this_month"]], [int(v) / 100 for v in buckets["last_month"]])),
            width=Cm(15))
    document.add_heading("四、欠费最多的十户", 1)
    _table(document, ["房号", "业主", "楼栋", "欠费", "最早应缴日"],
           [[str(rec["unit_id"]), str(rec["owner"]), str(rec["building"]), _yuan(int(rec["overdue_fen"])),
             str(rec["oldest_due"])] for rec in figures.largest.to_dict("records")])
    document.add_heading("五、本月发出的通知（按级别和分群）", 1)
    _notices_section(document, figures.notices)
    document.add_heading("六、催缴结果", 1)
    _table(document, ["事项", "数量"], [[label, str(count)] for label, count in figures.outcomes])
    document.add_heading("七、诉讼时效提醒", 1)
    expiring, expired, owed = figures.limitation
    document.add_paragraph(f"诉讼时效将在90天内届满的应收 {expiring} 笔，已届满 {expired} 笔，涉及欠费 {_yuan(owed)}。"
                           "明细见 cuijiao limitation；将届满的应收请尽快送达书面催缴并登记送达，以中断时效。")
    document.add_heading("八、待审批", 1)
    waiting = figures.waiting_approval
    document.add_paragraph(
        f"{len(waiting)} 户已到律师函或诉讼材料阶段，需要审批：{'、'.join(waiting)}。"
        "批准后运行 cuijiao run --as-of 日期 --approve 房号。" if waiting else "没有等待审批的通知。")
    if head:
        note = document.add_paragraph(f"{HEAD_LABEL}{head}")
        note.add_run(_HEAD_NOTE).font.size = Pt(8)
        for section in document.sections:  # on every printed page, too
            section.footer.paragraphs[0].text = f"{HEAD_LABEL}{head}"
            for run in section.footer.paragraphs[0].runs:
                run.font.size = Pt(7)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _percent_float(value: Decimal | None) -> float | None:
    # Only for drawing a line: plotted coordinates, never an amount.
    return None if value is None else float(value * 100)


def _signed(fen: int) -> str:
    return ("+" if fen > 0 else "") + _yuan(fen)


def _notices_section(document: Any, notices: pd.DataFrame) -> None:
    if notices.empty:
        document.add_paragraph("本月没有发出通知。")
        return
    segments = [str(column) for column in notices.columns]
    rows = [[str(stage), *(str(int(row[s])) for s in notices.columns), str(int(row.sum()))]
            for stage, row in notices.iterrows()]
    totals = notices.sum()
    rows.append(["合计", *(str(int(totals[s])) for s in notices.columns), str(int(totals.sum()))])
    _table(document, ["级别", *segments, "合计"], rows)


def _table(document: Any, headers: list[str], rows: list[list[str]]) -> None:
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for values in rows:
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.text = text


def _body_font(document: Any) -> None:
    """宋体 for Chinese text: Word picks the East Asian font from ``w:eastAsia``, not the font name."""
    for name in ("Normal", "Title", "Heading 1"):
        style = document.styles[name]
        style.font.name = _BODY_FONT
        style.element.rPr.rFonts.set(qn("w:eastAsia"), _BODY_FONT)
    document.styles["Normal"].font.size = Pt(11)


# --- the same figures as a workbook ------------------------------------------------

def report_xlsx(figures: MonthlyFigures, *, head: str = "") -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        _kpi_frame(figures).to_excel(writer, sheet_name="收缴率与清欠率", index=False)
        buckets = figures.buckets.map(lambda fen: to_decimal(int(fen)))
        buckets.index = [f"{label}天" for label in buckets.index]
        buckets.columns = ["本月末", "上月末", "变动"]
        buckets.to_excel(writer, sheet_name="账龄变动", index_label="逾期天数")
        largest = figures.largest.assign(overdue_fen=figures.largest["overdue_fen"].map(lambda f: to_decimal(int(f))),
                                         oldest_due=figures.largest["oldest_due"].map(_day))
        largest.columns = ["房号", "业主", "楼栋", "欠费", "最早应缴日"]
        largest.to_excel(writer, sheet_name="欠费最多十户", index=False)
        if not figures.notices.empty:
            figures.notices.to_excel(writer, sheet_name="本月通知", index_label="级别")
        pd.DataFrame(figures.outcomes, columns=["事项", "数量"]).to_excel(writer, sheet_name="催缴结果", index=False)
        expiring, expired, owed = figures.limitation
        pd.DataFrame([["90天内届满", expiring], ["已届满", expired], ["涉及欠费", to_decimal(owed)]],
                     columns=["诉讼时效", "数值"]).to_excel(writer, sheet_name="诉讼时效", index=False)
        pd.DataFrame({"待审批房号": figures.waiting_approval}).to_excel(writer, sheet_name="待审批", index=False)
        if head:
            pd.DataFrame([[f"{HEAD_LABEL}{head}"], [_HEAD_NOTE]], columns=["审计"]).to_excel(
                writer, sheet_name="审计链头", index=False)
        _formats(writer)
        neutralise_workbook(writer.book)  # owners' names and unit ids are text, never formulas
    return buffer.getvalue()


def _kpi_frame(figures: MonthlyFigures) -> pd.DataFrame:
    rows = [[month, to_decimal(int(r.billed)), to_decimal(int(r.collected)), rate(int(r.collected), int(r.billed)),
             to_decimal(int(r.arrears_start)), to_decimal(int(r.arrears_collected)),
             rate(int(r.arrears_collected), int(r.arrears_start))]
            for month, r in figures.kpis.iterrows()]
    return pd.DataFrame(rows, columns=list(_KPI_HEADERS))


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _formats(writer: pd.ExcelWriter) -> None:
    """Every figure stored as a number, never text, and shown as what it is: rates as percentages,
    amounts (Decimal) with separators and two places, counts (integers) whole, dates as dates."""
    rate_columns = {"收缴率", "清欠率"}
    for sheet in writer.book.worksheets:
        headers = [cell.value for cell in sheet[1]]
        for column, header in enumerate(headers, start=1):
            sheet.column_dimensions[sheet.cell(1, column).column_letter].width = 14
            for row in range(2, sheet.max_row + 1):
                cell = sheet.cell(row, column)
                cell.number_format = "0.00%" if header in rate_columns else _number_format(cell.value)


def _number_format(value: object) -> str:
    if isinstance(value, date):
        return "yyyy-mm-dd"
    if isinstance(value, Integral) and not isinstance(value, bool):
        return "#,##0"
    if isinstance(value, Decimal | float):
        return "#,##0.00"
    return "General"
