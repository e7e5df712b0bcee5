"""``cuijiao import units|charges|payments FILE…``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cuijiao.cli.context import WorkspaceOption, recorded_run, state, summary
from cuijiao.cli.output import console, new_table, print_json
from cuijiao.ingest.importer import ImportOptions, import_files
from cuijiao.ingest.report import ImportResult
from cuijiao.workspace import Workspace

KIND_LABELS = {"units": "房屋业主", "charges": "应收", "payments": "实收"}

FilesArgument = Annotated[list[Path], typer.Argument(metavar="FILE", help="要导入的 .xlsx 或 .csv 文件，可以多个。")]
SheetOption = Annotated[str | None, typer.Option("--sheet", help="Excel 工作表名称或序号（从 1 开始）。")]
EncodingOption = Annotated[
    str | None, typer.Option("--encoding", help="CSV 编码，如 gb18030、utf-8（默认自动识别）。")
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="只检查并报告，不写入。")]
SkipInvalidOption = Annotated[
    bool, typer.Option("--skip-invalid", help="导入正确的行，错误行及原因写入 <文件>.rejected.csv。")
]
ReplaceOption = Annotated[
    bool, typer.Option("--replace", help="同一记录金额等不同时，以本文件为准（前后值记入审计）。")
]

import_app = typer.Typer(help="导入台账文件：房屋业主(units)、应收(charges)、实收(payments)。",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")


def _command(kind: str) -> None:
    def command(
        ctx: typer.Context,
        files: FilesArgument,
        sheet: SheetOption = None,
        encoding: EncodingOption = None,
        dry_run: DryRunOption = False,
        skip_invalid: SkipInvalidOption = False,
        replace: ReplaceOption = False,
        workspace: WorkspaceOption = None,
    ) -> None:
        options = ImportOptions(sheet, encoding, dry_run, skip_invalid, replace)
        with recorded_run(ctx, workspace, f"import {kind}") as (ws, run):
            result = import_files(ws, run, kind, files, options)
            _show(ctx, ws, result)
            raise typer.Exit(result.exit_code)

    command.__doc__ = f"导入{KIND_LABELS[kind]}文件。重复导入不会产生重复记录。"
    import_app.command(kind)(command)


for _kind in KIND_LABELS:
    _command(_kind)


def _show(ctx: typer.Context, ws: Workspace, result: ImportResult) -> None:
    options = state(ctx)
    if options.json:
        print_json({"workspace": str(ws.root), "kind": result.kind, "dry_run": result.dry_run,
                    "totals": result.totals(), "files": [report.as_json() for report in result.files]})
        return
    if not options.quiet:
        console().print(_table(result))
        for report in result.files:
            for problem in report.rejected:
                typer.echo(f"已跳过 {problem}", err=True)
            for warning in report.warnings:
                typer.echo(f"提醒 {warning}", err=True)
            if report.rejected_file:
                typer.echo(f"错误行已写入 {report.rejected_file}", err=True)
    summary(ws, summary_line(result))


def _table(result: ImportResult) -> Table:
    headers = ("文件", "数据行", "新增", "未变", "替换/更新", "拒绝", "跳过合计行", "跳过空行")
    title = f"导入{KIND_LABELS[result.kind]}" + ("（试运行，未写入）" if result.dry_run else "")
    table = new_table(title, headers, right=headers[1:], text=("文件",))  # a name may fold; counts never
    for f in result.files:
        table.add_row(f.name, *(f"{n:,}" for n in (f.rows_read, f.inserted, f.unchanged, f.replaced,
                                                     f.rejected_rows, len(f.totals_rows), f.blank_rows)))
    return table


def summary_line(result: ImportResult) -> str:
    t = result.totals()
    prefix = "试运行（未写入）" if result.dry_run else "已导入"
    line = (f"{prefix}{KIND_LABELS[result.kind]}：{len(result.files)} 个文件，{t['rows_read']} 行，"
            f"新增 {t['inserted']}，未变 {t['unchanged']}，替换 {t['replaced']}，拒绝 {t['rejected']}")
    if t["totals_rows"]:
        line += f"，跳过合计行 {t['totals_rows']}"
    if t["footer_rows"]:
        line += f"，跳过表尾 {t['footer_rows']}"
    if result.encodings:
        line += f"，编码 {'、'.join(result.encodings)}"
    return line
