"""The month folder's shared files — print file, call sheets, sms.csv, manifest — over all its letters.

``documents.batch.render_pending`` writes these files for the letters it has just
rendered. The monthly run keeps one folder per month, and two things leave that
folder's files short of its letters: a second run in the month (``--approve``)
renders only the approved letters, and a run killed after its letters were
recorded but before the manifest was written leaves nothing pending for the next
run to render. The manifest is written last, so a manifest that lists every
letter of the month means the files are complete; otherwise the run rebuilds
them here from every letter of the month.

``notices issue`` writes one folder per run (``out/<as-of>_<run id>/``); a
killed issue leaves its folder short in the same way, and the next issue
completes it here (:func:`complete_run_folders`) with the same logic.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from cuijiao.documents.batch import IssueResult, _call_row, _job, _run_files, _text, prepare
from cuijiao.documents.callsheet import CallRow
from cuijiao.documents.facts import letter_facts
from cuijiao.documents.manifest import listed_files
from cuijiao.documents.output import Written, file_sha256
from cuijiao.documents.sms import Text
from cuijiao.store.audit import Run
from cuijiao.store.notices import stored_notices
from cuijiao.workspace import Workspace

MANIFEST = "manifest.csv"


def _rendered_on(workspace: Workspace, as_of: date) -> dict[str, str]:
    """Notice number → its letter's file name, for the notices issued on ``as_of`` that were rendered."""
    issued = {row[0] for row in workspace.db.execute("SELECT notice_no FROM notices WHERE issued_on = ?",
                                                     (as_of.isoformat(),))}
    files = workspace.db.execute(
        "SELECT json_extract(payload, '$.notice_no'), json_extract(payload, '$.file') FROM events"
        " WHERE kind = 'notice.render' ORDER BY id").fetchall()
    return {no: name for no, name in files if no in issued}


def month_letters(rendered: dict[str, str], folder: Path) -> dict[str, Path]:
    """Notice number → its letter in ``folder``, of the ``rendered`` ones (:func:`_rendered_on`)."""
    return {no: folder / name for no, name in sorted(rendered.items()) if (folder / name).is_file()}


def needs_rebuild(workspace: Workspace, as_of: date, folder: Path) -> bool:
    """True when the folder's manifest (written last) does not list every letter of the month."""
    files = _rendered_on(workspace, as_of)
    if not files:
        return False
    listed = listed_files(folder / MANIFEST)  # a set: 50,000 letters against a 5 MB text took a minute
    # Only a letter the manifest misses is looked for on disk: every issue checks last month's folder.
    return any((folder / name).is_file() for name in files.values() if name not in listed)


def rebuild_month_files(workspace: Workspace, run: Run, as_of: date, folder: Path) -> IssueResult:
    """Write the month's print file, call sheets, sms.csv and manifest over every letter in ``folder``;
    the result's ``files`` are those written, its ``no_mobile`` the month's units left out of sms.csv."""
    rendered = _rendered_on(workspace, as_of)
    letters = month_letters(rendered, folder)
    library, company = prepare(workspace)
    listed = set(letters) | (_batch_notices(workspace, as_of, letters) - rendered.keys())
    notices = [n for n in stored_notices(workspace.db) if n.notice_no in listed]
    result = IssueResult(as_of, [], out_dir=folder)
    calls: dict[str, list[CallRow]] = {}
    texts: list[Text] = []
    for facts in letter_facts(workspace, notices):
        job = _job(facts, library, folder, result)
        notice = facts.notice
        calls.setdefault(facts.segment, []).append(_call_row(facts, mailed=job is not None))
        if notice.stage == 1:
            texts.append(_text(facts))
        if job is None or notice.notice_no not in letters:
            continue
        path = letters[notice.notice_no]
        result.letters.append(Written(path, file_sha256(path), notice.unit_id, notice.notice_no, notice.stage,
                                      notice.amount_fen))
    if result.letters:
        _run_files(workspace, run, result, calls, texts, company)
    return result


def _batch_notices(workspace: Workspace, as_of: date, letters: dict[str, Path]) -> set[str]:
    """The notices of the batches whose letters are in the folder: with the rendered ones taken away, those
    left without a letter (no address to send it to), which the call sheets and sms.csv list all the same."""
    rows = workspace.db.execute(
        "SELECT notice_no FROM notices WHERE issued_on = ? AND run_id IN"
        " (SELECT run_id FROM notices WHERE notice_no IN (SELECT value FROM json_each(?)))",
        (as_of.isoformat(), json.dumps(sorted(letters))))
    return {row[0] for row in rows}


_ISSUE_FOLDER = re.compile(r"(\d{4}-\d{2}-\d{2})_\d+")


def complete_run_folders(workspace: Workspace, run: Run, as_of: date, out_dir: Path | None = None) -> list[Path]:
    """Rebuild the shared files of every ``notices issue`` folder (``out/<as-of>_<run id>/``, and ``out_dir``
    for ``as_of``) that a killed issue left short of its letters; returns the folders completed."""
    folders: list[tuple[date, Path]] = []
    if workspace.out_dir.is_dir():
        for folder in sorted(workspace.out_dir.iterdir()):
            match = _ISSUE_FOLDER.fullmatch(folder.name)
            if match and folder.is_dir():
                try:
                    folders.append((date.fromisoformat(match.group(1)), folder))
                except ValueError:
                    continue
    if out_dir is not None and out_dir.is_dir():
        folders.append((as_of, out_dir))
    completed = []
    for day, folder in folders:
        # A killed issue's temp files (a letter, a call sheet, the print file being written): under the
        # workspace lock no writer is live, and the files themselves are written again or rebuilt here.
        for temp in folder.glob(".*.tmp"):
            temp.unlink(missing_ok=True)
        if needs_rebuild(workspace, day, folder):
            rebuild_month_files(workspace, run, day, folder)
            completed.append(folder)
    return completed
