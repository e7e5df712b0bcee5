"""Read units' ledgers for the engine, streaming one unit at a time.

Three cursors (units, charges, payments), each ordered by unit, are merged in
one pass, so memory holds one unit's rows, not the estate's. Deposits are left
out (they are not receivables); adjustments are netted into the charge they
adjust.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from operator import itemgetter
from typing import Any

from cuijiao.aging import UnitLedger
from cuijiao.allocation import Charge, Payment
from cuijiao.dates import parse_period
from cuijiao.segments import Owner
from cuijiao.store.migrations import DESIGNATED

_CHARGES = """
    SELECT unit_id, id, item, period, due_date, amount_fen, kind, adjusts_id, period_start
    FROM charges WHERE kind != 'deposit' AND {units} ORDER BY unit_id, due_date, id
"""
_PAYMENTS = """
    SELECT unit_id, id, paid_on, amount_fen, receipt_no, item, period
    FROM payments WHERE kind = 'payment' AND {units} ORDER BY unit_id
"""
_UNITS = "SELECT unit_id, building, owner_name FROM units WHERE {units} ORDER BY unit_id"


@dataclass(frozen=True)
class UnitRange:
    """Units from ``first`` (inclusive) up to ``stop`` (exclusive); None is open-ended."""

    first: str | None = None
    stop: str | None = None

    def sql(self) -> tuple[str, tuple[str, ...]]:
        terms, params = ["1"], []
        if self.first is not None:
            terms.append("unit_id >= ?")
            params.append(self.first)
        if self.stop is not None:
            terms.append("unit_id < ?")
            params.append(self.stop)
        return " AND ".join(terms), tuple(params)


@dataclass(frozen=True)
class NamedUnits:
    """The units named in ``unit_ids``, read in one pass rather than one query each."""

    unit_ids: tuple[str, ...]

    def sql(self) -> tuple[str, tuple[str, ...]]:
        return "unit_id IN (SELECT value FROM json_each(?))", (json.dumps(self.unit_ids, ensure_ascii=False),)


def one_unit(unit_id: str) -> UnitRange:
    return UnitRange(unit_id, unit_id + "\x00")  # the next string after unit_id


def split_units(db: sqlite3.Connection, parts: int) -> list[UnitRange]:
    """``parts`` ranges with about as many units each, covering every unit."""
    count = int(db.execute("SELECT count(*) FROM units").fetchone()[0])
    bounds = [db.execute("SELECT unit_id FROM units ORDER BY unit_id LIMIT 1 OFFSET ?", (count * k // parts,))
              .fetchone()[0] for k in range(1, parts)]
    edges: list[str | None] = [None, *bounds, None]
    return [UnitRange(edges[k], edges[k + 1]) for k in range(parts)]


def unit_ledgers(db: sqlite3.Connection, units: UnitRange | NamedUnits = UnitRange()) -> Iterator[UnitLedger]:
    """The ledgers of the units in ``units`` (default: all), in unit order."""
    where, params = units.sql()
    unit_rows = db.execute(_UNITS.format(units=where), params)
    charges = groupby(db.execute(_CHARGES.format(units=where), params), key=itemgetter(0))
    payments = groupby(db.execute(_PAYMENTS.format(units=where), params), key=itemgetter(0))
    dates = _Dates()
    next_charges, next_payments = next(charges, None), next(payments, None)
    for unit, building, owner in unit_rows:
        unit_charges: list[Charge] = []
        unit_payments: list[Payment] = []
        adjustments: dict[int, int] = {}
        if next_charges is not None and next_charges[0] == unit:
            unit_charges = _charges(next_charges[1], dates, adjustments)
            next_charges = next(charges, None)
        if next_payments is not None and next_payments[0] == unit:
            unit_payments = _payments(next_payments[1], dates)
            next_payments = next(payments, None)
        yield UnitLedger(unit, building, owner, unit_charges, unit_payments, adjustments)


class _Dates(dict[str, date]):
    """ISO text → date, parsed once: a ledger has a few hundred distinct dates."""

    def __missing__(self, text: str) -> date:
        day = self[text] = date.fromisoformat(text)
        return day


def _charges(rows: Iterator[tuple[Any, ...]], dates: _Dates, adjustments: dict[int, int]) -> list[Charge]:
    """The unit's charges, each net of its adjustments (summed into ``adjustments``)."""
    charges = []
    for _unit, charge_id, item, period, due, amount, kind, adjusts_id, start in rows:
        if kind == "adjustment":
            adjustments[adjusts_id] = adjustments.get(adjusts_id, 0) + amount
        else:
            charges.append(Charge(charge_id, item, period, dates[due], amount, dates[start]))
    if adjustments:
        charges = [c._replace(amount_fen=c.amount_fen + adjustments[c.id]) if c.id in adjustments else c
                   for c in charges]
    return charges


def _payments(rows: Iterator[tuple[Any, ...]], dates: _Dates) -> list[Payment]:
    return [Payment(payment_id, dates[paid_on], amount, receipt, item, period)
            for _unit, payment_id, paid_on, amount, receipt, item, period in rows]


@dataclass(frozen=True)
class DepositReceipt:
    """Money held as security (装修押金 …): the owner's, never applied to fees."""

    paid_on: date
    receipt_no: str | None
    item: str
    amount_fen: int


def deposit_receipts(db: sqlite3.Connection, unit_id: str, as_of: date) -> list[DepositReceipt]:
    rows = db.execute("SELECT paid_on, receipt_no, item, amount_fen FROM payments WHERE unit_id = ?"
                      " AND kind = 'deposit' AND paid_on <= ? ORDER BY paid_on, receipt_no, id",
                      (unit_id, as_of.isoformat()))
    return [DepositReceipt(date.fromisoformat(paid_on), receipt, item, amount) for paid_on, receipt, item, amount
            in rows]


def owners(db: sqlite3.Connection) -> dict[str, Owner]:
    """Unit → owner name, phone and tags, for segment facts."""
    decoded: dict[str, tuple[str, ...]] = {}  # most units share a handful of tag lists: decode each once
    found = {}
    for unit_id, name, phone, tags in db.execute("SELECT unit_id, owner_name, phone, tags FROM units"):
        if tags not in decoded:
            decoded[tags] = tuple(json.loads(tags))
        found[unit_id] = Owner(unit_id, name, phone, decoded[tags])
    return found


def unit_ids(db: sqlite3.Connection) -> list[str]:
    return [row[0] for row in db.execute("SELECT unit_id FROM units ORDER BY unit_id")]


def holds_rows(db: sqlite3.Connection, table: str) -> bool:
    """Whether ``table`` has any row: one index probe, where count(*) reads every page."""
    return bool(db.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0])


def unit_count(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM units").fetchone()[0])


@dataclass(frozen=True)
class RowsSince:
    """Ledger rows added after the given highest ids, as read (deposits left out; dates ISO text).

    Tuples, not charges and payments: after a month's import they are most of a
    hundred thousand units' rows, and the caller turns them into columns.
    """

    charges: list[tuple[str, int, str, str, str, int, str]]  # unit, id, item, period, due, amount, period start
    adjusted: set[str]  # units with a new adjustment: a charge's amount changed
    payments: list[tuple[str, int, str, int, str | None, str | None, str | None]]  # unit, id, paid on, amount,
    # receipt, designated item, designated period


def rows_since(db: sqlite3.Connection, charge_id: int, payment_id: int) -> RowsSince:
    # In id order, unsorted: the caller groups them by unit in numpy. SQLite's sorter held 200 MiB for a
    # month's rows (and ordering by the (unit, due) index would walk every charge).
    charges = db.execute(
        "SELECT unit_id, id, item, period, due_date, amount_fen, period_start, kind FROM charges"
        " WHERE id > ? AND kind != 'deposit'", (charge_id,)).fetchall()
    adjusted = {row[0] for row in charges if row[7] == "adjustment"}
    payments = db.execute(
        "SELECT unit_id, id, paid_on, amount_fen, receipt_no, item, period FROM payments"
        " WHERE id > ? AND kind = 'payment'", (payment_id,)).fetchall()
    return RowsSince([row[:7] for row in charges if row[7] != "adjustment"], adjusted, payments)


def designations_up_to(db: sqlite3.Connection, payment_id: int,
                       reaching: date | None = None) -> dict[str, set[tuple[str | None, str | None]]]:
    """Unit → the (item, period) designations its payments up to ``payment_id`` made.

    ``reaching``: only designations that could name a charge whose period starts on
    or after that day — no period, or a period (or range) not ended before it. The
    distinct periods are walked on the ``payments_designation`` index (a probe each)
    and only the rows of those periods are read, not every payment of the history.
    """
    where = DESIGNATED
    rows: Iterable[tuple[str, str | None, str | None]]
    if reaching is None:
        rows = db.execute(f"SELECT DISTINCT unit_id, item, period FROM payments WHERE id <= ? AND {where}",
                          (payment_id,))
    else:
        periods = [p for p in _designated_periods(db, where) if _may_reach(p, reaching)]
        select = f"SELECT unit_id, item, period FROM payments INDEXED BY payments_designation WHERE id <= ? AND {where}"
        rows = [*db.execute(f"{select} AND period IS NULL", (payment_id,)),
                *db.execute(f"{select} AND period IN (SELECT value FROM json_each(?))",
                            (payment_id, json.dumps(periods, ensure_ascii=False)))]
    found: dict[str, set[tuple[str | None, str | None]]] = {}
    for unit, item, period in rows:
        found.setdefault(unit, set()).add((item, period))
    return found


def _designated_periods(db: sqlite3.Connection, where: str) -> list[str]:
    """The distinct designated period labels, one index probe each (a skip scan)."""
    periods: list[str] = []
    query = f"SELECT min(period) FROM payments INDEXED BY payments_designation WHERE {where} AND period > ?"
    while (found := db.execute(query, (periods[-1] if periods else "",)).fetchone()[0]) is not None:
        periods.append(found)
    return periods


def _may_reach(label: str, day: date) -> bool:
    """False only for a period that ends before ``day``; a label that does not parse is kept."""
    try:
        return parse_period(label).end >= day
    except ValueError:
        return True


def unit_list(db: sqlite3.Connection) -> tuple[list[str], list[str], list[str]]:
    """Unit ids, buildings and owner names in unit order, as the kept allocation lists them."""
    rows = db.execute(_UNITS.format(units="1")).fetchall()
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
