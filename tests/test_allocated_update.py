"""Extending the kept allocation by new rows gives the whole ledger's allocation, column for column."""

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cuijiao.aging import UnitLedger
from cuijiao.allocated import AllocatedEstate, allocate_estate
from cuijiao.allocated_update import NewRows, extend, reaching_back
from cuijiao.arrears import closed_since
from cuijiao.kept_facts import closings, unit_facts
from cuijiao.stages import Case, Policy
from test_allocated import BUCKETS, START, ledgers_of, unit_rows


def in_reading_order(ledgers: list[UnitLedger]) -> list[UnitLedger]:
    """Charges as the ledger is read (by unit, due date, id): the order of the kept rows too."""
    return [UnitLedger(lg.unit_id, lg.building, lg.owner_name, sorted(lg.charges, key=lambda c: (c.due_date, c.id)),
                       lg.payments) for lg in ledgers]


def decoded(estate: AllocatedEstate) -> dict[str, list[object]]:
    """Every column, item and period codes read as their names (codes depend on the order met)."""
    columns: dict[str, list[object]] = {name: getattr(estate, name).tolist() for name in estate.array_names()}
    columns["charge_item"] = [estate.items[k] for k in estate.charge_item.tolist()]
    columns["charge_period"] = [estate.periods[k] for k in estate.charge_period.tolist()]
    return columns


def updated(ledgers: list[UnitLedger], new_charge: set[int], new_payment: set[int]) -> tuple[AllocatedEstate, dict]:  # type: ignore[type-arg]
    """The kept allocation of the rows not new, extended by the new ones; and why units were redone."""
    old = [UnitLedger(lg.unit_id, lg.building, lg.owner_name, [c for c in lg.charges if c.id not in new_charge],
                      [p for p in lg.payments if p.id not in new_payment]) for lg in ledgers]
    new = {unit: NewRows([c for c in lg.charges if c.id in new_charge], [p for p in lg.payments if p.id in new_payment])
           for unit, lg in enumerate(ledgers)}
    designations = {unit: {(p.item, p.period) for p in lg.payments if p.item or p.period}
                    for unit, lg in enumerate(old)}
    kept = allocate_estate(old)
    why = reaching_back(kept, new, designations)
    return extend(kept, new, {unit: ledgers[unit] for unit in why}), why


@settings(max_examples=300, deadline=None)
@given(unit_rows, st.data())
def test_any_new_rows_give_the_whole_allocation(units, data) -> None:  # type: ignore[no-untyped-def]
    """New rows anywhere in time: back-dated ones send their unit to be allocated afresh."""
    ledgers = in_reading_order(ledgers_of(units))
    charge_ids = [c.id for lg in ledgers for c in lg.charges]
    payment_ids = [p.id for lg in ledgers for p in lg.payments]
    new_charge = {i for i in charge_ids if data.draw(st.booleans())}
    new_payment = {i for i in payment_ids if data.draw(st.booleans())}
    extended, _why = updated(ledgers, new_charge, new_payment)
    assert decoded(extended) == decoded(allocate_estate(ledgers))


@settings(max_examples=300, deadline=None)
@given(unit_rows, st.integers(0, 700))
def test_a_later_month_only_extends_and_gives_the_whole_allocation(units, cut: int) -> None:  # type: ignore[no-untyped-def]
    """Charges due and payments made after a day, as a monthly import brings them."""
    ledgers = in_reading_order(ledgers_of(units))
    day = START + timedelta(days=cut)
    new_charge = {c.id for lg in ledgers for c in lg.charges if c.due_date > day}
    new_payment = {p.id for lg in ledgers for p in lg.payments if p.paid_on > day}
    extended, why = updated(ledgers, new_charge, new_payment)
    assert decoded(extended) == decoded(allocate_estate(ledgers))
    assert "payment_not_after_kept" not in why.values()


@settings(max_examples=300, deadline=None)
@given(unit_rows, st.integers(0, 700), st.integers(0, 200), st.sampled_from([1, 50_00, 300_00]))
def test_closings_from_columns_are_the_exact_path_s(units, day: int, back: int, minimum: int) -> None:  # type: ignore[no-untyped-def]
    """The day an open case's arrears fell below the minimum, read in bulk, is closed_since's."""
    ledgers = in_reading_order(ledgers_of(units))
    as_of = START + timedelta(days=day)
    since = as_of - timedelta(days=back)
    facts = unit_facts(allocate_estate(ledgers), as_of)
    found = closings(facts, dict.fromkeys(range(len(ledgers)), since.toordinal()), minimum)
    policy = Policy(minimum_fen=minimum)
    for unit, ledger in enumerate(ledgers):
        if found.unsure[unit]:
            continue
        exact = closed_since(ledger, Case(7, since), as_of, BUCKETS, policy)
        assert found.closed_on.get(unit) == (exact[1] if exact else None), ledger.unit_id
