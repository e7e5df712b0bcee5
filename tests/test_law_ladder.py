"""The ladder as the law reads it (issue #8 items 4, 9, 10, 13), each case worked by hand."""

from datetime import date

from cuijiao.aging import Buckets, UnitLedger, UnitPosition, position
from cuijiao.allocation import Charge, Payment
from cuijiao.outcomes import Kind, Outcome, Standing, standing
from cuijiao.stages import Block, Case, IssuedNotice, Policy, Purpose, notices_ignored, plan_unit

NOTHING = Standing(None, None, 0, None)


def _position(as_of: date, dues: list[date], payments: list[Payment] | None = None) -> UnitPosition:
    charges = [Charge(i + 1, "物业费", f"{d:%Y-%m}", d, 100_00) for i, d in enumerate(dues)]
    return position(UnitLedger("9-901", "9栋", "周九", charges, payments or []), as_of, Buckets())


def test_the_limitation_demand_when_the_ladder_cannot_act() -> None:
    as_of = date(2026, 11, 27)
    unit = _position(as_of, [date(2023, 12, 10)])  # ends 2026-12-10: 13 days away
    notices = tuple(IssuedNotice(f"CJ2024-00000{s}", s, date(2024, s, 1), date(2024, s, 16)) for s in (2, 3, 4, 5))
    top = Case(7, date(2023, 12, 11), notices)
    # Stage 5 issued, no legal step recorded: the ladder has nothing left, the demand is proposed.
    demand = plan_unit(unit, "chronic", NOTHING, top, Policy(), expiring=True)
    assert (demand.next_stage, demand.purpose, demand.issue_now) == (2, Purpose.LIMITATION, True)
    # With a suit on record the lawyer's case carries the debt: no demand.
    suit = Outcome(3, "9-901", Kind.LEGAL, date(2024, 6, 1), detail={"step": "起诉"})
    filed = standing([suit], [], as_of)
    assert plan_unit(unit, "chronic", filed, top, Policy(), expiring=True).purpose is Purpose.LADDER
    # Stage 4 waiting for approval: the demand goes out meanwhile.
    waiting = Case(7, date(2023, 12, 11), notices[:2])
    demand = plan_unit(unit, "chronic", NOTHING, waiting, Policy(), expiring=True)
    assert (demand.purpose, demand.issue_now) == (Purpose.LIMITATION, True)


def test_only_delivered_notices_left_unanswered_are_ignored() -> None:
    as_of = date(2025, 6, 1)
    unit = _position(as_of, [date(2025, 1, 10)])
    delivered = IssuedNotice("CJ2025-000001", 2, date(2025, 2, 20), date(2025, 3, 7), delivered_on=date(2025, 2, 22))
    undelivered = IssuedNotice("CJ2025-000002", 3, date(2025, 4, 20), date(2025, 5, 5))
    answered = IssuedNotice("CJ2025-000003", 4, date(2025, 5, 6), date(2025, 5, 21), delivered_on=date(2025, 5, 8))
    case = Case(1, date(2025, 1, 11), (delivered, undelivered, answered))
    promise = Outcome(4, "9-901", Kind.PROMISE, date(2025, 5, 10), date(2025, 5, 31), 50_00)
    assert notices_ignored(case, unit, [promise]) == 1  # only the first: delivered, its deadline passed unanswered
    assert notices_ignored(case, unit, []) == 2


def test_a_kept_promise_holds_its_date() -> None:
    promise = Outcome(1, "9-901", Kind.PROMISE, date(2025, 3, 1), date(2025, 3, 31), 100_00)
    paid = Payment(2, date(2025, 3, 3), 100_00)  # pays January in full as promised; February is still owed
    unit = _position(date(2025, 3, 5), [date(2025, 1, 10), date(2025, 2, 10)], [paid])
    plan = plan_unit(unit, "reminder", standing([promise], [paid], unit.as_of), None, Policy())
    assert (plan.issue_now, plan.blocked_by, plan.next_on) == (False, Block.PROMISE, date(2025, 4, 1))


def test_blocked_by_names_the_constraint_that_binds() -> None:
    as_of = date(2025, 3, 1)
    unit = _position(as_of, [date(2025, 1, 10)])
    case = Case(1, date(2025, 1, 11), (IssuedNotice("CJ2025-000001", 2, date(2025, 2, 20), date(2025, 3, 7)),))
    # Stage 3 needs 90 days overdue (2025-04-10): later than the interval (03-07) and the deadline (03-08).
    plan = plan_unit(unit, "reminder", NOTHING, case, Policy())
    assert (plan.next_stage, plan.next_on, plan.blocked_by) == (3, date(2025, 4, 10), Block.THRESHOLD)
    # The deadline binds when it is the last to pass.
    late = Case(1, date(2025, 1, 11), (IssuedNotice("CJ2025-000001", 2, date(2025, 3, 1), date(2025, 4, 20)),))
    assert plan_unit(unit, "reminder", NOTHING, late, Policy()).blocked_by is Block.DEADLINE
