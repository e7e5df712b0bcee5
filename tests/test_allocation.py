"""Allocation rules, each with a case computed by hand, and properties that always hold."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cuijiao.aging import Buckets, UnitLedger, position
from cuijiao.allocation import Charge, Payment, Rule, allocate, pro_rata

JAN = Charge(1, "物业费", "2025-01", date(2025, 1, 10), 10000)
FEB = Charge(2, "物业费", "2025-02", date(2025, 2, 10), 10000)


def test_designated_charge_first_then_oldest_due() -> None:
    paid = Payment(1, date(2025, 2, 15), 15000, "SJ1", "物业费", "2025-02")
    result = allocate([JAN, FEB], [paid])
    assert result.owed == {1: 5000, 2: 0}
    assert [(a.charge_id, a.amount_fen, a.rule) for a in result.applications] == [
        (2, 10000, Rule.DESIGNATED), (1, 5000, Rule.OLDEST_DUE)]


def test_undesignated_goes_to_the_oldest_due() -> None:
    result = allocate([FEB, JAN], [Payment(1, date(2025, 2, 15), 15000)])
    assert result.owed == {1: 0, 2: 5000}


def test_designation_caps_at_what_the_charge_still_owes() -> None:
    first = Payment(1, date(2025, 1, 12), 6000, "SJ1", "物业费", "2025-01")
    second = Payment(2, date(2025, 1, 20), 6000, "SJ2", "物业费", "2025-01")
    result = allocate([JAN, FEB], [first, second])
    # 60.00 + 40.00 to January as designated; the other 20.00 prepays February.
    assert result.owed == {1: 0, 2: 8000}
    assert [(a.payment_id, a.charge_id, a.amount_fen, a.rule) for a in result.applications] == [
        (1, 1, 6000, Rule.DESIGNATED), (2, 1, 4000, Rule.DESIGNATED), (2, 2, 2000, Rule.PREPAYMENT)]


def test_same_due_date_shares_pro_rata_largest_remainder() -> None:
    fee = Charge(1, "物业费", "2025-03", date(2025, 3, 10), 20000)
    parking = Charge(2, "车位管理费", "2025-03", date(2025, 3, 10), 10000)
    result = allocate([parking, fee], [Payment(1, date(2025, 3, 15), 10000)])
    # 100.00 × 2/3 = 66.666…, × 1/3 = 33.333…: floors 66.66 + 33.33, the last fen to the larger remainder.
    assert result.owed == {1: 20000 - 6667, 2: 10000 - 3333}
    assert {a.rule for a in result.applications} == {Rule.SAME_DAY_PRO_RATA}


def test_pro_rata_ties_go_by_item_then_period() -> None:
    day = date(2025, 4, 10)
    charges = [Charge(3, "车位管理费", "2025-04", day, 100), Charge(1, "物业费", "2025-04", day, 100),
               Charge(2, "公共能耗分摊费", "2025Q2", day, 100)]
    result = allocate(charges, [Payment(1, date(2025, 4, 11), 100)])
    # 1.00 over three equal debts: 0.33 each, the odd fen to the first by item (公 < 物 < 车).
    assert {cid: 100 - owed for cid, owed in result.owed.items()} == {2: 34, 1: 33, 3: 33}


def test_prepayment_after_due_charges_then_credit() -> None:
    april = Charge(3, "物业费", "2025-04", date(2025, 4, 10), 10000)
    result = allocate([JAN, april], [Payment(1, date(2025, 3, 1), 25000)])
    assert result.owed == {1: 0, 3: 0}
    assert result.credit_fen == 5000
    assert [a.rule for a in result.applications] == [Rule.OLDEST_DUE, Rule.PREPAYMENT, Rule.CREDIT]


def test_payments_apply_in_date_then_receipt_order() -> None:
    same_day = date(2025, 2, 20)
    later_receipt = Payment(1, same_day, 10000, "SJ0002", "物业费", "2025-01")
    earlier_receipt = Payment(2, same_day, 5000, "SJ0001")
    result = allocate([JAN, FEB], [later_receipt, earlier_receipt])
    # SJ0001 goes first: 50.00 to January (oldest due). SJ0002 then designates
    # January, which owes only 50.00; its other 50.00 goes to February.
    assert [(a.payment_id, a.charge_id, a.amount_fen) for a in result.applications] == [
        (2, 1, 5000), (1, 1, 5000), (1, 2, 5000)]


def test_pro_rata_shares_add_up() -> None:
    assert pro_rata(100, [1, 1, 1]) == [34, 33, 33]
    assert pro_rata(1001, [5000, 3000, 2000]) == [501, 300, 200]
    assert pro_rata(0, [5, 5]) == [0, 0]


# --- properties --------------------------------------------------------------

ITEMS = ("物业费", "车位管理费", "公共能耗分摊费")
START = date(2024, 1, 1)

charge_lists = st.lists(
    st.tuples(st.sampled_from(ITEMS), st.integers(0, 23), st.integers(0, 400_00)),
    max_size=25, unique_by=lambda t: (t[0], t[1]),
).map(lambda rows: [Charge(i + 1, item, f"m{month:02d}", START + timedelta(days=30 * month), fen,
                           START + timedelta(days=30 * month - 9))  # billed 9 days before it is due
                    for i, (item, month, fen) in enumerate(rows)])
payment_lists = st.lists(
    st.tuples(st.integers(0, 800), st.integers(1, 500_00), st.sampled_from([None, *ITEMS]), st.integers(0, 23)),
    max_size=20,
).map(lambda rows: [Payment(i + 1, START + timedelta(days=day), fen, f"R{i:03d}", item,
                            f"m{month:02d}" if item else None)
                    for i, (day, fen, item, month) in enumerate(rows)])


@settings(max_examples=300, deadline=None)
@given(charge_lists, payment_lists)
def test_money_is_conserved_and_nothing_owes_below_zero(charges: list[Charge], payments: list[Payment]) -> None:
    result = allocate(charges, payments)
    applied = sum(a.amount_fen for a in result.applications if a.charge_id is not None)
    assert applied + result.credit_fen == sum(p.amount_fen for p in payments)
    assert all(a.amount_fen > 0 for a in result.applications)
    for charge in charges:
        assert result.owed[charge.id] >= 0
        assert result.owed[charge.id] == charge.amount_fen - result.paid(charge.id)
    if result.credit_fen:
        assert not any(result.owed.values())


@settings(max_examples=200, deadline=None)
@given(charge_lists, payment_lists, st.randoms())
def test_input_order_does_not_matter(charges: list[Charge], payments: list[Payment], random) -> None:  # type: ignore[no-untyped-def]
    first = allocate(charges, payments)
    shuffled_charges, shuffled_payments = charges[:], payments[:]
    random.shuffle(shuffled_charges)
    random.shuffle(shuffled_payments)
    second = allocate(shuffled_charges, shuffled_payments)
    assert (second.owed, second.credit_fen, second.applications) == (first.owed, first.credit_fen, first.applications)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9), st.lists(st.integers(1, 10**7), min_size=1, max_size=12))
def test_pro_rata_is_exact_and_fair(amount: int, weights: list[int]) -> None:
    shares = pro_rata(amount, weights)
    assert sum(shares) == amount
    total = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share * total - amount * weight) < total  # within one fen of the exact share


@settings(max_examples=200, deadline=None)
@given(charge_lists, payment_lists, st.integers(0, 900))
def test_aging_totals_are_what_is_billed_and_unpaid(charges: list[Charge], payments: list[Payment],
                                                     day: int) -> None:
    as_of = START + timedelta(days=day)
    ledger = UnitLedger("1-101", "1栋", "张三", charges, payments)
    unit = position(ledger, as_of, Buckets())
    billed = [c for c in charges if c.due_date <= as_of or c.period_start <= as_of]
    paid_by_then = sum(p.amount_fen for p in payments if p.paid_on <= as_of)
    owed = sum(c.amount_fen for c in billed) - (paid_by_then - unit.credit_fen)
    assert unit.overdue_fen + unit.not_yet_due_fen == owed
    assert unit.overdue_fen == sum(unit.by_bucket().values()) == sum(unit.by_item().values())
    unbilled = [c for c in charges if c not in billed]
    assert not any(c.id in unit.allocation.owed for c in unbilled)
