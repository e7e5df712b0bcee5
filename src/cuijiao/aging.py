"""Arrears aging and collection KPIs as of a date. Pure: no database, no clock.

As of D:

- only payments made on or before D count;
- a charge is on the books once billed: its period has begun or its due date
  has come (period start ≤ D or due date ≤ D). A charge for a later period is
  not billed yet, so a prepayment shows as credit until it is;
- a charge is overdue when D > due date; its days past due are D − due date.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

from cuijiao.allocation import Allocation, Charge, Payment, allocate

DEFAULT_BUCKET_LIMITS = (30, 90, 180, 365, 730, 1095)


@dataclass(frozen=True)
class Buckets:
    """Days-past-due buckets: upper limits, the last bucket open-ended."""

    limits: tuple[int, ...] = DEFAULT_BUCKET_LIMITS

    def __post_init__(self) -> None:
        if not self.limits or list(self.limits) != sorted(set(self.limits)) or self.limits[0] < 1:
            raise ValueError("账龄分段必须是递增的正整数，如 [30, 90, 180, 365]")

    @cached_property
    def labels(self) -> tuple[str, ...]:
        lows = (1, *(limit + 1 for limit in self.limits))
        closed = tuple(f"{low}-{high}" for low, high in zip(lows, self.limits, strict=False))
        return (*closed, f"{lows[-1]}+")

    def label_for(self, days: int) -> str:
        """The bucket of ``days`` past due (≥ 1): the first whose limit it does not pass."""
        return self.labels[bisect_left(self.limits, days)]


@dataclass(frozen=True)
class UnitLedger:
    """Everything stored about one unit's account (deposits left out, adjustments netted)."""

    unit_id: str
    building: str
    owner_name: str
    charges: Sequence[Charge]
    payments: Sequence[Payment]
    adjustments: Mapping[int, int] = field(default_factory=dict)  # charge id → 减免 netted in (≤ 0)


@dataclass
class UnitPosition:
    """One unit as of a date: its allocation and what that leaves."""

    ledger: UnitLedger
    as_of: date
    charges: list[Charge]
    payments: list[Payment]
    allocation: Allocation
    overdue: Counter[tuple[str, str]] = field(default_factory=Counter)  # (item, bucket) → fen
    not_yet_due: Counter[str] = field(default_factory=Counter)  # item → fen
    oldest_due: date | None = None
    oldest_by_item: dict[str, date] = field(default_factory=dict)

    @property
    def overdue_fen(self) -> int:
        return sum(self.overdue.values())

    @property
    def not_yet_due_fen(self) -> int:
        return sum(self.not_yet_due.values())

    @property
    def credit_fen(self) -> int:
        return self.allocation.credit_fen

    def by_bucket(self) -> Counter[str]:
        result: Counter[str] = Counter()
        for (_item, bucket), fen in self.overdue.items():
            result[bucket] += fen
        return result

    def by_item(self) -> Counter[str]:
        result: Counter[str] = Counter()
        for (item, _bucket), fen in self.overdue.items():
            result[item] += fen
        return result

    @property
    def has_anything(self) -> bool:
        return bool(self.overdue or self.not_yet_due or self.credit_fen)


def billed_by(charge: Charge, as_of: date) -> bool:
    return charge.due_date <= as_of or charge.period_start <= as_of


def position(ledger: UnitLedger, as_of: date, buckets: Buckets) -> UnitPosition:
    """Allocate what was paid by ``as_of`` to what was billed by then, and age it."""
    charges = [c for c in ledger.charges if billed_by(c, as_of)]
    payments = [p for p in ledger.payments if p.paid_on <= as_of]
    unbilled = [c for c in ledger.charges if not billed_by(c, as_of)] if len(charges) < len(ledger.charges) else []
    result = UnitPosition(ledger, as_of, charges, payments, allocate(charges, payments, unbilled))
    owed = result.allocation.owed
    for charge in charges:
        fen = owed[charge.id]
        if fen <= 0:
            continue
        days = (as_of - charge.due_date).days
        if days <= 0:
            result.not_yet_due[charge.item] += fen
            continue
        result.overdue[(charge.item, buckets.label_for(days))] += fen
        result.oldest_due = _earlier(result.oldest_due, charge.due_date)
        result.oldest_by_item[charge.item] = min(result.oldest_by_item.get(charge.item, charge.due_date),
                                                 charge.due_date)
    return result


# --- KPIs --------------------------------------------------------------------


@dataclass
class Collection:
    """收缴率 and 清欠率 for one month, for a unit or summed over many. Fen throughout."""

    billed_fen: int = 0  # charges due in the month
    collected_fen: int = 0  # of those, paid by the as-of date (prepayments included)
    arrears_start_fen: int = 0  # owed on charges due before the month, when it began
    arrears_collected_fen: int = 0  # of that, paid by payments made in the month

    def add(self, other: Collection) -> None:
        self.billed_fen += other.billed_fen
        self.collected_fen += other.collected_fen
        self.arrears_start_fen += other.arrears_start_fen
        self.arrears_collected_fen += other.arrears_collected_fen


KPI_MONTHS = ("due_date", "period_start")


def month_bounds(as_of: date) -> tuple[date, date]:
    """The first and last day of the month of ``as_of``."""
    first = as_of.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def collection(unit: UnitPosition, kpi_month: str = "due_date") -> Collection:
    """The unit's KPIs for the month of its as-of date (its first day … as-of).

    收缴率: the month's charges are those whose due date (``kpi_month =
    "period_start"``: whose period start) falls in the month, so each charge
    counts in exactly one month; collected is what payments up to the as-of
    date applied to them, prepayments included. 清欠率: arrears are the
    charges due before the month (and not the month's), less what was paid on
    them before it; collected is what payments made in the month applied to them.
    """
    first, last = month_bounds(unit.as_of)
    by_start = kpi_month == "period_start"
    in_month = {c.id: first <= (c.period_start if by_start else c.due_date) <= last for c in unit.charges}
    arrears = {c.id: not in_month[c.id] and c.due_date < first for c in unit.charges}
    paid_in_month = {p.id: p.paid_on >= first for p in unit.payments}
    result = Collection()
    for charge in unit.charges:
        if in_month[charge.id]:
            result.billed_fen += charge.amount_fen
        elif arrears[charge.id]:
            result.arrears_start_fen += charge.amount_fen
    for payment_id, charge_id, fen, *_rest in unit.allocation.applications:
        if charge_id is None:
            continue
        if in_month[charge_id]:
            result.collected_fen += fen
        elif not arrears[charge_id]:
            continue  # a charge of a later month, prepaid: counted in its own month
        elif paid_in_month[payment_id]:
            result.arrears_collected_fen += fen
        else:
            result.arrears_start_fen -= fen  # paid off before the month began
    return result


# --- The report --------------------------------------------------------------


@dataclass
class AgingRow:
    """A unit, a building or an item in the aging report."""

    key: str
    owner_name: str = ""
    building: str = ""
    units: int = 0
    overdue: Counter[str] = field(default_factory=Counter)  # bucket → fen
    by_item: Counter[str] = field(default_factory=Counter)  # item → overdue fen
    not_yet_due_fen: int = 0
    credit_fen: int = 0
    oldest_due: date | None = None
    kpi: Collection | None = None  # for buildings and the total
    owing_units: int = 0  # of ``units``, those with anything overdue (欠费户数)

    @property
    def overdue_fen(self) -> int:
        return sum(self.overdue.values())

    def absorb(self, other: AgingRow) -> None:
        self.units += other.units
        self.owing_units += other.owing_units
        self.overdue.update(other.overdue)
        self.by_item.update(other.by_item)
        self.not_yet_due_fen += other.not_yet_due_fen
        self.credit_fen += other.credit_fen
        self.oldest_due = _earlier(self.oldest_due, other.oldest_due)


@dataclass
class AgingReport:
    as_of: date
    buckets: Buckets
    units: list[AgingRow]  # every unit with anything overdue, not yet due or in credit
    items: list[AgingRow]
    total: AgingRow
    building_kpis: dict[str, Collection]  # every unit counts here, fully paid ones too
    kpi_month: str = "due_date"  # which month a charge's 收缴率 counts in (see collection)

    def by_building(self) -> list[AgingRow]:
        buildings = {name: AgingRow(name, kpi=kpi) for name, kpi in self.building_kpis.items()}
        for row in self.units:
            buildings[row.building].absorb(row)
        return [buildings[name] for name in sorted(buildings, key=natural_key)]


def build_report(ledgers: Iterable[UnitLedger], as_of: date, buckets: Buckets, *,
                 kpi_month: str = "due_date") -> AgingReport:
    """Age every unit as of ``as_of``; units with nothing owed or held get no row."""
    rows: list[AgingRow] = []
    items: dict[str, AgingRow] = {}
    kpis: dict[str, Collection] = {}
    total = AgingRow("合计", kpi=Collection())
    for ledger in ledgers:
        unit = position(ledger, as_of, buckets)
        kpi = collection(unit, kpi_month)
        kpis.setdefault(ledger.building, Collection()).add(kpi)
        assert total.kpi is not None
        total.kpi.add(kpi)
        if not unit.has_anything:
            continue
        row = AgingRow(ledger.unit_id, ledger.owner_name, ledger.building, 1, unit.by_bucket(), unit.by_item(),
                       unit.not_yet_due_fen, unit.credit_fen, unit.oldest_due, owing_units=int(unit.overdue_fen > 0))
        rows.append(row)
        total.absorb(row)
        _add_items(items, unit)
    rows.sort(key=lambda row: natural_key(row.key))
    return AgingReport(as_of, buckets, rows, [items[k] for k in sorted(items)], total, kpis, kpi_month)


def merge_reports(parts: Sequence[AgingReport]) -> AgingReport:
    """One report from reports on disjoint sets of units (same date and buckets)."""
    first = parts[0]
    total = AgingRow("合计", kpi=Collection())
    items: dict[str, AgingRow] = {}
    kpis: dict[str, Collection] = {}
    units: list[AgingRow] = []
    for part in parts:
        units += part.units
        total.absorb(part.total)
        assert total.kpi is not None and part.total.kpi is not None
        total.kpi.add(part.total.kpi)
        for row in part.items:
            items.setdefault(row.key, AgingRow(row.key)).absorb(row)
        for building, kpi in part.building_kpis.items():
            kpis.setdefault(building, Collection()).add(kpi)
    units.sort(key=lambda row: natural_key(row.key))
    return AgingReport(first.as_of, first.buckets, units, [items[k] for k in sorted(items)], total, kpis,
                       first.kpi_month)


def _add_items(items: dict[str, AgingRow], unit: UnitPosition) -> None:
    for (item, bucket), fen in unit.overdue.items():
        row = items.setdefault(item, AgingRow(item))
        row.overdue[bucket] += fen
        row.by_item[item] += fen
    for item, fen in unit.not_yet_due.items():
        items.setdefault(item, AgingRow(item)).not_yet_due_fen += fen
    for item, day in unit.oldest_by_item.items():
        items[item].oldest_due = _earlier(items[item].oldest_due, day)


def _earlier(first: date | None, second: date | None) -> date | None:
    if first is None or second is None:
        return first or second
    return min(first, second)


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort "2栋" before "10栋" and "1-2-101" before "1-10-101"."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text))
