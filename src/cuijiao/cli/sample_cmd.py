"""``cuijiao sample DIR``: write a generated estate (for trials and benchmarks)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cuijiao.cli.context import report_error, state
from cuijiao.cli.output import print_json
from cuijiao.errors import EXIT_BAD_INPUT, BadInput
from cuijiao.fileio import os_problem
from cuijiao.sample import EstateSpec, write_estate

# The three files as PRODUCT.md and `cuijiao import` name them.
FILE_LABELS = {"units": "房屋业主", "charges": "应收", "payments": "实收"}


def register(app: typer.Typer) -> None:
    app.command("sample")(sample)


def sample(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="写入的目录。")],
    units: Annotated[int, typer.Option("--units", min=1, help="房屋数。")] = 264,
    months: Annotated[int, typer.Option("--months", min=1, max=240, help="月数（截至 2026年11月）。")] = 36,
    seed: Annotated[int, typer.Option("--seed", help="随机种子：相同参数总是生成相同数据。")] = 20261127,
    fmt: Annotated[
        str, typer.Option("--format", help="csv 或 xlsx（三个文件都用此格式）；默认房屋、实收为 xlsx，应收为 csv。")
    ] = "",
    encoding: Annotated[str, typer.Option("--encoding", help="CSV 编码。")] = "gb18030",
    force: Annotated[bool, typer.Option("--force", help="目录中已有同名文件时覆盖。")] = False,
) -> None:
    """生成示例小区的房屋业主、应收、实收文件（虚构数据，可生成大型小区用于性能测试）。"""
    formats = (fmt, fmt, fmt) if fmt else ("xlsx", "csv", "xlsx")
    if any(f not in ("csv", "xlsx") for f in formats):
        raise typer.BadParameter("--format 只能是 csv 或 xlsx")
    targets = [directory / f"{kind}.{f}" for kind, f in zip(("units", "charges", "payments"), formats, strict=True)]
    existing = [path.name for path in targets if path.exists() or path.is_symlink()]
    if existing and not force:
        report_error(BadInput(f"{directory} 中已有 {'、'.join(existing)}，未写入任何文件（要覆盖请加 --force）"))
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        written = write_estate(directory, EstateSpec(units=units, months=months, seed=seed),
                               formats=formats, encoding=encoding)
    except (BadInput, OSError) as exc:
        report_error(exc if isinstance(exc, BadInput) else BadInput(f"{os_problem(exc, directory)}，示例文件未写入"))
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if state(ctx).json:
        print_json({"directory": str(directory), "files": {kind: str(path) for kind, path in written.items()}})
        return
    for kind, path in written.items():
        typer.echo(f"{FILE_LABELS.get(kind, kind)}：{path}")
