"""``cuijiao demo``: a fresh workspace on the bundled sample estate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cuijiao.cli.context import fail
from cuijiao.demo import run_demo
from cuijiao.errors import CuijiaoError


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="演示工作区目录。")] = Path("cuijiao-demo"),
    force: Annotated[bool, typer.Option("--force", help="目录已是工作区时先删除重建。")] = False,
) -> None:
    """在内置的示例小区（翠湖花园，虚构数据）上新建工作区，导入全部台账，计算账龄并写出账龄报表。"""
    try:
        summary = run_demo(directory, force=force)
    except CuijiaoError as exc:
        raise fail(str(exc), exc.exit_code) from None
    for line in summary:
        typer.echo(line)

