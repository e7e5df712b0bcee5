"""Extending the kept allocation by new rows gives the whole ledger's allocation, column for column."""

from datetime import timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cuijiao.aging import UnitLedger
from cuijiao.allocated import AllocatedEstate, allocate_estate
from cuijiao.allocated_update import NewColumns, NewRows, extend, reaching_back
from cuijiao.allocation import Charge, Payment
from cuijiao.arrears import closed_since
from cuijiao.kept_facts import closings, unit_facts
from cuijiao.stages import Case, Policy
from test_allocated import BUCKETS, ITEMS, START, designation, designations, ledgers_of, month_label, unit_rows


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
    columns = NewColumns.of(new)
    why = reaching_back(kept, columns, designations)
    return extend(kept, columns, {unit: ledgers[unit] for unit in why}), why


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


def updated_after(ledgers: list[UnitLedger], cut: int) -> tuple[AllocatedEstate, dict]:  # type: ignore[type-arg]
    """The allocation kept up to ``cut`` days after START, extended by the charges due and payments made later."""
    day = START + timedelta(days=cut)
    new_charge = {c.id for lg in ledgers for c in lg.charges if c.due_date > day}
    new_payment = {p.id for lg in ledgers for p in lg.payments if p.paid_on > day}
    return updated(ledgers, new_charge, new_payment)


@settings(max_examples=300, deadline=None)
@given(unit_rows, st.integers(0, 700))
def test_a_later_month_only_extends_and_gives_the_whole_allocation(units, cut: int) -> None:  # type: ignore[no-untyped-def]
    """Charges due and payments made after a day, as a monthly import brings them."""
    ledgers = in_reading_order(ledgers_of(units))
    extended, why = updated_after(ledgers, cut)
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


# Month-shaped ledgers for the bulk walk: same-day charges of several items (paid whole or pro rata),
# payments on the same day ordered by receipt number (not by id), payments naming a charge (by item and
# period, most of them, as a real ledger's do), refunds and zero or negative charges.
# Amounts from a few values, so that payments often end where a same-day group ends (the bulk walk) and
# sometimes inside one (pro rata: allocate).
bulk_charges = st.lists(
    st.tuples(st.sampled_from(ITEMS[::-1]), st.integers(0, 8),
              st.sampled_from([100_00] * 6 + [50_00] * 2 + [0, -10_00]), st.sampled_from([0, 45])),
    max_size=14, unique_by=lambda t: (t[0], t[1]),
)
bulk_payments = st.lists(st.tuples(st.sampled_from([3, 40, 41, 120, 150, 151, 240, 241]),
                                   st.sampled_from([100_00] * 4 + [200_00] * 3 + [50_00, 300_00, 0, 1_00, -5_00]),
                                   st.sampled_from([None, "B7", "A9", "C1"]),
                                   st.one_of(*[st.none()] * 3, designations, *[st.integers(0, 13)] * 4)),
                         max_size=10)


def bulk_ledgers(units: list[tuple[list, list]]) -> list[UnitLedger]:  # type: ignore[type-arg]
    ledgers, next_id = [], 1
    for number, (charges, payments) in enumerate(units):
        unit_charges = []
        for item, month, fen, lead in charges:
            due = START + timedelta(days=30 * month)
            unit_charges.append(Charge(next_id, item, month_label(month), due, fen, due - timedelta(days=lead)))
            next_id += 1
        unit_payments = [Payment(next_id + k, START + timedelta(days=day), fen, receipt, *_named(named, unit_charges))
                         for k, (day, fen, receipt, named) in enumerate(payments)]
        next_id += len(payments)
        ledgers.append(UnitLedger(f"1-{number + 1}01", "1栋", f"业主{number}", unit_charges, unit_payments))
    return ledgers


def _named(named: object, charges: list[Charge]) -> tuple[str | None, str | None]:
    """A designation drawn as a number names one of the unit's latest charges (item and period)."""
    if isinstance(named, int):
        latest = sorted(charges, key=lambda c: c.due_date)[-3:]
        return (latest[named % len(latest)].item, latest[named % len(latest)].period) if latest else (None, None)
    return designation(named)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(bulk_charges, bulk_payments), max_size=6), st.integers(0, 260))
@example([([("物业费", 0, 100_00, 0), ("物业费", 5, 100_00, 0), ("公共能耗分摊费", 5, 100_00, 0)],
           [(3, 100_00, None, None), (240, 200_00, "B7", None)])], 100)  # same-day charges in item order
@example([([("物业费", 0, 100_00, 0), ("物业费", 5, 100_00, 0)],
           [(3, 100_00, None, None), (240, 50_00, "B7", None), (240, 150_00, "A9", None)])], 100)  # by receipt
@example([([("物业费", 0, 1, 0), ("物业费", 1, 0, 0)], [(3, -1, None, None), (3, 1, None, None)])],
         3)  # a refund's credit before a later payment paid a charge: allocated afresh, not replayed last
def test_the_bulk_walk_gives_what_allocate_gives(units, cut: int) -> None:  # type: ignore[no-untyped-def]
    """Units extended in bulk (numpy) and by allocate, side by side: every column equal to the whole ledger's."""
    ledgers = in_reading_order(bulk_ledgers(units))
    extended, _why = updated_after(ledgers, cut)
    assert decoded(extended) == decoded(allocate_estate(ledgers))
