"""``cuijiao limitation``: charges whose limitation period has ended or ends soon."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cuijiao.aging import natural_key
from cuijiao.arrears import limitation_report
from cuijiao.cli.context import AsOfOption, WorkspaceOption, as_of_date, recorded_run, state, summary
from cuijiao.cli.output import AllOption, console, cut_note, largest_first, new_table, print_json
from cuijiao.cli.report_format import FormatOption, OutputFileOption, emit_file, report_format
from cuijiao.limitation import Clock, Status
from cuijiao.money import format_yuan


def register(app: typer.Typer) -> None:
    app.command("limitation")(limitation)


def clock_json(clock: Clock) -> dict[str, Any]:
    """PRODUCT.md §8's row."""
    return {
        "unit_id": clock.unit_id, "item": clock.charge.item, "period": clock.charge.period,
        "due_date": clock.charge.due_date.isoformat(), "limitation_ends": clock.ends.isoformat(),
        "status": clock.status.value if clock.status else None,
        "last_interruption": clock.last_interruption[0].isoformat() if clock.last_interruption else None,
        "owed": format_yuan(clock.owed_fen), "barred": format_yuan(clock.barred_fen),
        "waived_on": clock.waived.on.isoformat() if clock.waived else None,
        "waived_by": clock.waived.by if clock.waived else None,
        "waiver_evidence": clock.waived.evidence if clock.waived else None,
        "waived_amount": format_yuan(clock.waived.amount_fen) if clock.waived and clock.waived.amount_fen else None,
    }


def limitation(
    ctx: typer.Context,
    as_of: AsOfOption = None,
    within: Annotated[
        int | None, typer.Option("--within", min=0, help="列出多少天内届满的（默认 cuijiao.toml 的 warn_days，90）。")
    ] = None,
    fmt: FormatOption = "table",
    output: OutputFileOption = None,
    show_all: AllOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """诉讼时效：已届满和即将届满的欠费（每期费用单独计三年；付款、承诺、已送达的催缴、法律程序使其重新计算）。"""
    with recorded_run(ctx, workspace, "limitation", reads_only=True) as (ws, run):
        day = as_of_date(as_of)
        fmt = report_format(fmt, output, as_json=state(ctx).json)
        rows = sorted(limitation_report(ws, day, warn_days=within), key=lambda r: natural_key(r.unit_id))
        run.counts.update(as_of=day.isoformat(), expired=sum(r.status is Status.EXPIRED for r in rows),
                          expiring=sum(r.status is Status.EXPIRING for r in rows),
                          waived=sum(r.status is Status.WAIVED for r in rows))
        if fmt == "json" and output is None:
            print_json({"as_of": day.isoformat(), "rows": [clock_json(r) for r in rows]})
            return
        headers = ("房号", "收费项目", "所属期间", "应缴日期", "尚欠", "时效届满日", "状态", "最近一次中断")

        def lines(rows: list[Clock], grouping: bool) -> list[tuple[str, ...]]:
            return [(r.unit_id, r.charge.item, r.charge.period, r.charge.due_date.isoformat(),
                     format_yuan(r.owed_fen, grouping=grouping),
                     r.ends.isoformat() + ("" if r.official_calendar else "*"), _status(r, day), _interruption(r))
                    for r in rows]

        if emit_file(fmt, output, lambda: {"as_of": day.isoformat(), "rows": [clock_json(r) for r in rows]},
                     lambda: [(headers, lines(rows, False))]):
            pass
        elif not state(ctx).quiet:  # a table nobody will see is not built
            shown, hidden = largest_first(rows, [r.owed_fen for r in rows], show_all=show_all)
            table = new_table(f"诉讼时效（截至 {day.isoformat()}）", headers, right=("尚欠",))
            for line in lines(shown, True):
                table.add_row(*line)
            console().print(table)
            if hidden:
                typer.echo(cut_note(len(shown), hidden))
        expired = run.counts["expired"]
        typer.echo("届满后业主可拒付，但仍应列账、继续催收并保留证据；届满后公司的催缴、起诉不能使时效重新计算。")
        if any(not r.official_calendar for r in rows):
            typer.echo("* 该年度法定节假日安排尚未收录，按周末推算；可在 cuijiao.toml [limitation] holidays 补充。")
        summary(ws, f"已届满 {expired} 笔，{within if within is not None else ws.settings.limitation_warn_days} 天内"
                    f"届满 {run.counts['expiring']} 笔，业主已放弃时效抗辩 {run.counts['waived']} 笔")


def _status(clock: Clock, day: Any) -> str:
    if clock.status is Status.EXPIRED:
        return f"已届满 {(day - clock.ends).days} 天"
    if clock.status is Status.WAIVED and clock.waived is not None:
        waived = clock.waived
        if waived.by == "acknowledgement":
            return f"已届满，业主 {waived.on.isoformat()} 书面确认（{waived.evidence}），放弃时效抗辩"
        rest = f"，余欠 {format_yuan(clock.barred_fen, grouping=True)} 元仍已届满" if clock.barred_fen else ""
        return f"已届满，业主 {waived.on.isoformat()} 自愿{waived.evidence}（不得要求返还）{rest}"
    return f"{(clock.ends - day).days} 天后届满"


def _interruption(clock: Clock) -> str:
    if clock.last_interruption is None:
        return "无（自应缴日起算）"
    on, why = clock.last_interruption
    return f"{on.isoformat()} {why.label}"
