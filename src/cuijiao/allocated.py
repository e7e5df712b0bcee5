"""The estate's allocation kept in columns, and aging read from it in bulk.

Allocating every payment is the expensive part of aging, and it hardly
depends on the as-of date: payments are applied in date order, so what was
paid by D is applied as in the allocation of the whole ledger — except where
that allocation gave money paid by D to a charge billed after D (a prepayment,
or a designation, of a charge not on the books yet). As of D such a charge
does not exist, and the money went elsewhere or stayed credit.

So the whole ledger is allocated once per state of the ledger
(:func:`allocate_estate`), and aging as of any D is sums over its columns
(:func:`age`). Money a payment made by D gave to a charge billed later is
credit as of D. That is exact for a unit as long as every charge billed by D
had been paid off by the time its first such payment was applied: before
that payment the unit's payments touched only charges billed by D (and whole
groups of same-day charges), so both allocations agree; from it on, both pay
off the billed charges and keep the rest. Units where that does not hold
(an old debt left open while a later fee was prepaid) are named, and the
caller ages them by the exact path (:func:`cuijiao.aging.position`).

Pure and in memory: numpy arrays in, a report out. Amounts stay integer fen
(int64 sums over int32 or int64 columns); dates are proleptic ordinals (``date.toordinal``).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from cuijiao.aging import AgingReport, AgingRow, Buckets, Collection, UnitLedger, month_bounds, natural_key
from cuijiao.allocation import Application, Charge, Payment, allocate

Ints = npt.NDArray[np.signedinteger[Any]]  # int64, or int32 where the values fit

NO_CHARGE = -1  # an application that became the unit's credit
NEVER = 2**31 - 1  # charge_settled_by of a charge the ledger's payments never pay off


@dataclass(frozen=True)
class AllocatedEstate:
    """Every unit's charges and the applications of the whole ledger's allocation.

    Units are numbered by position in ``unit_ids``; charges and applications
    point at them by that number, applications at charges by row number.
    """

    unit_ids: list[str]
    buildings: list[str]
    owner_names: list[str]
    items: list[str]
    periods: list[str]  # period labels, for designations matched when the allocation is extended
    unit_rank: Ints  # place of each unit in report order ("2栋" before "10栋")
    charge_unit: Ints
    charge_id: Ints  # the charge's id in the ledger (the debts a notice demands)
    charge_item: Ints
    charge_period: Ints
    charge_due: Ints
    charge_billed: Ints  # first day on the books: min(due date, period start)
    charge_start: Ints  # period start (the month a charge counts in, for 收缴率 by period)
    charge_amount: Ints  # net of adjustments
    # The payment (app_seq) that paid the charge off; -1 when there was nothing to pay, NEVER if none did.
    charge_settled_by: Ints
    app_unit: Ints
    app_charge: Ints  # NO_CHARGE for credit
    app_paid_on: Ints
    app_amount: Ints
    app_seq: Ints  # the payment's place in the order payments are applied (per estate, increasing within a unit)
    # The latest first-billed day among the charges of the unit due on the
    # applied charge's due date: as of an earlier day the group was different.
    app_horizon: Ints

    @classmethod
    def list_names(cls) -> list[str]:
        return ["unit_ids", "buildings", "owner_names", "items", "periods"]

    @classmethod
    def array_names(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name not in cls.list_names()]


def allocate_estate(ledgers: Iterable[UnitLedger]) -> AllocatedEstate:
    """Allocate every unit's whole ledger and keep the result in columns."""
    builder = _Builder()
    for ledger in ledgers:
        builder.add(ledger)
    return builder.result()


class _Builder:
    """Collects what each unit's allocation needs kept, unit by unit, in typed arrays.

    Python does only what needs the allocation (one list comprehension per
    column: millions of rows); the columns derived from these (first-billed
    day, same-day groups, payment order, when a charge was paid off) are
    computed in bulk by :meth:`result`.
    """

    RAW = ("charge_unit", "charge_id", "charge_item", "charge_period", "charge_due", "charge_start",
           "charge_amount", "app_unit", "app_payment", "app_charge_id", "app_paid_on", "app_amount")
    # Rows gathered as int64 before they are narrowed to int32 chunks: bounds the workers' memory.
    CHUNK_ROWS = 500_000

    def __init__(self, items: dict[str, int] | None = None, periods: dict[str, int] | None = None) -> None:
        self.unit_ids: list[str] = []
        self.buildings: list[str] = []
        self.owner_names: list[str] = []
        self.items: dict[str, int] = {} if items is None else items
        self.periods: dict[str, int] = {} if periods is None else periods
        self.raw = {name: array("q") for name in self.RAW}
        self.chunks: dict[str, list[Ints]] = {name: [] for name in self.RAW}
        self.ordinal = _Ordinals()

    def add(self, ledger: UnitLedger) -> None:
        self.unit_ids.append(ledger.unit_id)
        self.buildings.append(ledger.building)
        self.owner_names.append(ledger.owner_name)
        self.add_rows(len(self.unit_ids) - 1, ledger.charges, ledger.payments,
                      allocate(ledger.charges, ledger.payments).applications)

    def add_rows(self, unit: int, charges: Sequence[Charge], payments: Sequence[Payment],
                 applications: Sequence[Application], keys: Mapping[int, int] | None = None) -> None:
        """Unit number ``unit``'s charges and its payments' applications; ``keys``: payment id → order key."""
        raw, ordinal, items, periods = self.raw, self.ordinal, self.items, self.periods
        raw["charge_unit"].extend([unit] * len(charges))
        raw["charge_id"].extend([c.id for c in charges])
        raw["charge_item"].extend([items.setdefault(c.item, len(items)) for c in charges])
        raw["charge_period"].extend([periods.setdefault(c.period, len(periods)) for c in charges])
        raw["charge_due"].extend([ordinal[c.due_date] for c in charges])
        raw["charge_start"].extend([ordinal[c.period_start] for c in charges])
        raw["charge_amount"].extend([c.amount_fen for c in charges])
        paid_on = {p.id: ordinal[p.paid_on] for p in payments}
        raw["app_unit"].extend([unit] * len(applications))
        raw["app_payment"].extend([a.payment_id for a in applications] if keys is None
                                  else [keys[a.payment_id] for a in applications])
        raw["app_charge_id"].extend([NO_CHARGE if a.charge_id is None else a.charge_id for a in applications])
        raw["app_paid_on"].extend([paid_on[a.payment_id] for a in applications])
        raw["app_amount"].extend([a.amount_fen for a in applications])
        if len(raw["charge_unit"]) >= self.CHUNK_ROWS:
            self._narrow_chunk()

    def _narrow_chunk(self) -> None:
        for name in self.RAW:
            self.chunks[name].append(narrow(_int64s(self.raw[name])))
            self.raw[name] = array("q")

    def columns(self) -> dict[str, Ints]:
        """The raw columns gathered so far (the builder is spent)."""
        self._narrow_chunk()
        return {name: np.concatenate(self.chunks.pop(name)) for name in self.RAW}

    def result(self) -> AllocatedEstate:
        return derive(self.columns(), self.unit_ids, self.buildings, self.owner_names, list(self.items),
                      list(self.periods))


def derive(raw: dict[str, Ints], unit_ids: list[str], buildings: list[str], owner_names: list[str],
           items: list[str], periods: list[str], *, unit_rank: Ints | None = None) -> AllocatedEstate:
    """The estate from raw columns (rows grouped by unit, each unit's applications in the order applied).

    ``app_payment`` only needs to differ between consecutive payments. Applications name their
    charges by id (``app_charge_id``) or, when the caller knows them, by row (``app_row``). ``unit_rank``: the units'
    report order when it is known already (the same units as a kept estate's).
    """
    # Each derived column is narrowed as it is made, so that no int64 copy of the
    # estate outlives its step (a worker's peak is the first run's peak).
    billed = narrow(np.minimum(raw["charge_due"], raw["charge_start"]))
    app_row = narrow(raw.pop("app_row") if "app_row" in raw else _rows_of(raw["charge_id"], raw.pop("app_charge_id")))
    to_charge = app_row != NO_CHARGE
    # A payment's applications are consecutive: a new payment id starts the next number.
    changes = np.diff(raw.pop("app_payment"), prepend=NO_CHARGE - 1) != 0
    app_seq = narrow(np.cumsum(changes, dtype=np.int32 if len(changes) < 2**31 else np.int64))
    del changes
    settled_by = narrow(_settled_by(raw["charge_amount"], app_row, to_charge, raw["app_amount"], app_seq))
    horizon = narrow(_at_rows(_same_day_horizon(raw["charge_unit"], raw["charge_due"], billed), app_row,
                              to_charge))
    return AllocatedEstate(
        unit_ids, buildings, owner_names, items, periods,
        _natural_rank(unit_ids) if unit_rank is None else unit_rank,
        charge_unit=raw["charge_unit"], charge_id=raw["charge_id"], charge_item=raw["charge_item"],
        charge_period=raw["charge_period"], charge_due=raw["charge_due"],
        charge_billed=billed, charge_start=raw["charge_start"], charge_amount=raw["charge_amount"],
        charge_settled_by=settled_by,
        app_unit=raw["app_unit"], app_charge=app_row, app_paid_on=raw["app_paid_on"],
        app_amount=raw["app_amount"], app_seq=app_seq, app_horizon=horizon,
    )


def _int64s(column: array[int]) -> Ints:
    return np.frombuffer(column, dtype=np.int64) if column else np.zeros(0, np.int64)


def _rows_of(charge_ids: Ints, wanted: Ints) -> Ints:
    """Row numbers of the charges ``wanted`` names by id (NO_CHARGE stays); ids are the table's keys."""
    order = np.argsort(charge_ids, kind="stable")
    ordered = charge_ids[order]
    if len(ordered) > 1 and bool(np.any(ordered[1:] == ordered[:-1])):
        raise ValueError("charge ids must be unique across the estate")
    found = np.searchsorted(ordered, wanted).clip(max=max(len(order) - 1, 0))
    rows: Ints = np.where(wanted == NO_CHARGE, NO_CHARGE, order[found] if len(order) else NO_CHARGE)
    return rows


def _at_rows(values: Ints, rows: Ints, to_charge: npt.NDArray[np.bool_]) -> Ints:
    """``values`` of the charge each application went to; 0 for credit."""
    result = np.zeros(len(rows), dtype=values.dtype)  # int32 values stay int32: no estate-sized int64 copy
    result[to_charge] = values[rows[to_charge]]
    return result


def _same_day_horizon(units: Ints, dues: Ints, billed: Ints) -> Ints:
    """For each charge, the latest first-billed day of the unit's charges due the same day."""
    if not len(dues):
        return dues
    later = (units[1:] > units[:-1]) | ((units[1:] == units[:-1]) & (dues[1:] >= dues[:-1]))
    if later.all():  # in reading order (by unit, then due date), as the ledger is read: runs, no sort
        first = np.ones(len(dues), dtype=bool)
        first[1:] = (units[1:] != units[:-1]) | (dues[1:] != dues[:-1])
        starts = np.flatnonzero(first)
        runs: Ints = np.repeat(np.maximum.reduceat(billed, starts), np.diff(np.append(starts, len(dues))))
        return runs
    first_due = int(dues.min())
    span = int(dues.max()) - first_due + 1
    key = units.astype(np.int64) * span + (dues - first_due)  # one per (unit, due date); int64: no wrap
    _, group = np.unique(key, return_inverse=True)
    latest = np.full(int(group.max()) + 1, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(latest, group, billed.astype(np.int64, copy=False))
    horizon: Ints = latest[group]
    return horizon


def _settled_by(amounts: Ints, app_row: Ints, to_charge: npt.NDArray[np.bool_], app_amount: Ints,
                app_seq: Ints) -> Ints:
    """The payment (app_seq) that paid each charge off: its last application, if nothing is left owing."""
    rows, seqs = app_row[to_charge], app_seq[to_charge]
    last = np.full(len(amounts), -1, dtype=seqs.dtype)  # the seqs' own width (int32): maximum.at's fast path
    np.maximum.at(last, rows, seqs)  # the latest payment applied to it
    paid_off = amounts - _sum_by(rows, app_amount[to_charge], len(amounts)) <= 0
    del rows, seqs
    settled: Ints = np.where(paid_off, last, np.array(NEVER, dtype=last.dtype))
    settled[amounts <= 0] = -1
    return settled


def narrow(column: Ints) -> Ints:
    """The column as int32 when its values fit (they nearly always do): half the memory and disk."""
    fits = not len(column) or (column.min() >= _INT32.min and column.max() <= _INT32.max)
    return column.astype(np.int32, copy=False) if fits else column


_INT32 = np.iinfo(np.int32)


class _Ordinals(dict[date, int]):
    """date → ordinal, computed once per distinct date."""

    def __missing__(self, day: date) -> int:
        self[day] = day.toordinal()
        return self[day]


def join(parts: Sequence[AllocatedEstate]) -> AllocatedEstate:
    """One estate from parts over consecutive unit ranges, renumbering units, items and charges."""
    if sum(len(part.charge_unit) + len(part.app_unit) for part in parts) >= 2**31:
        raise ValueError("more rows than int32 row numbers can hold")  # int32 columns would wrap when shifted
    items: dict[str, int] = {}
    periods: dict[str, int] = {}
    columns: dict[str, list[Ints]] = {name: [] for name in AllocatedEstate.array_names() if name != "unit_rank"}
    units, charges, payments = 0, 0, 0
    for part in parts:
        codes = np.array([items.setdefault(item, len(items)) for item in part.items] or [0], dtype=np.int32)
        period_codes = np.array([periods.setdefault(p, len(periods)) for p in part.periods] or [0], dtype=np.int32)
        shifted = {"charge_unit": units, "app_unit": units, "app_seq": payments}
        for name, chunks in columns.items():
            column: Ints = getattr(part, name)
            if name in shifted:
                column = column + shifted[name]
            elif name == "charge_item":
                column = codes[column]
            elif name == "charge_period":
                column = period_codes[column]
            elif name == "app_charge":
                column = np.where(column == NO_CHARGE, NO_CHARGE, column + charges)
            elif name == "charge_settled_by":
                column = np.where((column < 0) | (column == NEVER), column, column + payments)
            chunks.append(column)
        units += len(part.unit_ids)
        charges += len(part.charge_unit)
        payments += int(part.app_seq.max(initial=0))
    unit_ids = [u for p in parts for u in p.unit_ids]
    return AllocatedEstate(
        unit_ids, [b for p in parts for b in p.buildings], [o for p in parts for o in p.owner_names], list(items),
        list(periods), _natural_rank(unit_ids),
        **{name: np.concatenate(chunks) if chunks else np.zeros(0, np.int32) for name, chunks in columns.items()},
    )


def _natural_rank(unit_ids: list[str]) -> Ints:
    rank = np.zeros(len(unit_ids), dtype=np.int64)
    rank[sorted(range(len(unit_ids)), key=lambda k: natural_key(unit_ids[k]))] = np.arange(len(unit_ids))
    return narrow(rank)


# --- Aging from the columns ---------------------------------------------------------


@dataclass(frozen=True)
class Aged:
    """The report for every unit the columns answer exactly, and the units they do not."""

    report: AgingReport
    exact_elsewhere: list[str]


def age(estate: AllocatedEstate, as_of: date, buckets: Buckets, *, kpi_month: str = "due_date") -> Aged:
    """Aging as of ``as_of``: the same report :func:`cuijiao.aging.build_report` gives.

    Units in ``exact_elsewhere`` are left out of the report; age them by the
    exact path and merge.
    """
    day = as_of.toordinal()
    elsewhere = units_answered_elsewhere(estate, day)
    counted = (estate.app_paid_on <= day) & ~elsewhere[estate.app_unit]
    # Money given to a charge billed after the day is, as of the day, the unit's credit.
    to_charge = estate.app_charge != NO_CHARGE
    to_billed = to_charge.copy()
    to_billed[to_charge] = estate.charge_billed[estate.app_charge[to_charge]] <= day
    applied, kept = counted & to_billed, counted & ~to_billed
    billed = (estate.charge_billed <= day) & ~elsewhere[estate.charge_unit]
    sums = _open_sums(estate, buckets, day, billed, applied)  # its per-charge columns freed before the KPIs'
    credit = _sum_by(estate.app_unit[kept], estate.app_amount[kept], len(estate.unit_ids))
    # Estate-sized temporaries not needed by the KPIs go before theirs are made (a sixth of the peak).
    del counted, to_charge, to_billed, kept
    kpis = _collection_by_building(estate, as_of, billed, applied, elsewhere, kpi_month)
    report = _report(estate, as_of, buckets, sums, credit, kpis, kpi_month)
    return Aged(report, [estate.unit_ids[k] for k in np.flatnonzero(elsewhere)])


def _open_sums(estate: AllocatedEstate, buckets: Buckets, day: int, billed: npt.NDArray[np.bool_],
               applied: npt.NDArray[np.bool_]) -> _Sums:
    paid = _sum_by(estate.app_charge[applied], estate.app_amount[applied], len(estate.charge_unit))
    owed = estate.charge_amount - paid
    del paid
    open_ = billed & (owed > 0)
    days = day - estate.charge_due
    return _Sums(estate, buckets, open_ & (days > 0), open_ & (days <= 0), owed, days)


def units_answered_elsewhere(estate: AllocatedEstate, day: int) -> npt.NDArray[np.bool_]:
    """Units whose first payment (by ``day``) reaching charges billed later left a charge billed by then open."""
    return _elsewhere_of(len(estate.unit_ids), day, estate.charge_unit, estate.charge_billed,
                         estate.charge_settled_by, estate.app_unit, estate.app_paid_on, estate.app_horizon,
                         estate.app_seq)


def _elsewhere_of(units: int, day: int, charge_unit: Ints, charge_billed: Ints, charge_settled_by: Ints,
                  app_unit: Ints, app_paid_on: Ints, app_horizon: Ints, app_seq: Ints) -> npt.NDArray[np.bool_]:
    reaching = (app_paid_on <= day) & (app_horizon > day)
    first_reaching = _min_by(app_unit[reaching], app_seq[reaching], units)
    billed = charge_billed <= day
    paid_off = _max_by(charge_unit[billed], charge_settled_by[billed], units)
    answered_elsewhere: npt.NDArray[np.bool_] = paid_off > first_reaching
    return answered_elsewhere


def _sum_by(keys: Ints, values: Ints, size: int) -> Ints:
    """Integer sums of ``values`` per key in range(size) (bincount would go through floats)."""
    result = np.zeros(size, dtype=np.int64)
    np.add.at(result, keys, values.astype(np.int64, copy=False))  # same dtypes: numpy's fast path, 15× faster
    return result


def _max_by(keys: Ints, values: Ints, size: int) -> Ints:
    result = np.full(size, -1, dtype=np.int64)
    np.maximum.at(result, keys, values.astype(np.int64, copy=False))
    return result


def _min_by(keys: Ints, values: Ints, size: int) -> Ints:
    result = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(result, keys, values.astype(np.int64, copy=False))
    return result


class _Sums:
    """Overdue by unit × bucket, unit × item and item × bucket; not yet due; oldest due dates."""

    def __init__(self, estate: AllocatedEstate, buckets: Buckets, overdue: npt.NDArray[np.bool_],
                 pending: npt.NDArray[np.bool_], owed: Ints, days: Ints) -> None:
        units, items, width = len(estate.unit_ids), len(estate.items), len(buckets.labels)
        unit, item, fen = estate.charge_unit[overdue], estate.charge_item[overdue], owed[overdue]
        bucket = np.searchsorted(np.array(buckets.limits, dtype=np.int64), days[overdue], side="left")
        self.unit_bucket = _sum_by(unit * width + bucket, fen, units * width).reshape(units, width)
        self.unit_item = _sum_by(unit * items + item, fen, units * items).reshape(units, items)
        self.item_bucket = _sum_by(item * width + bucket, fen, items * width).reshape(items, width)
        due = estate.charge_due[overdue]
        self.unit_oldest = _min_by(unit, due, units)
        self.item_oldest = _min_by(item, due, items)
        self.unit_pending = _sum_by(estate.charge_unit[pending], owed[pending], units)
        self.item_pending = _sum_by(estate.charge_item[pending], owed[pending], items)


_KPI_FIELDS = ("billed_fen", "collected_fen", "arrears_start_fen", "arrears_collected_fen")


def _collection_by_building(estate: AllocatedEstate, as_of: date, billed: npt.NDArray[np.bool_],
                            applied: npt.NDArray[np.bool_], elsewhere: npt.NDArray[np.bool_], kpi_month: str
                            ) -> dict[str, Collection]:
    """收缴率 and 清欠率 inputs per building, as :func:`cuijiao.aging.collection` defines them.

    Summed per unit, then per building: no per-row copy of the estate's columns is made beyond the
    rows each sum reads (``applied`` rows all go to a charge, so the charge masks index safely).
    """
    names = sorted(set(estate.buildings))
    code = {name: k for k, name in enumerate(names)}
    unit_building = np.array([code[name] for name in estate.buildings], dtype=np.int32)  # half an int64's memory
    first_day, last_day = month_bounds(as_of)
    first, last = first_day.toordinal(), last_day.toordinal()
    key = estate.charge_start if kpi_month == "period_start" else estate.charge_due
    in_month = (key >= first) & (key <= last)
    arrears = ~in_month & (estate.charge_due < first)
    paid_before = applied & _at_charge(arrears, estate.app_charge)
    paid_in_month = estate.app_paid_on >= first
    units, size = len(estate.unit_ids), len(names)

    def charges(mask: npt.NDArray[np.bool_]) -> Ints:
        return _sum_by(estate.charge_unit[mask], estate.charge_amount[mask], units)

    def payments(mask: npt.NDArray[np.bool_]) -> Ints:
        return _sum_by(estate.app_unit[mask], estate.app_amount[mask], units)

    per_unit = {
        "billed_fen": charges(billed & in_month),
        "collected_fen": payments(applied & _at_charge(in_month, estate.app_charge)),
        "arrears_start_fen": charges(billed & arrears) - payments(paid_before & ~paid_in_month),
        "arrears_collected_fen": payments(paid_before & paid_in_month),
    }
    sums = {name: _sum_by(unit_building, fen, size) for name, fen in per_unit.items()}
    present = set(unit_building[~elsewhere].tolist())
    return {name: Collection(*(int(sums[f][k]) for f in _KPI_FIELDS)) for k, name in enumerate(names) if k in present}


def _at_charge(per_charge: npt.NDArray[np.bool_], app_charge: Ints) -> npt.NDArray[np.bool_]:
    """``per_charge`` of each application's charge; credit (NO_CHARGE) reads the last row: mask it out."""
    if not len(per_charge):
        return np.zeros(len(app_charge), dtype=np.bool_)
    return per_charge[app_charge]


def _report(estate: AllocatedEstate, as_of: date, buckets: Buckets, sums: _Sums, credit: Ints,
            kpis: dict[str, Collection], kpi_month: str) -> AgingReport:
    labels, items = buckets.labels, estate.items
    overdue_any: npt.NDArray[np.bool_] = np.asarray(sums.unit_bucket.any(axis=1))
    anything = np.flatnonzero(overdue_any | (sums.unit_pending != 0) | (credit != 0))
    anything = anything[np.argsort(estate.unit_rank[anything], kind="stable")]
    rows = [
        AgingRow(estate.unit_ids[k], estate.owner_names[k], estate.buildings[k], 1, _counter(labels, by_bucket),
                 _counter(items, by_item), pending, held, date.fromordinal(oldest) if any_overdue else None,
                 owing_units=int(any_overdue))
        for k, by_bucket, by_item, pending, held, oldest, any_overdue in zip(
            anything.tolist(), sums.unit_bucket[anything].tolist(), sums.unit_item[anything].tolist(),
            sums.unit_pending[anything].tolist(), credit[anything].tolist(), sums.unit_oldest[anything].tolist(),
            overdue_any[anything].tolist(), strict=True)
    ]
    total = AgingRow("合计", units=len(rows), overdue=_counter(labels, sums.unit_bucket.sum(axis=0).tolist()),
                     by_item=_counter(items, sums.unit_item.sum(axis=0).tolist()),
                     not_yet_due_fen=int(sums.unit_pending.sum()), credit_fen=int(credit.sum()),
                     oldest_due=date.fromordinal(int(sums.unit_oldest.min())) if overdue_any.any() else None,
                     kpi=Collection(), owing_units=int(overdue_any.sum()))
    assert total.kpi is not None
    for kpi in kpis.values():
        total.kpi.add(kpi)
    return AgingReport(as_of, buckets, rows, _item_rows(items, labels, sums), total, kpis, kpi_month)


def _item_rows(items: list[str], labels: Sequence[str], sums: _Sums) -> list[AgingRow]:
    rows = []
    for k in sorted(range(len(items)), key=items.__getitem__):
        overdue = _counter(labels, sums.item_bucket[k].tolist())
        if not overdue and not sums.item_pending[k]:
            continue
        oldest = date.fromordinal(int(sums.item_oldest[k])) if overdue else None
        by_item = Counter({items[k]: sum(overdue.values())}) if overdue else Counter()
        rows.append(AgingRow(items[k], overdue=overdue, by_item=by_item,
                             not_yet_due_fen=int(sums.item_pending[k]), oldest_due=oldest))
    return rows


def _counter(keys: Sequence[str], fen: list[int]) -> Counter[str]:
    """The positive amounts by key (called twice per unit: a plain loop is twice as fast as Counter(dict))."""
    result: Counter[str] = Counter()
    for key, value in zip(keys, fen):  # noqa: B905 - both are one row of the same matrix
        if value > 0:
            result[key] = value
    return result


# --- Totals of many month-ends at once (the manager's twelve months) ------------------


@dataclass(frozen=True)
class MonthTotals:
    """Over the units the columns answer on ``as_of``: the month's 收缴率/清欠率 inputs and,
    if asked, overdue by bucket; ``exact_elsewhere``: the units to age by the exact path and add."""

    as_of: date
    kpi: Collection
    overdue: Counter[str] | None
    exact_elsewhere: list[str]


def month_totals(estate: AllocatedEstate, days: Sequence[date], buckets: Buckets, *,
                 kpi_month: str = "due_date", overdue_on: Iterable[date] = ()) -> list[MonthTotals]:
    """``age(estate, day).report.total``'s KPIs (and overdue by bucket for ``overdue_on``) for each day,
    one day per month, in a few passes over the columns instead of one whole aging per day.

    Every charge counts in at most one of the months (the one its key date falls in); money owed
    on earlier charges, at the start of each month, is a running sum over the months' first days.
    """
    if list(days) != sorted(set(days)) or len({(d.year, d.month) for d in days}) != len(days):
        raise ValueError("one day per month, in order")
    if not days:
        return []
    bounds = [month_bounds(day) for day in days]
    span = _Months(np.array([f.toordinal() for f, _ in bounds]), np.array([last.toordinal() for _, last in bounds]),
                   np.array([day.toordinal() for day in days]))
    key = estate.charge_start if kpi_month == "period_start" else estate.charge_due
    kpis = _month_sums(span, key, estate.charge_due, estate.charge_billed, estate.charge_amount,
                       _Applied.of(estate, key, np.ones(len(estate.app_unit), dtype=np.bool_), int(span.first[0])))
    wanted = set(overdue_on)
    result = []
    for m, (day, elsewhere) in enumerate(zip(days, _answered_elsewhere(estate, days), strict=True)):
        sums = kpis[:, m].copy()
        if elsewhere.any():  # their rows leave the sums; the caller ages those units by the exact path
            charges = np.flatnonzero(elsewhere[estate.charge_unit])
            sums -= _month_sums(span.only(m), key[charges], estate.charge_due[charges],
                                estate.charge_billed[charges], estate.charge_amount[charges],
                                _Applied.of(estate, key, elsewhere[estate.app_unit], int(span.first[0])))[:, 0]
        overdue = _overdue_total(estate, day, buckets, elsewhere) if day in wanted else None
        result.append(MonthTotals(day, Collection(*(int(v) for v in sums)), overdue,
                                  [estate.unit_ids[k] for k in np.flatnonzero(elsewhere)]))
    return result


def _answered_elsewhere(estate: AllocatedEstate, days: Sequence[date]) -> list[npt.NDArray[np.bool_]]:
    """:func:`units_answered_elsewhere` for each day, reading only the units with a payment that
    reaches a charge billed after one of the days (the others never go elsewhere on them)."""
    ordinals = np.array([day.toordinal() for day in days], dtype=np.int64)
    reach = np.flatnonzero(estate.app_horizon > estate.app_paid_on)
    paid_on = estate.app_paid_on[reach]
    after = np.searchsorted(ordinals, paid_on, side="left")  # the first of the days on or after the payment
    inside = after < len(ordinals)
    inside[inside] = ordinals[after[inside]] < estate.app_horizon[reach[inside]]
    units = np.zeros(len(estate.unit_ids), dtype=np.bool_)
    units[estate.app_unit[reach[inside]]] = True
    if not units.any():
        return [units] * len(days)
    charges, apps = np.flatnonzero(units[estate.charge_unit]), np.flatnonzero(units[estate.app_unit])
    part = {name: getattr(estate, name)[charges] for name in ("charge_unit", "charge_billed", "charge_settled_by")}
    part |= {name: getattr(estate, name)[apps] for name in ("app_unit", "app_paid_on", "app_horizon", "app_seq")}
    return [_elsewhere_of(len(estate.unit_ids), int(day), **part) for day in ordinals]


@dataclass(frozen=True)
class _Months:
    first: Ints  # ordinals of each month's first day, its last day, and the as-of day in it
    last: Ints
    day: Ints

    def only(self, m: int) -> _Months:
        return _Months(self.first[m:m + 1], self.last[m:m + 1], self.day[m:m + 1])

    def of(self, days: Ints) -> tuple[npt.NDArray[np.bool_], Ints]:
        """Which days fall in one of the months, and the month of each of those."""
        inside = (days >= self.first[0]) & (days <= self.last[-1])
        month = np.searchsorted(self.first, days[inside], side="right") - 1
        within = days[inside] <= self.last[month]
        inside[inside] = within
        return inside, month[within]

    def before(self, days: Ints, values: Ints) -> Ints:
        """For each month, the sum of ``values`` whose day is before the month's first day."""
        earlier = days < self.first[0]  # before every month: counted in each (most of a long ledger)
        base = int(values[earlier].sum(dtype=np.int64))
        later = ~earlier
        passed = np.searchsorted(self.first, days[later], side="right")  # months whose first day is on or before
        return base + np.cumsum(_sum_by(passed, values[later], len(self.first) + 1))[:-1]


@dataclass(frozen=True)
class _Applied:
    """Applications to charges, with the columns of the charge each went to: those whose charge is due,
    payment made or key day falls on or after ``since``; the others only add to ``paid_before``."""

    key: Ints
    due: Ints
    billed: Ints
    paid_on: Ints
    amount: Ints
    paid_before: int  # paid before ``since`` to charges due before it (and keyed before it)

    @classmethod
    def of(cls, estate: AllocatedEstate, key: Ints, apps: npt.NDArray[np.bool_], since: int) -> _Applied:
        """The applications ``apps`` (a mask) holds that went to a charge."""
        apps = apps & (estate.app_charge != NO_CHARGE)
        charge = estate.app_charge[apps]
        late = estate.app_paid_on[apps] >= since
        late |= estate.charge_due[charge] >= since
        late |= key[charge] >= since
        early = int(estate.app_amount[apps][~late].sum(dtype=np.int64))
        rows, charge = np.flatnonzero(apps)[late], charge[late]
        return cls(key[charge], estate.charge_due[charge], estate.charge_billed[charge], estate.app_paid_on[rows],
                   estate.app_amount[rows], early)


def _month_sums(months: _Months, key: Ints, due: Ints, billed: Ints, amount: Ints, apps: _Applied) -> Ints:
    """billed, collected, arrears at the start, arrears collected: one row each, a column per month,
    as :func:`_collection_by_building` sums them for the month's as-of day."""
    first, day = months.first, months.day
    size = len(first)
    sums = np.zeros((4, size), dtype=np.int64)
    # Charges of the month (by key date) billed by its day; those of them due before it began are not arrears.
    inside, m = months.of(key)
    sums[0] = _sum_by(m, np.where(billed[inside] <= day[m], amount[inside], 0), size)
    not_arrears = _sum_by(m, np.where(due[inside] < first[m], amount[inside], 0), size)
    # Their applications paid by the day, to charges billed by then.
    inside, m = months.of(apps.key)
    paid_on, fen = apps.paid_on[inside], apps.amount[inside]
    sums[1] = _sum_by(m, np.where((paid_on <= day[m]) & (apps.billed[inside] <= day[m]), fen, 0), size)
    not_arrears_paid = _sum_by(m, np.where((apps.due[inside] < first[m]) & (paid_on < first[m]), fen, 0), size)
    # Owed on charges due before the month, at its start: charged minus paid before it began.
    charged_before = months.before(due, amount) - not_arrears
    paid_before = apps.paid_before + months.before(np.maximum(apps.due, apps.paid_on), apps.amount) - not_arrears_paid
    sums[2] = charged_before - paid_before
    # Paid in the month, by its day, to charges due before it (and not of it).
    inside, m = months.of(apps.paid_on)
    by_day = apps.paid_on[inside] <= day[m]
    inside[inside] = by_day
    m, due_of, key_of = m[by_day], apps.due[inside], apps.key[inside]
    arrears = (due_of < first[m]) & ~((key_of >= first[m]) & (key_of <= months.last[m]))
    sums[3] = _sum_by(m, np.where(arrears, apps.amount[inside], 0), size)
    return sums


def _overdue_total(estate: AllocatedEstate, as_of: date, buckets: Buckets,
                   elsewhere: npt.NDArray[np.bool_]) -> Counter[str]:
    """Overdue by bucket over the units not ``elsewhere``, as :func:`age`'s total row has it."""
    day = as_of.toordinal()
    to_charge = estate.app_charge != NO_CHARGE
    applied = to_charge & (estate.app_paid_on <= day)
    applied[applied] = estate.charge_billed[estate.app_charge[applied]] <= day
    paid = _sum_by(estate.app_charge[applied], estate.app_amount[applied], len(estate.charge_unit))
    owed = np.subtract(estate.charge_amount, paid, out=paid)  # in place: one int64 column at a time
    days = day - estate.charge_due  # the column's own width (ordinals fit int32)
    overdue = (estate.charge_billed <= day) & (owed > 0) & (days > 0) & ~elsewhere[estate.charge_unit]
    bucket = np.searchsorted(np.array(buckets.limits, dtype=np.int64), days[overdue], side="left")
    return _counter(buckets.labels, _sum_by(bucket, owed[overdue], len(buckets.labels)).tolist())
