"""``cuijiao run`` killed with SIGKILL at many points, then run again: nothing lost, doubled or half-written.

A forked process counts the database and file operations cuijiao makes and
kills itself (SIGKILL, no cleanup of any kind) just before the N-th one; the
points are spread evenly over a whole run's count, so they fall in every step:
the lock, the imports, aging, issuing, rendering, the reports. After each kill
the next run must finish and leave the workspace exactly as an uninterrupted
run leaves it.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import sys
import zipfile
from datetime import date
from pathlib import Path
from types import FrameType

import docx
import openpyxl
import pytest
from typer.testing import CliRunner

from cuijiao.cli import app
from cuijiao.demo import fresh_workspace
from cuijiao.monthly import RunOptions, run_month
from cuijiao.sample import EstateSpec, write_estate
from cuijiao.store.audit import verify
from cuijiao.store.db import connect
from test_documents import AS_OF as ISSUE_AS_OF
from test_documents import build_estate

TINY = EstateSpec(units=6, months=14)
AS_OF = "2026-10-31"
POINTS = int(os.environ.get("CUIJIAO_KILL_POINTS", "30"))

# The operations a kill may fall before: cuijiao's own calls to the database and the file system.
_IO = {"execute", "executemany", "executescript", "commit", "write", "replace", "rename", "fsync", "flock",
       "ftruncate", "unlink", "mkdir", "save"}


def _run_in_child(root: Path, kill_at: int) -> tuple[int, int]:
    """Run the batch in a forked process that SIGKILLs itself at its ``kill_at``-th point (0: never).

    Returns the child's wait status and, when it finished, how many points it passed.
    Forking (not a new interpreter) keeps each of the many runs cheap.
    """
    count_file = root.parent / f"{root.name}.count"
    pid = os.fork()
    if pid == 0:  # the child: count, and die at the point, the way `kill -9` kills
        count = 0

        def watch(frame: FrameType, event: str, arg: object) -> None:
            nonlocal count
            if (event != "c_call" or getattr(arg, "__name__", "") not in _IO
                    or isinstance(getattr(arg, "__self__", None), str | bytes)  # str.replace is no I/O
                    or not str(frame.f_globals.get("__name__", "")).startswith("cuijiao")):
                return
            count += 1
            if count == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        code = 1
        try:
            sys.setprofile(watch)
            code = run_month(root, RunOptions(date_of(AS_OF))).exit_code
            sys.setprofile(None)
            count_file.write_text(str(count), encoding="utf-8")
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    passed = int(count_file.read_text(encoding="utf-8")) if count_file.exists() else 0
    return status, passed


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny estate's workspace with its exports waiting in the inbox."""
    root = tmp_path_factory.mktemp("kill") / "template"
    fresh_workspace(root, force=False).close()
    write_estate(root / "inbox", TINY)
    return root


@pytest.fixture(scope="module")
def reference(template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], int]:
    """What an uninterrupted run leaves, and how many points it passes."""
    root = tmp_path_factory.mktemp("kill") / "reference"
    shutil.copytree(template, root)
    status, calls = _run_in_child(root, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return _state(root), calls


def _state(root: Path) -> dict[str, object]:
    db = sqlite3.connect(root / "cuijiao.db")
    try:
        return {
            "units": db.execute("SELECT count(*) FROM units").fetchone()[0],
            "charges": db.execute("SELECT count(*), sum(amount_fen) FROM charges").fetchone(),
            "payments": db.execute("SELECT count(*), sum(amount_fen) FROM payments").fetchone(),
            "notices": sorted(db.execute("SELECT unit_id, stage, issued_on, amount_fen FROM notices").fetchall()),
            "out": sorted(p.name for p in (root / "out" / AS_OF).iterdir()),
            "done": sorted(p.name for p in (root / "inbox" / "done" / AS_OF).iterdir()),
        }
    finally:
        db.close()


def _check_whole(root: Path) -> None:
    out = root / "out" / AS_OF
    for path in out.iterdir():
        assert not path.name.endswith(".tmp"), f"left behind: {path.name}"
        if path.suffix == ".docx":
            assert docx.Document(str(path)).paragraphs is not None  # a whole zip, readable
        elif path.suffix == ".xlsx":
            openpyxl.load_workbook(path, read_only=True).close()
        elif path.suffix == ".csv":
            path.read_text(encoding="utf-8-sig")
    db = connect(root / "cuijiao.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert verify(db).ok
        duplicates = db.execute("SELECT case_id, stage, count(*) FROM notices GROUP BY case_id, stage"
                                " HAVING count(*) > 1").fetchall()
        assert duplicates == []
        rendered = {row[0]: row[1] for row in db.execute(
            "SELECT json_extract(payload, '$.notice_no'), json_extract(payload, '$.file') FROM events"
            " WHERE kind = 'notice.render'")}
        for (notice_no,) in db.execute("SELECT notice_no FROM notices"):
            assert notice_no in rendered, f"{notice_no} has no document"
            assert (out / rendered[notice_no]).is_file(), rendered[notice_no]
    finally:
        db.close()


def test_a_run_killed_anywhere_is_finished_by_the_next(template: Path, reference: tuple[dict[str, object], int],
                                                       tmp_path: Path) -> None:
    expected, calls = reference
    assert calls > POINTS * 5  # the points are spread thin enough to land in every step
    killed = 0
    for index in range(POINTS):
        at = 1 + (calls - 2) * index // (POINTS - 1)
        root = tmp_path / f"k{index}"
        shutil.copytree(template, root)
        status, _ = _run_in_child(root, at)
        killed += os.waitstatus_to_exitcode(status) == -signal.SIGKILL
        result = run_month(root, RunOptions(date_of(AS_OF)))
        assert result.exit_code == 0, (at, result.problems)
        _check_whole(root)
        assert _state(root) == expected, f"killed at {at} of {calls}"
        assert not [p for p in (root / "inbox").iterdir() if p.is_file()]
        shutil.rmtree(root)
    assert killed >= POINTS - 1  # the last point may fall after the run's last counted operation


def date_of(text: str) -> date:
    return date.fromisoformat(text)



_PRINT_FILE = ("cuijiao.documents.merge", "cuijiao.documents.docxzip")


def _cli_stopped(args: list[str], stop_at: int, signum: int, count_file: Path) -> tuple[int, int]:
    """The command (its own signal handlers in place) in a forked process that sends itself ``signum`` at the
    ``stop_at``-th operation of the print file's writing (0: never); returns its wait status and how many
    such operations it passed."""
    pid = os.fork()
    if pid == 0:
        count = 0

        def watch(frame: FrameType, event: str, arg: object) -> None:
            nonlocal count
            if (event != "c_call" or getattr(arg, "__name__", "") not in _IO
                    or not str(frame.f_globals.get("__name__", "")).startswith(_PRINT_FILE)):
                return
            count += 1
            if count == stop_at:
                os.kill(os.getpid(), signum)

        code = 1
        try:
            sys.setprofile(watch)
            code = CliRunner().invoke(app, args).exit_code
            sys.setprofile(None)
            count_file.write_text(str(count), encoding="utf-8")
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return status, int(count_file.read_text(encoding="utf-8")) if count_file.exists() else 0


def _inflated(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def _spread(points: int) -> range:
    return range(1, points + 1, max(1, points // 8))


def test_a_run_killed_while_writing_the_print_file_is_finished_by_the_next(
        template: Path, reference: tuple[dict[str, object], int], tmp_path: Path) -> None:
    """Killed at writes of the print file's parts and spool: the next run sweeps the temp files and writes the
    print file a run never killed writes."""
    expected, _ = reference
    whole = tmp_path / "whole"
    shutil.copytree(template, whole)
    run = ["run", "--as-of", AS_OF]
    status, points = _cli_stopped(["-w", str(whole), *run], 0, signal.SIGKILL, tmp_path / "count")
    assert os.waitstatus_to_exitcode(status) == 0 and points > 5
    printed = _inflated(whole / "out" / AS_OF / "print_all.docx")
    for at in _spread(points):
        root = tmp_path / f"k{at}"
        shutil.copytree(template, root)
        status, _ = _cli_stopped(["-w", str(root), *run], at, signal.SIGKILL, tmp_path / f"k{at}.count")
        assert os.waitstatus_to_exitcode(status) == -signal.SIGKILL
        result = run_month(root, RunOptions(date_of(AS_OF)))
        assert result.exit_code == 0, (at, result.problems)
        _check_whole(root)
        assert _state(root) == expected, f"killed at {at} of {points}"
        assert _inflated(root / "out" / AS_OF / "print_all.docx") == printed
        shutil.rmtree(root)


def test_an_issue_stopped_by_sigterm_while_writing_the_print_file_cleans_up_and_is_finished_next(
        tmp_path: Path) -> None:
    """SIGTERM at writes of the print file: the command stops cleanly, its temp files gone at once, and the
    next ``notices issue`` completes the folder with the print file an issue never stopped writes."""
    template = build_estate(tmp_path / "template")
    issue = ["notices", "issue", "--as-of", ISSUE_AS_OF]
    whole = tmp_path / "whole"
    shutil.copytree(template, whole)
    status, points = _cli_stopped(["-w", str(whole), *issue], 0, signal.SIGTERM, tmp_path / "count")
    assert os.waitstatus_to_exitcode(status) == 3 and points > 5  # 3: the absentee without an address
    printed = _inflated(next((whole / "out").iterdir()) / "print_all.docx")
    for at in _spread(points):
        root = tmp_path / f"t{at}"
        shutil.copytree(template, root)
        status, _ = _cli_stopped(["-w", str(root), *issue], at, signal.SIGTERM, tmp_path / f"t{at}.count")
        assert os.waitstatus_to_exitcode(status) not in (0, 3, -signal.SIGTERM), at  # stopped by its handler
        folder = next((root / "out").iterdir())
        assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == [], at
        assert CliRunner().invoke(app, ["-w", str(root), *issue]).exit_code == 3
        assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []
        assert _inflated(folder / "print_all.docx") == printed, at
        shutil.rmtree(root)
