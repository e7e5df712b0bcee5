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

import sqlite3
from datetime import date
from typing import Any

from cuijiao.allocation import Charge, Payment, allocate
from cuijiao.store.reading import NamedUnits, unit_ledgers

SETTLED_CHECK_UNITS = 5_000

# (import id, source row, message)
PaymentWarning = tuple[int, int, str]


def payment_warnings(db: sqlite3.Connection, first_import_id: int, today: date) -> list[PaymentWarning]:
    """Warnings for the payments written by imports numbered ``first_import_id`` on."""
    found: list[PaymentWarning] = []
    rows = db.execute(
        "SELECT id, unit_id, import_id, source_row, paid_on, item, period FROM payments"
        " WHERE import_id >= ? AND kind = 'payment' AND (item IS NOT NULL OR period IS NOT NULL OR paid_on > ?)",
        (first_import_id, today.isoformat())).fetchall()
    designated = {row[0]: row for row in rows if row[5] or row[6]}
    for _id, _unit, import_id, line, paid_on, _item, _period in rows:
        if paid_on > today.isoformat():
            found.append((import_id, line, f"收款日期 {paid_on} 晚于今天（{today.isoformat()}），请核对"))
    units = tuple(sorted({row[1] for row in designated.values()}))
    if len(units) <= SETTLED_CHECK_UNITS:
        notes: dict[int, str] = {}
        for ledger in unit_ledgers(db, NamedUnits(units)):
            notes.update(allocate(ledger.charges, ledger.payments).designation_notes)
    else:
        notes = _unmatched(db, designated)
    for payment_id, note in notes.items():
        if payment_id in designated:
            _id, _unit, import_id, line, _paid, item, period = designated[payment_id]
            named = " ".join(part for part in (item, period) if part)
            why = "没有对应的应收" if note == "none" else "对应的应收在付款时已结清"
            found.append((import_id, line, f"指定的“{named}”{why}，将按法定顺序抵扣"))
    return sorted(found)


def _unmatched(db: sqlite3.Connection, designated: dict[int, tuple[Any, ...]]) -> dict[int, str]:
    """Payment id → "none" for designations that match no charge of their unit (no allocation needed)."""
    exact = {(unit, item, period) for unit, item, period in db.execute(
        "SELECT DISTINCT unit_id, item, period FROM charges WHERE kind = 'charge'")}
    notes, others = {}, []
    for payment_id, unit, *_rest, item, period in designated.values():
        if item and period and (unit, item, period) in exact:
            continue
        others.append((payment_id, unit, item, period))
    charges: dict[str, list[Charge]] = {}
    for unit, item, period in exact:
        charges.setdefault(unit, []).append(Charge(0, item, period, date.min, 0))
    for payment_id, unit, item, period in others:
        probe = Payment(payment_id, date.min, 0, None, item, period)
        if not any(probe.matches(charge) for charge in charges.get(unit, ())):
            notes[payment_id] = "none"
    return notes
