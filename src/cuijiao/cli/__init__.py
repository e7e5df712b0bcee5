"""The ``cuijiao`` command: thin Typer commands over the library."""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from cuijiao import __version__
from cuijiao.cli import (
    aging_cmd,
    audit_cmd,
    demo_cmd,
    import_cmd,
    init_cmd,
    limitation_cmd,
    notices_cmd,
    record_cmd,
    run_cmd,
    sample_cmd,
    segment_cmd,
    templates_cmd,
)
from cuijiao.cli.context import AppState, WorkspaceOption, ignore_signals_after_run
from cuijiao.cli.i18n import CuijiaoGroup
from cuijiao.cli.output import print_json
from cuijiao.memory import reuse_freed_memory

app = typer.Typer(
    name="cuijiao",
    help="催缴：物业费与欠费催收工具（导入台账、分配收款、账龄、催缴函、审计记录）。",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a traceback must not print owners' data
    add_completion=False,
    rich_markup_mode=None,
    cls=CuijiaoGroup,  # help pages and usage errors in Chinese
)


def _version(ctx: typer.Context, value: bool) -> None:
    if value:
        # --json is eager too and comes first (global_flags_first), so it is already read here.
        if ctx.params.get("json_output"):
            print_json({"version": __version__})
        else:
            typer.echo(f"cuijiao {__version__}")
        raise typer.Exit


@app.callback()
def root(
    ctx: typer.Context,
    workspace: WorkspaceOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="只输出错误和最后的汇总行。")] = False,
    json_output: Annotated[bool, typer.Option("--json", is_eager=True, help="以 JSON 输出，供程序读取。")] = False,
    version: Annotated[  # noqa: ARG001 - handled by its eager callback
        bool, typer.Option("--version", callback=_version, is_eager=True, help="显示版本。")
    ] = False,
) -> None:
    """催缴：物业费与欠费催收工具。"""
    ctx.obj = AppState(workspace=workspace, quiet=quiet, json=json_output)


# In the order a clerk meets them: set up, load, look, decide, act, record, check.
init_cmd.register(app)
import_cmd.register(app)
aging_cmd.register(app)
segment_cmd.register(app)
notices_cmd.register(app)
templates_cmd.register(app)
record_cmd.register(app)
limitation_cmd.register(app)
audit_cmd.register(app)
run_cmd.register(app)
demo_cmd.register(app)
sample_cmd.register(app)


def main() -> None:
    # A report over 100,000 units makes hundreds of thousands of small objects, none of them in
    # cycles: at the default threshold (700) the collector ran a full pass over every live object
    # again and again (a fifth of `segment`'s time). The modules' objects stay out of its passes.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    reuse_freed_memory()
    ignore_signals_after_run()
    app()

