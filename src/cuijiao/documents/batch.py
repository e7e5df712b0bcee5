"""The letters of a run: record the notices, render each, write the run's files, record their hashes.

Rendering is a separate step from recording: ``issue_and_render`` records
(``collection.issue_notices``), then renders every notice that has no
``notice.render`` event yet — the ones just issued and any a killed run left
without its document — into ``out/<as-of>_<run id>/``. Each letter is written
under a temporary name and renamed, and its hash goes into the audit trail
with the template's and the context's, so ``notices reprint`` can tell which
one changed. A second run for the same day issues nothing and writes nothing.
Callers hold the workspace lock (``store.lock``) around it, so two processes
never render the same pending notice.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from cuijiao.collection import issue_notices
from cuijiao.dates import chinese_date
from cuijiao.documents.callsheet import CallRow, call_sheet
from cuijiao.documents.context import Company, check_company, company_from, deadline_of, letter_context, yuan
from cuijiao.documents.facts import LetterFacts, LetterReader
from cuijiao.documents.lint import refuse_failing_templates
from cuijiao.documents.manifest import manifest_csv
from cuijiao.documents.merge import Piece, PrintFile, merge_letters, rendered_piece
from cuijiao.documents.output import Written, inside, publish, safe_part, sync_files, write_atomic
from cuijiao.documents.sms import Text, no_mobile, sms_csv
from cuijiao.documents.templates import Library, template_name
from cuijiao.errors import CuijiaoError
from cuijiao.fileio import private_dir
from cuijiao.store.audit import Run, append_event, appended_events, canonical_json
from cuijiao.store.db import transaction
from cuijiao.store.notices import StoredNotice, stored_notices
from cuijiao.workers import worker_pool
from cuijiao.workspace import Workspace

CHUNK = 200  # notices read and rendered per step: memory stays flat in the batch's size
PARALLEL_FROM = 400  # letters; below this, starting worker processes costs more than it saves


@dataclass
class IssueResult:
    as_of: date
    issued: list[StoredNotice]
    out_dir: Path | None = None
    letters: list[Written] = field(default_factory=list)
    files: list[Written] = field(default_factory=list)  # print file, call sheets, sms.csv, manifest
    problems: list[str] = field(default_factory=list)  # notices left unrendered, and why
    no_mobile: list[str] = field(default_factory=list)  # stage-1 units left out of sms.csv: no mobile number

    @property
    def warnings(self) -> bool:
        return bool(self.problems)


def rendered_notice_nos(workspace: Workspace) -> set[str]:
    return {row[0] for row in workspace.db.execute(
        "SELECT json_extract(payload, '$.notice_no') FROM events WHERE kind = 'notice.render'")}


def unrendered(workspace: Workspace) -> list[StoredNotice]:
    """Recorded notices with no document yet (issued now, or left by a killed run)."""
    done = rendered_notice_nos(workspace)
    return [n for n in stored_notices(workspace.db) if n.notice_no not in done]


def prepare(workspace: Workspace) -> tuple[Library, Company]:
    """Check the settings and the templates (as ``templates check`` does) and load them before anything is
    recorded: a template that fails the check is never used."""
    company = company_from(workspace.settings)
    check_company(company)
    refuse_failing_templates(workspace.root)
    library = Library(workspace.root)
    for name in library.names():
        library.get(name)
    return library, company


def issue_and_render(workspace: Workspace, run: Run, as_of: date, *, approve: frozenset[str] = frozenset(),
                     out_dir: Path | None = None) -> IssueResult:
    """Record the notices due on ``as_of`` and write their letters and the run's files."""
    library, company = prepare(workspace)
    issued = issue_notices(workspace, run, as_of, approve=approve)
    result = render_pending(workspace, run, as_of, out_dir=out_dir, library=library, company=company)
    result.issued = issued
    return result


def render_pending(workspace: Workspace, run: Run, as_of: date, *, out_dir: Path | None = None,
                   library: Library | None = None, company: Company | None = None) -> IssueResult:
    """Render every recorded notice that has no document yet; nothing pending writes nothing."""
    if library is None or company is None:
        library, company = prepare(workspace)
    result = IssueResult(as_of, [])
    pending = unrendered(workspace)
    if not pending:
        return result
    folder = out_dir if out_dir is not None else _folder_of(workspace, run, as_of, pending)
    batch = _Batch(workspace, run, result, folder, library, company)
    try:
        batch.render(pending)
    except BaseException as exc:
        if batch.printing is not None:
            batch.printing.abort()
        if isinstance(exc, BrokenProcessPool):
            close_pools()  # a broken pool takes no more work: the next batch starts new workers
            raise RendererDied(len(result.letters)) from None
        raise
    close_pools()  # the workers' memory is not held while the run's files and reports are written
    if result.letters:
        _run_files(workspace, run, result, batch.calls, batch.texts, company, batch.printing)
    run.counts.update(letters=len(result.letters), letters_skipped=len(result.problems))
    return result


class RendererDied(CuijiaoError):
    """A letter worker ended mid-batch (killed: the OOM killer, a clerk's kill -9); its letters are not lost."""

    def __init__(self, recorded: int) -> None:
        super().__init__(f"生成信件的工作进程意外退出（可能因内存不足被系统终止），本批已生成并记录 {recorded} 份信件；"
                         "再次运行同一命令即补齐其余信件和打印合并件、催费记录表、短信清单")


def _folder_of(workspace: Workspace, run: Run, as_of: date, pending: list[StoredNotice]) -> Path:
    """``out/<as-of>_<run id>/``: this run's, or — when every letter left to write belongs to one earlier
    ``notices issue`` killed while rendering — that run's folder, where its other letters are: a batch
    split over two folders printed and texted the letters written but not yet recorded twice."""
    runs = {row[0] for row in workspace.db.execute(
        "SELECT DISTINCT run_id FROM notices WHERE notice_no IN (SELECT value FROM json_each(?))",
        (json.dumps([n.notice_no for n in pending]),))}
    days = {n.issued_on for n in pending}
    if len(runs) == 1 and len(days) == 1 and run.id not in runs:
        (earlier,), (day,) = runs, days
        command = workspace.db.execute("SELECT command FROM runs WHERE id = ?", (earlier,)).fetchone()
        folder = workspace.out_dir / f"{day.isoformat()}_{earlier}"
        if command is not None and command[0] == "notices issue" and folder.is_dir():
            return folder
    return workspace.out_dir / f"{as_of.isoformat()}_{run.id}"


@dataclass
class _Batch:
    """The letters of one render_pending, chunk by chunk, and what the run's files gather from them."""

    workspace: Workspace
    run: Run
    result: IssueResult
    folder: Path
    library: Library
    company: Company
    calls: dict[str, list[CallRow]] = field(default_factory=dict)
    texts: list[Text] = field(default_factory=list)
    printing: PrintFile | None = None  # print_all.docx, written as the letters come
    queued: int = 0  # letters handed to the renderers: the next one's place in the print file

    def render(self, pending: list[StoredNotice]) -> None:
        reader = LetterReader(self.workspace)  # the kept allocation and the outcomes, read once for every chunk
        parallel = len(pending) >= PARALLEL_FROM and (os.cpu_count() or 1) > 1
        rendering: _Rendering | None = None
        for chunk in _chunks(pending, CHUNK):
            jobs = self._jobs(reader.facts(chunk))
            # The workers render this chunk while the previous one is made durable and recorded, and
            # while the next one's facts are read.
            started = _start_rendering(self.workspace.root, jobs, self.company, self.library, parallel=parallel)
            if rendering is not None:
                self._finish(rendering)
            rendering = started
        if rendering is not None:
            self._finish(rendering)

    def _jobs(self, chunk: Iterable[LetterFacts]) -> list[Job]:
        jobs: list[Job] = []
        for facts in chunk:
            job = _job(facts, self.library, self.folder, self.result, self.queued)
            # An owner with no letter (no address to send it to) is still phoned and texted.
            self.calls.setdefault(facts.segment, []).append(_call_row(facts, mailed=job is not None))
            if facts.notice.stage == 1:
                self.texts.append(_text(facts))
            if job is None:
                continue
            jobs.append(job)
            self.queued += 1
        if jobs and self.result.out_dir is None:
            private_dir(self.folder)  # owners' names, phones and debts: 0700
            self.result.out_dir = self.folder
        return jobs

    def _finish(self, rendering: _Rendering) -> None:
        """Wait for a chunk's letters, make them durable, record their hashes, add them to the print file."""
        done = list(rendering.done)
        sync_files([Path(job[1]) for job in rendering.jobs])  # durable before their hashes are recorded
        written = [Written(Path(path), letter.sha256, facts.notice.unit_id, facts.notice.notice_no,
                           facts.notice.stage, facts.notice.amount_fen)
                   for (_, path, facts, _), letter in zip(rendering.jobs, done, strict=True)]
        with transaction(self.workspace.db), appended_events(self.workspace.db) as events:
            for (name, _, facts, _), file, letter in zip(rendering.jobs, written, done, strict=True):
                events.append(self.run.id, "notice.render", {
                    "notice_no": facts.notice.notice_no, "file": file.path.name, "sha256": letter.sha256,
                    "template": name, "template_sha256": self.library.get(name).sha256,
                    "context_sha256": letter.context_sha256}, unit_id=facts.notice.unit_id)
        self.result.letters.extend(written)
        for file, letter in zip(written, done, strict=True):
            if self.printing is None:
                self.printing = PrintFile(self.folder / ".print_all.docx.tmp", file.path)
            self.printing.add(letter.piece)


def _chunks(items: Sequence[StoredNotice], size: int) -> Iterator[list[StoredNotice]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


Job = tuple[str, str, LetterFacts, int]  # template, file path, the notice's facts, its place in the print file


def _job(facts: LetterFacts, library: Library, folder: Path, result: IssueResult, index: int = 0) -> Job | None:
    notice = facts.notice
    name = template_name(notice.stage, notice.purpose, facts.segment)
    if unmailable(facts, name):
        result.problems.append(f"{notice.notice_no} 房号 {notice.unit_id}：空置/外地户没有通讯地址，未生成信件"
                               "（补录通讯地址后再次运行 notices issue 即生成）")
        return None
    library.get(name)
    return name, str(inside(folder, f"{notice.notice_no}_{safe_part(notice.unit_id)}.docx")), facts, index


def unmailable(facts: LetterFacts, template: str) -> bool:
    """An absentee's letter goes by post and names the address it goes to: without one there is no letter."""
    return template == "absentee" and not facts.owner.address.strip()


def _text(facts: LetterFacts) -> Text:
    """A stage-1 notice's line in sms.csv."""
    notice, owner = facts.notice, facts.owner
    return Text(owner.phone, owner.unit_id, notice.notice_no, owner.name, notice.amount_fen, deadline_of(notice),
                tuple(line.item for line in facts.lines))


NOT_MAILED = "无通讯地址，未寄信"


def _call_row(facts: LetterFacts, *, mailed: bool = True) -> CallRow:
    notice = facts.notice
    oldest = max((max((notice.issued_on - line.due_date).days, 0) for line in facts.lines), default=0)
    return CallRow(facts.owner.unit_id, facts.owner.name, facts.owner.phone, yuan(notice.amount_fen), oldest,
                   facts.last_contact, notice.stage, notice.notice_no, chinese_date(deadline_of(notice)),
                   facts.owner.tags, "" if mailed else NOT_MAILED)


_WORKER_LIBRARY: Library | None = None


def _worker_start(root: Path) -> None:
    global _WORKER_LIBRARY  # noqa: PLW0603 - one library per worker process, loaded once
    _WORKER_LIBRARY = Library(root)


def render_one(library: Library, name: str, path: str, context: dict[str, Any]) -> str:
    """Render and write one letter (made durable by the chunk's ``sync_files``); returns its SHA-256."""
    return write_atomic(Path(path), library.get(name).render(context), durable=False)


class Rendered(NamedTuple):
    sha256: str  # the letter file's
    context_sha256: str
    piece: Piece  # its share of the print file, made here so the main process never reads it back


def render_letter(library: Library, company: Company, name: str, path: str, facts: LetterFacts,
                  index: int) -> Rendered:
    """The letter's context built, rendered and written (made durable by the chunk's ``sync_files``)."""
    context = letter_context(facts, company)
    template = library.get(name)
    rendered = template.render_parts(context)
    return Rendered(write_atomic(Path(path), rendered.data, durable=False), context_hash(context),
                    rendered_piece(index, template, rendered))


def _render_in_worker(job: tuple[Company, str, str, LetterFacts, int]) -> Rendered:
    assert _WORKER_LIBRARY is not None
    return render_letter(_WORKER_LIBRARY, *job)


_POOL: dict[Path, ProcessPoolExecutor] = {}


def render_pool(root: Path) -> ProcessPoolExecutor:
    """The workers that render ``root``'s letters, started once per process (see :mod:`cuijiao.workers`)."""
    pool = _POOL.get(root)
    if pool is None:
        pool = _POOL[root] = worker_pool(min(os.cpu_count() or 1, 4), _worker_start, (root,))
    return pool


@dataclass
class _Rendering:
    """A chunk handed to the renderers: its jobs, and their results as they come."""

    jobs: list[Job]
    done: Iterator[Rendered]


def _start_rendering(root: Path, jobs: list[Job], company: Company, library: Library, *,
                     parallel: bool) -> _Rendering:
    if parallel:  # map submits every job now; its iterator waits for them in order
        return _Rendering(jobs, render_pool(root).map(_render_in_worker, [(company, *job) for job in jobs],
                                                      chunksize=16))
    return _Rendering(jobs, iter([render_letter(library, company, *job) for job in jobs]))


def close_pools() -> None:
    while _POOL:
        _POOL.popitem()[1].shutdown()


def context_hash(context: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(context).encode()).hexdigest()


def _run_files(workspace: Workspace, run: Run, result: IssueResult, calls: dict[str, list[CallRow]],
               texts: list[Text], company: Company, printing: PrintFile | None = None) -> None:
    folder = result.out_dir
    assert folder is not None
    target = inside(folder, "print_all.docx")
    temp = folder / ".print_all.docx.tmp"
    if printing is not None:
        printing.close()
    else:
        merge_letters([w.path for w in result.letters], temp)
    result.files.append(Written(target, publish(temp, target)))
    date_text = result.as_of.isoformat()
    for segment, rows in sorted(calls.items()):
        path = inside(folder, f"call_sheet_{safe_part(segment)}.docx")
        sha = write_atomic(path, call_sheet(segment, rows, company.name, date_text))
        result.files.append(Written(path, sha))
        with transaction(workspace.db):
            append_event(workspace.db, run.id, "callsheet.export",
                         {"file": path.name, "sha256": sha, "segment": segment, "units": len(rows),
                          "phones_in_full": True})
    result.no_mobile = no_mobile(texts)
    if texts:
        path = inside(folder, "sms.csv")
        result.files.append(Written(path, write_atomic(path, sms_csv(texts, company.estate,
                                                                       company.contact_phone or company.phone))))
    path = inside(folder, "manifest.csv")
    sha = write_atomic(path, manifest_csv(result.letters + result.files))
    with transaction(workspace.db):
        append_event(workspace.db, run.id, "documents.manifest",
                     {"folder": str(folder), "manifest_sha256": sha, "letters": len(result.letters),
                      "files": [w.path.name for w in result.files]})


def manifest_rows(written: Sequence[Written]) -> str:
    return json.dumps([w.path.name for w in written], ensure_ascii=False)
