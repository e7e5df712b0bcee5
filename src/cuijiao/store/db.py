"""Open the workspace database: created mode 0600, migrated, tuned; and take
its write lock, waiting (and saying so) while another cuijiao command holds it."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import count
from pathlib import Path

from cuijiao.errors import DatabaseBusy
from cuijiao.store.migrations import MIGRATIONS

DB_NAME = "cuijiao.db"
BUSY_ENV = "CUIJIAO_BUSY_TIMEOUT"
DEFAULT_BUSY_SECONDS = 60.0
# How long a writer tries quietly before it tells the clerk it is waiting.
_QUIET_WAIT_MS = 300


def busy_seconds() -> float:
    """How long a command waits for another one's write lock ($CUIJIAO_BUSY_TIMEOUT, default 60 s)."""
    text = os.environ.get(BUSY_ENV, "").strip()
    try:
        seconds = float(text) if text else DEFAULT_BUSY_SECONDS
    except ValueError:
        return DEFAULT_BUSY_SECONDS
    return seconds if seconds >= 0 else DEFAULT_BUSY_SECONDS


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed, mode 0600) and migrate the database at ``path``."""
    if not path.exists():
        # Owners' names and phones live here: only the clerk's account may read it.
        # SQLite gives its journal, WAL and shared-memory files the database file's mode.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        _set_busy_timeout(db, busy_seconds())
        # WAL: readers keep reading a consistent snapshot while an import writes.
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        # A helper thread for large sorts (index rebuilds after a bulk load), and
        # 64 MiB of page cache: the engine reads units, charges and payments through
        # three cursors at once, which thrash the default 2 MiB.
        db.execute("PRAGMA threads = 2")
        db.execute("PRAGMA cache_size = -65536")
        migrate(db)
    except sqlite3.OperationalError as exc:
        db.close()
        if is_busy(exc):
            raise busy_error() from None
        raise
    return db


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing, migrated database (for worker processes)."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    _set_busy_timeout(db, busy_seconds())
    db.execute("PRAGMA cache_size = -65536")
    return db


def _set_busy_timeout(db: sqlite3.Connection, seconds: float) -> None:
    db.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")


def is_busy(exc: BaseException) -> bool:
    """Whether SQLite gave up waiting for another connection's lock."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def busy_error() -> DatabaseBusy:
    return DatabaseBusy(
        f"数据库正被另一个 cuijiao 命令使用，已等待 {busy_seconds():g} 秒仍未释放，本命令未做任何改动。"
        f"请等那个命令结束后再试（等待时间可用环境变量 {BUSY_ENV} 设置，单位秒）"
    )


def begin_immediate(db: sqlite3.Connection, *, wait: bool = True, message: str | None = None) -> None:
    """Take the write lock; when another command holds it, say so (``message``) and wait up to the busy timeout."""
    _set_busy_timeout(db, min(_QUIET_WAIT_MS / 1000, busy_seconds()) if wait else 0)
    try:
        try:
            db.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or not wait or busy_seconds() * 1000 <= _QUIET_WAIT_MS:
                raise
        sys.stderr.write((message or "正在等待另一个 cuijiao 命令完成（数据库正被使用，最多等待 {seconds:g} 秒）…")
                         .format(seconds=busy_seconds()) + "\n")
        sys.stderr.flush()
        _set_busy_timeout(db, busy_seconds())
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            raise busy_error() from None
        raise
    finally:
        _set_busy_timeout(db, busy_seconds())


def applied_migrations(db: sqlite3.Connection) -> list[str]:
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    return [row[0] for row in db.execute("SELECT name FROM schema_migrations ORDER BY rowid")]


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction."""
    done = set(applied_migrations(db))
    newly: list[str] = []
    for name, function in MIGRATIONS:
        if name in done:
            continue
        with transaction(db):
            if name in set(applied_migrations(db)):
                continue  # another process applied it while this one waited for the lock
            function(db)
            db.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                (name, datetime.now().astimezone().isoformat(timespec="seconds")),
            )
        newly.append(name)
    return newly


_savepoints = count(1)


@contextmanager
def transaction(db: sqlite3.Connection, *, wait: bool = True,
                message: str | None = None) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any exception.

    Inside an open transaction it nests as a savepoint, so library code that
    writes in its own transaction can run within a caller's (notices issue).
    """
    if db.in_transaction:
        name = f"nested_{next(_savepoints)}"
        db.execute(f"SAVEPOINT {name}")
        try:
            yield db
        except BaseException:
            db.execute(f"ROLLBACK TO {name}")
            db.execute(f"RELEASE {name}")
            raise
        db.execute(f"RELEASE {name}")
        return
    begin_immediate(db, wait=wait, message=message)
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
