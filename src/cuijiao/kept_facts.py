"""Each unit's arrears facts as of a date, read in bulk from the kept allocation. Pure.

Segmenting, planning and the limitation report need, per unit, what aging
needs (what is overdue, since when, the credit) plus a little more: the months
in arrears, the charges still open, the payment days. For every unit the
columns answer exactly as of D (:mod:`cuijiao.allocated` gives the argument)
these are sums over the columns; the rest is named in ``elsewhere`` and the
caller takes those units the exact way.

:func:`limitation_candidates` names the units whose limitation report could
hold a row. Every charge's period ends at least 36 months (≥ 1,095 days) after
its due date, later if something interrupted it. So a charge due less than
1,095 days before D + warning days can be neither expired nor expiring, and a
charge can only be waived by a payment (applied to it) 1,095 days or more
after its due date; an acknowledgement needs a recorded promise, and units with
recorded outcomes are the caller's to take the exact way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from cuijiao.aging import Buckets, UnitLedger, UnitPosition
from cuijiao.allocated import NO_CHARGE, AllocatedEstate, Ints, units_answered_elsewhere
from cuijiao.allocation import Allocation, Payment

# The shortest limitation period in days: 36 months are never fewer than three common years.
SHORTEST_PERIOD_DAYS = 3 * 365

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class UnitFacts:
    """Per unit (by position in the estate's ``unit_ids``) as of ``as_of``; exact where ``elsewhere`` is False."""

    estate: AllocatedEstate
    as_of: date
    elsewhere: Mask
    overdue_fen: Ints
    oldest_due: Ints  # ordinal of the oldest overdue charge's due date; 0 when nothing is overdue
    months_in_arrears: Ints
    credit_fen: Ints
    owed: Ints  # per charge row: still owed as of the date (billed charges)
    overdue_row: Mask  # per charge row: billed, still owed and past due

    def overdue_by_unit(self, buckets: Buckets) -> dict[int, Counter[tuple[str, str]]]:
        """Unit → (item, bucket) → fen overdue, as :class:`cuijiao.aging.UnitPosition` holds it (in bulk)."""
        estate, rows = self.estate, np.flatnonzero(self.overdue_row)
        width, items = len(buckets.labels), len(estate.items)
        days = self.as_of.toordinal() - estate.charge_due[rows].astype(np.int64)
        bucket = np.searchsorted(np.array(buckets.limits, dtype=np.int64), days, side="left")
        keys = (estate.charge_unit[rows].astype(np.int64) * items + estate.charge_item[rows]) * width + bucket
        distinct, index = np.unique(keys, return_inverse=True)
        sums = _sum_by(index, self.owed[rows], len(distinct))
        units, rests = np.divmod(distinct, items * width)
        pairs = [(item, label) for item in estate.items for label in buckets.labels]  # by rest
        result: dict[int, Counter[tuple[str, str]]] = {}
        counter: Counter[tuple[str, str]] = Counter()
        unit_of = -1
        # Keys are sorted, so each unit's keys come together and each key once: one Counter per unit.
        for unit, rest, fen in zip(units.tolist(), rests.tolist(), sums.tolist(), strict=True):
            if unit != unit_of:
                unit_of, counter = unit, Counter()
                result[unit] = counter
            counter[pairs[rest]] = fen
        return result

    def overdue_charge_ids(self) -> dict[int, tuple[int, ...]]:
        """Unit → the ids of its overdue charges, in ledger order (the debts a notice demands)."""
        rows = np.flatnonzero(self.overdue_row)
        units = self.estate.charge_unit[rows]
        starts = np.flatnonzero(np.diff(units, prepend=-1)).tolist()  # rows are grouped by unit
        ids = self.estate.charge_id[rows].tolist()
        bounds = [*starts, len(ids)]
        return {unit: tuple(ids[bounds[k]:bounds[k + 1]]) for k, unit in enumerate(units[starts].tolist())}

    def payments(self, since: Ints) -> dict[int, list[Payment]]:
        """Unit → its payments made from ``since`` (an ordinal per unit) to the date, the application
        order's number as id."""
        estate = self.estate
        made = np.flatnonzero((estate.app_paid_on >= since[estate.app_unit])
                              & (estate.app_paid_on <= self.as_of.toordinal()))
        units, seqs = estate.app_unit[made], estate.app_seq[made]
        # A unit's applications come together, in the order applied (app_seq increasing): a payment's
        # applications are one run of rows.
        starts = np.flatnonzero(np.diff(units, prepend=-1) | np.diff(seqs, prepend=-1))
        sums = np.add.reduceat(estate.app_amount[made].astype(np.int64), starts) if len(made) else starts
        days = _dates(estate.app_paid_on[made][starts])
        found: dict[int, list[Payment]] = {}
        for seq, unit, on, fen in zip(seqs[starts].tolist(), units[starts].tolist(), days, sums.tolist(),
                                      strict=True):
            found.setdefault(unit, []).append(Payment(seq, on, fen))
        return found

    def oldest(self, unit: int) -> date | None:
        ordinal = int(self.oldest_due[unit])
        return date.fromordinal(ordinal) if ordinal else None


def unit_facts(estate: AllocatedEstate, as_of: date) -> UnitFacts:
    day, units = as_of.toordinal(), len(estate.unit_ids)
    counted = estate.app_paid_on <= day
    to_billed = estate.app_charge != NO_CHARGE
    to_billed[to_billed] = estate.charge_billed[estate.app_charge[to_billed]] <= day
    applied, kept = counted & to_billed, counted & ~to_billed
    paid = _sum_by(estate.app_charge[applied], estate.app_amount[applied], len(estate.charge_unit))
    owed = estate.charge_amount - paid
    overdue_row = (estate.charge_billed <= day) & (owed > 0) & (estate.charge_due < day)
    unit_of = estate.charge_unit[overdue_row]
    overdue = _sum_by(unit_of, owed[overdue_row], units)
    oldest = np.full(units, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(oldest, unit_of, estate.charge_due[overdue_row].astype(np.int64))
    oldest[oldest == np.iinfo(np.int64).max] = 0
    return UnitFacts(
        estate, as_of, units_answered_elsewhere(estate, day), overdue, oldest,
        _months_in_arrears(unit_of, estate.charge_due[overdue_row], units),
        _sum_by(estate.app_unit[kept], estate.app_amount[kept], units), owed, overdue_row,
    )


def exact_units(facts: UnitFacts, with_outcomes: Iterable[str]) -> Mask:
    """Units to segment and plan the exact way: those the columns do not answer as of the date, and
    those with recorded outcomes (promises are kept or broken by payments; acknowledgements)."""
    index = {unit_id: k for k, unit_id in enumerate(facts.estate.unit_ids)}
    exact = facts.elsewhere.copy()
    exact[[index[unit_id] for unit_id in with_outcomes if unit_id in index]] = True
    return exact


@dataclass(frozen=True)
class Closings:
    """For units with an open case: the first payment day since its last step that took the arrears
    below the minimum (as :func:`cuijiao.arrears.closed_since`), and the units this cannot answer."""

    closed_on: dict[int, date]
    unsure: Mask  # a payment since the last step, and some payment reaching a charge billed after it


_DAY_BITS = 22  # ordinals fit in 22 bits: (unit << 22) | day orders by unit, then day


def closings(facts: UnitFacts, since: Mapping[int, int], minimum_fen: int) -> Closings:
    """Arrears on each payment day since ``since`` (unit → ordinal of its case's last step), in bulk.

    On day X a unit owes, past due, the sum of its positive charges due before X less what
    was applied to them by X: a running sum of events — a charge counts from the day after
    it is due, an application from its payment day or that day, whichever is later. That is
    the exact position's figure for a unit the columns answer as of X; a unit with a payment
    that reached a charge billed after it might not be, and is left ``unsure``.
    """
    estate, day, units = facts.estate, facts.as_of.toordinal(), len(facts.estate.unit_ids)
    since_of = np.full(units, day, dtype=np.int64)
    for unit, on in since.items():
        since_of[unit] = on
    paid = estate.app_paid_on.astype(np.int64)
    in_window = (paid > since_of[estate.app_unit]) & (paid <= day)
    checking = np.zeros(units, dtype=bool)
    checking[estate.app_unit[in_window]] = True
    unsure = np.zeros(units, dtype=bool)
    horizon = estate.app_horizon.astype(np.int64)
    # Elsewhere on a day X after ``since`` needs a payment by X reaching a charge billed after X.
    unsure[estate.app_unit[(horizon > paid) & (horizon > since_of[estate.app_unit]) & (paid <= day)]] = True
    unsure &= checking
    check = checking & ~unsure
    asked = in_window & check[estate.app_unit]
    queries = np.unique((estate.app_unit[asked].astype(np.int64) << _DAY_BITS) | paid[asked])
    owed = _running_arrears(estate, check, queries)
    closed: dict[int, date] = {}
    for key in queries[owed < minimum_fen].tolist():  # in unit, then day order: the first day wins
        closed.setdefault(key >> _DAY_BITS, date.fromordinal(key & ((1 << _DAY_BITS) - 1)))
    return Closings(closed, unsure)


def _running_arrears(estate: AllocatedEstate, units: Mask, queries: Ints) -> Ints:
    """Past-due arrears at each query ((unit << 22) | day, sorted) of the units in ``units``.

    Events up to a unit's first query day are summed per unit; only those after it (the days since
    the case's last step: few) are sorted into running sums.
    """
    query_unit = queries >> _DAY_BITS
    first_query = np.flatnonzero(np.diff(query_unit, prepend=-1))
    base = np.full(len(estate.unit_ids), np.iinfo(np.int64).max, dtype=np.int64)  # units not asked about: summed
    base[query_unit[first_query]] = queries[first_query] & ((1 << _DAY_BITS) - 1)
    amount = estate.charge_amount
    charges = np.flatnonzero(units[estate.charge_unit] & (amount > 0))
    charge_unit, charge_day = estate.charge_unit[charges], estate.charge_due[charges].astype(np.int64) + 1
    apps = np.flatnonzero((estate.app_charge != NO_CHARGE) & units[estate.app_unit])
    apps = apps[amount[estate.app_charge[apps]] > 0]
    app_unit = estate.app_unit[apps]
    app_day = np.maximum(estate.app_paid_on[apps], estate.charge_due[estate.app_charge[apps]] + 1).astype(np.int64)
    early_charge, early_app = charge_day <= base[charge_unit], app_day <= base[app_unit]
    size = len(estate.unit_ids)
    settled = (_sum_by(charge_unit[early_charge], amount[charges[early_charge]], size)
               - _sum_by(app_unit[early_app], estate.app_amount[apps[early_app]], size))
    late_charge, late_app = ~early_charge, ~early_app
    keys = np.concatenate([(charge_unit[late_charge].astype(np.int64) << _DAY_BITS) | charge_day[late_charge],
                           (app_unit[late_app].astype(np.int64) << _DAY_BITS) | app_day[late_app]])
    values = np.concatenate([amount[charges[late_charge]].astype(np.int64),
                             -estate.app_amount[apps[late_app]].astype(np.int64)])
    order = np.argsort(keys, kind="stable")
    keys, running = keys[order], np.cumsum(values[order])
    running = np.concatenate([np.zeros(1, dtype=np.int64), running])  # running[k]: the first k events
    upto = np.searchsorted(keys, queries, side="right")
    first = np.searchsorted(keys, query_unit << _DAY_BITS, side="left")
    owed: Ints = settled[query_unit] + running[upto] - running[first]
    return owed


def summary_position(facts: UnitFacts, unit: int, overdue: Counter[tuple[str, str]],
                     payments: list[Payment]) -> UnitPosition:
    """The unit's position as of the date in totals: what the ladder and the notices-ignored count read.

    Its charge list and allocation stay empty; ``overdue`` comes from :meth:`UnitFacts.overdue_by_unit`,
    ``payments`` from :meth:`UnitFacts.payments`: those the notices-ignored count reads
    (:meth:`cuijiao.arrears.KeptState.case_payments`), nothing else of the position does.
    """
    estate = facts.estate
    ledger = UnitLedger(estate.unit_ids[unit], estate.buildings[unit], estate.owner_names[unit], (), ())
    return UnitPosition(ledger, facts.as_of, [], payments, Allocation(credit_fen=int(facts.credit_fen[unit])),
                        overdue=overdue, oldest_due=facts.oldest(unit))


def limitation_candidates(facts: UnitFacts, warn_days: int) -> Mask:
    """Units whose limitation report may hold a row (see the module's note); the rest hold none."""
    estate, day = facts.estate, facts.as_of.toordinal()
    old_debt = facts.overdue_row & (estate.charge_due.astype(np.int64) + SHORTEST_PERIOD_DAYS <= day + warn_days)
    candidates = np.zeros(len(estate.unit_ids), dtype=bool)
    candidates[estate.charge_unit[old_debt]] = True
    to_charge = (estate.app_charge != NO_CHARGE) & (estate.app_paid_on <= day)
    late = to_charge.copy()
    late[to_charge] = (estate.app_paid_on[to_charge].astype(np.int64)
                       - estate.charge_due[estate.app_charge[to_charge]] >= SHORTEST_PERIOD_DAYS)
    candidates[estate.app_unit[late]] = True
    return candidates


def _months_in_arrears(units_of: Ints, dues: Ints, units: int) -> Ints:
    """Distinct calendar months of the overdue charges' due dates, per unit."""
    if not len(dues):
        return np.zeros(units, dtype=np.int64)
    first, last = int(dues.min()), int(dues.max())
    month_of = np.array([d.year * 12 + d.month for d in map(date.fromordinal, range(first, last + 1))],
                        dtype=np.int64)  # by day since ``first``: a few thousand days
    month = month_of[dues.astype(np.int64) - first] - month_of[0]
    span = int(month_of[-1] - month_of[0]) + 1
    if units * span <= 1 << 24:  # a unit × month table (at most 16 MiB): no sort
        seen = np.zeros((units, span), dtype=np.bool_)
        seen[units_of, month] = True
        counts: Ints = seen.sum(axis=1, dtype=np.int64)
        return counts
    keys = np.unique(units_of.astype(np.int64) * span + month)
    return np.bincount(keys // span, minlength=units).astype(np.int64)


def _sum_by(keys: Ints, values: Ints, size: int) -> Ints:
    result = np.zeros(size, dtype=np.int64)
    np.add.at(result, keys, values.astype(np.int64, copy=False))
    return result


def _dates(ordinals: Ints) -> list[date]:
    """Dates of ordinals, each distinct day converted once."""
    distinct, index = np.unique(ordinals, return_inverse=True)
    days = [date.fromordinal(d) for d in distinct.tolist()]
    return [days[k] for k in index.tolist()]
