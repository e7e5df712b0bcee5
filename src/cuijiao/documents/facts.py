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
from typing import NamedTuple

import numpy as np

from cuijiao.aging import Buckets, UnitLedger, natural_key, position
from cuijiao.allocated import AllocatedEstate
from cuijiao.allocated_update import let_pages_go
from cuijiao.allocation import Charge
from cuijiao.arrears import allocated_estate, kept_facts
from cuijiao.kept_facts import UnitFacts
from cuijiao.limitation import RestDays, clocks, paid_clock_end
from cuijiao.outcomes import Outcome, standing
from cuijiao.stages import STAGE_NAMES
from cuijiao.store.notices import StoredNotice, notice
from cuijiao.store.outcomes import outcomes_by_unit
from cuijiao.store.reading import NamedUnits, unit_ledgers
from cuijiao.workspace import Workspace


class Line(NamedTuple):
    """A demanded debt as the letter prints it. A named tuple, not a dataclass: a month's letters have 700,000."""

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


def _owners(db: sqlite3.Connection, unit_ids: Iterable[str]) -> dict[str, Owner]:
    rows = db.execute("SELECT unit_id, building, owner_name, phone, address, tags FROM units"
                      " WHERE unit_id IN (SELECT value FROM json_each(?))", (json.dumps(list(unit_ids)),))
    return {r[0]: Owner(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5]))) for r in rows}


class _CaseNotice(NamedTuple):
    notice_no: str
    case_id: int
    stage: int
    issued_on: str
    deadline: str | None
    amount_fen: int
    segment: str
    approved_by: str | None


class _Cases:
    """The notices of the given cases and their deliveries, read in two queries for a whole chunk."""

    def __init__(self, db: sqlite3.Connection, case_ids: Iterable[int]) -> None:
        self.notices: dict[int, list[_CaseNotice]] = {}
        self.by_no: dict[str, _CaseNotice] = {}
        for row in db.execute(
                "SELECT notice_no, case_id, stage, issued_on, deadline, amount_fen, segment, approved_by"
                " FROM notices WHERE case_id IN (SELECT value FROM json_each(?)) ORDER BY issued_on, notice_no",
                (json.dumps(sorted(set(case_ids))),)):
            found = _CaseNotice(*row)
            self.notices.setdefault(found.case_id, []).append(found)
            self.by_no[found.notice_no] = found
        self.deliveries: dict[str, list[Delivery]] = {}
        for no, day, method, signer, relation, evidence in db.execute(
                "SELECT notice_no, delivered_on, method, signer, relation, evidence FROM deliveries"
                " WHERE notice_no IN (SELECT value FROM json_each(?)) ORDER BY delivered_on, id",
                (json.dumps(sorted(self.by_no), ensure_ascii=False),)):
            self.deliveries.setdefault(no, []).append(
                Delivery(date.fromisoformat(day), method, signer or "", relation or "", evidence or ""))

    def segment(self, notice_no: str) -> tuple[str, str | None]:
        found = self.by_no.get(notice_no)
        return (str(found.segment), found.approved_by) if found else ("", None)

    def history(self, before: StoredNotice) -> tuple[Earlier, ...]:
        """The case's notices issued up to ``before``'s day, itself left out, in issue order."""
        day = before.issued_on.isoformat()
        return tuple(Earlier(n.notice_no, n.stage, date.fromisoformat(n.issued_on),
                             date.fromisoformat(n.deadline) if n.deadline else None, n.amount_fen,
                             tuple(self.deliveries.get(n.notice_no, ())))
                     for n in self.notices.get(before.case_id, ())
                     if n.notice_no != before.notice_no and n.issued_on <= day)


def _siblings(db: sqlite3.Connection, owners: Iterable[Owner], held: dict[str, list[str]]) -> dict[str, list[str]]:
    """Unit → every unit of the same developer; ``held`` keeps each developer's units for the next chunk."""
    developers = {owner.name for owner in owners if "开发商" in owner.tags} - held.keys()
    if developers:
        found: dict[str, list[str]] = {name: [] for name in developers}
        for name, unit_id in db.execute(
                "SELECT owner_name, unit_id FROM units WHERE owner_name IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(developers), ensure_ascii=False),)):
            found[name].append(unit_id)
        for name, units in found.items():
            held[name] = sorted(units, key=natural_key)  # as a person lists them: 1-1-99, 1-1-101, 1-1-1002
    return {owner.unit_id: held[owner.name] if "开发商" in owner.tags else [] for owner in owners}


class LetterReader:
    """The facts of a batch's notices, read chunk by chunk with what the batch shares read once.

    A unit's owed lines and each line's limitation date come from the kept
    allocation (:mod:`cuijiao.kept_facts`) where it answers the unit exactly on
    the notice's day and nothing is recorded about the unit (no outcome: its
    only limitation interruptions are payments); every other unit is read and
    allocated afresh, as ``kept=False`` does for all (a single reprint, where
    loading the estate's columns would cost more than one unit's ledger).
    Both give the same facts (tests/test_letter_facts.py compares them).
    """

    def __init__(self, workspace: Workspace, *, kept: bool = True) -> None:
        settings = workspace.settings
        self.workspace, self.kept = workspace, kept
        self.buckets = Buckets(settings.aging_buckets)
        self.rest_days = RestDays(settings.extra_holidays, settings.extra_workdays)
        self.recorded = outcomes_by_unit(workspace.db)
        self._estate: AllocatedEstate | None = None
        self._index: dict[str, int] = {}
        self._charge_from: list[int] = []
        self._app_from: list[int] = []
        self._days: dict[date, UnitFacts] = {}
        self._developers: dict[str, list[str]] = {}  # developer → its units, in natural order
        self._listed: dict[tuple[str, date], tuple[tuple[str, int], ...]] = {}  # (developer, day) → (unit, fen)

    def facts(self, notices: list[StoredNotice]) -> Iterator[LetterFacts]:
        """The facts of each notice, in the order given."""
        db = self.workspace.db
        owners = _owners(db, {n.unit_id for n in notices})
        siblings = _siblings(db, owners.values(), self._developers)
        cases = _Cases(db, {n.case_id for n in notices})
        # A developer's units with their arrears, once per developer and day for the whole batch (its
        # letters each list them: per letter, that was the developer's units times its letters).
        listing = {(owners[n.unit_id].name, n.issued_on) for n in notices if siblings[n.unit_id]}
        listing -= self._listed.keys()
        asked = {(n.unit_id, n.issued_on) for n in notices}
        asked |= {(u, day) for name, day in listing for u in self._developers[name]}
        exact = {unit_id for unit_id, day in asked if self._day_facts(unit_id, day) is None}
        ledgers = ({ledger.unit_id: ledger for ledger in unit_ledgers(db, NamedUnits(tuple(sorted(exact))))}
                   if exact else {})
        for name, day in listing:
            self._listed[name, day] = tuple((u, fen) for u in self._developers[name]
                                            if (fen := self._overdue_fen(u, day, ledgers)) is not None)

        for stored in notices:
            unit_id, on = stored.unit_id, stored.issued_on
            outcomes = self.recorded.get(unit_id, [])
            lines = self._lines(stored, ledgers)
            dispute = self._dispute(stored, outcomes, ledgers)
            calls = [o for o in outcomes if o.kind.value == "call" and o.on <= on]
            last = f"{calls[-1].on.isoformat()} {calls[-1].detail.get('outcome', '')}".strip() if calls else ""
            sibling_rows = self._listed[owners[unit_id].name, on] if siblings[unit_id] else ()
            segment, approved_by = cases.segment(stored.notice_no)
            yield LetterFacts(stored, segment, approved_by, owners[unit_id], lines, cases.history(stored),
                              dispute, sibling_rows, last, len(calls))
        if self._estate is not None:
            # The chunk's units' pages of the mapped columns: held to the batch's end, the pages of every
            # letter's unit added up to a quarter of its peak memory.
            let_pages_go(self._estate)

    # -- the kept allocation -------------------------------------------------

    def _day_facts(self, unit_id: str, on: date) -> UnitFacts | None:
        """The kept facts of ``on`` when they answer ``unit_id`` exactly and nothing is recorded about it."""
        if not self.kept or unit_id in self.recorded:
            return None
        if self._estate is None:
            self._estate = estate = allocated_estate(self.workspace)
            self._index = {u: k for k, u in enumerate(estate.unit_ids)}
            # Where each unit's rows begin (rows are grouped by unit, in unit order), one more for the end.
            units = np.arange(len(estate.unit_ids) + 1)
            self._charge_from = np.searchsorted(estate.charge_unit, units).tolist()
            self._app_from = np.searchsorted(estate.app_unit, units).tolist()
        unit = self._index.get(unit_id)
        if unit is None:
            return None
        facts = self._days.get(on)
        if facts is None:
            facts = self._days[on] = kept_facts(self.workspace, on)  # the plan's, when it read the same day
            # The plan's passes touched every page of the mapped columns; letters read eight columns of
            # their own units: held, those pages were a third of the batch's peak memory.
            let_pages_go(self._estate)
        return None if facts.elsewhere[unit] else facts

    def _kept_lines(self, facts: UnitFacts, stored: StoredNotice) -> tuple[Line, ...]:
        estate, unit, day = facts.estate, self._index[stored.unit_id], stored.issued_on.toordinal()
        first, stop = self._charge_from[unit], self._charge_from[unit + 1]
        row_of = {charge_id: first + k for k, charge_id in enumerate(estate.charge_id[first:stop].tolist())}
        billed = estate.charge_billed[first:stop].tolist()
        rows = [row_of[c] for c in stored.charge_ids if c in row_of and billed[row_of[c] - first] <= day]
        app_first, app_stop = self._app_from[unit], self._app_from[unit + 1]
        paid_days: dict[int, list[date]] = {row: [] for row in rows}
        for row, paid_on in zip(estate.app_charge[app_first:app_stop].tolist(),
                                estate.app_paid_on[app_first:app_stop].tolist(), strict=True):
            if row in paid_days and paid_on <= day:
                paid_days[row].append(date.fromordinal(paid_on))
        # The lines' columns read once each (a numpy scalar per field and line was most of a letter's facts).
        taken = np.array(rows, dtype=np.int64)
        columns = zip(rows, estate.charge_id[taken].tolist(), estate.charge_item[taken].tolist(),
                      estate.charge_period[taken].tolist(), estate.charge_due[taken].tolist(),
                      estate.charge_amount[taken].tolist(), facts.owed[taken].tolist(), strict=True)
        lines = []
        for row, charge_id, item, period, due, amount, owed in columns:
            charge = Charge(charge_id, estate.items[item], estate.periods[period], date.fromordinal(due), amount)
            ends = paid_clock_end(charge, owed, paid_days[row], stored.issued_on, self.rest_days)
            lines.append(Line(charge.item, charge.period, charge.due_date, owed, ends))
        return tuple(sorted(lines, key=lambda line: (line.due_date, line.item, line.period)))

    # -- either way ------------------------------------------------------------

    def _lines(self, stored: StoredNotice, ledgers: dict[str, UnitLedger]) -> tuple[Line, ...]:
        facts = self._day_facts(stored.unit_id, stored.issued_on)
        if facts is not None:
            return self._kept_lines(facts, stored)
        unit = position(ledgers[stored.unit_id], stored.issued_on, self.buckets)
        ends = {clock.charge.id: clock.ends
                for clock in clocks(unit, self.recorded.get(stored.unit_id, []), self.rest_days)}
        by_id = {c.id: c for c in unit.charges}
        return tuple(Line(c.item, c.period, c.due_date, unit.allocation.owed[c.id], ends.get(c.id))
                     for c in sorted((by_id[i] for i in stored.charge_ids if i in by_id),
                                     key=lambda c: (c.due_date, c.item, c.period)))

    def _dispute(self, stored: StoredNotice, outcomes: list[Outcome],
                 ledgers: dict[str, UnitLedger]) -> tuple[date, str] | None:
        if not outcomes:
            return None
        unit = position(ledgers[stored.unit_id], stored.issued_on, self.buckets)
        now = standing(outcomes, unit.payments, stored.issued_on)
        return (now.open_dispute.on, str(now.open_dispute.detail.get("reason", ""))) if now.open_dispute else None

    def _overdue_fen(self, unit_id: str, on: date, ledgers: dict[str, UnitLedger]) -> int | None:
        facts = self._day_facts(unit_id, on)
        if facts is not None:
            return int(facts.overdue_fen[self._index[unit_id]])
        if unit_id not in ledgers:
            return None
        return position(ledgers[unit_id], on, self.buckets).overdue_fen


def letter_facts(workspace: Workspace, notices: list[StoredNotice], *, kept: bool = True) -> Iterator[LetterFacts]:
    """The facts of each notice, in the order given (see :class:`LetterReader`)."""
    return LetterReader(workspace, kept=kept).facts(notices)


def one_notice(workspace: Workspace, notice_no: str) -> LetterFacts | None:
    stored = notice(workspace.db, notice_no)
    if stored is None:
        return None
    return next(letter_facts(workspace, [stored], kept=False))
