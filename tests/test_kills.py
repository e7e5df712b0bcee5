"""Kills and signals (issue #12 item 6).

SIGKILL lands at seeded random moments of ``import``, ``notices issue``,
``record`` and an xlsx write; after each, the next command must find: the
database intact, the audit chain and the ledger seals whole, no partial
import, the killed run closed as interrupted, no second copy of an outcome
recorded again, no temp file left. Each command runs in a forked copy of this
process (the CLI is already imported), so a kill point costs a fraction of a
second. ``CUIJIAO_KILL_POINTS`` raises the number of kill points per command.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from conftest import Invoke, write_csv
from cuijiao.cli import app
from cuijiao.cli.context import _catch_signals, _restore_signals
from cuijiao.cli.i18n import CuijiaoGroup
from cuijiao.errors import EXIT_ERROR, Interrupted
from cuijiao.store.lock import workspace_lock
from cuijiao.workspace import open_workspace

POINTS = int(os.environ.get("CUIJIAO_KILL_POINTS", "8"))
UNITS = 40
MONTHS = [(2025, m) for m in range(1, 13)]


def _forked(workspace: Path, *args: str) -> int:
    """Start ``cuijiao -w workspace ARGS`` in a forked child; returns its pid."""
    pid = os.fork()
    if pid == 0:  # the child: run the command, never return into pytest
        code = 1
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            app(["-w", str(workspace), *args], standalone_mode=False)
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        except BaseException:  # a child must always leave through _exit, never back into pytest
            code = 1
        finally:
            os._exit(code)
    return pid


def _duration(workspace: Path, *args: str) -> float:
    started = time.perf_counter()
    os.waitpid(_forked(workspace, *args), 0)
    return time.perf_counter() - started


def _kill_after(workspace: Path, delay: float, *args: str) -> None:
    pid = _forked(workspace, *args)
    time.sleep(delay)
    with contextlib.suppress(ProcessLookupError):  # it had finished
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)  # reaped: the next command finds the process gone


def _db(workspace: Path) -> sqlite3.Connection:
    return sqlite3.connect(workspace / "cuijiao.db")


def _after_kill(cli: Invoke, workspace: Path) -> None:
    """What the next command must find after any kill."""
    result = cli("audit", "verify")
    assert result.exit_code == 0, result.output
    with _db(workspace) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        open_runs = db.execute("SELECT id, command FROM runs WHERE finished_at IS NULL").fetchall()
        assert open_runs == [], open_runs
        closed = db.execute("SELECT count(*) FROM runs WHERE outcome = 'interrupted'").fetchone()[0]
        noticed = db.execute("SELECT count(*) FROM events WHERE kind = 'run.interrupted'").fetchone()[0]
        assert closed == noticed


@pytest.fixture
def estate(with_units: Invoke, workspace_dir: Path, tmp_path: Path) -> tuple[Invoke, Path, Path]:
    units = [["房号", "楼栋", "业主姓名", "联系电话", "建筑面积", "通讯地址"]] + [
        [f"5-{i:03d}", "5栋", f"业主{i}", "13800000000", "80", "翠湖路1号"] for i in range(UNITS)]
    assert with_units("import", "units", str(write_csv(tmp_path / "u.csv", units))).exit_code == 0
    charges = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]] + [
        [f"5-{i:03d}", "物业费", f"{y}-{m:02d}", f"{y}-{m:02d}-10", "100.00"] for i in range(UNITS) for y, m in MONTHS]
    return with_units, workspace_dir, write_csv(tmp_path / "charges.csv", charges)


def _charges(workspace: Path) -> int:
    with _db(workspace) as db:
        return int(db.execute("SELECT count(*) FROM charges").fetchone()[0])


def test_sigkill_at_random_points(estate: tuple[Invoke, Path, Path], tmp_path: Path) -> None:
    cli, workspace, charges = estate
    rng = random.Random(20261128)
    points = 0
    # 1. import: all or nothing.
    span = _duration(workspace, "import", "charges", str(charges), "--dry-run")
    for _ in range(POINTS):
        _kill_after(workspace, rng.uniform(0, span * 1.2), "import", "charges", str(charges))
        points += 1
        _after_kill(cli, workspace)
        assert _charges(workspace) in (0, UNITS * len(MONTHS))
    assert cli("import", "charges", str(charges)).exit_code == 0
    assert _charges(workspace) == UNITS * len(MONTHS)
    # 2. notices issue, month after month: never a stage twice in a case.
    days = [f"2025-{m:02d}-25" for m in range(2, 13)]
    span = _duration(workspace, "notices", "plan", "--as-of", days[0]) * 2
    for index in range(POINTS):
        _kill_after(workspace, rng.uniform(0, span), "notices", "issue", "--as-of", days[index % len(days)])
        points += 1
        _after_kill(cli, workspace)
        with _db(workspace) as db:
            assert db.execute("SELECT count(*) FROM (SELECT unit_id, case_id, stage FROM notices"
                              " WHERE purpose = 'ladder' GROUP BY 1, 2, 3 HAVING count(*) > 1)").fetchone()[0] == 0
    # 3. record: run again after the kill, recorded once.
    span = _duration(workspace, "record", "call", "5-000", "--outcome", "拒接", "--note", "试", "--on", "2025-06-01")
    for index in range(POINTS):
        args = ("record", "call", f"5-{index:03d}", "--outcome", "无人接听", "--note", f"第{index}次",
                "--on", "2025-06-02")
        _kill_after(workspace, rng.uniform(0, span * 1.2), *args)
        points += 1
        _after_kill(cli, workspace)
        assert cli(*args).exit_code == 0
        with _db(workspace) as db:
            assert db.execute("SELECT count(*) FROM outcomes WHERE unit_id = ? AND on_date = '2025-06-02'",
                              (f"5-{index:03d}",)).fetchone()[0] == 1
    # 4. an xlsx written under a kill leaves no temp file once the next write is done.
    out = tmp_path / "账龄.xlsx"
    xlsx = ("aging", "--as-of", "2025-12-25", "--format", "xlsx", "-o", str(out))
    span = _duration(workspace, *xlsx)
    for _ in range(POINTS):
        _kill_after(workspace, rng.uniform(span * 0.5, span * 1.1), *xlsx)
        points += 1
        _after_kill(cli, workspace)
    assert cli(*xlsx).exit_code == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert points >= 30
    # Enough kills landed mid-command to mean something. A report killed before it answers
    # leaves no run (it records its run after answering, and wrote nothing): only writers count.
    with _db(workspace) as db:
        assert db.execute("SELECT count(*) FROM runs WHERE outcome = 'interrupted'").fetchone()[0] >= POINTS // 2


def test_sigterm_rolls_back_or_commits_and_says_which(estate: tuple[Invoke, Path, Path], tmp_path: Path) -> None:
    cli, workspace, _charges_file = estate
    big = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]] + [
        [f"5-{i:03d}", f"杂费{k}", f"{y}-{m:02d}", f"{y}-{m:02d}-10", "1.00"]
        for i in range(UNITS) for k in range(40) for y, m in MONTHS]
    path = write_csv(tmp_path / "big.csv", big)
    process = subprocess.Popen([sys.executable, "-m", "cuijiao", "-w", str(workspace), "import", "charges", str(path)],
                               text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the import's run has begun
        with _db(workspace) as db:
            if db.execute("SELECT 1 FROM runs WHERE command = 'import charges' AND finished_at IS NULL").fetchone():
                break
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert "Traceback" not in err
    with _db(workspace) as db:
        outcome = db.execute("SELECT outcome FROM runs WHERE command = 'import charges'").fetchone()[0]
    if process.returncode == 0:  # the signal came after the commit: the summary says what was kept
        assert _charges(workspace) == len(big) - 1
        assert "已导入" in out
    else:
        assert process.returncode == 1
        assert "已中断（收到 SIGTERM）" in err
        assert outcome == "interrupted"
        assert _charges(workspace) in (0, len(big) - 1)
        # A signal while the files are still being read (no write lock yet) finds nothing
        # to undo and says so; one during the merge rolls the import back.
        assert ("已全部撤销" in err) <= (_charges(workspace) == 0)
        assert ("已全部撤销" in err or "已完成的写入均已保存" in err)
    assert cli("audit", "verify").exit_code == 0



def test_a_sigterm_while_the_workspace_closes_is_ignored(workspace_dir: Path) -> None:
    """A command closes its workspace (its answer given, its run recorded) with its signal handler still in
    place: a SIGTERM in that moment has nothing left to interrupt. It used to reach the clerk as an English
    traceback (the closed connection's ProgrammingError, or Interrupted raised out of the closing)."""
    workspace = open_workspace(workspace_dir)
    assert workspace.db.execute("SELECT count(*) FROM runs").fetchone() is not None
    previous = _catch_signals(workspace)
    try:
        workspace.close()
        signal.raise_signal(signal.SIGTERM)
    finally:
        _restore_signals(previous)


def test_a_signal_past_the_commands_handlers_is_said_in_chinese() -> None:
    """A SIGTERM landing between a command's last line and its run's closing (Python enters the context
    manager's __exit__ before the generator's handlers) raised Interrupted outside them: an English
    traceback after a report at 100,000 units (2 of 6 signals sent 20 ms after the JSON was complete)."""
    probe = typer.Typer(cls=CuijiaoGroup)

    @probe.command()
    def late() -> None:
        raise Interrupted("已中断（收到 SIGTERM）：已完成的写入均已保存（见 cuijiao audit log），其余未执行")

    @probe.callback()
    def root(as_json: bool = typer.Option(False, "--json")) -> None:
        """A group with cuijiao's --json."""

    for args in (["late"], ["--json", "late"]):
        result = CliRunner().invoke(probe, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert result.exit_code == EXIT_ERROR
        assert "已中断（收到 SIGTERM）" in result.stderr
        assert result.stdout == ""  # under --json too: stdout may already hold the report


HOLDS_LOCK_WITH_WORKERS = """
import os, sys, time
from pathlib import Path
from cuijiao.documents.batch import render_pool
from cuijiao.store.lock import workspace_lock


def worker_pid(_number):
    time.sleep(0.2)  # every worker gets some of the work
    return os.getpid()


if __name__ == "__main__":
    root = Path(sys.argv[1])
    with workspace_lock(root, "notices issue"):
        print(" ".join(map(str, render_pool(root).map(worker_pid, range(8)))), flush=True)
        time.sleep(120)
"""


def test_a_killed_batch_leaves_no_worker_holding_the_workspace(workspace_dir: Path, tmp_path: Path) -> None:
    """Letter workers outlive a SIGKILLed parent only briefly, and never hold its workspace lock."""
    script = tmp_path / "holder.py"
    script.write_text(HOLDS_LOCK_WITH_WORKERS)
    process = subprocess.Popen([sys.executable, str(script), str(workspace_dir)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    workers = {int(pid) for pid in process.stdout.readline().split()}
    assert workers and process.pid not in workers
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with workspace_lock(workspace_dir, "audit verify") as lock:  # at once: no worker kept the flock
        assert lock.taken_over is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.2)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "workers outlived their parent"
    # What reaches cron's log once every process holding the stderr is gone (the resource tracker last):
    # not multiprocessing's English warning about the semaphores it removes.
    assert "resource_tracker" not in process.stderr.read()
