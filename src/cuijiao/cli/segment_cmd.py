"""``cuijiao segment``: the collection strategy for each owner in arrears, and why."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Annotated, Any

import typer

from cuijiao.arrears import Segmented, explain_unit, segment_units
from cuijiao.cli.context import AsOfOption, UnmaskOption, WorkspaceOption, as_of_date, recorded_run, state, summary
from cuijiao.cli.output import AllOption, console, cut_note, largest_first, new_table, print_json
from cuijiao.cli.report_format import FormatOption, OutputFileOption, emit_file, report_format
from cuijiao.money import format_yuan
from cuijiao.privacy import mask_name
from cuijiao.segments import FACTS, segment_labels
from cuijiao.workspace import Workspace


def register(app: typer.Typer) -> None:
    app.command("segment")(segment)


def _plain(value: Any) -> Any:
    return f"{value:.2f}" if isinstance(value, Decimal) else value


def _as_written(value: Any) -> str:
    """A fact as a rule writes it: true/false (with 是/否), text in double quotes, lists in brackets."""
    if isinstance(value, bool):
        return "true（是）" if value else "false（否）"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_as_written(item) for item in value) + "]"
    return str(_plain(value))


def segment(
    ctx: typer.Context,
    as_of: AsOfOption = None,
    explain: Annotated[
        str | None, typer.Option("--explain", metavar="UNIT", help="显示该户的事实、逐条规则的判断和命中的规则。")
    ] = None,
    fmt: FormatOption = "table",
    output: OutputFileOption = None,
    show_all: AllOption = False,
    unmask: UnmaskOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """按催缴策略给欠费业主分群（规则在 cuijiao.toml 的 [[segments]]，按顺序取第一条成立的）。"""
    with recorded_run(ctx, workspace, "segment", reads_only=True) as (ws, run):
        day = as_of_date(as_of)
        fmt = report_format(fmt, output, as_json=state(ctx).json)
        if explain:
            _explain(ctx, ws, explain_unit(ws, explain, day), unmask=unmask)
            return
        rows = segment_units(ws, day)  # in natural unit order
        counts = Counter(row.verdict.segment for row in rows)
        run.counts.update(as_of=day.isoformat(), segments=dict(counts))
        data = {"as_of": day.isoformat(), "counts": dict(counts),
                "rows": [segment_row_json(r, unmask=unmask) for r in rows]}
        if fmt == "json" and output is None:
            print_json(data)
            return
        if not emit_file(fmt, output, lambda: data, lambda: [(HEADERS, _rows(rows, unmask=unmask, grouping=False))]):
            _table(rows, day.isoformat(), unmask=unmask, quiet=state(ctx).quiet, show_all=show_all)
        labels = segment_labels(ws.settings.segment_rules)
        summary(ws, "；".join(f"{labels.get(name, name)} {count} 户" for name, count in counts.most_common())
                or "没有欠费业主")


def segment_row_json(row: Segmented, *, unmask: bool) -> dict[str, Any]:
    name = row.owner.owner_name
    return {"unit_id": row.owner.unit_id, "owner_name": name if unmask else mask_name(name),
            "segment": row.verdict.segment, "label": row.verdict.rule.label if row.verdict.rule else None,
            "overdue_total": format_yuan(row.overdue_fen), "oldest_days": row.facts["oldest_days"]}


HEADERS = ("房号", "业主", "欠费合计", "最长逾期天数", "分群", "策略")


def _rows(rows: list[Segmented], *, unmask: bool, grouping: bool) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for row in rows:
        rule = row.verdict.rule
        name = row.owner.owner_name
        out.append((row.owner.unit_id, name if unmask else mask_name(name),
                    format_yuan(row.overdue_fen, grouping=grouping),
                    str(row.facts["oldest_days"]), rule.label if rule else "（无规则成立）",
                    rule.strategy if rule else ""))
    return out


def _table(rows: list[Segmented], day: str, *, unmask: bool, quiet: bool, show_all: bool) -> None:
    if quiet:  # a table nobody will see is not built
        return
    shown, hidden = largest_first(rows, [row.overdue_fen for row in rows], show_all=show_all)
    table = new_table(f"催缴分群（截至 {day}）", HEADERS, right=("欠费合计", "最长逾期天数"))
    for row in _rows(shown, unmask=unmask, grouping=True):
        table.add_row(*row)
    console().print(table)
    if hidden:
        typer.echo(cut_note(len(shown), hidden))


def _explain(ctx: typer.Context, ws: Workspace, row: Segmented, *, unmask: bool) -> None:
    verdict = row.verdict
    if state(ctx).json:
        print_json({
            "unit_id": row.owner.unit_id, "as_of": row.as_of.isoformat(),
            "facts": {name: _plain(value) for name, value in row.facts.items()},
            "tried": [{"segment": rule.name, "when": rule.when.text, "matched": matched}
                      for rule, matched in verdict.tried],
            "segment": verdict.segment, "strategy": verdict.rule.strategy if verdict.rule else None,
        })
        return
    name = row.owner.owner_name
    typer.echo(f"房号 {row.owner.unit_id}，业主 {name if unmask else mask_name(name)}，"
               f"截至 {row.as_of.isoformat()}")
    typer.echo("事实：")
    for fact, value in row.facts.items():
        typer.echo(f"  {fact} = {_as_written(value)}    # {FACTS[fact][0]}")
    typer.echo("规则（按顺序，第一条成立的生效）：")
    for rule, matched in verdict.tried:
        typer.echo(f"  {'✔' if matched else '✘'} {rule.name}（{rule.label}）：{rule.when.text}")
    if verdict.rule:
        summary(ws, f"结果：{verdict.rule.label}（{verdict.rule.name}）。策略：{verdict.rule.strategy}")
    else:
        summary(ws, "结果：没有规则成立（该户没有逾期欠费，或规则未覆盖这种情况）")
