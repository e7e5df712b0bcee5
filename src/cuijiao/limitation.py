"""The limitation clock (诉讼时效, Civil Code arts. 188, 195, 201-203). Pure.

Each charge is its own debt with its own clock: three years from its due date,
restarted by evidence — a payment applied to it or a promise from the owner
(SPC limitation rules arts. 14, 19), a legal step (payment order, suit,
mediation, arbitration), or a delivered demand (recorded with notices). The
start day is not counted, so the period ends on the same month and day three
years on (a 29 February start ends on 28 February); a period ending on a
statutory rest day ends on the next working day (art. 203).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache

import chinese_calendar

from cuijiao.aging import UnitPosition
from cuijiao.allocation import Charge
from cuijiao.dates import add_months
from cuijiao.outcomes import Kind, Outcome

LIMITATION_MONTHS = 36
DEFAULT_WARN_DAYS = 90


class RestDays:
    """Statutory rest days: the State Council's calendar where the chinese-calendar
    package has the year, else weekends; a workspace adds the days it knows."""

    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> None:
        self.holidays, self.workdays = frozenset(holidays), frozenset(workdays)
        self._known: dict[date, bool] = {}  # the package checks its whole table on every call

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
    end = add_months(start, LIMITATION_MONTHS)
    while rest_days.is_rest_day(end):
        end += timedelta(days=1)
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


@dataclass(frozen=True)
class Clock:
    unit_id: str
    charge: Charge
    owed_fen: int
    ends: date
    last_interruption: tuple[date, Interruption] | None
    status: Status | None  # None: neither expired nor ending within the warning window
    official_calendar: bool


Demand = tuple[date, tuple[int, ...]]  # a delivered notice: when, and the charges it demanded


def interruptions(unit: UnitPosition, outcomes: Sequence[Outcome],
                  demands: Sequence[Demand] = ()) -> dict[int, tuple[date, Interruption]]:
    """Charge id → the latest restart of its clock up to the unit's as-of date.

    A demand restarts only the debts it listed, and only once it was delivered:
    a letter printed but never proven to arrive restarts nothing.
    """
    paid_on = {p.id: p.paid_on for p in unit.payments}
    latest: dict[int, tuple[date, Interruption]] = {}

    def restart(charge_id: int, day: date, why: Interruption) -> None:
        if charge_id not in latest or latest[charge_id][0] < day:
            latest[charge_id] = (day, why)

    for application in unit.allocation.applications:
        if application.charge_id is not None:
            restart(application.charge_id, paid_on[application.payment_id], Interruption.PAYMENT)
    for delivered_on, charge_ids in demands:
        if delivered_on <= unit.as_of:
            for charge_id in charge_ids:
                restart(charge_id, delivered_on, Interruption.DEMAND)
    for outcome in outcomes:
        if outcome.on > unit.as_of or outcome.kind not in (Kind.PROMISE, Kind.LEGAL):
            continue
        why = Interruption.PROMISE if outcome.kind is Kind.PROMISE else Interruption.LEGAL
        for charge in unit.charges:
            if charge.due_date <= outcome.on:  # the debt existed when the owner promised or the suit began
                restart(charge.id, outcome.on, why)
    return latest


def clocks(unit: UnitPosition, outcomes: Sequence[Outcome], rest_days: RestDays,
           warn_days: int = DEFAULT_WARN_DAYS, demands: Sequence[Demand] = ()) -> list[Clock]:
    """The clock of every charge the unit still owes on that is already due."""
    latest = interruptions(unit, outcomes, demands)
    result = []
    for charge in sorted(unit.charges, key=lambda c: c.order):
        owed = unit.allocation.owed[charge.id]
        if owed <= 0 or charge.due_date >= unit.as_of:
            continue
        last = latest.get(charge.id)
        ends = period_end(last[0] if last else charge.due_date, rest_days)
        status = (Status.EXPIRED if unit.as_of > ends
                  else Status.EXPIRING if (ends - unit.as_of).days <= warn_days else None)
        result.append(Clock(unit.ledger.unit_id, charge, owed, ends, last, status, RestDays.official(ends)))
    return result
