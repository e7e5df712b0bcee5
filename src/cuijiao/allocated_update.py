"""Extend the kept allocation by the rows an import added, instead of allocating every unit again.

Payments are applied in date order, each to what is open when it comes. So for
a unit whose new charges are all due after every kept charge, and whose new
payments are all made after every kept payment, the whole ledger's allocation
is the kept one continued: the kept payments went where they went (none of them
could reach a charge due later while an earlier one was open), and the new
payments meet what the kept allocation left open, then the new charges.

Two things could still reach the new charges from the past, and are handled:

- money a kept payment left over (credit) is, in the whole allocation, paid to
  the new charges as it comes (everything before was paid off, or it would not
  have been left over): the credit is replayed, as its payments, before the new
  payments;
- a kept payment whose designation names a new charge (an item, a period range)
  would have paid it first: such a unit is allocated afresh.

A unit whose new rows reach back in time — a charge due no later than a kept
one, a payment made no later than a kept one, an adjustment, a refund's credit
kept before a later payment paid a charge — is allocated afresh from its whole
ledger (:func:`reaching_back` says which and why).

The extension itself is done for most units at once with numpy (:class:`_InBulk`,
the same order and amounts as :func:`allocate`); the units it cannot do exactly
that way (pro rata, a designation that is not one charge, a refund) go through
:func:`allocate` one by one. Pure except that a kept column read from a mapped
file is let go from memory once it has been merged (:func:`_let_go`).
"""

from __future__ import annotations

import mmap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from cuijiao.aging import UnitLedger
from cuijiao.allocated import NO_CHARGE, AllocatedEstate, Ints, _Builder, derive, narrow
from cuijiao.allocation import Charge, Payment, allocate

Designation = tuple[str | None, str | None]  # (item, period) a kept payment named
_REPLAYED = 2**40  # payment ids of replayed credit: below every real id, in the kept order


@dataclass
class NewRows:
    """One unit's rows added since the allocation was kept."""

    charges: list[Charge] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    adjustment: bool = False  # an adjustment of any charge: its amount changed


@dataclass(frozen=True)
class NewColumns:
    """The rows added since the allocation was kept, every unit's, as columns (rows grouped by unit).

    Units are numbers in the kept estate; within a unit, charges by due date and id (as
    the ledger is read), payments in the order given. ``date`` columns are ordinals.
    """

    charge_unit: Ints
    charge_id: Ints
    charge_item: list[str]
    charge_period: list[str]
    charge_due: Ints
    charge_start: Ints
    charge_amount: Ints
    payment_unit: Ints
    payment_id: Ints
    payment_paid_on: Ints
    payment_amount: Ints
    payment_receipt: list[str | None]
    payment_item: list[str | None]
    payment_period: list[str | None]
    adjusted: Ints  # units with an adjustment: a charge's amount changed

    @classmethod
    def of(cls, new: Mapping[int, NewRows]) -> NewColumns:
        """The columns of rows given per unit (as tests and small callers hold them)."""
        units = sorted(new)
        charges = [(unit, c) for unit in units for c in new[unit].charges]
        payments = [(unit, p) for unit in units for p in new[unit].payments]
        return cls.grouped(
            [u for u, _ in charges], [c.id for _, c in charges], [c.item for _, c in charges],
            [c.period for _, c in charges], [c.due_date.toordinal() for _, c in charges],
            [c.period_start.toordinal() for _, c in charges], [c.amount_fen for _, c in charges],
            [u for u, _ in payments], [p.id for _, p in payments], [p.paid_on.toordinal() for _, p in payments],
            [p.amount_fen for _, p in payments], [p.receipt_no for _, p in payments], [p.item for _, p in payments],
            [p.period for _, p in payments], [unit for unit in units if new[unit].adjustment])

    @classmethod
    def grouped(cls, charge_unit: list[int], charge_id: list[int], charge_item: list[str], charge_period: list[str],
                charge_due: list[int], charge_start: list[int], charge_amount: list[int], payment_unit: list[int],
                payment_id: list[int], payment_paid_on: list[int], payment_amount: list[int],
                payment_receipt: list[str | None], payment_item: list[str | None],
                payment_period: list[str | None], adjusted: list[int]) -> NewColumns:
        """Columns as read, grouped by unit: charges by due date, then id (as the ledger is read), payments
        in the order given (a stable sort)."""
        by_c = np.lexsort((np.array(charge_id, dtype=np.int64), np.array(charge_due, dtype=np.int64),
                           np.array(charge_unit, dtype=np.int64)))
        by_p = np.argsort(np.array(payment_unit, dtype=np.int64), kind="stable")
        ints = partial(_ints_in, by_c)
        pints = partial(_ints_in, by_p)
        charge_order, payment_order = by_c.tolist(), by_p.tolist()
        return cls(
            ints(charge_unit), ints(charge_id), [charge_item[k] for k in charge_order],
            [charge_period[k] for k in charge_order], ints(charge_due), ints(charge_start), ints(charge_amount),
            pints(payment_unit), pints(payment_id), pints(payment_paid_on), pints(payment_amount),
            [payment_receipt[k] for k in payment_order], [payment_item[k] for k in payment_order],
            [payment_period[k] for k in payment_order], np.unique(np.array(adjusted, dtype=np.int64)))

    def units(self) -> list[int]:
        """The units with any new row."""
        found: list[int] = np.unique(np.concatenate([self.charge_unit, self.payment_unit, self.adjusted])).tolist()
        return found

    def rows(self, unit: int) -> NewRows:
        """One unit's rows as charges and payments (for the few units allocate extends)."""
        first, stop = np.searchsorted(self.charge_unit, [unit, unit + 1]).tolist()
        charges = [Charge(int(self.charge_id[k]), self.charge_item[k], self.charge_period[k],
                          date.fromordinal(int(self.charge_due[k])), int(self.charge_amount[k]),
                          date.fromordinal(int(self.charge_start[k]))) for k in range(first, stop)]
        first, stop = np.searchsorted(self.payment_unit, [unit, unit + 1]).tolist()
        payments = [Payment(int(self.payment_id[k]), date.fromordinal(int(self.payment_paid_on[k])),
                            int(self.payment_amount[k]), self.payment_receipt[k], self.payment_item[k],
                            self.payment_period[k]) for k in range(first, stop)]
        return NewRows(charges, payments, bool(np.isin(unit, self.adjusted)))


def _ints_in(order: Ints, values: list[int]) -> Ints:
    column: Ints = np.array(values, dtype=np.int64)[order] if values else np.zeros(0, dtype=np.int64)
    return column


def reaching_back(estate: AllocatedEstate, new: NewColumns,
                  designations: Mapping[int, Iterable[Designation]]) -> dict[int, str]:
    """Unit number → why it must be allocated afresh; the other units in ``new`` only extend."""
    units = len(estate.unit_ids)
    last_due = _max_by(estate.charge_unit, estate.charge_due, units)
    last_paid = _max_by(estate.app_unit, estate.app_paid_on, units)
    with_charges = np.zeros(units, dtype=bool)
    with_charges[new.charge_unit] = True
    bounds = np.searchsorted(new.charge_unit, np.arange(units + 1)).tolist()
    found = {  # most telling reason last: it is the one kept
        "designation_names_new_charge": [
            unit for unit, named in designations.items()
            if with_charges[unit] and _names_new_charge(named, new.charge_item[bounds[unit]:bounds[unit + 1]],
                                                        new.charge_period[bounds[unit]:bounds[unit + 1]])],
        "payment_not_after_kept": new.payment_unit[new.payment_paid_on <= last_paid[new.payment_unit]],
        "charge_not_after_kept": new.charge_unit[new.charge_due <= last_due[new.charge_unit]],
        "credit_before_kept_payment": np.flatnonzero(with_charges & _credit_before_charges(estate)),
        "adjustment": new.adjusted,
    }
    why: dict[int, str] = {}
    for reason, named_units in found.items():
        why.update(dict.fromkeys(np.unique(np.asarray(named_units, dtype=np.int64)).tolist(), reason))
    return why


def _names_new_charge(designations: Iterable[Designation], items: list[str], periods: list[str]) -> bool:
    """Whether a kept designation names one of the new charges (their items and periods)."""
    charges = [Charge(0, item, period, date.min, 0) for item, period in zip(items, periods, strict=True)]
    return any(Payment(0, date.min, 1, None, item, period).matches(charge)
               for item, period in designations for charge in charges)


def _credit_before_charges(estate: AllocatedEstate) -> npt.NDArray[np.bool_]:
    """Per unit: whether money it kept as credit came before a later payment paid a charge.

    Only a refund (a negative payment) leaves credit while charges are open; replaying
    that credit after the later payments would change the order of applications.
    Read from the credit rows alone (few): the row after a run of credit rows paid a charge,
    and when it is the same unit's, that payment came after the credit.
    """
    credit = np.flatnonzero(estate.app_charge == NO_CHARGE)
    run_end = credit[np.append(credit[1:] != credit[:-1] + 1, True)] if len(credit) else credit
    run_end = run_end[run_end + 1 < len(estate.app_unit)]
    same_unit = estate.app_unit[run_end + 1] == estate.app_unit[run_end]
    credit_first = np.zeros(len(estate.unit_ids), dtype=bool)
    credit_first[estate.app_unit[run_end[same_unit]]] = True
    return credit_first


def extend(estate: AllocatedEstate, new: NewColumns, fresh: Mapping[int, UnitLedger]) -> AllocatedEstate:
    """The estate with ``new`` rows allocated on top of the kept ones, and the ``fresh`` units allocated afresh.

    Units in ``fresh`` must be those :func:`reaching_back` named (or any others: allocating
    a unit afresh is always exact); the unit list itself must be unchanged.
    """
    builder = _Builder({name: k for k, name in enumerate(estate.items)},
                       {name: k for k, name in enumerate(estate.periods)})
    base = int(estate.app_seq.max(initial=0)) + 1  # new payments' order keys: above every kept one
    kept = _Kept(estate)
    extending = np.zeros(len(estate.unit_ids), dtype=bool)
    extending[new.charge_unit] = True
    extending[new.payment_unit] = True
    extending[list(fresh)] = False
    bulk = _InBulk(kept, builder, base, new, extending)
    replayed_units = list(bulk.replayed)
    for unit in bulk.by_unit:
        rows = new.rows(unit)
        replay = kept.credit(unit) if rows.charges else []
        if replay:
            replayed_units.append(unit)
        payments = [*replay, *rows.payments]
        applications = allocate([*kept.open_charges(unit), *rows.charges], payments).applications
        keys = {p.id: p.id + base for p in rows.payments} | {p.id: p.id + _REPLAYED for p in replay}
        builder.add_rows(unit, rows.charges, payments, applications, keys)
    for unit, ledger in fresh.items():
        keys = {p.id: p.id + base for p in ledger.payments}
        builder.add_rows(unit, ledger.charges, ledger.payments,
                         allocate(ledger.charges, ledger.payments).applications, keys)
    by_unit = builder.columns()
    added = {name: narrow(np.concatenate([bulk.columns[name], by_unit[name]])) for name in by_unit}
    dropped_apps = _units_mask(estate.app_unit, replayed_units) & (estate.app_charge == NO_CHARGE)
    raw = _merged(estate, kept, added, _units_mask(estate.charge_unit, list(fresh)),
                  _units_mask(estate.app_unit, list(fresh)) | dropped_apps)
    _let_go(estate.charge_unit, whole=True)
    return derive(raw, estate.unit_ids, estate.buildings, estate.owner_names, list(builder.items),
                  list(builder.periods), unit_rank=estate.unit_rank.copy())  # not a view: the kept file can go


def _let_go(column: Ints, *, whole: bool = False) -> None:
    """The column is copied into the merged ones: when it is pages of a mapped cache file, let the kernel
    drop them from this process (they stay in the page cache; a later read maps them back in). The old
    and the new columns are not both held at the peak (a third less memory)."""
    root, base = column, column.base
    while base is not None and not isinstance(base, mmap.mmap):
        root = base if isinstance(base, np.ndarray) else root
        base = getattr(base, "base", getattr(base, "obj", None))
    if not isinstance(base, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED") or not column.nbytes:
        return
    if whole:  # the whole file: every kept column is copied or derived again
        base.madvise(mmap.MADV_DONTNEED)
        return
    offset = column.ctypes.data - root.ctypes.data  # where the column starts in the file
    start = -(-offset // mmap.PAGESIZE) * mmap.PAGESIZE  # whole pages only: the neighbours' are not ours
    stop = (offset + column.nbytes) // mmap.PAGESIZE * mmap.PAGESIZE
    if stop > start:
        base.madvise(mmap.MADV_DONTNEED, start, stop - start)


def let_pages_go(estate: AllocatedEstate) -> None:
    """Let the kernel drop the pages of the cache file ``estate`` is mapped from (when it is): after passes
    over every column, for a step that reads a few of them (the pages fault back in from the page cache)."""
    _let_go(estate.charge_unit, whole=True)


class _InBulk:
    """The extension of the common units computed over all of them at once, with numpy.

    :func:`allocate` takes a unit's payments one by one; here the k-th payment of
    every unit is applied in one step (a round), on the unit's charges in the
    order allocate pays them (kept open ones first: they fall due before every
    new one) and its payments in the order it applies them (replayed credit
    first). A payment pays the charge it designates by item and period, when
    exactly one charge has both, then the open charges from the oldest, the rest
    credit. Left to :func:`allocate` (``by_unit``) are the units with a negative
    payment or credit, a designation naming no charge or several (an item alone,
    a range of periods), or a payment that stops inside a group of two or more
    open charges due the same day (pro rata).
    """

    def __init__(self, kept: _Kept, builder: _Builder, base: int, new: NewColumns,
                 extending: npt.NDArray[np.bool_]) -> None:
        units = len(kept.estate.unit_ids)
        # A refund, or a designation of an item alone or a period alone: allocate resolves it.
        odd = [amount < 0 or (bool(item) != bool(period)) for amount, item, period in zip(
            new.payment_amount.tolist(), new.payment_item, new.payment_period, strict=True)]
        unusual = np.zeros(units, dtype=bool)
        unusual[new.payment_unit[np.array(odd, dtype=bool)]] = True
        self.by_unit: list[int] = np.flatnonzero(extending & unusual).tolist()
        self.replayed: list[int] = []
        self.columns = _empty_columns()
        if (extending & ~unusual).any():
            self._apply(kept, builder, base, new, extending & ~unusual)

    def _apply(self, kept: _Kept, builder: _Builder, base: int, new: NewColumns,
               chosen: npt.NDArray[np.bool_]) -> None:
        estate, items, periods = kept.estate, builder.items, builder.periods
        units = len(estate.unit_ids)
        # The new charges, in the order given (the rows they add), and the new payments.
        taken = chosen[new.charge_unit]
        picked = np.flatnonzero(taken).tolist()
        new_c = {
            "charge_unit": new.charge_unit[taken],
            "charge_id": new.charge_id[taken],
            "charge_item": np.array([items.setdefault(new.charge_item[k], len(items)) for k in picked],
                                    dtype=np.int64),
            "charge_period": np.array([periods.setdefault(new.charge_period[k], len(periods)) for k in picked],
                                      dtype=np.int64),
            "charge_due": new.charge_due[taken],
            "charge_start": new.charge_start[taken],
            "charge_amount": new.charge_amount[taken],
        }
        unit_of, paid_on, payment_id = (new.payment_unit.tolist(), new.payment_paid_on.tolist(),
                                        new.payment_id.tolist())
        payments = sorted(np.flatnonzero(chosen[new.payment_unit]).tolist(),
                          key=lambda k: (unit_of[k], paid_on[k], new.payment_receipt[k] or "", payment_id[k]))
        with_charges = np.zeros(units, dtype=bool)
        with_charges[new_c["charge_unit"]] = True
        tape = _charge_tape(kept, new_c, chosen, _ranks(list(items)), _ranks(list(periods)))
        # The payments: replayed credit (units with new charges), then new payments, per unit.
        credit = kept.credit_rows[with_charges[estate.app_unit[kept.credit_rows]]
                                  & chosen[estate.app_unit[kept.credit_rows]]]
        bad = np.zeros(units, dtype=bool)
        bad[estate.app_unit[credit][estate.app_amount[credit] < 0]] = True  # a refund kept as credit
        replayed = len(credit)
        named_item, named_period = new.payment_item, new.payment_period
        pay = {
            "unit": np.concatenate([estate.app_unit[credit], new.payment_unit[payments]]),
            "key": np.concatenate([estate.app_seq[credit], new.payment_id[payments] + base]),
            "paid_on": np.concatenate([estate.app_paid_on[credit], new.payment_paid_on[payments]]),
            "fen": np.concatenate([estate.app_amount[credit], new.payment_amount[payments]]),
            "item": np.concatenate([np.full(replayed, -1), np.array(
                [items.get(named_item[k] or "", -2) if named_item[k] else -1 for k in payments], dtype=np.int64)]),
            "period": np.concatenate([np.full(replayed, -1), np.array(
                [periods.get(named_period[k] or "", -2) if named_period[k] else -1 for k in payments],
                dtype=np.int64)]),
        }
        order = np.argsort(pay["unit"], kind="stable")  # per unit: replayed (in kept order), then new (sorted)
        pay = {name: column.astype(np.int64)[order] for name, column in pay.items()}
        target = _designated(tape, pay, len(items), len(periods), bad)
        pay_k, charge_k, fen = _rounds(units, tape, pay, target, bad)
        walked = ~bad
        self.by_unit += np.flatnonzero(bad & chosen).tolist()
        self.replayed = np.unique(estate.app_unit[credit][walked[estate.app_unit[credit]]]).tolist()
        keep_a = walked[pay["unit"][pay_k]]
        pay_k, charge_k, fen = pay_k[keep_a], charge_k[keep_a], fen[keep_a]
        charge_id = np.full(len(charge_k), NO_CHARGE, dtype=np.int64)
        charge_id[charge_k != NO_CHARGE] = tape["id"][charge_k[charge_k != NO_CHARGE]]
        self.columns = {name: column[walked[new_c["charge_unit"]]] for name, column in new_c.items()} | {
            "app_unit": pay["unit"][pay_k],
            "app_payment": pay["key"][pay_k],
            "app_charge_id": charge_id,
            "app_paid_on": pay["paid_on"][pay_k],
            "app_amount": fen,
        }


def _charge_tape(kept: _Kept, new_c: dict[str, Ints], chosen: npt.NDArray[np.bool_], item_rank: Ints,
                 period_rank: Ints) -> dict[str, Ints]:
    """The chosen units' open kept charges and new charges, in the order allocate walks them."""
    estate = kept.estate
    open_mask = chosen[estate.charge_unit[kept.open_rows]]
    rows = kept.open_rows[open_mask]
    tape = {
        "unit": np.concatenate([estate.charge_unit[rows], new_c["charge_unit"]]),
        "due": np.concatenate([estate.charge_due[rows], new_c["charge_due"]]),
        "id": np.concatenate([estate.charge_id[rows], new_c["charge_id"]]),
        "item": np.concatenate([estate.charge_item[rows], new_c["charge_item"]]),
        "period": np.concatenate([estate.charge_period[rows], new_c["charge_period"]]),
        # What allocate starts from: a charge of nothing (or less) to pay is never open.
        "owed": np.maximum(np.concatenate([kept.open_owed[open_mask], new_c["charge_amount"]]), 0),
    }
    tape = {name: column.astype(np.int64) for name, column in tape.items()}
    order = np.lexsort((tape["id"], period_rank[tape["period"]], item_rank[tape["item"]], tape["due"],
                        tape["unit"]))
    tape = {name: column[order] for name, column in tape.items()}
    first = np.ones(len(order), dtype=bool)
    first[1:] = (tape["unit"][1:] != tape["unit"][:-1]) | (tape["due"][1:] != tape["due"][:-1])
    tape["group"] = np.cumsum(first) - 1  # same unit, same due day
    return tape


def _designated(tape: dict[str, Ints], pay: dict[str, Ints], items: int, periods: int,
                bad: npt.NDArray[np.bool_]) -> Ints:
    """Each payment's designated charge (tape row), -1 if it names none; a designation allocate would
    resolve otherwise than by one charge of that item and period marks its unit ``bad``."""
    named = pay["item"] != -1
    target = np.full(len(pay["unit"]), -1, dtype=np.int64)
    if not named.any():
        return target
    keys = (tape["unit"] * items + tape["item"]) * periods + tape["period"]
    order = np.argsort(keys, kind="stable")
    wanted = (pay["unit"][named] * items + pay["item"][named]) * periods + pay["period"][named]
    low = np.searchsorted(keys[order], wanted, side="left")
    high = np.searchsorted(keys[order], wanted, side="right")
    unknown = (pay["item"][named] < 0) | (pay["period"][named] < 0)
    single = (high - low == 1) & ~unknown
    bad[pay["unit"][named][~single]] = True
    target[np.flatnonzero(named)[single]] = order[low[single]]
    return target


def _rounds(units: int, tape: dict[str, Ints], pay: dict[str, Ints], target: Ints,
            bad: npt.NDArray[np.bool_]) -> tuple[Ints, Ints, Ints]:
    """Applications (payment row, tape row or NO_CHARGE, fen) in the order :func:`allocate` makes them.

    Round r applies the r-th payment of every unit; a unit where allocate would split
    a payment pro rata is marked ``bad`` and left out of later rounds.
    """
    owed = tape["owed"].copy()
    bounds = np.searchsorted(tape["unit"], np.arange(units + 1))
    rank = np.arange(len(pay["unit"])) - np.searchsorted(pay["unit"], pay["unit"])
    found: list[tuple[Ints, Ints, Ints, Ints]] = []  # payment, tape row, fen, place within the payment
    for r in range(int(rank.max(initial=-1)) + 1):
        ks = np.flatnonzero(rank == r)
        ks = ks[~bad[pay["unit"][ks]]]
        left = pay["fen"][ks].copy()
        named = target[ks] >= 0
        rows = target[ks][named]
        take = np.minimum(left[named], owed[rows])
        owed[rows] -= take
        left[named] -= take
        found.append((ks[named][take > 0], rows[take > 0], take[take > 0], np.full(int((take > 0).sum()), -1)))
        ks, left = ks[left > 0], left[left > 0]
        # The walk: every charge of the unit in order, each taking what is left of the payment.
        unit = pay["unit"][ks]
        start, size = bounds[unit], bounds[unit + 1] - bounds[unit]
        which = np.repeat(np.arange(len(ks)), size)
        rows = np.repeat(start - np.cumsum(size) + size, size) + np.arange(int(size.sum()))
        before = _cumsum_within(which, owed[rows]) - owed[rows]
        take = np.clip(left[which] - before, 0, owed[rows])
        # Pro rata: a group of two or more open charges that the payment reaches but does not pay off.
        group = _numbered(tape["group"][rows])
        open_count = np.zeros(int(group.max(initial=-1)) + 1, dtype=np.int64)
        np.add.at(open_count, group, owed[rows] > 0)
        group_owed, group_took = np.zeros_like(open_count), np.zeros_like(open_count)
        np.add.at(group_owed, group, owed[rows])
        np.add.at(group_took, group, take)
        split = (open_count >= 2) & (group_took > 0) & (group_took < group_owed)
        bad[unit[which[split[group]]]] = True
        owed[rows] -= take
        paid = take > 0
        found.append((ks[which[paid]], rows[paid], take[paid], rows[paid]))
        took = np.zeros(len(ks), dtype=np.int64)
        np.add.at(took, which, take)
        rest = left - took
        found.append((ks[rest > 0], np.full(int((rest > 0).sum()), NO_CHARGE), rest[rest > 0],
                      np.full(int((rest > 0).sum()), len(owed))))
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    pay_k, charge_k, fen, place = (np.concatenate(parts) for parts in zip(*found, strict=True))
    order = np.lexsort((place, pay_k))
    return pay_k[order], charge_k[order], fen[order]


def _numbered(keys: Ints) -> Ints:
    """0, 1, 2 … for the runs of equal values in ``keys`` (sorted)."""
    change = np.ones(len(keys), dtype=np.int64)
    change[1:] = keys[1:] != keys[:-1]
    return np.cumsum(change) - 1


def _cumsum_within(groups: Ints, values: Ints) -> Ints:
    """Running sums of ``values`` restarting at each new group (``groups`` sorted)."""
    total = np.cumsum(values)
    if not len(total):
        return total
    first = np.ones(len(groups), dtype=bool)
    first[1:] = groups[1:] != groups[:-1]
    before = (total - values)[first]  # the running sum where each group begins
    return total - np.repeat(before, np.diff(np.append(np.flatnonzero(first), len(groups))))


def _ranks(names: list[str]) -> Ints:
    """Each code's place when the names are sorted: allocate orders same-day charges by item, then period."""
    rank = np.zeros(len(names) or 1, dtype=np.int64)
    rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
    return rank


def _empty_columns() -> dict[str, Ints]:
    return {name: np.zeros(0, dtype=np.int64) for name in _Builder.RAW}


class _Kept:
    """What the kept allocation left each unit: its open charges and its credit (rows found in bulk)."""

    def __init__(self, estate: AllocatedEstate) -> None:
        self.estate = estate
        paid = np.zeros(len(estate.charge_unit), dtype=np.int64)
        to_charge = estate.app_charge != NO_CHARGE
        np.add.at(paid, estate.app_charge[to_charge], estate.app_amount[to_charge].astype(np.int64))
        owed = estate.charge_amount - paid
        bounds = np.arange(len(estate.unit_ids) + 1)
        self.open_rows = np.flatnonzero(owed > 0)
        self.open_owed = owed[self.open_rows]
        self.open_from = np.searchsorted(estate.charge_unit[self.open_rows], bounds)
        self.credit_rows = np.flatnonzero(~to_charge)
        self.credit_from = np.searchsorted(estate.app_unit[self.credit_rows], bounds)

    def open_charges(self, unit: int) -> list[Charge]:
        estate, span = self.estate, slice(int(self.open_from[unit]), int(self.open_from[unit + 1]))
        rows = self.open_rows[span]
        return [Charge(charge_id, estate.items[item], estate.periods[period], date.fromordinal(due), owed,
                       date.fromordinal(start))
                for charge_id, item, period, due, owed, start in zip(
                    estate.charge_id[rows].tolist(), estate.charge_item[rows].tolist(),
                    estate.charge_period[rows].tolist(), estate.charge_due[rows].tolist(),
                    self.open_owed[span].tolist(), estate.charge_start[rows].tolist(), strict=True)]

    def credit(self, unit: int) -> list[Payment]:
        """The money kept payments left over, as payments made when they were (order kept by id)."""
        estate = self.estate
        rows = self.credit_rows[int(self.credit_from[unit]):int(self.credit_from[unit + 1])]
        return [Payment(seq - _REPLAYED, date.fromordinal(paid_on), amount)
                for seq, paid_on, amount in zip(estate.app_seq[rows].tolist(), estate.app_paid_on[rows].tolist(),
                                                estate.app_amount[rows].tolist(), strict=True)]


def _merged(estate: AllocatedEstate, kept: _Kept, added: dict[str, Ints], drop_charges: npt.NDArray[np.bool_],
            drop_apps: npt.NDArray[np.bool_]) -> dict[str, Ints]:
    """Kept rows (less the dropped) and added rows, grouped by unit, the kept first within a unit.

    Each row's place is computed (no sort of the estate), and applications point at their
    charges by row already (``app_row``): the kept ones through the charges' new places, the
    added ones by id among the charges they can name (the open kept ones and the added ones).
    """
    units = len(estate.unit_ids)
    keep_c, keep_a = ~drop_charges, ~drop_apps
    by_charge = np.argsort(added["charge_unit"], kind="stable")
    by_app = np.argsort(added["app_unit"], kind="stable")
    kept_c, added_c, charges = _places(_kept(estate.charge_unit, keep_c), added["charge_unit"][by_charge], units)
    raw: dict[str, Ints] = {}
    for name in ("charge_unit", "charge_id", "charge_item", "charge_period", "charge_due", "charge_start",
                 "charge_amount"):
        raw[name] = _placed(_kept(getattr(estate, name), keep_c), kept_c, added[name][by_charge], added_c, charges)
        _let_go(getattr(estate, name))
    new_row = np.full(len(estate.charge_unit), NO_CHARGE, dtype=kept_c.dtype)
    new_row[keep_c] = kept_c
    del kept_c
    # What added applications can name: the kept charges still open, and the added charges.
    open_rows = kept.open_rows[keep_c[kept.open_rows]]
    ids = np.concatenate([estate.charge_id[open_rows], added["charge_id"][by_charge]]).astype(np.int64)
    rows = np.concatenate([new_row[open_rows], added_c])
    order = np.argsort(ids, kind="stable")
    wanted = added["app_charge_id"][by_app].astype(np.int64)
    named = wanted != NO_CHARGE
    found = order[np.searchsorted(ids[order], wanted[named]).clip(max=max(len(order) - 1, 0))]
    if not np.array_equal(ids[found], wanted[named]):
        raise ValueError("an added application names a charge that is neither open nor added")
    added_rows = np.full(len(wanted), NO_CHARGE, dtype=rows.dtype)
    added_rows[named] = rows[found]
    kept_a, added_a, apps = _places(_kept(estate.app_unit, keep_a), added["app_unit"][by_app], units)
    for name, kept_name in (("app_unit", "app_unit"), ("app_payment", "app_seq"), ("app_paid_on", "app_paid_on"),
                            ("app_amount", "app_amount")):
        raw[name] = _placed(_kept(getattr(estate, kept_name), keep_a), kept_a, added[name][by_app], added_a, apps)
        _let_go(getattr(estate, kept_name))
    kept_rows = _kept(estate.app_charge, keep_a).astype(new_row.dtype)  # row numbers in the merged charges
    to_charge = kept_rows != NO_CHARGE
    kept_rows[to_charge] = new_row[kept_rows[to_charge]]
    del new_row, to_charge
    raw["app_row"] = _placed(kept_rows, kept_a, added_rows, added_a, apps)
    _let_go(estate.app_charge)
    return raw


def _kept(column: Ints, keep: npt.NDArray[np.bool_]) -> Ints:
    """The rows kept; the column itself when every row is (no copy of an estate-sized column)."""
    return column if keep.all() else column[keep]


def _places(kept_units: Ints, added_units: Ints, units: int) -> tuple[Ints, Ints, int]:
    """Where kept rows and added rows go (both grouped by unit) when each unit's added rows follow its kept ones."""
    size = len(kept_units) + len(added_units)
    dtype: type[np.signedinteger[Any]] = np.int32 if size < 2**31 else np.int64  # half an int64 index's memory
    kept_count = np.bincount(kept_units, minlength=units)
    added_count = np.bincount(added_units, minlength=units)
    added_before = (np.cumsum(added_count) - added_count).astype(dtype)  # added rows of the units before
    kept_through = np.cumsum(kept_count).astype(dtype)  # kept rows of the units up to and including
    kept_places: Ints = np.arange(len(kept_units), dtype=dtype)
    kept_places += added_before[kept_units]
    added_places: Ints = np.arange(len(added_units), dtype=dtype) + kept_through[added_units]
    return kept_places, added_places, size


def _placed(kept: Ints, kept_places: Ints, added: Ints, added_places: Ints, size: int) -> Ints:
    column: Ints = np.empty(size, dtype=np.result_type(kept.dtype, added.dtype))
    column[kept_places] = kept
    column[added_places] = added
    return column


def _units_mask(row_units: Ints, units: list[int]) -> np.ndarray:
    return np.isin(row_units, np.array(units, dtype=np.int64))


def _max_by(keys: Ints, values: Ints, size: int) -> Ints:
    """The largest value per key in range(size), -1 for a key with none; ``keys`` sorted (the estate's
    rows are grouped by unit): one pass per run, not numpy's slower unbuffered maximum.at."""
    result = np.full(size, -1, dtype=np.int64)
    bounds = np.searchsorted(keys, np.arange(size + 1))
    some = bounds[1:] > bounds[:-1]
    if some.any():  # in the values' own width: no estate-sized int64 copy
        result[some] = np.maximum.reduceat(values, bounds[:-1][some])
    return result
