"""Keep the allocated estate (cuijiao.allocated) in the workspace between runs.

The cache is derived data, keyed by the state of the ledger it was computed
from. The ledger only changes through imports, and every import that writes
has a new import number; new rows also raise the highest row ids. A key that
no longer matches means the cache is stale, and nothing is read from it.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np

from cuijiao.allocated import AllocatedEstate
from cuijiao.store.db import transaction

# Bump when AllocatedEstate or the allocation rules change: old caches are then ignored.
CACHE_FORMAT = 3


def ledger_state(db: sqlite3.Connection) -> str:
    """What the cache must have been computed from to be used now (index look-ups only)."""
    latest = [db.execute(f"SELECT max(id) FROM {table}").fetchone()[0] for table in ("imports", "charges", "payments")]
    return json.dumps([CACHE_FORMAT, *latest])


def load(db: sqlite3.Connection, state: str) -> AllocatedEstate | None:
    """The cached estate if it was computed from ``state``, else None."""
    kept = db.execute("SELECT data FROM allocation_cache WHERE name = 'state'").fetchone()
    if kept is None or kept[0] != state.encode():
        return None  # stale: the columns are not worth reading
    rows = dict(db.execute("SELECT name, data FROM allocation_cache"))
    if any(name not in rows for name in AllocatedEstate.array_names()):
        return None
    values: dict[str, object] = {name: json.loads(rows[name]) for name in AllocatedEstate.list_names()}
    for name in AllocatedEstate.array_names():
        dtype, data = json.loads(rows[f"{name}.dtype"]), rows[name]
        values[name] = np.frombuffer(data, dtype=dtype)  # int32 where it fits: half the memory, faster sums
    return AllocatedEstate(**values)  # type: ignore[arg-type]


def save(db: sqlite3.Connection, state: str, estate: AllocatedEstate) -> None:
    """Replace the cache with ``estate``, computed from ``state``."""
    rows: list[tuple[str, bytes | memoryview]] = [("state", state.encode())]
    rows += [(name, json.dumps(getattr(estate, name), ensure_ascii=False).encode())
             for name in AllocatedEstate.list_names()]
    for name in AllocatedEstate.array_names():
        column = np.ascontiguousarray(getattr(estate, name))
        # The array's own bytes, not a copy: the estate's columns are a few hundred MiB.
        rows += [(f"{name}.dtype", json.dumps(column.dtype.str).encode()), (name, column.data)]
    with transaction(db):
        db.execute("DELETE FROM allocation_cache")
        db.executemany("INSERT INTO allocation_cache (name, data) VALUES (?, ?)", rows)
