"""``cuijiao demo``: a year of collection on the bundled sample estate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cuijiao.cli.context import report_error, state
from cuijiao.demo import run_demo, where_to_look
from cuijiao.errors import CuijiaoError
from cuijiao.monthly import RunResult


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="演示工作区目录。")] = Path("cuijiao-demo"),
    force: Annotated[bool, typer.Option(
        "--force", help="替换以前由 cuijiao demo 创建的目录（其他目录不会删除）。")] = False,
) -> None:
    """在内置的示例小区（翠湖花园，虚构数据）上新建工作区，逐月运行最近 12 个月的月度批处理，并告诉你输出在哪里。"""
    quiet = state(ctx).quiet

    def month_done(run: RunResult) -> None:
        if not quiet:
            typer.echo(run.summary())

    try:
        result = run_demo(directory, force=force, on_month=month_done)
    except CuijiaoError as exc:
        report_error(exc)
        raise typer.Exit(exc.exit_code) from None
    for line in where_to_look(result):
        typer.echo(line)
