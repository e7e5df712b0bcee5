"""The workspace lock, held and killed by real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cuijiao.store.lock import WorkspaceLocked, current_holder, workspace_lock

_HOLD = """
import sys, time
from pathlib import Path
from cuijiao.store.lock import workspace_lock
with workspace_lock(Path(sys.argv[1]), "run --as-of 2026-10-31"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder_process(root: Path, seconds: float = 30) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", _HOLD, str(root), str(seconds)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    return child


def test_a_second_holder_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    child = _holder_process(tmp_path)
    try:
        with pytest.raises(WorkspaceLocked) as caught, workspace_lock(tmp_path, "demo"):
            pass
        holder = caught.value.holder
        assert holder is not None
        assert (holder.pid, holder.host, holder.purpose) == (child.pid, socket.gethostname(), "run --as-of 2026-10-31")
        assert f"进程 {child.pid}" in str(caught.value)
        assert "用途：run --as-of 2026-10-31" in str(caught.value)
        assert current_holder(tmp_path) == holder
    finally:
        child.kill()
        child.wait()


def test_the_lock_of_a_killed_process_is_taken_over_and_named(tmp_path: Path) -> None:
    child = _holder_process(tmp_path)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert current_holder(tmp_path) is None  # the kernel dropped the flock with the process
    with workspace_lock(tmp_path, "run") as lock:
        assert lock.taken_over is not None
        assert lock.taken_over.pid == child.pid
        note = lock.takeover_note()
        assert note is not None
        assert f"进程 {child.pid}" in note
        assert lock.holder.pid == os.getpid()


def test_a_clean_release_leaves_nothing_to_take_over(tmp_path: Path) -> None:
    with workspace_lock(tmp_path, "first"):
        pass
    assert (tmp_path / ".cuijiao.lock").read_bytes() == b""
    with workspace_lock(tmp_path, "second") as lock:
        assert lock.taken_over is None
        assert lock.takeover_note() is None
        assert current_holder(tmp_path) is not None


def test_waiting_takes_the_lock_once_the_holder_finishes(tmp_path: Path) -> None:
    child = _holder_process(tmp_path, seconds=0.5)
    with workspace_lock(tmp_path, "waiter", wait_seconds=20) as lock:
        assert lock.taken_over is None
    child.wait()
    assert child.returncode == 0


def test_the_lock_file_is_private(tmp_path: Path) -> None:
    with workspace_lock(tmp_path, "x"):
        assert (tmp_path / ".cuijiao.lock").stat().st_mode & 0o777 == 0o600
