"""``cuijiao notices plan|issue``: what each owner is due next, and recording its issue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cuijiao.cli.context import AsOfOption, WorkspaceOption, as_of_date, error, recorded_run, state, summary
from cuijiao.cli.output import AllOption, console, cut_note, largest_first, new_table, print_json
from cuijiao.cli.report_format import FormatOption, OutputFileOption, emit_file, report_format
from cuijiao.collection import UnitPlan, plan_estate, require_not_before_collection
from cuijiao.errors import EXIT_WARNINGS, BadInput, CuijiaoError
from cuijiao.fileio import os_reason, private_dir
from cuijiao.money import format_yuan
from cuijiao.segments import segment_labels
from cuijiao.stages import STAGE_NAMES

notices_app = typer.Typer(help="催缴通知：计划（每户下一步、何时、被什么阻止）和发出。", no_args_is_help=True)
ApproveOption = Annotated[
    list[str] | None, typer.Option("--approve", metavar="UNIT", help="批准该户的第 4、5 级（可多次）。")
]


# What blocks a unit's next stage, as a clerk says it (--json keeps the English keys).
BLOCK_LABELS = {"promise": "承诺缴费中", "hold": "暂停催缴", "dispute": "争议未解决", "approval": "待批准",
                "interval": "间隔未满", "deadline": "缴费期限未过", "below_minimum": "低于起催金额"}


def register(app: typer.Typer) -> None:
    app.add_typer(notices_app, name="notices")


def plan_json(unit_plan: UnitPlan, *, unmask: bool = False) -> dict[str, Any]:
    """PRODUCT.md §7's row; a hold's reason masked unless ``unmask``."""
    plan = unit_plan.plan
    return {
        "unit_id": plan.unit_id, "segment": plan.segment,
        "case_opened": plan.case.opened_on.isoformat() if plan.case else None,
        "stage_now": plan.stage_now, "next_stage": plan.next_stage,
        "next_on": plan.next_on.isoformat() if plan.next_on else None,
        "blocked_by": plan.blocked_by.value if plan.blocked_by else None,
        "reason": unit_plan.shown_reason(unmask=unmask),
    }


@notices_app.command("plan")
def plan(ctx: typer.Context, as_of: AsOfOption = None, approve: ApproveOption = None,
         fmt: FormatOption = "table", output: OutputFileOption = None, show_all: AllOption = False,
         unmask: Annotated[bool, typer.Option("--unmask", help="显示暂停催缴的原因（可能涉及健康等信息）。")] = False,
         workspace: WorkspaceOption = None) -> None:
    """试运行：每户现在处于第几级、下一级是什么、何时可发，或被什么阻止，以及原因。不写入任何通知。"""
    with recorded_run(ctx, workspace, "notices plan", reads_only=True) as (ws, run):
        day = as_of_date(as_of)
        fmt = report_format(fmt, output, as_json=state(ctx).json)
        require_not_before_collection(ws, day)
        plans = plan_estate(ws, day, approve=frozenset(approve or ()))  # in natural unit order
        run.counts.update(as_of=day.isoformat(), units=len(plans), due_now=sum(p.plan.issue_now for p in plans))
        json_rows = [plan_json(p, unmask=unmask) for p in plans]
        data = {"as_of": day.isoformat(), "rows": json_rows}
        if fmt == "json" and output is None:
            print_json(data)
            return
        labels = segment_labels(ws.settings.segment_rules)
        headers = ("房号", "分群", "立案日", "当前级别", "下一级", "可发日期", "阻止原因", "说明")

        def rows(chosen: list[tuple[UnitPlan, dict[str, Any]]]) -> list[tuple[Any, ...]]:
            out = []
            for unit_plan, row in chosen:
                next_stage = unit_plan.plan.next_stage
                out.append((row["unit_id"], labels.get(row["segment"], row["segment"]), row["case_opened"] or "",
                            str(row["stage_now"]), f"{next_stage} {STAGE_NAMES[next_stage]}" if next_stage else "",
                            row["next_on"] or "", BLOCK_LABELS.get(row["blocked_by"] or "", ""), row["reason"]))
            return out

        every = list(zip(plans, json_rows, strict=True))
        if not emit_file(fmt, output, lambda: data, lambda: [(headers, rows(every))]) and not state(ctx).quiet:
            shown, hidden = largest_first(every, [p.overdue_fen for p in plans], show_all=show_all)
            table = new_table(f"催缴计划（截至 {day.isoformat()}）", headers)
            for line in rows(shown):
                table.add_row(*line)
            console().print(table)
            if hidden:
                typer.echo(cut_note(len(shown), hidden))
        summary(ws, f"共 {len(plans)} 户；现在可发 {run.counts['due_now']} 份通知（notices issue 发出）")


RENDER_WAIT_SECONDS = 600.0
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", metavar="DIR", help="信件写入此目录（默认 out/<日期>_<运行号>/）。")
]


def letters_dir(output: Path | None) -> None:
    """Make the -o folder now (0700), or refuse it in one line: a path through a file, no permission."""
    if output is None:
        return
    try:
        private_dir(output)
    except OSError as exc:
        raise BadInput(f"无法使用 -o {output}：{os_reason(exc)}，未做任何改动。请换一个文件夹") from None


@notices_app.command("issue")
def issue(ctx: typer.Context, as_of: AsOfOption = None, approve: ApproveOption = None,
          output: OutputOption = None,
          pdf: Annotated[bool, typer.Option("--pdf", help="另用 LibreOffice 转出 PDF。")] = False,
          workspace: WorkspaceOption = None) -> None:
    """按计划发出现在可发的通知并记录（编号、级别、缴费期限、所列欠费），生成信件、打印合并件、催费记录表、
    短信清单和文件清单；同一天再运行不会重复发出。"""
    from cuijiao.documents import issue_and_render  # noqa: PLC0415 - python-docx: imported by the commands that need it
    from cuijiao.documents.pdf import to_pdf  # noqa: PLC0415 - python-docx: imported by the commands that need it
    from cuijiao.documents.sms import no_mobile_line  # noqa: PLC0415 - python-docx: imported by the commands that need it
    from cuijiao.month_files import complete_run_folders  # noqa: PLC0415 - python-docx: imported by the commands that need it

    # One issuer at a time (the workspace lock): a second waits, then finds nothing left to write.
    with recorded_run(ctx, workspace, "notices issue", wait_seconds=RENDER_WAIT_SECONDS) as (ws, run):
        day = as_of_date(as_of)
        letters_dir(output)  # before any notice is recorded: letters must have somewhere to go
        result = issue_and_render(ws, run, day, approve=frozenset(approve or ()), out_dir=output)
        # A killed issue left letters without their print file, call sheets, sms.csv or manifest: complete them.
        completed = complete_run_folders(ws, run, day, output)
        pdfs: list[Path] = []
        if pdf and result.letters:
            try:
                pdfs = to_pdf([w.path for w in result.letters + result.files if w.path.suffix == ".docx"])
            except CuijiaoError as exc:  # the letters are written; only their PDF copies are missing
                result.problems.append(str(exc))
        issued = result.issued
        if state(ctx).json:
            print_json({"as_of": day.isoformat(), "issued": [
                {"notice_no": n.notice_no, "unit_id": n.unit_id, "stage": n.stage, "purpose": n.purpose.value,
                 "amount": format_yuan(n.amount_fen), "deadline": n.deadline.isoformat() if n.deadline else None}
                for n in issued], "out_dir": str(result.out_dir) if result.out_dir else None,
                "letters": [w.path.name for w in result.letters], "problems": result.problems,
                "no_mobile": result.no_mobile,
                "completed_folders": [str(folder) for folder in completed]})
        else:
            for n in [] if state(ctx).quiet else issued:
                deadline = f"，缴费期限 {n.deadline.isoformat()}" if n.deadline else ""
                typer.echo(f"{n.notice_no} 房号 {n.unit_id} 第 {n.stage} 级 {STAGE_NAMES[n.stage]}，"
                           f"欠费 {format_yuan(n.amount_fen, grouping=True)} 元{deadline}")
            for problem in result.problems:
                error(problem)
            if result.no_mobile:
                typer.echo(no_mobile_line(result.no_mobile))
            for folder in completed:
                typer.echo(f"已补全 {folder} 的打印合并件、催费记录表、短信清单和文件清单（收入此前未列入的信件）")
            written = (f"；信件 {len(result.letters)} 份{'、PDF ' + str(len(pdfs)) + ' 份' if pdf else ''}"
                       f"已写入 {result.out_dir}" if result.out_dir else "；没有待生成的信件")
            summary(ws, f"已发出 {len(issued)} 份通知（截至 {day.isoformat()}）{written}")
        if result.warnings:
            raise typer.Exit(EXIT_WARNINGS)


ReprintOutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", metavar="DIR", help="信件写入此目录（默认 out/reprint_<运行号>/）。")
]


@notices_app.command("reprint")
def reprint(ctx: typer.Context, notice_no: Annotated[str, typer.Argument(help="通知编号，如 CJ2026-000001。")],
            output: ReprintOutputOption = None, workspace: WorkspaceOption = None) -> None:
    """按记录的数据重新生成某份通知的信件，并说明与原件是否一致（模板或账目是否变了）。"""
    from cuijiao.documents.reprint import reprint_notice  # noqa: PLC0415 - python-docx: imported by the commands that need it

    with recorded_run(ctx, workspace, "notices reprint") as (ws, run):
        letters_dir(output)
        result = reprint_notice(ws, run, notice_no, out_dir=output)
        if state(ctx).json:
            print_json({"notice_no": notice_no, "file": str(result.path), "sha256": result.sha256,
                        "same_as_original": result.same, "same_content": result.same_content,
                        "template_changed": result.template_changed, "data_changed": result.data_changed})
            return
        summary(ws, f"已重新生成 {result.path}：{result.verdict}")
