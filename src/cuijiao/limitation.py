"""The limitation clock (诉讼时效, Civil Code arts. 188, 192, 195, 201-203). Pure.

Each charge is its own debt with its own clock: three years from its due date
(art. 188; nothing before the due date starts or restarts it), restarted while
it runs by evidence — a payment applied to it, a promise recorded with
evidence that covers it (SPC limitation rules art. 14), a legal step naming
it (payment order, suit, mediation, arbitration), or a delivered demand
listing it (SPC art. 8). The start day is not counted, so the period ends on
the same month and day three years on (a 29 February start ends on 28
February); a period ending on a statutory rest day ends on the next working
day (art. 203).

Once a period has ended nothing the company does revives it (art. 192; art.
195 interrupts only a running period): the charge stays ``expired``. Only the
owner's own act on that debt gives up the defence (SPC art. 19): a payment
applied to it (for what was paid; the rest stays time-barred), or a written
acknowledgement — a promise with evidence that names the charge — after which
a new period runs from the acknowledgement. The charge is then ``waived``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from typing import NamedTuple

import chinese_calendar

from cuijiao.aging import UnitPosition
from cuijiao.allocation import Charge
from cuijiao.dates import add_months
from cuijiao.money import format_yuan
from cuijiao.outcomes import Kind, Outcome

LIMITATION_MONTHS = 36
DEFAULT_WARN_DAYS = 90


class RestDays:
    """Statutory rest days: the State Council's calendar where the chinese-calendar
    package has the year, else weekends; a workspace adds the days it knows."""

    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> None:
        self.holidays, self.workdays = frozenset(holidays), frozenset(workdays)
        self._known: dict[date, bool] = {}  # the package checks its whole table on every call
        self.period_ends: dict[date, date] = {}  # start → end: a month's letters ask for the same few days

    def is_rest_day(self, day: date) -> bool:
        if day in self.holidays:
            return True
        if day in self.workdays:
            return False
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._look_up(day)
        return known

    @staticmethod
    def _look_up(day: date) -> bool:
        try:
            return bool(chinese_calendar.is_holiday(day))
        except NotImplementedError:
            # The year's schedule is not published in the package yet. Weekends only:
            # a statutory holiday missed here makes the period end a day early, never late.
            return day.weekday() >= 5

    @staticmethod
    @cache
    def official(day: date) -> bool:
        """Whether the published calendar covers ``day``'s year."""
        try:
            chinese_calendar.is_holiday(day)
        except NotImplementedError:
            return False
        return True


def period_end(start: date, rest_days: RestDays) -> date:
    """The last day of a three-year period that starts (uncounted) on ``start``."""
    end = rest_days.period_ends.get(start)
    if end is None:
        end = add_months(start, LIMITATION_MONTHS)
        while rest_days.is_rest_day(end):
            end += timedelta(days=1)
        rest_days.period_ends[start] = end
    return end


class Interruption(StrEnum):
    PAYMENT = "payment"
    PROMISE = "promise"
    LEGAL = "legal"
    DEMAND = "demand"

    @property
    def label(self) -> str:
        labels = {"payment": "业主付款", "promise": "业主承诺缴费", "legal": "法律程序", "demand": "催缴通知送达"}
        return labels[self.value]


class Status(StrEnum):
    EXPIRED = "expired"
    EXPIRING = "expiring"
    WAIVED = "waived"


class Waiver(NamedTuple):
    """The owner's own act on a time-barred debt (SPC limitation rules art. 19)."""

    on: date
    by: str  # "payment" (for what was paid) or "acknowledgement" (the whole debt)
    evidence: str
    amount_fen: int | None  # what was paid; None: the whole debt acknowledged


@dataclass(frozen=True)
class Clock:
    unit_id: str
    charge: Charge
    owed_fen: int
    ends: date
    last_interruption: tuple[date, Interruption] | None
    status: Status | None  # None: neither expired nor ending within the warning window
    official_calendar: bool
    waived: Waiver | None = None  # the latest waiver after the period ended
    barred_fen: int = 0  # of what is owed, what the owner may refuse to pay (time-barred)


Demand = tuple[date, tuple[int, ...]]  # a delivered notice: when, and the charges it demanded


class _Event(NamedTuple):
    day: date
    why: Interruption
    charge_id: int
    owner_act: bool  # the owner's own act: a payment, or a promise with evidence naming the charge
    evidence: str
    amount_fen: int | None
    payment_id: int | None = None


def _events(unit: UnitPosition, outcomes: Sequence[Outcome], demands: Sequence[Demand]) -> list[_Event]:
    """Everything up to the unit's as-of date that may restart a charge's clock, in date order."""
    payments = {p.id: p for p in unit.payments}
    found: list[_Event] = []
    for application in unit.allocation.applications:
        if application.charge_id is not None:
            paid = payments[application.payment_id]
            receipt = f"收据号 {paid.receipt_no} " if paid.receipt_no else ""
            found.append(_Event(paid.paid_on, Interruption.PAYMENT, application.charge_id, True,
                                f"{receipt}付款 {format_yuan(application.amount_fen, grouping=True)} 元",
                                application.amount_fen, paid.id))
    for delivered_on, charge_ids in demands:
        if delivered_on <= unit.as_of:
            found += [_Event(delivered_on, Interruption.DEMAND, c, False, "", None) for c in charge_ids]
    for outcome in outcomes:
        if outcome.on > unit.as_of or outcome.kind not in (Kind.PROMISE, Kind.LEGAL):
            continue
        evidence = str(outcome.detail.get("evidence") or "").strip()
        if outcome.kind is Kind.PROMISE and not evidence:
            continue  # a promise no one can prove holds the ladder, not the clock
        why = Interruption.PROMISE if outcome.kind is Kind.PROMISE else Interruption.LEGAL
        named = outcome.kind is Kind.PROMISE and bool(outcome.detail.get("named"))
        found += [_Event(outcome.on, why, c, named, evidence, None) for c in covered(outcome, unit)]
    found.sort(key=lambda e: (e.day, e.why.value))
    return found


def covered(outcome: Outcome, unit: UnitPosition) -> list[int]:
    """The charges a promise or legal step covers: those it names, else (older records) every charge due by then."""
    if "charge_ids" in outcome.detail:
        return [int(c) for c in outcome.detail["charge_ids"]]
    return [c.id for c in unit.charges if c.due_date <= outcome.on]


class _Walk(NamedTuple):
    ends: date
    last: tuple[date, Interruption] | None
    waived: Waiver | None
    barred_payments: dict[int, date]  # payment id → the end of the period it paid past


def _walk(charge: Charge, events: Iterable[_Event], rest_days: RestDays) -> _Walk:
    ends, last, waived, barred = period_end(charge.due_date, rest_days), None, None, {}
    for event in events:
        if event.day < charge.due_date:
            continue  # the period has not begun: nothing to interrupt (art. 188)
        if event.day <= ends:
            ends, last = period_end(event.day, rest_days), (event.day, event.why)
        elif event.why is Interruption.PAYMENT:
            if event.payment_id is not None:
                barred[event.payment_id] = ends
            paid = event.amount_fen or 0
            if waived is not None and waived.by == "payment" and waived.amount_fen is not None:
                paid += waived.amount_fen
            waived = Waiver(event.day, "payment", f"付款 {format_yuan(paid, grouping=True)} 元", paid)
        elif event.owner_act:  # a written acknowledgement naming the debt: a new period from it
            waived = Waiver(event.day, "acknowledgement", event.evidence, None)
            ends, last = period_end(event.day, rest_days), (event.day, event.why)
    return _Walk(ends, last, waived, barred)


def _by_charge(events: list[_Event]) -> dict[int, list[_Event]]:
    grouped: dict[int, list[_Event]] = {}
    for event in events:
        grouped.setdefault(event.charge_id, []).append(event)
    return grouped


def barred_applications(unit: UnitPosition, outcomes: Sequence[Outcome], rest_days: RestDays,
                        demands: Sequence[Demand] = ()) -> dict[tuple[int, int], date]:
    """(payment id, charge id) → the day the charge's period had ended, for money paid on a time-barred debt."""
    by_charge = _by_charge(_events(unit, outcomes, demands))
    return {(payment_id, charge.id): ended for charge in unit.charges
            for payment_id, ended in _walk(charge, by_charge.get(charge.id, ()), rest_days).barred_payments.items()}


def clocks(unit: UnitPosition, outcomes: Sequence[Outcome], rest_days: RestDays,
           warn_days: int = DEFAULT_WARN_DAYS, demands: Sequence[Demand] = ()) -> list[Clock]:
    """The clock of every charge already due that is still owed, or whose time-barred debt the owner paid."""
    by_charge = _by_charge(_events(unit, outcomes, demands))
    result = []
    for charge in sorted(unit.charges, key=lambda c: c.order):
        owed = unit.allocation.owed[charge.id]
        if charge.due_date >= unit.as_of:
            continue
        walk = _walk(charge, by_charge.get(charge.id, ()), rest_days)
        if owed <= 0 and walk.waived is None:
            continue
        barred = unit.as_of > walk.ends
        if walk.waived is not None and (not barred or walk.waived.on > walk.ends):
            status: Status | None = Status.WAIVED
        elif barred:
            status = Status.EXPIRED
        else:
            status = Status.EXPIRING if (walk.ends - unit.as_of).days <= warn_days else None
        result.append(Clock(unit.ledger.unit_id, charge, owed, walk.ends, walk.last, status,
                            RestDays.official(walk.ends), walk.waived, owed if barred else 0))
    return result


def paid_clock_end(charge: Charge, owed_fen: int, paid_on: Sequence[date], as_of: date,
                   rest_days: RestDays) -> date | None:
    """The end of ``charge``'s period as :func:`clocks` gives it for a unit with no recorded outcomes and no
    demands passed: the payment days applied to it (up to ``as_of``) are its only interruptions. None where
    :func:`clocks` has no clock for it (not yet due, or paid off without a payment past its end)."""
    if charge.due_date >= as_of:
        return None
    if not paid_on:  # most owed lines of a letter: nothing paid on them, the period runs from the due date
        return period_end(charge.due_date, rest_days) if owed_fen > 0 else None
    events = [_Event(day, Interruption.PAYMENT, charge.id, True, "", None) for day in sorted(paid_on)]
    walk = _walk(charge, events, rest_days)
    if owed_fen <= 0 and walk.waived is None:
        return None
    return walk.ends

