"""Write imported ledger rows: staged in a temp table, checked, then merged.

Parsed rows go into a TEMP staging table with ``executemany`` (hundreds of
thousands of rows a second); duplicates, conflicts and new rows are then found
with set-wise SQL against the real tables, all inside the caller's
transaction, so a rejected import leaves nothing behind.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from cuijiao.money import format_yuan

_BATCH = 20_000

# (src, line, field, message): a problem the importer maps back to a file.
StagedProblem = tuple[int, int, str, str]


@dataclass(frozen=True)
class LedgerTable:
    """A keyed ledger table and the staged columns that make its content."""

    name: str
    key: str
    columns: tuple[str, ...]
    labels: dict[str, str]  # column → Chinese label for conflict messages
    # Indexes a bulk load into an empty table drops and rebuilds (one sort each is
    # far cheaper than keeping them up to date row by row). Never an index that a
    # foreign key needs while the rows go in: with foreign keys deferred, its absence
    # costs a table scan per row (charges_adjusts). charges_import serves the imports
    # row, written after the rebuild: 3.6 M charges load 0.5 s faster without it (a
    # load of 2.5 M payments showed no difference, so payments_import stays).
    bulk_indexes: tuple[str, ...] = ()

    @property
    def staging(self) -> str:
        return f"temp.staged_{self.name}"


CHARGES = LedgerTable(
    "charges",
    "charge_key",
    ("unit_id", "item", "period", "period_start", "period_end", "due_date", "amount_fen", "kind",
     "bill_no"),
    {"unit_id": "房号", "item": "收费项目", "period": "所属期间", "due_date": "应缴日期",
     "amount_fen": "金额", "kind": "类型", "bill_no": "账单号", "period_start": "期间开始",
     "period_end": "期间结束"},
    ("charges_key", "charges_unit_due", "charges_import"),
)
PAYMENTS = LedgerTable(
    "payments",
    "payment_key",
    ("unit_id", "paid_on", "amount_fen", "receipt_no", "item", "period"),
    {"unit_id": "房号", "paid_on": "收款日期", "amount_fen": "金额", "receipt_no": "收据号",
     "item": "收费项目", "period": "所属期间"},
    ("payments_key", "payments_unit_date", "payments_designation"),
)


def create_staging(db: sqlite3.Connection, table: LedgerTable) -> None:
    columns = ", ".join(table.columns)
    db.execute(f"DROP TABLE IF EXISTS {table.staging}")
    db.execute(f"CREATE TABLE {table.staging} (src INTEGER, line INTEGER, key TEXT, {columns})")


def stage(db: sqlite3.Connection, table: LedgerTable, records: Iterable[tuple[Any, ...]]) -> int:
    """Insert parsed records in batches; returns how many were staged."""
    width = 3 + len(table.columns)
    sql = f"INSERT INTO {table.staging} VALUES ({', '.join('?' * width)})"
    staged = 0
    iterator = iter(records)
    while batch := list(islice(iterator, _BATCH)):
        db.executemany(sql, batch)
        staged += len(batch)
    return staged


def duplicate_message(table: LedgerTable, first_src: int, src: int, first_line: int,
                      names: Sequence[str] = ()) -> str:
    """``names``: the import's file names by source number, to name the other file of a twin."""
    return f"与{_place(first_src, src, first_line, names)}重复（同一身份：{_what(table)}）"


# --- Staging ----------------------------------------------------------------


def index_staging(db: sqlite3.Connection, table: LedgerTable) -> None:
    # One sort after loading is far cheaper than keeping an index while loading.
    db.execute(f"CREATE INDEX IF NOT EXISTS temp.staged_{table.name}_key ON staged_{table.name}(key, src, line)")


def duplicate_problems(db: sqlite3.Connection, table: LedgerTable,
                       names: Sequence[str] = ()) -> list[StagedProblem]:
    """Rows whose identity an earlier row of the same import already has."""
    has_duplicates = db.execute(
        f"SELECT 1 FROM {table.staging} GROUP BY key HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if not has_duplicates:
        return []
    sql = f"""
        SELECT src, line, first_src, first_line FROM (
            SELECT src, line, row_number() OVER w AS n,
                   first_value(src) OVER w AS first_src, first_value(line) OVER w AS first_line
            FROM {table.staging} WINDOW w AS (PARTITION BY key ORDER BY src, line))
        WHERE n > 1 ORDER BY src, line
    """
    return [(src, line, "", duplicate_message(table, first_src, src, first_line, names))
            for src, line, first_src, first_line in db.execute(sql)]


def _place(first_src: int, src: int, first_line: int, names: Sequence[str] = ()) -> str:
    if first_src == src:
        return f"第 {first_line} 行"
    other = names[first_src] if 0 <= first_src < len(names) else "另一文件"
    return f"{other} 第 {first_line} 行"


def _what(table: LedgerTable) -> str:
    if table is CHARGES:
        return "账单号，或房号+收费项目+所属期间"
    return "收据号+收费项目+所属期间"


@dataclass(frozen=True)
class Conflict:
    src: int
    line: int
    row_id: int
    before: dict[str, Any]
    after: dict[str, Any]

    def message(self, table: LedgerTable) -> str:
        changes = "；".join(
            f"{table.labels[column]} {_shown(column, self.before[column])} → {_shown(column, value)}"
            for column, value in self.after.items()
        )
        return f"与已导入的记录冲突：{changes}（确认以本文件为准请加 --replace）"


def _shown(column: str, value: Any) -> str:
    if column == "amount_fen" and isinstance(value, int):
        return format_yuan(value, grouping=True)  # a message a clerk reads
    return "（空）" if value in (None, "") else str(value)


def conflicts(db: sqlite3.Connection, table: LedgerTable) -> list[Conflict]:
    """Staged rows whose identity is already stored with different content."""
    pairs = ", ".join(f"s.{c}, t.{c}" for c in table.columns)
    differs = " OR ".join(f"s.{c} IS NOT t.{c}" for c in table.columns)
    sql = f"""
        SELECT s.src, s.line, t.id, {pairs}
        FROM {table.staging} AS s JOIN {table.name} AS t ON t.{table.key} = s.key
        WHERE {differs} ORDER BY s.src, s.line
    """
    found = []
    for row in db.execute(sql):
        values = row[3:]
        after = {c: values[2 * i] for i, c in enumerate(table.columns) if values[2 * i] != values[2 * i + 1]}
        before = {c: values[2 * i + 1] for i, c in enumerate(table.columns) if c in after}
        found.append(Conflict(row[0], row[1], row[2], before, after))
    return found


def unchanged_counts(db: sqlite3.Connection, table: LedgerTable) -> dict[int, int]:
    """Per source file: staged rows already stored exactly as they are."""
    same = " AND ".join(f"s.{c} IS t.{c}" for c in table.columns)
    sql = f"""
        SELECT s.src, count(*) FROM {table.staging} AS s
        JOIN {table.name} AS t ON t.{table.key} = s.key WHERE {same} GROUP BY s.src
    """
    return dict(db.execute(sql).fetchall())


def drop_staged(db: sqlite3.Connection, table: LedgerTable, places: Iterable[tuple[int, int]]) -> None:
    db.executemany(f"DELETE FROM {table.staging} WHERE src = ? AND line = ?", list(places))


def insert_new(db: sqlite3.Connection, table: LedgerTable, src: int, import_id: int,
               *, where: str = "1") -> int:
    """Insert the staged rows of one file whose identity is not stored yet."""
    columns = ", ".join(table.columns)
    sql = f"""
        INSERT INTO {table.name} ({table.key}, {columns}, import_id, source_row)
        SELECT s.key, {", ".join(f"s.{c}" for c in table.columns)}, ?, s.line
        FROM {table.staging} AS s
        WHERE s.src = ? AND {where}
          AND NOT EXISTS (SELECT 1 FROM {table.name} AS t WHERE t.{table.key} = s.key)
        ORDER BY s.line
    """
    return db.execute(sql, (import_id, src)).rowcount


def replace(db: sqlite3.Connection, table: LedgerTable, conflict: Conflict, import_id: int) -> None:
    assignments = ", ".join(f"{c} = ?" for c in conflict.after)
    db.execute(
        f"UPDATE {table.name} SET {assignments}, import_id = ?, source_row = ? WHERE id = ?",
        (*conflict.after.values(), import_id, conflict.line, conflict.row_id),
    )


# --- Adjustments (减免/红冲) ------------------------------------------------


@dataclass(frozen=True)
class StagedAdjustment:
    src: int
    line: int
    key: str
    values: tuple[Any, ...]  # in CHARGES.columns order

    @property
    def unit_item_period(self) -> tuple[str, str, str]:
        return self.values[0], self.values[1], self.values[2]

    @property
    def amount_fen(self) -> int:
        return int(self.values[6])


def new_adjustments(db: sqlite3.Connection) -> list[StagedAdjustment]:
    sql = f"""
        SELECT s.src, s.line, s.key, {", ".join(f"s.{c}" for c in CHARGES.columns)}
        FROM {CHARGES.staging} AS s
        WHERE s.kind = 'adjustment'
          AND NOT EXISTS (SELECT 1 FROM charges AS t WHERE t.charge_key = s.key)
        ORDER BY s.src, s.line
    """
    return [StagedAdjustment(r[0], r[1], r[2], tuple(r[3:])) for r in db.execute(sql)]


def adjustment_target(db: sqlite3.Connection, unit_id: str, item: str, period: str) -> tuple[int, int] | None:
    """(charge id, net amount so far) of the charge an adjustment reduces."""
    rows = db.execute(
        """
        SELECT c.id, c.amount_fen + coalesce((SELECT sum(a.amount_fen) FROM charges AS a
                                                WHERE a.adjusts_id = c.id), 0)
        FROM charges AS c
        WHERE c.unit_id = ? AND c.item = ? AND c.period = ? AND c.kind != 'adjustment'
        ORDER BY c.id
        """,
        (unit_id, item, period),
    ).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


def insert_adjustment(db: sqlite3.Connection, adjustment: StagedAdjustment, target_id: int,
                      import_id: int) -> None:
    columns = ", ".join(CHARGES.columns)
    marks = ", ".join("?" * len(CHARGES.columns))
    db.execute(
        f"INSERT INTO charges (charge_key, {columns}, adjusts_id, import_id, source_row)"
        f" VALUES (?, {marks}, ?, ?, ?)",
        (adjustment.key, *adjustment.values, target_id, import_id, adjustment.line),
    )


# --- Units ------------------------------------------------------------------

UNIT_COLUMNS = ("building", "owner_name", "phone", "area_m2", "tags", "address")


def stored_units(db: sqlite3.Connection) -> dict[str, tuple[Any, ...]]:
    sql = f"SELECT unit_id, {', '.join(UNIT_COLUMNS)} FROM units"
    return {row[0]: tuple(row[1:]) for row in db.execute(sql)}


def known_unit_ids(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("SELECT unit_id FROM units")}


def insert_units(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Rows: (unit_id, *UNIT_COLUMNS, import_id, source_row)."""
    marks = ", ".join("?" * (len(UNIT_COLUMNS) + 3))
    db.executemany(
        f"INSERT INTO units (unit_id, {', '.join(UNIT_COLUMNS)}, import_id, source_row) VALUES ({marks})",
        rows,
    )


def update_unit(db: sqlite3.Connection, unit_id: str, values: tuple[Any, ...], import_id: int,
                line: int) -> None:
    assignments = ", ".join(f"{c} = ?" for c in UNIT_COLUMNS)
    db.execute(
        f"UPDATE units SET {assignments}, import_id = ?, source_row = ? WHERE unit_id = ?",
        (*values, import_id, line, unit_id),
    )


def unit_dict(values: tuple[Any, ...]) -> dict[str, Any]:
    result = dict(zip(UNIT_COLUMNS, values, strict=True))
    result["tags"] = json.loads(result["tags"])
    return result


# --- Imports ----------------------------------------------------------------


def next_import_id(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM imports").fetchone()[0])


def mark_deposit_receipts(db: sqlite3.Connection, first_import_id: int, deposit_items: tuple[str, ...]) -> None:
    """Class the payments this import wrote (or replaced): a deposit item's payment is a deposit receipt."""
    db.execute(
        """
        UPDATE payments SET kind = CASE WHEN kind = 'deposit' THEN 'payment' ELSE 'deposit' END
        WHERE import_id >= ?1 AND (kind = 'deposit') IS NOT (coalesce(
            item LIKE '%押金%' OR item IN (SELECT value FROM json_each(?2)), 0))
        """,
        (first_import_id, json.dumps(list(deposit_items), ensure_ascii=False)),
    )
