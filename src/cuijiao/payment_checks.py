"""Warnings about imported payments that are lawful to store but need a clerk's eye.

- A designation (art. 560 para 1) that matches no charge of the ledger, or only
  charges already paid when the money came: the money goes by the statutory
  order instead, and the clerk should know before an owner asks.
- A payment dated after today: it cannot be evidence yet (a typing slip, or a
  post-dated transfer); stored, but said.

Runs inside the import's transaction, over the rows that import wrote. That a
designation matches nothing is checked for every row; that it found its
charges already paid needs the units' allocation, so it is checked when the
import touches at most ``SETTLED_CHECK_UNITS`` units with designations (a
month's import; a first load of a large estate skips it, and the statement
of a unit still says so in its rule column).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from typing import Any

from cuijiao.allocation import Charge, Payment, allocate
from cuijiao.store.reading import NamedUnits, unit_ledgers

SETTLED_CHECK_UNITS = 5_000

# (import id, source row, message)
PaymentWarning = tuple[int, int, str]

_NEW = "import_id >= ?1 AND kind = 'payment'"
_DESIGNATED = f"{_NEW} AND (item IS NOT NULL OR period IS NOT NULL)"
# Designations of one charge found by its identity (an index probe), else among the unit's charges.
_NOT_EXACT = f"""{_DESIGNATED} AND NOT (item IS NOT NULL AND period IS NOT NULL AND (
    EXISTS (SELECT 1 FROM charges c
            WHERE c.charge_key = 'c:' || p.unit_id || char(31) || p.item || char(31) || p.period)
    OR EXISTS (SELECT 1 FROM charges c WHERE c.unit_id = p.unit_id AND c.item = p.item AND c.period = p.period
               AND c.kind = 'charge')))"""


def payment_warnings(db: sqlite3.Connection, first_import_id: int, today: date, *,
                     settled_check_units: int = SETTLED_CHECK_UNITS) -> list[PaymentWarning]:
    """Warnings for the payments written by imports numbered ``first_import_id`` on."""
    found: list[PaymentWarning] = [
        (import_id, line, f"收款日期 {paid_on} 晚于今天（{today.isoformat()}），请核对")
        for import_id, line, paid_on in db.execute(
            f"SELECT import_id, source_row, paid_on FROM payments WHERE {_NEW} AND paid_on > ?2",
            (first_import_id, today.isoformat()))]
    units = db.execute(f"SELECT count(DISTINCT unit_id) FROM payments WHERE {_DESIGNATED}",
                       (first_import_id,)).fetchone()[0]
    few = units <= settled_check_units
    where = _DESIGNATED if few else _NOT_EXACT
    rows = {row[0]: row for row in db.execute(
        f"SELECT id, unit_id, import_id, source_row, item, period FROM payments p WHERE {where}", (first_import_id,))}
    notes = _notes(db, rows) if few else _unmatched(db, rows)
    for payment_id, note in notes.items():
        if payment_id in rows:
            _id, _unit, import_id, line, item, period = rows[payment_id]
            named = " ".join(part for part in (item, period) if part)
            why = "没有对应的应收" if note == "none" else "对应的应收在付款时已结清"
            found.append((import_id, line, f"指定的“{named}”{why}，将按法定顺序抵扣"))
    return sorted(found)


def _notes(db: sqlite3.Connection, rows: dict[int, tuple[Any, ...]]) -> dict[int, str]:
    """Payment id → "none" or "settled", from the allocation of the units' whole ledgers."""
    notes: dict[int, str] = {}
    units = tuple(sorted({row[1] for row in rows.values()}))
    for ledger in unit_ledgers(db, NamedUnits(units)):
        notes.update(allocate(ledger.charges, ledger.payments).designation_notes)
    return notes


def _unmatched(db: sqlite3.Connection, rows: dict[int, tuple[Any, ...]]) -> dict[int, str]:
    """Payment id → "none" for designations that match no charge of their unit (no allocation needed)."""
    units = sorted({row[1] for row in rows.values()})
    charges: dict[str, list[Charge]] = {}
    for unit, item, period in db.execute(
        "SELECT unit_id, item, period FROM charges"
        " WHERE kind = 'charge' AND unit_id IN (SELECT value FROM json_each(?))",
        (json.dumps(units, ensure_ascii=False),),
    ):
        charges.setdefault(unit, []).append(Charge(0, item, period, date.min, 0))
    notes = {}
    for payment_id, unit, _import, _line, item, period in rows.values():
        probe = Payment(payment_id, date.min, 0, None, item, period)
        if not any(probe.matches(charge) for charge in charges.get(unit, ())):
            notes[payment_id] = "none"
    return notes
