"""Bulk loads into an empty ledger table: rows in without identity indexes (rebuilt
after, one sort each) and, when the caller turned them off, without foreign-key
probes (checked once after, :func:`rows_without_unit`).

Many rows go in with multi-row statements, each prepared once: ``executemany`` of
a one-row INSERT runs SQLite's statement machinery (reset, bind, step) once a row;
an INSERT of 200 rows pays it once per 200. The values come as a 2-D
object array, as the columnar importer builds them with numpy.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache

import numpy as np
import numpy.typing as npt

from cuijiao.store.ledger import CHARGES, LedgerTable

ROWS_PER_STATEMENT = 200  # CPU for 3.6 M charges: 50 rows 4.5 s, 100 rows 4.4 s, 200 rows 4.3 s


def insert_rows(db: sqlite3.Connection, head: str, row: str, rows: npt.NDArray[np.object_]) -> None:
    """``head VALUES row, row, …`` for each row of the 2-D array ``rows``.

    ``row`` is one row's SQL with ``{0}`` … ``{width-1}`` where its values go (a
    value may appear more than once, or in an expression).
    """
    count, width = rows.shape
    full = count - count % ROWS_PER_STATEMENT
    if full:  # each statement's parameters: ROWS_PER_STATEMENT rows laid end to end
        sql = _statement(head, row, width, ROWS_PER_STATEMENT)
        db.executemany(sql, rows[:full].reshape(-1, ROWS_PER_STATEMENT * width).tolist())
    if full < count:
        db.execute(_statement(head, row, width, count - full), rows[full:].ravel().tolist())


@cache
def _statement(head: str, row: str, width: int, rows: int) -> str:
    return f"{head} VALUES " + ", ".join(
        row.format(*(f"?{r * width + j + 1}" for j in range(width))) for r in range(rows))


def is_empty(db: sqlite3.Connection, table: LedgerTable) -> bool:
    return db.execute(f"SELECT 1 FROM {table.name} LIMIT 1").fetchone() is None


def drop_bulk_indexes(db: sqlite3.Connection, table: LedgerTable) -> list[str]:
    """Drop the table's bulk indexes; returns the statements that recreate them."""
    marks = ", ".join("?" * len(table.bulk_indexes))
    found = db.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({marks})", table.bulk_indexes
    ).fetchall()
    for name, _sql in found:
        db.execute(f"DROP INDEX {name}")
    return [sql for _name, sql in found]


def load_staged(db: sqlite3.Connection, table: LedgerTable, first_import_id: int,
                src: int | None = None) -> Counter[int]:
    """Move the staged rows (of one source file, or all) into the (empty) table; returns rows moved per file.

    Adjustments stay staged: they need their target charge (see new_adjustments).
    """
    plain = "s.kind != 'adjustment'" if table is CHARGES else "1"
    if src is not None:
        plain += f" AND s.src = {int(src)}"
    columns = ", ".join(table.columns)
    counts: Counter[int] = Counter(dict(db.execute(
        f"SELECT src, count(*) FROM {table.staging} AS s WHERE {plain} GROUP BY src").fetchall()))
    db.execute(
        f"INSERT INTO {table.name} ({table.key}, {columns}, import_id, source_row)"
        f" SELECT s.key, {', '.join(f's.{c}' for c in table.columns)}, s.src + ?, s.line"
        f" FROM {table.staging} AS s WHERE {plain} ORDER BY s.src, s.line",
        (int(first_import_id),),
    )
    db.execute(f"DELETE FROM {table.staging} WHERE {plain.replace('s.', '')}")
    return counts


# Charges given column by column (no bill numbers), as rows of these values;
# the identity is made in SQL as ChargeParser._identity makes it: c:<unit>\x1f<item>\x1f<period>.
CHARGE_VALUES = ("unit_id", "item", "period", "period_start", "period_end", "due_date", "amount_fen", "kind",
                 "source_row")
# The separator is a literal in the SQL text: char(31) was called for every row (0.4 s for 3.6 M).
_CHARGE_KEY = "'c:' || {0} || '\x1f' || {1} || '\x1f' || {2}"


def insert_charge_values(db: sqlite3.Connection, rows: npt.NDArray[np.object_], *, import_id: int | None = None,
                         src: int | None = None) -> None:
    """Rows of CHARGE_VALUES into the charges table (a bulk load, ``import_id``) or into staging (``src``)."""
    values_sql = "{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}"
    if import_id is not None:
        head = f"INSERT INTO charges (charge_key, {', '.join(CHARGES.columns)}, import_id, source_row)"
        row = f"({_CHARGE_KEY}, {values_sql}, NULL, {int(import_id)}, {{8}})"
    else:
        head = f"INSERT INTO {CHARGES.staging} (src, line, key, {', '.join(CHARGES.columns)})"
        row = f"({int(src or 0)}, {{8}}, {_CHARGE_KEY}, {values_sql}, NULL)"
    insert_rows(db, head, row, rows)


def first_free_id(db: sqlite3.Connection, table: LedgerTable) -> int:
    """The id SQLite gives the next row of ``table``."""
    return int(db.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table.name}").fetchone()[0])


@contextmanager
def foreign_keys(db: sqlite3.Connection, *, on: bool) -> Iterator[None]:
    """Foreign keys as asked for the transaction run inside, then on again. Outside a transaction only:
    SQLite ignores the pragma within one."""
    db.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
    try:
        yield
    finally:
        db.execute("PRAGMA foreign_keys = ON")


def rows_without_unit(db: sqlite3.Connection, table: LedgerTable) -> list[tuple[int, int, str]]:
    """(import id, source row, unit id) of each row whose unit is not stored: the foreign-key check
    of a bulk load made with foreign keys off. Distinct units come from the rebuilt (unit, date)
    index, so this costs a fraction of PRAGMA foreign_key_check, which probes units once per row."""
    return db.execute(
        f"SELECT import_id, source_row, unit_id FROM {table.name} WHERE unit_id IN"
        f" (SELECT unit_id FROM {table.name} GROUP BY unit_id EXCEPT SELECT unit_id FROM units) ORDER BY id"
    ).fetchall()


def rebuild_indexes(db: sqlite3.Connection, statements: list[str], *, sort_threads: int | None = None) -> None:
    """Recreate dropped indexes, unique ones first: a duplicate fails (IntegrityError)
    before anything is built, so the call can simply be repeated once it is removed.

    ``sort_threads``: SQLite's helper threads for the sorts, this once (``PRAGMA threads``).
    """
    before = db.execute("PRAGMA threads").fetchone()[0]
    if sort_threads is not None:
        db.execute(f"PRAGMA threads = {int(sort_threads)}")
    try:
        for statement in sorted(statements, key=lambda sql: not sql.upper().startswith("CREATE UNIQUE")):
            db.execute(statement)
    finally:
        db.execute(f"PRAGMA threads = {int(before)}")


def stored_duplicates(
    db: sqlite3.Connection, table: LedgerTable, first_import_id: int
) -> list[tuple[int, int, int, int, int]]:
    """After a bulk load: (row id, src, line, first src, first line) of each later twin."""
    sql = f"""
        SELECT id, import_id - ?, source_row, first_import - ?, first_row FROM (
            SELECT id, import_id, source_row, row_number() OVER w AS n,
                   first_value(import_id) OVER w AS first_import, first_value(source_row) OVER w AS first_row
            FROM {table.name} WINDOW w AS (PARTITION BY {table.key} ORDER BY id))
        WHERE n > 1 ORDER BY id
    """
    return db.execute(sql, (first_import_id, first_import_id)).fetchall()


def delete_rows(db: sqlite3.Connection, table: LedgerTable, ids: Iterable[int]) -> None:
    db.executemany(f"DELETE FROM {table.name} WHERE id = ?", [(row_id,) for row_id in ids])
