"""``cuijiao demo``: a year of collection on the bundled sample estate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cuijiao.cli.context import report_error, state
from cuijiao.cli.output import print_json
from cuijiao.errors import BadInput, CuijiaoError
from cuijiao.fileio import os_problem

if TYPE_CHECKING:
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
    from cuijiao.demo import run_demo, where_to_look  # noqa: PLC0415 - python-docx: imported by the commands that need it

    quiet, as_json = state(ctx).quiet, state(ctx).json

    def month_done(run: RunResult) -> None:
        if not quiet and not as_json:
            typer.echo(run.summary())

    try:
        try:
            result = run_demo(directory, force=force, on_month=month_done)
        except OSError as exc:
            raise BadInput(f"{os_problem(exc, directory)}，演示未能完成") from None
    except CuijiaoError as exc:
        report_error(exc)
        raise typer.Exit(exc.exit_code) from None
    if as_json:
        print_json({"workspace": str(result.root.resolve()), "months": [run.as_json() for run in result.runs]})
        return
    for line in where_to_look(result):
        typer.echo(line)
