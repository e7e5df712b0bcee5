"""The payer's designation (art. 560 para 1) and deposits, each case worked by hand (issue #8 items 5, 6)."""

from datetime import date

from cuijiao.aging import Buckets, UnitLedger, position
from cuijiao.allocation import Charge, Payment, Rule, allocate

JAN = Charge(1, "物业费", "2025-01", date(2025, 1, 10), 100_00, date(2025, 1, 1))
APR = Charge(2, "物业费", "2025-04", date(2025, 4, 10), 100_00, date(2025, 4, 1))


def test_a_designation_of_a_charge_not_billed_yet_stays_with_it() -> None:
    """100.00 paid on 1 March for April, January (100.00) open: the money waits for April."""
    paid = Payment(3, date(2025, 3, 1), 100_00, "R1", "物业费", "2025-04")
    ledger = UnitLedger("1-101", "1栋", "张三", [JAN, APR], [paid])
    march = position(ledger, date(2025, 3, 15), Buckets())
    # As of 15 March April is not billed: January stays owed, the 100.00 is credit kept for April.
    assert (march.overdue_fen, march.credit_fen) == (100_00, 100_00)
    assert [(a.charge_id, a.amount_fen, a.rule, a.earmarked_for) for a in march.allocation.applications] == [
        (None, 100_00, Rule.EARMARKED, 2)]
    # Once April is billed the money is applied to it; January is still owed, never paid by it.
    april = position(ledger, date(2025, 4, 2), Buckets())
    assert (april.overdue_fen, april.credit_fen, april.allocation.owed) == (100_00, 0, {1: 100_00, 2: 0})


def test_an_item_alone_pays_that_item_s_oldest_open_charges() -> None:
    parking = Charge(3, "车位管理费", "2025-01", date(2025, 1, 5), 50_00)
    feb = Charge(4, "物业费", "2025-02", date(2025, 2, 10), 100_00)
    paid = Payment(5, date(2025, 3, 1), 150_00, "R1", "物业费", None)
    result = allocate([JAN, feb, parking], [paid])
    # Parking is older but not designated: January then February of 物业费.
    assert result.owed == {1: 0, 4: 50_00, 3: 50_00}
    assert [(a.charge_id, a.amount_fen, a.rule) for a in result.applications] == [
        (1, 100_00, Rule.DESIGNATED), (4, 50_00, Rule.DESIGNATED)]


def test_a_period_alone_pays_that_period_s_charges_pro_rata() -> None:
    fee = Charge(3, "物业费", "2025-03", date(2025, 3, 10), 200_00)
    parking = Charge(4, "车位管理费", "2025-03", date(2025, 3, 10), 100_00)
    paid = Payment(5, date(2025, 3, 20), 90_00, "R1", None, "2025-03")
    result = allocate([JAN, fee, parking], [paid])
    # January is older but the owner named March: 90.00 shared 2:1 → 60.00 and 30.00.
    assert result.owed == {1: 100_00, 3: 140_00, 4: 70_00}
    assert {a.rule for a in result.applications} == {Rule.DESIGNATED}


def test_a_range_pays_the_charges_in_it_oldest_first() -> None:
    charges = [Charge(10 + m, "物业费", f"2025-{m:02d}", date(2025, m, 10), 100_00) for m in range(3, 8)]
    paid = Payment(1, date(2025, 8, 1), 250_00, "R1", None, "2025-04~2025-06")
    result = allocate(charges, [paid])
    # March (older) and July are outside the range: April, May in full, 50.00 of June.
    assert result.owed == {13: 100_00, 14: 0, 15: 0, 16: 50_00, 17: 100_00}


def test_a_designation_that_matches_nothing_goes_by_law_and_says_so() -> None:
    nowhere = Payment(5, date(2025, 3, 1), 30_00, "R1", "停车费", "2025-01")
    twice = Payment(6, date(2025, 3, 2), 30_00, "R2", "物业费", "2025-01")
    first = Payment(4, date(2025, 2, 1), 100_00, "R0", "物业费", "2025-01")
    result = allocate([JAN, APR], [first, nowhere, twice])
    assert result.designation_notes == {5: "none", 6: "settled"}
    assert [(a.payment_id, a.charge_id, a.rule) for a in result.applications][1:] == [
        (5, 2, Rule.PREPAYMENT), (6, 2, Rule.PREPAYMENT)]
