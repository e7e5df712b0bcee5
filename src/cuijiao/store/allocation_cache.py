"""Keep the allocated estate (cuijiao.allocated) in the workspace between runs.

The cache is derived data, keyed by the state of the ledger it was computed
from. Every import that writes has a new import number; new rows also raise
the highest row ids; and every UPDATE or DELETE of the ledger, from cuijiao
or from any SQLite tool, raises the ``ledger_changes`` counter (a trigger).
A key that no longer matches means the cache is stale, and nothing is read
from it. A cache whose bytes do not match their checksum, or do not make an
estate, is ignored the same way: it is recomputed, never trusted.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Mapping

import numpy as np

from cuijiao.allocated import AllocatedEstate
from cuijiao.errors import DatabaseBusy
from cuijiao.store.audit import append_event
from cuijiao.store.db import transaction

# Bump when AllocatedEstate or the allocation rules change: old caches are then ignored.
CACHE_FORMAT = 6


def ledger_state(db: sqlite3.Connection) -> str:
    """What the cache must have been computed from to be used now (index look-ups only)."""
    latest = [db.execute(f"SELECT max(id) FROM {table}").fetchone()[0] for table in ("imports", "charges", "payments")]
    changes = db.execute("SELECT n FROM ledger_changes WHERE id = 1").fetchone()
    return json.dumps([CACHE_FORMAT, *latest, changes[0] if changes else None])


def load(db: sqlite3.Connection, state: str) -> AllocatedEstate | None:
    """The cached estate if it was computed from ``state``, else None."""
    kept = db.execute("SELECT data FROM allocation_cache WHERE name = 'state'").fetchone()
    if kept is None or kept[0] != state.encode():
        return None  # stale: the columns are not worth reading
    return _verified(dict(db.execute("SELECT name, data FROM allocation_cache")))


def load_earlier(db: sqlite3.Connection, state: str) -> tuple[int, int, AllocatedEstate] | None:
    """A cache of an earlier state that ``state`` only adds rows to: (its highest charge id, its highest
    payment id, the estate). None when there is none, or the ledger was edited or deleted from since
    (then the key's change counter differs), or the format changed: then only a full recompute is exact."""
    kept = db.execute("SELECT data FROM allocation_cache WHERE name = 'state'").fetchone()
    if kept is None:
        return None
    try:
        fmt, _import, charges, payments, changes = json.loads(kept[0])
        now = json.loads(state)
    except (ValueError, TypeError):
        return None
    charges, payments = charges or 0, payments or 0
    if fmt != now[0] or changes != now[4] or charges > (now[2] or 0) or payments > (now[3] or 0):
        return None
    estate = _verified(dict(db.execute("SELECT name, data FROM allocation_cache")))
    return None if estate is None else (int(charges), int(payments), estate)


def _verified(rows: dict[str, bytes]) -> AllocatedEstate | None:
    if rows.get("checksum") != _checksum(rows):
        return None  # corrupted or edited: recompute
    try:
        return _estate(rows)
    except (KeyError, ValueError, TypeError):
        return None


def _estate(rows: Mapping[str, bytes]) -> AllocatedEstate:
    values: dict[str, object] = {name: json.loads(rows[name]) for name in AllocatedEstate.list_names()}
    for name in AllocatedEstate.array_names():
        dtype, data = json.loads(rows[f"{name}.dtype"]), rows[name]
        values[name] = np.frombuffer(data, dtype=dtype)  # int32 where it fits: half the memory, faster sums
    return AllocatedEstate(**values)  # type: ignore[arg-type]


def _checksum(rows: Mapping[str, bytes | memoryview]) -> bytes:
    """CRC-32 over every row but itself, in name order: catches a corrupted or hand-edited cache."""
    crc = 0
    for name in sorted(rows):
        if name != "checksum":
            crc = zlib.crc32(rows[name], zlib.crc32(name.encode(), crc))
    return str(crc).encode()


def save(db: sqlite3.Connection, state: str, estate: AllocatedEstate,
         event: dict[str, object] | None = None) -> None:
    """Replace the cache with ``estate``, computed from ``state``; ``event``: how, for the audit trail."""
    rows: list[tuple[str, bytes | memoryview]] = [("state", state.encode())]
    rows += [(name, json.dumps(getattr(estate, name), ensure_ascii=False).encode())
             for name in AllocatedEstate.list_names()]
    for name in AllocatedEstate.array_names():
        column = np.ascontiguousarray(getattr(estate, name))
        # The array's own bytes, not a copy: the estate's columns are a few hundred MiB.
        rows += [(f"{name}.dtype", json.dumps(column.dtype.str).encode()), (name, column.data)]
    rows.append(("checksum", _checksum(dict(rows))))
    try:
        # Keeping the cache is worth no wait: a command that only reads goes on
        # while another holds the write lock, and a later run keeps it instead.
        with transaction(db, wait=False):
            db.execute("DELETE FROM allocation_cache")
            db.executemany("INSERT INTO allocation_cache (name, data) VALUES (?, ?)", rows)
            if event is not None:
                append_event(db, None, "allocation.update", event)
    except DatabaseBusy:
        return
