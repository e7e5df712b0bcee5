"""What a letter says, read from the workspace for recorded notices (the database edge).

Everything comes from what was recorded: the notice (number, stage, deadline,
amount, the debts it demanded), the unit's owner, and each demanded charge's
balance as of the notice's date. So the same notice read again gives the same
facts, and a reprint the same text, unless the ledger itself was changed since.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from cuijiao.aging import Buckets, natural_key, position
from cuijiao.limitation import RestDays, clocks
from cuijiao.outcomes import standing
from cuijiao.stages import STAGE_NAMES
from cuijiao.store.notices import StoredNotice, notice
from cuijiao.store.outcomes import outcomes_by_unit
from cuijiao.store.reading import NamedUnits, unit_ledgers
from cuijiao.workspace import Workspace


@dataclass(frozen=True)
class Line:
    item: str
    period: str
    due_date: date
    owed_fen: int
    limitation_ends: date | None = None


@dataclass(frozen=True)
class Owner:
    unit_id: str
    building: str
    name: str
    phone: str
    address: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Delivery:
    delivered_on: date
    method: str
    signer: str
    relation: str
    evidence: str


@dataclass(frozen=True)
class Earlier:
    """A notice issued before this one in the same case, with its deliveries."""

    notice_no: str
    stage: int
    issued_on: date
    deadline: date | None
    amount_fen: int
    deliveries: tuple[Delivery, ...]

    @property
    def stage_name(self) -> str:
        return STAGE_NAMES[self.stage]


@dataclass(frozen=True)
class LetterFacts:
    notice: StoredNotice
    segment: str
    approved_by: str | None
    owner: Owner
    lines: tuple[Line, ...]
    history: tuple[Earlier, ...] = ()
    dispute: tuple[date, str] | None = None  # the open complaint: raised on, what about
    sibling_units: tuple[tuple[str, int], ...] = ()  # developer: (unit, overdue fen) of all its units
    last_contact: str = ""
    contact_attempts: int = 0  # recorded calls up to the notice's date


def notice_segment(db: sqlite3.Connection, notice_no: str) -> tuple[str, str | None]:
    row = db.execute("SELECT segment, approved_by FROM notices WHERE notice_no = ?", (notice_no,)).fetchone()
    return (str(row[0]), row[1]) if row else ("", None)


def _owners(db: sqlite3.Connection, unit_ids: Iterable[str]) -> dict[str, Owner]:
    rows = db.execute("SELECT unit_id, building, owner_name, phone, address, tags FROM units"
                      " WHERE unit_id IN (SELECT value FROM json_each(?))", (json.dumps(list(unit_ids)),))
    return {r[0]: Owner(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5]))) for r in rows}


def _history(db: sqlite3.Connection, case_id: int, before: StoredNotice) -> tuple[Earlier, ...]:
    found = []
    for no, stage, issued, deadline, amount in db.execute(
            "SELECT notice_no, stage, issued_on, deadline, amount_fen FROM notices WHERE case_id = ?"
            " AND notice_no != ? AND issued_on <= ? ORDER BY issued_on, notice_no",
            (case_id, before.notice_no, before.issued_on.isoformat())):
        delivered = tuple(Delivery(date.fromisoformat(d), m, s or "", r or "", e or "") for d, m, s, r, e in
                          db.execute("SELECT delivered_on, method, signer, relation, evidence FROM deliveries"
                                     " WHERE notice_no = ? ORDER BY delivered_on, id", (no,)))
        found.append(Earlier(no, stage, date.fromisoformat(issued), date.fromisoformat(deadline) if deadline else None,
                             amount, delivered))
    return tuple(found)


def _siblings(db: sqlite3.Connection, owners: Iterable[Owner]) -> dict[str, list[str]]:
    """Unit → every unit of the same developer (one query per developer, not per letter)."""
    developers = {owner.name for owner in owners if "开发商" in owner.tags}
    held: dict[str, list[str]] = {name: [] for name in developers}
    for name, unit_id in db.execute(
            "SELECT owner_name, unit_id FROM units WHERE owner_name IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(developers), ensure_ascii=False),)):
        held[name].append(unit_id)
    for units in held.values():
        units.sort(key=natural_key)  # as a person lists them: 1-1-99, 1-1-101, 1-1-1002
    return {owner.unit_id: held.get(owner.name, []) for owner in owners}


def letter_facts(workspace: Workspace, notices: list[StoredNotice]) -> Iterator[LetterFacts]:
    """The facts of each notice, in the order given (read in one pass per call)."""
    db, settings = workspace.db, workspace.settings
    buckets = Buckets(settings.aging_buckets)
    rest_days = RestDays(settings.extra_holidays, settings.extra_workdays)
    owners = _owners(db, {n.unit_id for n in notices})
    siblings = _siblings(db, owners.values())
    wanted = {n.unit_id for n in notices} | {u for units in siblings.values() for u in units}
    ledgers = {ledger.unit_id: ledger for ledger in unit_ledgers(db, NamedUnits(tuple(sorted(wanted))))}
    recorded = outcomes_by_unit(db)
    overdue: dict[tuple[str, date], int] = {}  # a developer's units, aged once per day, not once per letter

    def overdue_fen(unit_id: str, on: date) -> int:
        if (unit_id, on) not in overdue:
            overdue[unit_id, on] = position(ledgers[unit_id], on, buckets).overdue_fen
        return overdue[unit_id, on]

    for stored in notices:
        ledger = ledgers[stored.unit_id]
        unit = position(ledger, stored.issued_on, buckets)
        outcomes = recorded.get(stored.unit_id, [])
        ends = {clock.charge.id: clock.ends for clock in clocks(unit, outcomes, rest_days)}
        by_id = {c.id: c for c in unit.charges}
        lines = tuple(Line(c.item, c.period, c.due_date, unit.allocation.owed[c.id], ends.get(c.id))
                      for c in sorted((by_id[i] for i in stored.charge_ids if i in by_id),
                                      key=lambda c: (c.due_date, c.item, c.period)))
        now = standing(outcomes, unit.payments, stored.issued_on)
        dispute = (now.open_dispute.on, str(now.open_dispute.detail.get("reason", ""))) if now.open_dispute else None
        segment, approved_by = notice_segment(db, stored.notice_no)
        calls = [o for o in outcomes if o.kind.value == "call" and o.on <= stored.issued_on]
        last = f"{calls[-1].on.isoformat()} {calls[-1].detail.get('outcome', '')}".strip() if calls else ""
        sibling_rows = tuple((u, overdue_fen(u, stored.issued_on)) for u in siblings[stored.unit_id] if u in ledgers)
        yield LetterFacts(stored, segment, approved_by, owners[stored.unit_id], lines,
                          _history(db, stored.case_id, stored), dispute, sibling_rows, last, len(calls))


def one_notice(workspace: Workspace, notice_no: str) -> LetterFacts | None:
    stored = notice(workspace.db, notice_no)
    if stored is None:
        return None
    return next(letter_facts(workspace, [stored]))
