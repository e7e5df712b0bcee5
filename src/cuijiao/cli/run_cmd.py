"""``cuijiao run``: the monthly batch, for a clerk at a terminal or for cron."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from cuijiao.cli.context import WorkspaceOption, option_date, report_error, state, workspace_root
from cuijiao.cli.output import print_json
from cuijiao.errors import BadInput, CuijiaoError, WorkspaceError

if TYPE_CHECKING:
    from cuijiao.monthly import RunResult, Step

ApproveOption = Annotated[
    list[str] | None, typer.Option("--approve", metavar="UNIT", help="批准该户的第 4、5 级（可多次）。")
]
STEP_COUNT = 5


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="截至日期，如 2026-11-30（默认：上月最后一天，即刚结束的月份）。")] = None,
    inbox: Annotated[Path | None, typer.Option("--inbox", help="收件箱目录（默认：工作区的 inbox/）。")] = None,
    approve: ApproveOption = None,
    force: Annotated[bool, typer.Option("--force", help="允许截至日期早于上次月度批处理（记入审计）。")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """月度批处理：导入收件箱的新文件、计算账龄、分群、发出无需审批的通知、写出账龄报表和月报，输出一行汇总。"""
    from cuijiao.monthly import RunOptions, previous_month_end, run_month  # noqa: PLC0415 - python-docx: imported by the commands that need it

    quiet = state(ctx).quiet
    root = workspace_root(ctx, workspace)
    try:
        if inbox is not None and not inbox.is_dir():
            raise BadInput(f"--inbox {inbox} " + ("是一个文件，不是文件夹" if inbox.exists() else "不存在")
                           + "，未做任何改动。请指定收件箱文件夹")
        day = option_date(as_of, "--as-of") if as_of else previous_month_end(date.today())
        options = RunOptions(day, inbox, frozenset(approve or ()), force, arguments=tuple(sys.argv[1:]))
        with _progress(enabled=not quiet and sys.stdout.isatty()) as step:
            result = run_month(root, options, step=step)
    except WorkspaceError as exc:  # names the folder that is not a workspace
        report_error(exc)
        raise typer.Exit(exc.exit_code) from None
    except CuijiaoError as exc:
        report_error(exc, workspace=root)
        raise typer.Exit(exc.exit_code) from None
    _report(ctx, result, quiet=quiet)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _report(ctx: typer.Context, result: RunResult, *, quiet: bool) -> None:
    from cuijiao.documents.sms import no_mobile_line  # noqa: PLC0415 - python-docx: imported by the commands that need it

    if state(ctx).json:
        print_json(result.as_json())
        return
    for note in result.notes:
        typer.echo(note)
    for item in result.failed_files:
        typer.echo(f"未导入 {item.name}：{item.error.splitlines()[0]}（原因见 {item.moved_to}.错误.txt）", err=True)
    if not quiet:
        for item in result.inbox:
            if item.ok:
                typer.echo(f"已导入 {item.name}：新增 {item.inserted} 行，未变 {item.unchanged} 行")
            for note in item.notes:
                typer.echo(note, err=True)
        if result.waiting_approval:
            typer.echo(f"待审批（--approve 房号）：{'、'.join(result.waiting_approval)}")
        if result.no_mobile:
            typer.echo(no_mobile_line(result.no_mobile))
    typer.echo(result.summary())


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Step]:
    """A progress bar over the batch's steps at a terminal; nothing when output goes to a file or cron."""
    if not enabled:
        yield lambda _name: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("月度批处理", total=STEP_COUNT)

        def step(name: str) -> None:
            progress.update(task, description=name, advance=1)

        yield step

