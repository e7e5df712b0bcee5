"""Keep the allocated estate (cuijiao.allocated) between runs: columns in a file beside the database.

The cache is derived data, keyed by the state of the ledger it was computed
from. Every import that writes has a new import number; new rows also raise
the highest row ids; and every UPDATE or DELETE of the ledger, from cuijiao
or from any SQLite tool, raises the ``ledger_changes`` counter (a trigger).
A key that no longer matches means the cache is stale, and nothing is read
from it. A cache whose bytes do not match their checksum, or do not make an
estate, is ignored the same way: it is recomputed, never trusted.

The columns (a few hundred MiB on a large estate) live in one file,
``cache/allocation-<token>.bin`` beside the database, not in it: written into
SQLite they cost seconds of journal and checkpoint on every import's first run
(a plain file is written once and synced in a fraction of that). The database
keeps only the pointer — the state, the file's token and its CRC — in
``allocation_cache``, and switching to a new file is that table's commit,
together with its ``allocation.update`` audit event: the new file is written
and synced under its own name first, so a crash leaves either the old pointer
and its file untouched, or the new pointer and a whole new file. A file the
pointer does not name (another workspace's, a crashed writer's) is never read;
a missing or damaged one is recomputed.

Caches of the older layout (every column a row of ``allocation_cache``) are
still read, so the first run after an upgrade extends them rather than
allocating every unit again.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import mmap
import os
import secrets
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from cuijiao.allocated import AllocatedEstate
from cuijiao.errors import DatabaseBusy
from cuijiao.store.audit import append_event
from cuijiao.store.db import transaction

# Bump when AllocatedEstate or the allocation rules change: old caches are then ignored.
CACHE_FORMAT = 6

_MAGIC = b"cuijiao allocation cache\n"
_ALIGN = 8
_POINTER = ("state", "file", "checksum")  # the rows of the file layout; any other row is the older layout
_ORPHAN_SECONDS = 3600  # a file the pointer does not name, this old, is no writer's work in progress


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
    return _kept_estate(db, state.encode())


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
    estate = _kept_estate(db, bytes(kept[0]))
    return None if estate is None else (int(charges), int(payments), estate)


def mapped(db: sqlite3.Connection, state: str, token: str) -> AllocatedEstate | None:
    """The estate this process has just kept for ``state`` in the file ``token`` names, mapped rather than
    held: the kernel can drop mapped pages between the steps of a long command, never the arrays of a
    computed estate. None once the pointer names another file. Not checked against its CRC: the bytes
    were computed here, written and synced moments ago."""
    pointer = dict(db.execute("SELECT name, data FROM allocation_cache"))
    if set(pointer) != set(_POINTER) or pointer["state"] != state.encode() or pointer["file"] != token.encode():
        return None
    return _from_file(db, state.encode(), pointer, verify=False)


def _kept_estate(db: sqlite3.Connection, state: bytes) -> AllocatedEstate | None:
    names = [row[0] for row in db.execute("SELECT name FROM allocation_cache")]
    if set(names) == set(_POINTER):
        pointer = dict(db.execute("SELECT name, data FROM allocation_cache"))
        return _from_file(db, state, pointer)
    return _verified(dict(db.execute("SELECT name, data FROM allocation_cache")))  # the older layout


# --- the file ---------------------------------------------------------------------------------


def cache_dir(db: sqlite3.Connection) -> Path | None:
    """Where the columns are kept: ``cache/`` beside the database file (None for a database in memory)."""
    for _seq, name, path in db.execute("PRAGMA database_list"):
        if name == "main":
            return Path(path).parent / "cache" if path else None
    return None


def _from_file(db: sqlite3.Connection, state: bytes, pointer: Mapping[str, bytes], *,
               verify: bool = True) -> AllocatedEstate | None:
    """The estate in the file the pointer names, if it is whole and says it was computed from ``state``."""
    folder = cache_dir(db)
    try:
        token = bytes(pointer["file"]).decode()
        if folder is None or not token.isalnum():
            return None
        with (folder / f"allocation-{token}.bin").open("rb") as stream:
            # Mapped, not read: the columns are the page cache's pages, no copy (0.3 s less on 350 MiB). The
            # file is never written after its rename; the mapping outlives its unlinking by a later save.
            mapped = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
            data = np.frombuffer(mapped, dtype=np.uint8)
        if verify:
            if str(zlib.crc32(data.data)).encode() != bytes(pointer["checksum"]):
                return None  # damaged, or not the file this database wrote
            if hasattr(mmap, "MADV_DONTNEED"):  # the check read every page: the caller reads what it needs
                mapped.madvise(mmap.MADV_DONTNEED)
        return _parse(data, state, token)
    except (OSError, KeyError, ValueError, TypeError, UnicodeDecodeError):
        return None


def _parse(data: np.ndarray, state: bytes, token: str) -> AllocatedEstate | None:
    if bytes(data[:len(_MAGIC)]) != _MAGIC:
        return None
    start = len(_MAGIC) + 8
    size = int.from_bytes(bytes(data[len(_MAGIC):start]), "little")
    header = json.loads(bytes(data[start:start + size]))
    if header["state"] != state.decode() or header["token"] != token:
        return None  # another workspace's file, or another state's
    values: dict[str, object] = dict(header["lists"])
    body = _aligned(start + size)
    for name, dtype, offset, count in header["arrays"]:
        width = np.dtype(dtype).itemsize
        if body + offset + count * width > len(data):
            return None
        values[name] = data[body + offset:body + offset + count * width].view(dtype)
    if set(values) != set(AllocatedEstate.list_names()) | set(AllocatedEstate.array_names()):
        return None
    return AllocatedEstate(**values)  # type: ignore[arg-type]


def _aligned(offset: int) -> int:
    return -(-offset // _ALIGN) * _ALIGN


def _write(folder: Path, state: str, estate: AllocatedEstate) -> tuple[str, Path, int]:
    """The estate written to a new file under a new token, synced; returns (token, path, CRC-32)."""
    token = secrets.token_hex(16)
    columns = [np.ascontiguousarray(getattr(estate, name)) for name in AllocatedEstate.array_names()]
    arrays, offset = [], 0
    for name, column in zip(AllocatedEstate.array_names(), columns, strict=True):
        arrays.append([name, column.dtype.str, offset, len(column)])
        offset = _aligned(offset + column.nbytes)
    header = json.dumps({"state": state, "token": token, "arrays": arrays,
                         "lists": {name: getattr(estate, name) for name in AllocatedEstate.list_names()}},
                        ensure_ascii=False).encode()
    head = _MAGIC + len(header).to_bytes(8, "little") + header
    head += bytes(_aligned(len(head)) - len(head))
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"allocation-{token}.bin"
    temp = path.with_suffix(".tmp")
    crc = 0
    try:
        with os.fdopen(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "wb") as stream:
            for part in [memoryview(head), *(column.data for column in columns)]:
                chunk = part.cast("B")  # the array's own bytes, not a copy
                crc = zlib.crc32(chunk, crc)
                stream.write(chunk)
                padding = bytes(_aligned(len(chunk)) - len(chunk))  # each column starts 8-aligned
                crc = zlib.crc32(padding, crc)
                stream.write(padding)
            stream.flush()
            # Read-only once written: mapped by the commands that read it, a stray write in place would
            # change their figures under them (the checksum is checked when it is mapped, not after).
            os.fchmod(stream.fileno(), 0o400)
            os.fsync(stream.fileno())
        temp.replace(path)
        _sync_dir(folder)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return token, path, crc


def _sync_dir(folder: Path) -> None:
    """Make the rename durable (POSIX; elsewhere a directory cannot be opened, nor needs to be)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def save(db: sqlite3.Connection, state: str, estate: AllocatedEstate,
         event: dict[str, object] | None = None) -> None:
    """Replace the cache with ``estate``, computed from ``state``; ``event``: how, for the audit trail."""
    save_behind(db, state, estate, event)()


def save_behind(db: sqlite3.Connection, state: str, estate: AllocatedEstate,
                event: dict[str, object] | None = None) -> Callable[[], str | None]:
    """:func:`save`, its file written and synced on a thread while the caller goes on (the write and the
    CRC leave the interpreter free: aging runs meanwhile on the other core); the returned call waits for
    it and switches the pointer, in the caller's thread and connection, and gives the kept file's token
    (None: not kept)."""
    folder = cache_dir(db)
    if folder is None:
        return lambda: None
    written: list[tuple[str, Path, int] | None] = [None]

    def write() -> None:
        with contextlib.suppress(OSError):  # a full or read-only disk: the next run computes it again
            written[0] = _write(folder, state, estate)

    writer = threading.Thread(target=write, name="allocation-cache", daemon=True)
    writer.start()
    def discard() -> None:
        """At the process's exit: a file never handed to _switch (a signal ended the command between its
        report and the naming) goes, rather than stay an hour beside the database as an orphan."""
        writer.join()
        if written[0] is not None:
            written[0][1].unlink(missing_ok=True)

    atexit.register(discard)

    def finish() -> str | None:
        atexit.unregister(discard)  # the file is _switch's from here: named, or removed by it
        writer.join()
        if written[0] is None or not _switch(db, folder, state, *written[0], event):
            return None
        return written[0][0]

    return finish


def _switch(db: sqlite3.Connection, folder: Path, state: str, token: str, path: Path, crc: int,
            event: dict[str, object] | None) -> bool:
    """Name the new file in the database (with the audit event), then remove the file named before;
    False when the database was busy (the file is removed, never named)."""
    try:
        # Keeping the cache is worth no wait: a command that only reads goes on
        # while another holds the write lock, and a later run keeps it instead.
        with transaction(db, wait=False):
            old = db.execute("SELECT data FROM allocation_cache WHERE name = 'file'").fetchone()
            db.execute("DELETE FROM allocation_cache")
            db.executemany("INSERT INTO allocation_cache (name, data) VALUES (?, ?)",
                           [("state", state.encode()), ("file", token.encode()), ("checksum", str(crc).encode())])
            if event is not None:
                append_event(db, None, "allocation.update", event)
    except DatabaseBusy:
        path.unlink(missing_ok=True)  # never named: the pointer still names the old file
        return False
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    _remove_unnamed(folder, path, bytes(old[0]).decode(errors="replace") if old else None)
    return True


def _remove_unnamed(folder: Path, kept: Path, previous: str | None) -> None:
    """Remove the file the pointer named before, and files no pointer names that a crash left behind."""
    now = time.time()
    for found in folder.glob("allocation-*"):
        if found == kept:
            continue
        try:
            if found.stem == f"allocation-{previous}" or now - found.stat().st_mtime > _ORPHAN_SECONDS:
                found.unlink()
        except OSError:
            pass  # in use elsewhere, or gone already: a later run tries again


# --- the older layout: one row per column -------------------------------------------------------


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
        values[name] = np.frombuffer(data, dtype=dtype)
    return AllocatedEstate(**values)  # type: ignore[arg-type]


def _checksum(rows: Mapping[str, bytes | memoryview]) -> bytes:
    """CRC-32 over every row but itself, in name order: catches a corrupted or hand-edited cache."""
    crc = 0
    for name in sorted(rows):
        if name != "checksum":
            crc = zlib.crc32(rows[name], zlib.crc32(name.encode(), crc))
    return str(crc).encode()
