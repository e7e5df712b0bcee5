"""The limitation clock: period arithmetic by the Civil Code, and what restarts it."""

from datetime import date

from cuijiao.aging import Buckets, UnitLedger, position
from cuijiao.allocation import Charge, Payment
from cuijiao.limitation import Interruption, RestDays, Status, clocks, period_end
from cuijiao.outcomes import Kind, Outcome

REST = RestDays()


def test_three_years_to_the_same_day() -> None:
    # 2022-03-15 + 3 years = 2025-03-15, a Saturday: the period ends on Monday 2025-03-17.
    assert period_end(date(2022, 3, 15), REST) == date(2025, 3, 17)
    # 2022-06-20 + 3 years = 2025-06-20, a Friday and a working day.
    assert period_end(date(2022, 6, 20), REST) == date(2025, 6, 20)


def test_a_start_on_29_february_ends_on_the_last_day_of_february() -> None:
    # 2021-02-28 has no 29th: 2020-02-29 + 3 years ends 2023-02-28, a Tuesday.
    assert period_end(date(2020, 2, 29), REST) == date(2023, 2, 28)


def test_an_end_on_a_statutory_holiday_moves_past_it() -> None:
    # 2025-10-01 … 10-08 is the National Day holiday: 2022-10-03 + 3 years ends on 2025-10-09.
    assert period_end(date(2022, 10, 3), REST) == date(2025, 10, 9)
    # 2025-09-28 is a Sunday made a working day (调休): a period may end on it.
    assert period_end(date(2022, 9, 28), REST) == date(2025, 9, 28)


def test_years_without_a_published_calendar_use_weekends_and_the_workspace_days() -> None:
    assert not RestDays.official(date(2029, 1, 1))
    # 2029-01-01 is a Monday, a holiday only if the workspace says so.
    assert period_end(date(2026, 1, 1), REST) == date(2029, 1, 1)
    assert period_end(date(2026, 1, 1), RestDays(holidays=[date(2029, 1, 1)])) == date(2029, 1, 2)


def _unit(charges: list[Charge], payments: list[Payment], as_of: date) -> object:
    return position(UnitLedger("1-101", "1栋", "张三", charges, payments), as_of, Buckets())


def test_only_evidence_restarts_a_charge_s_clock() -> None:
    old = Charge(1, "物业费", "2023-01", date(2023, 1, 10), 10000)
    later = Charge(2, "物业费", "2023-06", date(2023, 6, 12), 10000)
    part = Payment(1, date(2024, 5, 6), 4000)  # pays 40.00 of January 2023 (oldest due)
    promise = Outcome(1, "1-101", Kind.PROMISE, date(2023, 3, 1), date(2023, 4, 1), 5000)
    call = Outcome(2, "1-101", Kind.CALL, date(2025, 1, 6), detail={"outcome": "拒接"})
    as_of = date(2026, 4, 1)
    unit = _unit([old, later], [part], as_of)
    result = {c.charge.id: c for c in clocks(unit, [promise, call], REST)}  # type: ignore[arg-type]
    # January: the part payment on 2024-05-06 restarts it → ends 2027-05-06 (Thursday).
    assert (result[1].last_interruption, result[1].ends) == ((date(2024, 5, 6), Interruption.PAYMENT),
                                                             date(2027, 5, 6))
    assert result[1].status is None
    # June 2023 was not yet due at the promise (2023-03-01) and got no payment; a refused
    # call is no evidence. Due 2023-06-12 → ends 2026-06-12 (Friday): 72 days away.
    assert (result[2].last_interruption, result[2].ends, result[2].status) == (None, date(2026, 6, 12),
                                                                                Status.EXPIRING)


def test_expired_charges_stay_listed() -> None:
    charge = Charge(1, "物业费", "2022-01", date(2022, 1, 10), 10000)
    unit = _unit([charge], [], date(2026, 11, 27))
    [clock] = clocks(unit, [], REST)  # type: ignore[arg-type]
    # 2025-01-10 is a Friday.
    assert (clock.ends, clock.status, clock.owed_fen) == (date(2025, 1, 10), Status.EXPIRED, 10000)
