"""``cuijiao templates list|check|export``: the letter templates a workspace uses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cuijiao.cli.context import WorkspaceOption, error, report_error, state, workspace_root
from cuijiao.cli.output import console, new_table, print_json
from cuijiao.config import CONFIG_NAME
from cuijiao.errors import EXIT_ERROR, BadInput
from cuijiao.fileio import os_problem

templates_app = typer.Typer(help="信件模板：列出、检查（变量、语法、违法措辞）、导出以便在 Word 中修改。",
                            no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(templates_app, name="templates")


def _root(ctx: typer.Context, local: Path | None) -> Path | None:
    root = workspace_root(ctx, local)
    return root if (root / CONFIG_NAME).is_file() else None


def _json_root(root: Path | None) -> str | None:
    return None if root is None else str(root)


def _where(root: Path | None) -> str:
    """The summary line's tail: the workspace whose templates these are, or that there is none."""
    return f"（工作区 {root}）" if root is not None else "（不在工作区中：只有内置模板）"


@templates_app.command("list")
def list_templates(ctx: typer.Context, workspace: WorkspaceOption = None) -> None:
    """列出每个模板：名称、文书、用途，以及用的是内置模板还是工作区 templates/notices/ 中的修改版。"""
    from cuijiao.documents.templates import TEMPLATES, WORKSPACE_DIR, sources  # noqa: PLC0415 - python-docx: imported by the commands that need it

    root = _root(ctx, workspace)
    rows = [(s.name, *TEMPLATES.get(s.name, ("", "（工作区自加的模板）")), s.origin) for s in sources(root)]
    if state(ctx).json:
        print_json({"workspace": _json_root(root), "templates": [
            {"name": n, "title": t, "purpose": p, "source": o} for n, t, p, o in rows]})
        return
    table = new_table("信件模板", ("模板", "文书", "用途", "来源"))
    for row in rows:
        table.add_row(*row)
    console(quiet=state(ctx).quiet).print(table)
    typer.echo(f"共 {len(rows)} 个模板；修改方法：cuijiao templates export 目录，"
               f"在 Word 中编辑后放入工作区 {WORKSPACE_DIR}/{_where(root)}")


@templates_app.command("check")
def check_templates(ctx: typer.Context, workspace: WorkspaceOption = None) -> None:
    """检查每个模板：Jinja 语法、信件中没有的变量、法律禁止的威胁（停水停电、公示曝光、黑名单征信等）。"""
    from cuijiao.documents.lint import check  # noqa: PLC0415 - python-docx: imported by the commands that need it
    from cuijiao.documents.templates import sources  # noqa: PLC0415 - python-docx: imported by the commands that need it

    findings, names = [], []
    root = _root(ctx, workspace)
    for source in sources(root):
        names.append(source.name)
        findings.extend(check(source))
    if state(ctx).json:
        print_json({"workspace": _json_root(root), "ok": not findings, "templates": names, "problems": [
            {"template": f.template, "part": f.part, "paragraph": f.paragraph, "phrase": f.phrase,
             "message": f.message} for f in findings]})
    else:
        for finding in findings:
            error(str(finding))
        typer.echo(f"检查了 {len(names)} 个模板：" + (f"{len(findings)} 处问题" if findings else "全部通过")
                   + _where(root))
    if findings:
        raise typer.Exit(EXIT_ERROR)


@templates_app.command("export")
def export(ctx: typer.Context, directory: Annotated[Path, typer.Argument(help="导出到此目录。")],
           force: Annotated[bool, typer.Option("--force", help="覆盖目录中已有的同名文件。")] = False,
           workspace: WorkspaceOption = None) -> None:
    """把工作区当前使用的模板（.docx）和变量说明 README.md 导出到目录，以便在 Word 中修改。"""
    from cuijiao.documents.output import write_atomic  # noqa: PLC0415 - python-docx: imported by the commands that need it
    from cuijiao.documents.templates import WORKSPACE_DIR, shipped_readme, sources  # noqa: PLC0415 - python-docx: imported by the commands that need it

    root = _root(ctx, workspace)
    chosen = list(sources(root))
    names = [f"{s.name}.docx" for s in chosen] + ["README.md"]
    try:
        existing = [n for n in names if (directory / n).exists()]
        if existing and not force:
            raise BadInput(f"{directory} 中已有 {'、'.join(existing)}，未导出任何文件（加 --force 覆盖）")
        try:
            directory.mkdir(parents=True, exist_ok=True)
            for source in chosen:
                write_atomic(directory / f"{source.name}.docx", source.data)
            write_atomic(directory / "README.md", shipped_readme().encode("utf-8"))
        except OSError as exc:
            raise BadInput(f"{os_problem(exc, directory)}，模板未能导出到 {directory}") from None
    except BadInput as exc:
        report_error(exc)
        raise typer.Exit(exc.exit_code) from None
    if state(ctx).json:
        print_json({"workspace": _json_root(root), "directory": str(directory),
                    "files": [str(directory / name) for name in names]})
        return
    typer.echo(f"已导出 {len(chosen)} 个模板和 README.md 到 {directory}；"
               f"修改后放入工作区 {WORKSPACE_DIR}/ 即生效{_where(root)}")
