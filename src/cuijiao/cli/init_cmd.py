"""``cuijiao init [DIR]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cuijiao.cli.context import report_error, state, workspace_root
from cuijiao.cli.output import print_json
from cuijiao.config import CONFIG_NAME
from cuijiao.errors import BadInput, CuijiaoError
from cuijiao.fileio import os_reason
from cuijiao.store.audit import recorded
from cuijiao.workspace import check_init_target, init_workspace


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init(
    ctx: typer.Context,
    directory: Annotated[
        Path | None, typer.Argument(metavar="DIR", help="工作区目录（默认：--workspace 或当前目录）。")
    ] = None,
    company_name: Annotated[str | None, typer.Option(help="物业公司全称（写入 [company] name）。")] = None,
    company_address: Annotated[str | None, typer.Option(help="公司地址，印在信件上（[company] address）。")] = None,
    company_phone: Annotated[str | None, typer.Option(help="公司电话，印在信件上（[company] phone）。")] = None,
    estate_name: Annotated[str | None, typer.Option(help="小区名称，印在信件上（[estate] name）。")] = None,
) -> None:
    """创建工作区：cuijiao.toml（带注释的默认配置）、数据库和 out/ logs/ inbox/ 目录。"""
    root = directory if directory is not None else workspace_root(ctx, None)
    company = {key: value for key, value in (("name", company_name), ("address", company_address),
                                             ("phone", company_phone)) if value}
    try:
        try:
            check_init_target(root)
            workspace = init_workspace(root, company, estate=estate_name)
        except OSError as exc:  # a path through a file, a missing parent, no permission, a read-only disk
            where = exc.filename if exc.filename is not None else root
            raise BadInput(f"无法在 {root} 创建工作区：{where} {os_reason(exc)}。请换一个文件夹") from None
    except CuijiaoError as exc:
        report_error(exc)
        raise typer.Exit(exc.exit_code) from None
    with recorded(workspace.db, "init", [str(root)]):
        pass  # the workspace exists: the run records who created it, when, with which version
    workspace.close()
    if state(ctx).json:
        print_json({"workspace": str(root), "config": str(root / CONFIG_NAME)})
        return
    typer.echo(f"已创建工作区 {root}，请编辑 {root / CONFIG_NAME} 填写小区、公司和缴费方式。")
