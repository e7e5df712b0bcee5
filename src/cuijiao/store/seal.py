"""Seals over the ledger: what each import wrote, kept in the audit chain.

The hash chain (store/audit.py) proves the events were not changed; the
ledger rows (units, charges, payments) live outside it. So every import ends
by appending a ``ledger.seal`` event with, for each import it wrote or
touched, the number of ledger rows that now belong to it and a SHA-256 over
them. ``audit verify`` recomputes every import's rows and compares them with
the newest seal naming that import: a row edited, deleted or inserted with
a SQLite tool then no longer matches.

Rows move between imports legitimately: ``--replace`` and a changed unit
give a row to the import that changed it. Triggers write the import a changed
or removed row came from into ``ledger_touched``; the import's seal re-seals
those imports and empties the table in the same transaction. Anything found
there when a command starts was changed outside cuijiao; the command records
that in the chain (``ledger.outside_change``) and ``audit verify`` reports it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import Any

# The columns each seal covers, fixed here so a later migration that adds a
# column does not change what earlier seals mean.
LEDGER_COLUMNS = {
    "units": ("unit_id", "building", "owner_name", "phone", "area_m2", "tags", "address", "import_id",
              "source_row"),
    "charges": ("id", "charge_key", "unit_id", "item", "period", "period_start", "period_end", "due_date",
                "amount_fen", "kind", "bill_no", "adjusts_id", "import_id", "source_row"),
    "payments": ("id", "payment_key", "unit_id", "paid_on", "amount_fen", "receipt_no", "item", "period",
                 "kind", "import_id", "source_row"),
}
_ORDER = {"units": "unit_id", "charges": "id", "payments": "id"}
_BATCH = 20_000

Digests = dict[str, dict[str, list[Any]]]  # import id → ledger table → [rows, sha256]


class _Digest:
    def __init__(self) -> None:
        self.rows = 0
        self.hash = hashlib.sha256()

    def value(self) -> list[Any]:
        return [self.rows, self.hash.hexdigest()]


RowsText = Callable[[int, int], bytes]  # (lo, hi) → the reprs of rows lo:hi of a run, joined by ", "


class RowStream:
    """A table's rows in id order, digested per import as seals always have been.

    The rows go in batches of ``_BATCH``; each batch adds to an import's hash the
    repr (UTF-8) of the list of that import's rows in the batch. So the digest
    depends on where the batches fall, and rows must be given from the first
    row the seal reads. They may come from the database (:meth:`add_cursor`) or,
    for rows just bulk-loaded, as text built from the importer's columns
    (:meth:`add_text`, see store/seal_text.py) — the same bytes either way.
    """

    def __init__(self) -> None:
        self.digests: dict[int, _Digest] = defaultdict(_Digest)
        self._filled = 0
        self._open: set[int] = set()  # imports with rows in the current batch

    def add_cursor(self, cursor: sqlite3.Cursor, at: int) -> None:
        """Rows read from the database; ``at`` is the import id's column."""
        while batch := cursor.fetchmany(_BATCH):
            for import_id, run in groupby(batch, key=itemgetter(at)):
                rows = list(run)
                self.add_text(import_id, len(rows), partial(_reprs, rows))

    def add_text(self, import_id: int, count: int, text: RowsText) -> None:
        """The next ``count`` rows, all of one import, as ``text`` gives them."""
        done = 0
        while done < count:
            take = min(count - done, _BATCH - self._filled)
            digest = self.digests[import_id]
            digest.hash.update(b", " if import_id in self._open else b"[")
            self._open.add(import_id)
            digest.hash.update(text(done, done + take))
            digest.rows += take
            done += take
            self._filled += take
            if self._filled == _BATCH:
                self._close_batch()

    def finish(self) -> dict[int, _Digest]:
        self._close_batch()
        return self.digests

    def _close_batch(self) -> None:
        for import_id in self._open:
            self.digests[import_id].hash.update(b"]")
        self._open, self._filled = set(), 0


def _reprs(rows: list[tuple[Any, ...]], lo: int, hi: int) -> bytes:
    return ", ".join(map(repr, rows[lo:hi])).encode()


@dataclass(frozen=True)
class Started:
    """A seal begun before its rows were read back: ``stream`` holds every row of
    ``table`` up to ``last_id``, all of them the sealing imports' own (a bulk load
    into an empty table); the rest is read from the database."""

    table: str
    stream: RowStream
    last_id: int


def _digests(db: sqlite3.Connection, table: str, import_ids: Iterable[int] | None,
             started: Started | None = None) -> dict[int, _Digest]:
    """Per import: the digest of its rows in ``table`` (all imports when ``import_ids`` is None)."""
    columns = LEDGER_COLUMNS[table]
    where, params = "", []
    if import_ids is not None:
        params = sorted(set(import_ids))
        if not params:
            return {}
        where = f" WHERE import_id IN ({', '.join('?' * len(params))})"
    stream = RowStream()
    if started is not None:
        where += f"{' AND' if where else ' WHERE'} id > ?"
        params, stream = [*params, started.last_id], started.stream
    sql = f"SELECT {', '.join(columns)} FROM {table}{where} ORDER BY {_ORDER[table]}"
    stream.add_cursor(db.execute(sql, params), columns.index("import_id"))
    return stream.finish()


def seal(db: sqlite3.Connection, import_ids: Iterable[int], started: Started | None = None) -> Digests:
    """The seal an import appends: its own imports and every import it touched. Empties ``ledger_touched``.

    Call inside the import's transaction, after its writes.
    """
    wanted: dict[str, set[int]] = defaultdict(set)
    ids = sorted(set(import_ids))
    if ids:
        marks = ", ".join("?" * len(ids))
        for import_id, kind in db.execute(f"SELECT id, kind FROM imports WHERE id IN ({marks})", ids):
            wanted[kind].add(import_id)
    for table, import_id in db.execute("SELECT ledger, import_id FROM ledger_touched"):
        wanted[table].add(import_id)
    db.execute("DELETE FROM ledger_touched")
    result: Digests = {}
    for table in LEDGER_COLUMNS:
        if not wanted[table]:
            continue
        digests = _digests(db, table, wanted[table], started if started and started.table == table else None)
        for import_id in sorted(wanted[table]):
            digest = digests.get(import_id) or _Digest()
            result.setdefault(str(import_id), {})[table] = digest.value()
    return result


def outside_changes(db: sqlite3.Connection) -> list[list[Any]]:
    """[ledger, import id] of rows changed or removed since the last seal, and forget them.

    Call inside a write transaction, before the command writes anything.
    """
    found = [list(row) for row in db.execute("SELECT ledger, import_id FROM ledger_touched ORDER BY 1, 2")]
    if found:
        db.execute("DELETE FROM ledger_touched")
    return found


@dataclass(frozen=True)
class Mismatch:
    table: str
    import_id: int
    sealed: list[Any] | None  # [rows, sha256] of the newest seal, None if never sealed
    found: list[Any]

    def message(self) -> str:
        label = {"units": "房屋业主", "charges": "应收", "payments": "实收"}[self.table]
        if self.sealed is None:
            return f"{label}表中有 {self.found[0]} 行属于从未封存的导入 #{self.import_id}（在 cuijiao 之外插入）"
        if self.found[0] != self.sealed[0]:
            how = "被删除" if self.found[0] < self.sealed[0] else "被插入"
            return (f"导入 #{self.import_id} 的{label}记录应有 {self.sealed[0]} 行，现有 {self.found[0]} 行"
                    f"（在 cuijiao 之外{how}）")
        return f"导入 #{self.import_id} 的{label}记录内容与封存的摘要不符（在 cuijiao 之外被改动）"


def check(db: sqlite3.Connection, seals: Iterator[Digests]) -> tuple[int, list[Mismatch]]:
    """Compare every import's rows now with the newest seal of them; (imports checked, mismatches).

    Each import is digested the way its newest seal digested it — together with the imports that
    seal covered in the same table — since a digest depends on where its batches fell (see
    :class:`RowStream`); read as one whole table, a later import's batches fall elsewhere.
    """
    newest, first, sealed_with = _read_seals(seals)
    mismatches = _miscounted(db, first)
    for table in LEDGER_COLUMNS:
        present = {row[0] for row in db.execute(f"SELECT DISTINCT import_id FROM {table}")}
        sealed = {i for t, i in newest if t == table}
        found = _digests_as_sealed(db, table, {i: sealed_with[(table, i)] for i in sealed})
        for import_id in sorted(present - sealed):  # rows no seal covers
            found[import_id] = _digests(db, table, [import_id])[import_id].value()
        for import_id in sorted(present | sealed):
            now, seal_value = found.get(import_id, [0, _Digest().value()[1]]), newest.get((table, import_id))
            if seal_value is None and _legacy(db, import_id, seals_seen=newest):
                continue
            if now != seal_value:
                mismatches.append(Mismatch(table, import_id, seal_value, now))
    return len({i for _t, i in newest}), mismatches


Key = tuple[str, int]  # (ledger table, import id)
Sealed = dict[Key, list[Any]]  # → [rows, sha256]


def _read_seals(seals: Iterator[Digests]) -> tuple[Sealed, Sealed, dict[Key, frozenset[int]]]:
    """Each import's newest and first sealed digest, and the imports its newest seal digested with it."""
    newest: Sealed = {}
    first: Sealed = {}
    sealed_with: dict[Key, frozenset[int]] = {}
    for digests in seals:
        together: dict[str, set[int]] = defaultdict(set)
        for key, tables in digests.items():
            for table in tables:
                together[table].add(int(key))
        for key, tables in digests.items():
            for table, value in tables.items():
                newest[(table, int(key))] = value
                first.setdefault((table, int(key)), value)
                sealed_with[(table, int(key))] = frozenset(together[table])
    return newest, first, sealed_with


def _digests_as_sealed(db: sqlite3.Connection, table: str, groups: dict[int, frozenset[int]]) -> dict[int, list[Any]]:
    """Import id → its digest now, each read together with the imports its seal read it with."""
    found: dict[int, list[Any]] = {}
    for group in set(groups.values()):
        for import_id, digest in _digests(db, table, group).items():
            if groups.get(import_id) == group:
                found[import_id] = digest.value()
    return found


def _miscounted(db: sqlite3.Connection, first: dict[tuple[str, int], list[Any]]) -> list[Mismatch]:
    """An import's own seal must hold exactly the rows it reported writing.

    Rows slipped in beforehand under the import number it was about to get
    would otherwise be sealed with it.
    """
    found = []
    for import_id, kind, inserted, replaced in db.execute("SELECT id, kind, inserted, replaced FROM imports"):
        sealed = first.get((kind, import_id))
        if sealed is not None and sealed[0] != inserted + replaced:
            found.append(Mismatch(kind, import_id, [inserted + replaced, ""], sealed))
    return found


def _legacy(db: sqlite3.Connection, import_id: int, *, seals_seen: dict[tuple[str, int], list[Any]]) -> bool:
    """An import made before seals existed (older than every sealed import) is not checked."""
    first_sealed = min((i for _t, i in seals_seen), default=None)
    exists = db.execute("SELECT 1 FROM imports WHERE id = ?", (import_id,)).fetchone() is not None
    return exists and (first_sealed is None or import_id < first_sealed)
