"""Extend the kept allocation by the rows an import added, instead of allocating every unit again. Pure.

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
one, a payment made no later than a kept one, an adjustment — is allocated
afresh from its whole ledger (:func:`reaching_back` says which and why).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from cuijiao.aging import UnitLedger
from cuijiao.allocated import NO_CHARGE, AllocatedEstate, Ints, _Builder, derive
from cuijiao.allocation import Charge, Payment, allocate

Designation = tuple[str | None, str | None]  # (item, period) a kept payment named
_REPLAYED = 2**40  # payment ids of replayed credit: below every real id, in the kept order


@dataclass
class NewRows:
    """One unit's rows added since the allocation was kept."""

    charges: list[Charge] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    adjustment: bool = False  # an adjustment of any charge: its amount changed


def reaching_back(estate: AllocatedEstate, new: Mapping[int, NewRows],
                  designations: Mapping[int, Iterable[Designation]]) -> dict[int, str]:
    """Unit number → why it must be allocated afresh; the other units in ``new`` only extend."""
    units = len(estate.unit_ids)
    last_due = _max_by(estate.charge_unit, estate.charge_due, units)
    last_paid = _max_by(estate.app_unit, estate.app_paid_on, units)
    why: dict[int, str] = {}
    for unit, rows in new.items():
        if rows.adjustment:
            why[unit] = "adjustment"
        elif any(c.due_date.toordinal() <= last_due[unit] for c in rows.charges):
            why[unit] = "charge_not_after_kept"
        elif any(p.paid_on.toordinal() <= last_paid[unit] for p in rows.payments):
            why[unit] = "payment_not_after_kept"
        elif rows.charges and any(Payment(0, date.min, 1, None, item, period).matches(charge)
                                  for item, period in designations.get(unit, ()) for charge in rows.charges):
            why[unit] = "designation_names_new_charge"
    return why


def extend(estate: AllocatedEstate, new: Mapping[int, NewRows], fresh: Mapping[int, UnitLedger]) -> AllocatedEstate:
    """The estate with ``new`` rows allocated on top of the kept ones, and the ``fresh`` units allocated afresh.

    Units in ``fresh`` must be those :func:`reaching_back` named (or any others: allocating
    a unit afresh is always exact); the unit list itself must be unchanged.
    """
    builder = _Builder({name: k for k, name in enumerate(estate.items)},
                       {name: k for k, name in enumerate(estate.periods)})
    base = int(estate.app_seq.max(initial=0)) + 1  # new payments' order keys: above every kept one
    kept = _Kept(estate)
    replayed_units = []
    for unit, rows in new.items():
        if unit in fresh or not (rows.charges or rows.payments):
            continue
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
    added = builder.columns()
    dropped_apps = _units_mask(estate.app_unit, replayed_units) & (estate.app_charge == NO_CHARGE)
    raw = _merged(estate, added, _units_mask(estate.charge_unit, list(fresh)),
                  _units_mask(estate.app_unit, list(fresh)) | dropped_apps)
    return derive(raw, estate.unit_ids, estate.buildings, estate.owner_names, list(builder.items),
                  list(builder.periods))


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


def _merged(estate: AllocatedEstate, added: dict[str, Ints], drop_charges: np.ndarray,
            drop_apps: np.ndarray) -> dict[str, Ints]:
    """Kept rows (less the dropped) and added rows, grouped by unit, the kept first within a unit."""
    keep_c, keep_a = ~drop_charges, ~drop_apps
    to_charge = estate.app_charge != NO_CHARGE
    app_charge_id = np.full(len(estate.app_charge), NO_CHARGE, dtype=np.int64)
    app_charge_id[to_charge] = estate.charge_id[estate.app_charge[to_charge]]
    kept = {
        "charge_unit": estate.charge_unit, "charge_id": estate.charge_id, "charge_item": estate.charge_item,
        "charge_period": estate.charge_period, "charge_due": estate.charge_due, "charge_start": estate.charge_start,
        "charge_amount": estate.charge_amount, "app_unit": estate.app_unit, "app_payment": estate.app_seq,
        "app_charge_id": app_charge_id, "app_paid_on": estate.app_paid_on, "app_amount": estate.app_amount,
    }
    raw = {name: np.concatenate([column[keep_c if name.startswith("charge_") else keep_a], added[name]])
           for name, column in kept.items()}
    by_charge = np.argsort(raw["charge_unit"], kind="stable")
    by_app = np.argsort(raw["app_unit"], kind="stable")
    return {name: column[by_charge if name.startswith("charge_") else by_app] for name, column in raw.items()}


def _units_mask(row_units: Ints, units: list[int]) -> np.ndarray:
    return np.isin(row_units, np.array(units, dtype=np.int64))


def _max_by(keys: Ints, values: Ints, size: int) -> list[int]:
    result = np.full(size, -1, dtype=np.int64)
    np.maximum.at(result, keys, values.astype(np.int64, copy=False))
    return result.tolist()
