"""``cuijiao audit log|verify``."""

from __future__ import annotations

from typing import Annotated

import typer

from cuijiao.cli.audit_text import describe
from cuijiao.cli.context import WorkspaceOption, recorded_run, state, summary
from cuijiao.cli.output import console, new_table, print_json
from cuijiao.cli.report_format import FormatOption, OutputFileOption, emit_file, report_format
from cuijiao.errors import EXIT_ERROR, BadInput
from cuijiao.privacy import mask_event
from cuijiao.store.audit import (
    append_event,
    chain_head,
    check_head,
    events,
    format_head,
    verify,
    verify_ledger,
    verify_state,
)
from cuijiao.store.db import transaction

audit_app = typer.Typer(help="审计记录：查看历史、校验防篡改哈希链。", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


@audit_app.command("log")
def log(
    ctx: typer.Context,
    unit: Annotated[str | None, typer.Option("--unit", help="只看某一房号的记录。")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="最多显示多少条（最新的在前）。")] = 50,
    unmask: Annotated[
        bool, typer.Option("--unmask", help="显示完整的姓名、电话和备注（此次查看本身记入审计）。")
    ] = False,
    fmt: FormatOption = "table",
    output: OutputFileOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """显示审计记录（最新的在前），姓名、电话和备注等自由文字默认打码。"""
    with recorded_run(ctx, workspace, "audit log", reads_only=not unmask) as (ws, run):
        fmt = report_format(fmt, output, as_json=state(ctx).json)
        found = events(ws.db, unit_id=unit, limit=limit)
        if unmask:  # who saw personal data in clear, and which records
            with transaction(ws.db):
                append_event(ws.db, run.id, "audit.unmask",
                             {"unit": unit, "events": [e.id for e in found]}, unit_id=unit)
        rows = [(e.id, e.at, e.kind, e.unit_id or "",
                 e.payload if unmask else mask_event(e.kind, e.payload)) for e in found]
        def data() -> dict[str, object]:
            return {"workspace": str(ws.root), "events": [
                {"id": i, "at": at, "kind": k, "unit_id": u or None, "payload": p, "text": describe(k, p)}
                for i, at, k, u, p in rows]}

        if fmt == "json" and output is None:
            print_json(data())
            return
        headers = ("序号", "时间", "房号", "事件")
        lines = [(str(event_id), at.replace("T", " ")[:19], unit_id, describe(kind, payload))
                 for event_id, at, kind, unit_id, payload in rows]
        if not emit_file(fmt, output, data, lambda: [(headers, lines)]) and not state(ctx).quiet:
            table = new_table("审计记录", headers, right=("序号",))
            for line in lines:
                table.add_row(*line)
            console().print(table)
        summary(ws, f"共 {len(rows)} 条记录（最新的在前）")


@audit_app.command("verify")
def verify_command(
    ctx: typer.Context,
    head: Annotated[str | None, typer.Option(
        "--head", metavar="N:HASH",
        help="核对先前记下的链头（事件数:哈希，见月报或 logs/），可发现最新事件被删除。")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """重新计算审计事件的哈希链，并按各次导入的封存摘要核对台账（房屋业主、应收、实收）；
    有问题时逐项指出并以 1 退出。"""
    with recorded_run(ctx, workspace, "audit verify", reads_only=True) as (ws, run):
        problems = []
        result = verify(ws.db)
        run.counts["verified"] = result.checked
        if not result.ok:
            run.counts["broken_at"] = result.broken_at
            problems.append(f"审计链断裂：{result.reason}（之前的 {result.checked} 个事件完好）")
        if head is not None:
            try:
                wrong = check_head(ws.db, head)
            except ValueError as exc:
                raise BadInput(f"--head：{exc}") from None
            if wrong:
                problems.append(wrong)
        ledger = verify_ledger(ws.db)
        run.counts["imports_checked"] = ledger.imports_checked
        problems += ledger.problems
        problems += verify_state(ws.db)
        run.counts["problems"] = len(problems)
        if state(ctx).json:
            print_json({"workspace": str(ws.root), "ok": not problems, "checked": result.checked,
                        "imports_checked": ledger.imports_checked, "head": format_head(chain_head(ws.db)),
                        "problems": problems})
            if problems:
                raise typer.Exit(EXIT_ERROR)
            return
        if problems:
            for problem in problems:
                typer.echo(problem, err=True)
            typer.echo(f"校验未通过：{len(problems)} 处问题（工作区 {ws.root}）", err=True)
            raise typer.Exit(EXIT_ERROR)
        summary(ws, f"审计链完整：已校验 {result.checked} 个事件，"
                    f"台账与 {ledger.imports_checked} 次导入的封存摘要相符，"
                    "通知、案件、送达和处理记录与审计事件相符；"
                    f"链头 {format_head(chain_head(ws.db))}（请另行记下，日后用 audit verify --head 核对）")
