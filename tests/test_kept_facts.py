"""The per-unit figures segment and plan read in bulk from the kept allocation are each unit's exact position's."""

from datetime import date, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cuijiao.aging import position
from cuijiao.allocated import allocate_estate
from cuijiao.arrears import closed_since
from cuijiao.kept_facts import _months_in_arrears, closings, unit_facts
from cuijiao.stages import Case, Policy
from test_allocated import BUCKETS, START, ledgers_of, unit_rows
from test_allocated_update import in_reading_order


@settings(max_examples=300, deadline=None)
@given(unit_rows, st.integers(-10, 800), st.lists(st.integers(0, 800), min_size=6, max_size=6))
def test_bulk_figures_are_the_exact_position_s(units, day: int, backs: list[int]) -> None:  # type: ignore[no-untyped-def]
    ledgers = in_reading_order(ledgers_of(units))
    as_of = START + timedelta(days=day)
    facts = unit_facts(allocate_estate(ledgers), as_of)
    overdue, charge_ids = facts.overdue_by_unit(BUCKETS), facts.overdue_charge_ids()
    since = np.array([(as_of - timedelta(days=backs[k])).toordinal() for k in range(len(ledgers))], dtype=np.int64)
    payments = facts.payments(since)
    for unit, ledger in enumerate(ledgers):
        if facts.elsewhere[unit]:
            continue
        exact = position(ledger, as_of, BUCKETS)
        owed = [c for c in exact.charges if exact.allocation.owed[c.id] > 0 and c.due_date < as_of]
        assert overdue.get(unit, {}) == exact.overdue
        assert charge_ids.get(unit, ()) == tuple(c.id for c in owed)
        assert facts.months_in_arrears[unit] == len({(c.due_date.year, c.due_date.month) for c in owed})
        made = sorted((p.paid_on, p.amount_fen) for p in exact.payments if p.paid_on.toordinal() >= since[unit])
        assert sorted((p.paid_on, p.amount_fen) for p in payments.get(unit, [])) == made


@settings(max_examples=300, deadline=None)
@given(unit_rows, st.integers(0, 700), st.lists(st.integers(0, 300), min_size=6, max_size=6),
       st.sampled_from([1, 50_00, 300_00]))
def test_closings_with_each_case_s_own_last_step(units, day: int, backs: list[int], minimum: int) -> None:  # type: ignore[no-untyped-def]
    """Cases whose last steps differ: each unit's events before its first payment day are summed apart."""
    ledgers = in_reading_order(ledgers_of(units))
    as_of = START + timedelta(days=day)
    facts = unit_facts(allocate_estate(ledgers), as_of)
    since = {unit: as_of - timedelta(days=backs[unit]) for unit in range(len(ledgers))}
    found = closings(facts, {unit: on.toordinal() for unit, on in since.items()}, minimum)
    for unit, ledger in enumerate(ledgers):
        if found.unsure[unit]:
            continue
        exact = closed_since(ledger, Case(7, since[unit]), as_of, BUCKETS, Policy(minimum_fen=minimum))
        assert found.closed_on.get(unit) == (exact[1] if exact else None), ledger.unit_id


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 2_000)), max_size=60), st.sampled_from([1, 40]))
def test_months_in_arrears_by_table_and_by_sort(rows: list[tuple[int, int]], stretch: int) -> None:
    """Due dates over a few years (a unit × month table) or over centuries (sorted keys): distinct months."""
    first = date(1990, 1, 1).toordinal()
    units = np.array([unit for unit, _ in rows], dtype=np.int32)
    dues = np.array([first + offset * stretch for _, offset in rows], dtype=np.int32)
    months = [(unit, date.fromordinal(first + offset * stretch)) for unit, offset in rows]
    expected = [len({(d.year, d.month) for u, d in months if u == unit}) for unit in range(10)]
    # 10 units × 80,000 days ≈ 2,600 months with stretch 40 is past the table's size: the sorted way.
    assert _months_in_arrears(units, dues, 10 if stretch == 1 else 1 << 14).tolist()[:10] == expected
