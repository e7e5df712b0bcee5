"""``cuijiao aging`` and ``cuijiao unit``: the arrears as of a date."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cuijiao.aging import AgingReport
from cuijiao.arrears import aging_report, time_barred_payments, unit_position
from cuijiao.cli.context import AsOfOption, UnmaskOption, WorkspaceOption, as_of_date, recorded_run, state, summary
from cuijiao.cli.output import AllOption, console, cut_note, largest_first, new_table, print_json, screenful_rows
from cuijiao.cli.report_format import FormatOption, OutputFileOption, Section, emit_file, report_format, write_json
from cuijiao.money import format_yuan, parse_amount
from cuijiao.reports.aging_output import GroupBy, kpi_lines, report_json, table_rows, write_csv, write_xlsx
from cuijiao.reports.statement import statement
from cuijiao.store.reading import deposit_receipts


def register(app: typer.Typer) -> None:
    app.command("aging")(aging)
    app.command("unit")(unit)


def aging(
    ctx: typer.Context,
    as_of: AsOfOption = None,
    by: Annotated[
        GroupBy, typer.Option("--by", help="按房屋(unit)、楼栋(building)或收费项目(item)汇总。")
    ] = GroupBy.UNIT,
    fmt: Annotated[str, typer.Option("--format", help="table、csv、json 或 xlsx。")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="写入文件（csv、xlsx 必须指定）。")] = None,
    show_all: AllOption = False,
    unmask: UnmaskOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """欠费账龄报表：截至某日每户（或每栋、每个项目）的欠费、账龄分段、未到期和预收余额，及当月收缴率、清欠率。"""
    with recorded_run(ctx, workspace, "aging", reads_only=True) as (ws, run):
        day = as_of_date(as_of)
        fmt = report_format(fmt, output, as_json=state(ctx).json, formats=("table", "csv", "json", "xlsx"))
        report = aging_report(ws, day)
        run.counts.update(as_of=day.isoformat(), units_in_report=len(report.units),
                          overdue_fen=report.total.overdue_fen)
        _emit(report, by, fmt, output, unmask=unmask, quiet=state(ctx).quiet, show_all=show_all)
        if fmt != "json" or output is not None:
            others = len(report.units) - report.total.owing_units
            summary(ws, f"截至 {day.isoformat()}：欠费 {report.total.owing_units} 户，"
                        f"逾期欠费合计 {format_yuan(report.total.overdue_fen, grouping=True)} 元"
                        + (f"；另有 {others} 户仅有未到期费用或预收余额" if others else ""))


def _emit(report: AgingReport, by: GroupBy, fmt: str, output: Path | None, *, unmask: bool, quiet: bool,
          show_all: bool = False) -> None:
    if fmt == "json":
        write_json(output, report_json(report, by, unmask=unmask))
    elif fmt == "csv":
        assert output is not None
        write_csv(output, report, by, unmask=unmask)
        typer.echo(f"已写入 {output}")
    elif fmt == "xlsx":
        assert output is not None
        write_xlsx(output, report, unmask=unmask)
        typer.echo(f"已写入 {output}")
    elif not quiet:  # a table nobody will see is not built (10,000 units: seconds)
        headers, rows, footer = table_rows(report, by, unmask=unmask, money=_grouped)
        cut = len(rows) > screenful_rows() and not show_all
        rows, hidden = largest_first(rows, _overdue(report, by) if cut else [], show_all=not cut)
        text_columns = 3 if by is GroupBy.UNIT else 1
        table = new_table(f"欠费账龄（截至 {report.as_of.isoformat()}）", headers, right=headers[text_columns:])
        for row in rows:
            table.add_row(*map(str, row))
        table.add_section()
        table.add_row(*map(str, footer))
        console().print(table)
        if hidden:
            typer.echo(cut_note(len(rows), hidden, totals=True))
        for line in kpi_lines(report):
            typer.echo(line)


def _overdue(report: AgingReport, by: GroupBy) -> list[int]:
    """Each table row's arrears, in the rows' order: what a cut table keeps the largest of."""
    rows = report.units if by is GroupBy.UNIT else report.by_building() if by is GroupBy.BUILDING else report.items
    return [row.overdue_fen for row in rows]


def _grouped(fen: int) -> str:
    return format_yuan(fen, grouping=True)


def _shown(amount: str) -> str:
    """A statement's amount (``"10151.40"``, machine-readable) as a clerk reads it: ``10,151.40``."""
    return format_yuan(parse_amount(amount), grouping=True) if amount else amount


def unit(
    ctx: typer.Context,
    unit_id: Annotated[str, typer.Argument(metavar="UNIT", help="房号。")],
    as_of: AsOfOption = None,
    fmt: FormatOption = "table",
    output: OutputFileOption = None,
    unmask: UnmaskOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """一户的对账单：每笔应收、每笔收款，以及每笔收款抵了哪项费用、依据什么规则。"""
    with recorded_run(ctx, workspace, "unit", reads_only=True) as (ws, _run):
        fmt = report_format(fmt, output, as_json=state(ctx).json)
        position = unit_position(ws, unit_id, as_of_date(as_of))
        data = statement(position, unmask=unmask, barred=time_barred_payments(ws, position),
                         deposits=deposit_receipts(ws.db, position.ledger.unit_id, position.as_of))
        if fmt == "json" and output is None:
            print_json(data)
            return
        if not emit_file(fmt, output, lambda: data, lambda: _statement_sections(data)) and not state(ctx).quiet:
            _print_statement(data)  # under -q no table is built: nobody would see it
        t = data["totals"]
        summary(ws, f"房号 {data['unit_id']}：逾期欠费 {_shown(t['overdue'])} 元，"
                    f"未到期 {_shown(t['not_yet_due'])} 元，预收余额 {_shown(t['credit'])} 元")


def _statement_sections(data: dict[str, Any]) -> list[Section]:
    """The statement as CSV: the charges, then every payment's applications, then any deposits."""
    charges = [(c["period"], c["item"], c["due_date"], c["amount"], c["adjustment"], c["paid"], c["owed"],
                c["status"]) for c in data["charges"]]
    payments = [(p["paid_on"], p["receipt_no"] or "", p["amount"], p["designated"] or "", a["item"] or "",
                 a["period"] or "", a["amount"], a["rule"], a["explanation"])
                for p in data["payments"] for a in p["applied"]]
    sections: list[Section] = [
        (("房号", "楼栋", "业主", "截至"), [(data["unit_id"], data["building"], data["owner_name"], data["as_of"])]),
        (("期间", "项目", "应缴日期", "应收", "减免", "已抵", "尚欠", "状态"), charges),
        (("收款日期", "收据号", "金额", "付款时指定", "抵扣项目", "抵扣期间", "抵扣金额", "规则", "依据"), payments),
    ]
    if data["deposits"]:
        sections.append((("收款日期", "收据号", "项目", "金额"),
                         [(d["paid_on"], d["receipt_no"] or "", d["item"], d["amount"]) for d in data["deposits"]]))
    return sections


def _print_statement(data: dict[str, Any]) -> None:
    out = console()
    out.print(f"房号 {data['unit_id']}（{data['building']}）业主 {data['owner_name']}，截至 {data['as_of']}")
    charges = new_table("应收", ("期间", "项目", "应缴日期", "应收", "减免", "已抵", "尚欠", "状态"),
                        right=("应收", "减免", "已抵", "尚欠"))
    for c in data["charges"]:
        charges.add_row(c["period"], c["item"], c["due_date"], *map(_shown, (c["amount"], c["adjustment"], c["paid"],
                        c["owed"])), c["status"])
    out.print(charges)
    payments = new_table("收款及抵扣", ("收款日期", "收据号", "金额", "付款时指定", "抵扣到", "抵扣金额", "依据"),
                         right=("金额", "抵扣金额"))
    for p in data["payments"]:
        for index, a in enumerate(p["applied"]):
            first = index == 0
            target = f"{a['item']} {a['period']}" if a["item"] else "预收余额"
            if a["rule"] == "earmarked":
                target = f"预收（留给 {a['item']} {a['period']}）"
            payments.add_row(p["paid_on"] if first else "", (p["receipt_no"] or "（无）") if first else "",
                             _shown(p["amount"]) if first else "", (p["designated"] or "未指定") if first else "",
                             target, _shown(a["amount"]), a["explanation"])
    out.print(payments)
    if data["deposits"]:
        deposits = new_table("押金（不抵扣物业费等费用）", ("收款日期", "收据号", "项目", "金额"), right=("金额",))
        for d in data["deposits"]:
            deposits.add_row(d["paid_on"], d["receipt_no"] or "（无）", d["item"], _shown(d["amount"]))
        out.print(deposits)
