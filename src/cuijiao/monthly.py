"""The monthly batch, ``cuijiao run``: one workflow from the inbox to the manager's report.

Under the workspace lock: import what arrived in the inbox (units, charges,
payments, in that order), age the arrears, segment the owners, plan and issue
the notices that need no approval (rendering their documents), write the aging
workbook and the manager's report, and return one summary. Cron, the terminal,
the demo and the tests all call :func:`run_month`.

Safe to re-run and to kill: every step either commits in one transaction
(imports, issuing) or writes its file atomically, and each step on the next run
finds what the killed one finished — an imported file imports as unchanged, a
notice already issued is the plan's "previous notice", a document missing for
an issued notice is rendered again, and reports are rewritten whole.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from cuijiao.aging import AgingReport
from cuijiao.allocated import MonthTotals
from cuijiao.arrears import aging_report
from cuijiao.collection import collection_after, plan_estate, require_not_before_collection
from cuijiao.documents.batch import issue_and_render
from cuijiao.documents.context import check_company, company_from
from cuijiao.documents.lint import refuse_failing_templates
from cuijiao.documents.output import file_sha256
from cuijiao.errors import EXIT_OK, EXIT_WARNINGS, BadInput
from cuijiao.fileio import private_dir, write_private_text
from cuijiao.inbox import InboxFile, import_inbox
from cuijiao.ingest.fields import SCHEMAS
from cuijiao.memory import between_steps
from cuijiao.money import format_yuan
from cuijiao.month_files import needs_rebuild, rebuild_month_files
from cuijiao.reports.aging_output import write_xlsx
from cuijiao.segments import segment_labels
from cuijiao.stages import STAGE_NAMES, Block
from cuijiao.store.audit import (
    RUN_FAILED_AFTER_IMPORT,
    RUN_OUTCOMES,
    Run,
    append_event,
    chain_head,
    finish_run,
    format_head,
    now_text,
    start_run,
)
from cuijiao.store.db import transaction
from cuijiao.store.lock import workspace_lock
from cuijiao.store.notices import StoredNotice
from cuijiao.workspace import Workspace, open_workspace

RUN_COMMAND = "run"
Step = Callable[[str], None]


@dataclass(frozen=True)
class RunOptions:
    as_of: date
    inbox: Path | None = None  # default: the workspace's inbox/
    approve: frozenset[str] = frozenset()
    force: bool = False  # allow an as-of date earlier than the last run's
    approve_first: int = 0  # the demo's manager: approve this many of the owners waiting, in unit order
    arguments: tuple[str, ...] = ()  # the command line, for the audit trail


@dataclass
class RunResult:
    root: Path
    as_of: date
    label: str
    out_dir: Path
    notes: list[str] = field(default_factory=list)  # said to the user before the summary
    inbox: list[InboxFile] = field(default_factory=list)
    issued: list[StoredNotice] = field(default_factory=list)
    letters: int = 0  # documents rendered by this run (a re-run also renders what a killed one left)
    documents: list[Path] = field(default_factory=list)  # print file, call sheets, sms.csv, manifest
    problems: list[str] = field(default_factory=list)  # notices left without a document, and why
    no_mobile: list[str] = field(default_factory=list)  # stage-1 units left out of sms.csv: call them instead
    waiting_approval: list[str] = field(default_factory=list)
    overdue_fen: int = 0
    owing_units: int = 0
    files: dict[str, Path] = field(default_factory=dict)  # what → path, for "where to look"

    @property
    def failed_files(self) -> list[InboxFile]:
        return [item for item in self.inbox if not item.ok]

    def inbox_counts(self) -> dict[str, int]:
        return {"imported": len(self.inbox) - len(self.failed_files), "failed": len(self.failed_files)}

    def kept_files(self) -> str:
        """What a run that fails keeps of its inbox step: files imported (committed, moved to done/)
        and files moved to failed/; empty when the run failed before touching the inbox."""
        imported = [item for item in self.inbox if item.ok]
        said = []
        if imported:
            said.append(f"已导入的 {len(imported)} 个文件保留（见 {self._folders(imported)}）")
        if self.failed_files:
            said.append(f"未能导入的 {len(self.failed_files)} 个文件已移入 {self._folders(self.failed_files)}")
        return "；".join(said) + "，其后的步骤未执行" if said else ""

    def _folders(self, items: list[InboxFile]) -> str:
        folders = dict.fromkeys(item.moved_to.parent for item in items)
        shown = [f"{folder.relative_to(self.root) if folder.is_relative_to(self.root) else folder}/"
                 for folder in folders]
        return "、".join(shown)

    @property
    def import_notes(self) -> int:
        """Rows skipped and warnings of the files imported."""
        return sum(len(item.notes) for item in self.inbox)

    @property
    def exit_code(self) -> int:
        return EXIT_WARNINGS if self.failed_files or self.problems or self.import_notes else EXIT_OK

    def summary(self) -> str:
        stages = Counter(n.stage for n in self.issued)
        issued = "、".join(f"第{s}级{STAGE_NAMES[s]} {c}" for s, c in sorted(stages.items()))
        failed = len(self.failed_files)
        parts = [f"月度批处理 {self.as_of.isoformat()} 完成（工作区 {self.root}）",
                 f"导入文件 {len(self.inbox) - failed} 个"
                 + (f"，失败 {failed} 个（见 inbox/failed/{self.label}/）" if failed else "")
                 + (f"，提醒 {notes} 条（见 logs/{self.label}.log）" if (notes := self.import_notes) else ""),
                 f"欠费 {self.owing_units} 户 ¥{format_yuan(self.overdue_fen, grouping=True)}",
                 f"发出通知 {len(self.issued)} 份" + (f"（{issued}）" if issued else "")
                 + f"，生成文书 {self.letters} 份"
                 + (f"，{len(self.problems)} 份未能生成" if self.problems else "")
                 + (f"，短信清单未列入 {len(self.no_mobile)} 户（无有效手机号）" if self.no_mobile else ""),
                 f"待审批 {len(self.waiting_approval)} 户",
                 f"月报 {self.files.get('report_docx', self.out_dir)}"]
        return "；".join(parts)


    def as_json(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(), "workspace": str(self.root), "exit_code": self.exit_code,
            "notes": self.notes,
            "inbox": [{"file": i.name, "kind": i.kind, "ok": i.ok, "inserted": i.inserted, "unchanged": i.unchanged,
                       "error": i.error or None, "notes": list(i.notes)} for i in self.inbox],
            "issued": [{"notice_no": n.notice_no, "unit_id": n.unit_id, "stage": n.stage} for n in self.issued],
            "waiting_approval": self.waiting_approval, "letters": self.letters, "problems": self.problems,
            "no_mobile": self.no_mobile,
            "overdue": format_yuan(self.overdue_fen), "owing_units": self.owing_units,
            "files": {key: str(path) for key, path in self.files.items()},
        }


def previous_month_end(today: date) -> date:
    """The as-of date of a run without ``--as-of``: the last day of the month before ``today``'s.

    Cron runs at 02:00 on the 1st and a clerk on the first working days of the month: both mean
    the month just ended.
    """
    return date(today.year, today.month, 1) - timedelta(days=1)


def run_label(as_of: date) -> str:
    """The name of a run's folders (out/, inbox/done/, logs/): its as-of date, so a re-run continues it."""
    return as_of.isoformat()


def run_month(root: Path, options: RunOptions, *, step: Step | None = None) -> RunResult:
    """The monthly batch on the workspace at ``root``; raises typed errors, returns what it did."""
    workspace = open_workspace(root)
    try:
        with workspace_lock(root, f"cuijiao run --as-of {options.as_of.isoformat()}") as lock:
            result = RunResult(root, options.as_of, run_label(options.as_of),
                               workspace.out_dir / run_label(options.as_of))
            note = lock.takeover_note()
            if note:
                result.notes.append(note)
            sweep_temp_files(workspace.root, result.label)
            run = start_run(workspace.db, RUN_COMMAND, list(options.arguments))
            log = _Log(root / "logs" / f"{result.label}.log", run.id)
            try:
                _check_as_of(workspace, run, options)
                _steps(workspace, run, options, result, log, step or (lambda _name: None))
            except BaseException as exc:
                run.outcome = "bad_input" if isinstance(exc, BadInput) else "error"
                run.counts["error"] = type(exc).__name__
                run.counts["inbox"] = result.inbox_counts()
                kept = result.kept_files()
                log.write(f"失败：{RUN_FAILED_AFTER_IMPORT[run.outcome]}；{kept}" if kept
                          else f"失败：{RUN_OUTCOMES[run.outcome]}")
                if kept:
                    exc.add_note(kept)  # the CLI says it too: the error alone reads as "nothing changed"
                finish_run(workspace.db, run)
                log.write(f"审计链头：{format_head(chain_head(workspace.db))}")
                raise
            run.outcome = "warnings" if result.exit_code == EXIT_WARNINGS else "ok"
            finish_run(workspace.db, run)
            log.write(f"{RUN_OUTCOMES[run.outcome]}；审计链头：{format_head(chain_head(workspace.db))}")
            return result
    finally:
        workspace.close()


def _steps(workspace: Workspace, run: Run, options: RunOptions, result: RunResult, log: _Log, step: Step) -> None:
    as_of = options.as_of
    run.counts["as_of"] = as_of.isoformat()
    if options.force:
        run.counts["forced"] = True
    log.write(f"开始：截至 {as_of.isoformat()}")

    # A template that fails `templates check`, or settings a letter needs, stop the run before it changes anything.
    check_letters(workspace)
    # Before the inbox: a refused run imports nothing; a forced one only imports and reports.
    latest = collection_after(workspace, as_of)
    if latest is not None and not options.force:
        require_not_before_collection(workspace, as_of)

    step("导入收件箱")
    inbox = options.inbox or workspace.root / "inbox"
    for item in import_inbox(workspace, run, inbox, result.label):
        result.inbox.append(item)
        outcome = f"新增 {item.inserted} 行，未变 {item.unchanged} 行" if item.ok else "失败，已移入 failed/"
        kind = SCHEMAS[item.kind].label if item.kind in SCHEMAS else "类型未知"
        sheet = f"工作表“{item.sheet}”，" if item.sheet else ""
        log.write(f"导入 {item.name}（{sheet}{kind}）：{outcome}")
        for note in item.notes:
            log.write(note)
    run.counts["inbox"] = result.inbox_counts()
    between_steps(workspace)

    step("计算账龄")
    report = aging_report(workspace, as_of)
    result.overdue_fen, result.owing_units = report.total.overdue_fen, report.total.owing_units
    log.write(f"账龄：欠费 {result.owing_units} 户，合计 {format_yuan(result.overdue_fen, grouping=True)} 元")
    # The report's earlier months read every kept column, as aging just did: read at the report, after
    # the letters, they were the run's peak memory. pandas and matplotlib: only the run pays their import.
    from cuijiao.reports.monthly_figures import earlier_months  # noqa: PLC0415

    earlier = earlier_months(workspace, as_of)
    between_steps(workspace)

    if latest is not None:  # forced: cases and notices never move back in time
        note = f"截至日早于已记录的最近一次催缴（{latest.isoformat()}）：本次只导入和写报表，不分群、不发通知"
        result.notes.append(note)
        log.write(note)
    else:
        _collect(workspace, run, options, result, log, step)
    _write_reports(workspace, run, result, report, earlier, log, step)


def _collect(workspace: Workspace, run: Run, options: RunOptions, result: RunResult, log: _Log, step: Step) -> None:
    as_of = options.as_of
    step("分群与催缴计划")
    plans = plan_estate(workspace, as_of, approve=options.approve)
    # The planner segments every unit in arrears the way `cuijiao segment` does.
    segments = Counter(p.plan.segment for p in plans if p.overdue_fen)
    run.counts["segments"] = dict(segments)
    labels = segment_labels(workspace.settings.segment_rules)
    log.write("分群：" + "，".join(f"{labels.get(name, name)} {count}" for name, count in sorted(segments.items())))
    waiting = [p.plan.unit_id for p in plans if p.plan.blocked_by == Block.APPROVAL]
    approve = options.approve | frozenset(waiting[:options.approve_first])
    result.waiting_approval = [unit for unit in waiting if unit not in approve]
    between_steps(workspace)

    step("发出通知并生成文书")
    private_dir(result.out_dir)  # owners' names, phones and debts: 0700
    # Issuing takes up the plan just made, and the letters read the day's kept facts the plan read
    # (reading them again was the month's peak memory); the letter reader lets the mapped pages go.
    letters = issue_and_render(workspace, run, as_of, approve=approve, out_dir=result.out_dir)
    result.issued, result.problems = letters.issued, letters.problems
    result.letters = len(letters.letters)
    result.documents, result.no_mobile = [written.path for written in letters.files], letters.no_mobile
    if needs_rebuild(workspace, as_of, result.out_dir):
        rebuilt = rebuild_month_files(workspace, run, as_of, result.out_dir)
        result.documents, result.no_mobile = [written.path for written in rebuilt.files], rebuilt.no_mobile
    between_steps(workspace)
    log.write(f"通知：发出 {len(result.issued)} 份，生成信件 {result.letters} 份，"
              f"未能生成 {len(result.problems)} 份，待审批 {len(result.waiting_approval)} 户，"
              f"短信清单未列入 {len(result.no_mobile)} 户（无有效手机号）")


def _write_reports(workspace: Workspace, run: Run, result: RunResult, report: AgingReport,
                   earlier: list[MonthTotals], log: _Log, step: Step) -> None:
    as_of = result.as_of
    step("写出报表")
    private_dir(result.out_dir)
    book = result.out_dir / f"账龄_{as_of.isoformat()}.xlsx"
    write_xlsx(book, report)
    result.files["aging_xlsx"] = book
    from cuijiao.reports.monthly_report import write_monthly_report  # noqa: PLC0415

    result.files.update(write_monthly_report(workspace, as_of, report, result.out_dir,
                                             waiting_approval=result.waiting_approval, earlier=earlier))
    log.write("报表：" + "，".join(path.name for path in result.files.values()))
    # What the manager was given, as the manifest does for the letters: a report edited later no longer matches.
    with transaction(workspace.db):
        append_event(workspace.db, run.id, "reports.write", {
            "folder": str(result.out_dir), "files": {path.name: file_sha256(path) for path in result.files.values()}})
    run.counts.update(notices_issued=len(result.issued), waiting_approval=len(result.waiting_approval),
                      overdue_fen=result.overdue_fen)


def sweep_temp_files(root: Path, label: str) -> list[Path]:
    """Remove the temp files a killed run left while writing (``.name.xxxx.tmp``); under the lock none is live."""
    swept = []
    for folder in (root / "out" / label, root / "inbox" / "failed" / label):
        if folder.is_dir():
            for temp in folder.glob(".*.tmp"):
                temp.unlink(missing_ok=True)
                swept.append(temp)
    return swept


def check_letters(workspace: Workspace) -> None:
    """Raise :class:`TemplateProblem` (exit 2) when a workspace's own template fails ``templates check``,
    or the settings lack what every letter prints (company address, a phone, payment channels)."""
    refuse_failing_templates(workspace.root, "未导入、未发出任何通知")
    check_company(company_from(workspace.settings))


def last_run_as_of(workspace: Workspace) -> date | None:
    """The as-of date of the latest completed monthly run, if any."""
    latest: date | None = None
    for (counts,) in workspace.db.execute(
        "SELECT counts FROM runs WHERE command = ? AND outcome IN ('ok', 'warnings')", (RUN_COMMAND,)
    ):
        text = json.loads(counts or "{}").get("as_of")
        if text:
            day = date.fromisoformat(text)
            latest = day if latest is None or day > latest else latest
    return latest


def _check_as_of(workspace: Workspace, run: Run, options: RunOptions) -> None:
    last = last_run_as_of(workspace)
    if last is None or options.as_of >= last:
        return
    if not options.force:
        raise BadInput(f"--as-of {options.as_of.isoformat()} 早于上次月度批处理的截至日期 {last.isoformat()}。"
                       "补跑以前的月份请加 --force（会记入审计记录）")
    with transaction(workspace.db):
        append_event(workspace.db, run.id, "run.backdated",
                     {"as_of": options.as_of.isoformat(), "last_as_of": last.isoformat(), "forced": True})


class _Log:
    """``logs/<run>.log``: steps and counts only, never names, phones or addresses."""

    def __init__(self, path: Path, run_id: int) -> None:
        self.path, self.run_id = path, run_id
        private_dir(path.parent)

    def write(self, line: str) -> None:
        write_private_text(self.path, f"{now_text()} run#{self.run_id} {line}\n", append=True)  # 0600
