"""The workspace lock: one writer of a workspace at a time.

The lock is ``fcntl.flock`` on ``<workspace>/.cuijiao.lock``. The kernel drops a
flock when its holder's file descriptor closes, which includes the process being
killed (SIGKILL, power loss of the process, OOM), so a lock can never outlive its
holder. Who holds it (host, pid, start time, purpose) is written inside the file
for the message a second process shows. A clean release empties the file; finding
holder information in a file whose flock we could take therefore means the last
holder died without releasing, and the new holder says that it took it over.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from cuijiao.errors import CuijiaoError

LOCK_NAME = ".cuijiao.lock"
_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the lock."""

    host: str
    pid: int
    started: str  # ISO 8601 with the holder's UTC offset
    purpose: str

    def describe(self) -> str:
        return f"主机 {self.host}，进程 {self.pid}，开始于 {self.started}，用途：{self.purpose}"

    @classmethod
    def now(cls, purpose: str) -> Holder:
        started = datetime.now().astimezone().isoformat(timespec="seconds")
        return cls(socket.gethostname(), os.getpid(), started, purpose)


class WorkspaceLocked(CuijiaoError):
    """Another process holds the workspace lock (exit 1: try again later)."""

    def __init__(self, root: Path, holder: Holder | None) -> None:
        self.root = root
        self.holder = holder
        who = holder.describe() if holder else "持有者信息尚未写入（它刚刚启动）"
        super().__init__(f"{root}: 工作区正被另一个 cuijiao 进程使用（{who}）。请等它结束后再运行")


@dataclass(frozen=True)
class Lock:
    """A held lock; ``taken_over`` is the dead holder whose lock this one replaced."""

    path: Path
    holder: Holder
    taken_over: Holder | None

    def takeover_note(self) -> str | None:
        """The sentence to tell the user when a stale lock was taken over."""
        if self.taken_over is None:
            return None
        return f"接管了已退出进程遗留的工作区锁（{self.taken_over.describe()}）"


def lock_path(root: Path) -> Path:
    return root / LOCK_NAME


@contextmanager
def workspace_lock(root: Path, purpose: str, *, wait_seconds: float = 0.0,
                   on_wait: Callable[[Holder | None], None] | None = None) -> Iterator[Lock]:
    """Hold the workspace lock for the ``with`` block.

    Raises :class:`WorkspaceLocked` naming the holder when another live process
    holds it (after polling up to ``wait_seconds``; ``on_wait`` is told once, with
    the holder, when the wait begins). A lock left by a dead process is taken
    over, and :attr:`Lock.taken_over` names it.
    """
    path = lock_path(root)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd, root, wait_seconds, on_wait)
        previous = _read_holder(fd)
        holder = Holder.now(purpose)
        _write_holder(fd, holder)
        try:
            yield Lock(path, holder, previous)
        finally:
            os.ftruncate(fd, 0)  # a clean release leaves no holder behind
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def current_holder(root: Path) -> Holder | None:
    """The live holder of the lock, or None when the workspace is free (does not lock)."""
    path = lock_path(root)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd) or Holder("?", 0, "?", "?")
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _acquire(fd: int, root: Path, wait_seconds: float, on_wait: Callable[[Holder | None], None] | None) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise WorkspaceLocked(root, _read_holder(fd)) from None
            if on_wait is not None:
                on_wait(_read_holder(fd))
                on_wait = None
            time.sleep(_POLL_SECONDS)


def _read_holder(fd: int) -> Holder | None:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = b""
    while chunk := os.read(fd, 4096):
        raw += chunk
    if not raw.strip():
        return None
    with contextlib.suppress(ValueError, TypeError, KeyError):
        data = json.loads(raw.decode("utf-8"))
        return Holder(str(data["host"]), int(data["pid"]), str(data["started"]), str(data["purpose"]))
    return Holder("?", 0, "?", "无法读取的锁文件内容")


def _write_holder(fd: int, holder: Holder) -> None:
    data = json.dumps(asdict(holder), ensure_ascii=False).encode("utf-8")
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)
    os.fsync(fd)
