"""Open the workspace database: created mode 0600, migrated, tuned."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from cuijiao.store.migrations import MIGRATIONS

DB_NAME = "cuijiao.db"


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed, mode 0600) and migrate the database at ``path``."""
    if not path.exists():
        # Owners' names and phones live here: only the clerk's account may read it.
        # SQLite gives its journal and WAL files the database file's mode.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    # A rollback journal, not WAL: bulk imports then write each new page once
    # instead of twice (WAL, then checkpoint), and the workspace stays one file
    # at rest. Concurrent runs are excluded by the batch's lock, not by WAL.
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA busy_timeout = 5000")
    # A helper thread for large sorts (index rebuilds after a bulk load), and
    # 64 MiB of page cache: the engine reads units, charges and payments through
    # three cursors at once, which thrash the default 2 MiB.
    db.execute("PRAGMA threads = 2")
    db.execute("PRAGMA cache_size = -65536")
    migrate(db)
    return db


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing, migrated database (for worker processes)."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    db.execute("PRAGMA cache_size = -65536")
    return db


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
            function(db)
            db.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                (name, datetime.now().astimezone().isoformat(timespec="seconds")),
            )
        newly.append(name)
    return newly


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any exception."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
