"""``cuijiao audit log|verify``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cuijiao.cli.context import WorkspaceOption, recorded_run, state, summary
from cuijiao.cli.output import console, new_table, print_json
from cuijiao.errors import EXIT_ERROR
from cuijiao.privacy import mask_payload
from cuijiao.store.audit import events, verify

audit_app = typer.Typer(help="审计记录：查看历史、校验防篡改哈希链。", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


@audit_app.command("log")
def log(
    ctx: typer.Context,
    unit: Annotated[str | None, typer.Option("--unit", help="只看某一房号的记录。")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="最多显示多少条（最新的在前）。")] = 50,
    unmask: Annotated[bool, typer.Option("--unmask", help="显示完整的姓名和电话。")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """显示审计记录（最新的在前），姓名和电话默认打码。"""
    with recorded_run(ctx, workspace, "audit log") as (ws, _run):
        found = events(ws.db, unit_id=unit, limit=limit)
        rows = [(e.id, e.at, e.kind, e.unit_id or "",
                 e.payload if unmask else mask_payload(e.payload)) for e in found]
        if state(ctx).json:
            print_json([{"id": i, "at": at, "kind": k, "unit_id": u or None, "payload": p}
                        for i, at, k, u, p in rows])
            return
        table = new_table("审计记录", ("序号", "时间", "事件", "房号", "内容"))
        for event_id, at, kind, unit_id, payload in rows:
            table.add_row(str(event_id), at, kind, unit_id, json.dumps(payload, ensure_ascii=False))
        console(quiet=state(ctx).quiet).print(table)
        summary(ws, f"共 {len(rows)} 条记录（最新的在前）")


@audit_app.command("verify")
def verify_command(ctx: typer.Context, workspace: WorkspaceOption = None) -> None:
    """重新计算审计事件的哈希链；有改动或删除时指出第一处断点并以 1 退出。"""
    with recorded_run(ctx, workspace, "audit verify") as (ws, run):
        result = verify(ws.db)
        run.counts["verified"] = result.checked
        if result.ok:
            summary(ws, f"审计链完整：已校验 {result.checked} 个事件")
            return
        run.counts["broken_at"] = result.broken_at
        typer.echo(f"审计链断裂：{result.reason}（之前的 {result.checked} 个事件完好；工作区 {ws.root}）", err=True)
        raise typer.Exit(EXIT_ERROR)

