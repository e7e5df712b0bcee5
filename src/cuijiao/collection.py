"""Plan and issue notices for the whole estate: the workflow over the pure ladder.

``plan_estate`` reads the workspace and asks :func:`cuijiao.stages.plan_unit`
what each unit is due next; ``issue_notices`` records what the plan says to
issue now — cases opened and closed, notices with their numbers, deadlines and
the debts they demand — in one transaction, audited. Issuing twice on the same
day issues nothing new: the first issue is the second plan's "previous notice".
Rendering the letters is the documents' job; this records that they were issued.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

import numpy as np

from cuijiao.aging import Buckets, natural_key, position
from cuijiao.arrears import NO_STANDING, Records, closed_since, kept_state, named, over_units, unit_index
from cuijiao.errors import BadInput, CuijiaoError
from cuijiao.kept_facts import limitation_candidates, summary_position
from cuijiao.limitation import RestDays, Status, clocks
from cuijiao.money import format_yuan
from cuijiao.outcomes import standing
from cuijiao.segments import classify, facts
from cuijiao.stages import STAGE_NAMES, WRITTEN_DEMAND, Block, Plan, Policy, expiry_matters, notices_ignored, plan_unit
from cuijiao.store.audit import Events, Run, appended_events, highest_recorded_notice_no, os_user, verify_state
from cuijiao.store.db import transaction
from cuijiao.store.notices import (
    StoredNotice,
    close_case,
    deliveries,
    insert_case,
    insert_notice,
    latest_collection_day,
    next_notice_no,
)
from cuijiao.store.reading import NamedUnits, UnitRange, owners, unit_ledgers
from cuijiao.workspace import Workspace


@dataclass(frozen=True)
class UnitPlan:
    plan: Plan
    overdue_fen: int
    overdue_charge_ids: tuple[int, ...]  # the debts a notice issued now would demand
    closed: tuple[int, date] | None  # an open case whose arrears fell below the minimum since

    @property
    def reason(self) -> str:
        if self.closed is None:
            return self.plan.reason
        return f"欠费已于 {self.closed[1].isoformat()} 降至起催金额以下，原案件结案；{self.plan.reason}"

    def shown_reason(self, *, unmask: bool = False) -> str:
        """The reason as printed: a hold's reason (health, family …) masked unless ``unmask``."""
        text = self.reason
        for private in [] if unmask else self.plan.private:
            text = text.replace(private, "***（--unmask 显示）")
        return text


def plan_estate(workspace: Workspace, as_of: date, *, approve: frozenset[str] = frozenset(),
                exact: bool = False) -> list[UnitPlan]:
    """What each unit in arrears, or with an open case, is due next as of ``as_of``, in natural unit order.

    Read from the kept allocation; units it cannot answer alone, and those whose debts
    may be near the end of their limitation period, the exact way. ``exact``: every unit
    read and allocated afresh, the reference the other way is checked against.

    An approval that cannot apply (no such unit, nothing owed, a next stage that needs
    none, a segment's cap) is bad input: the clerk meant something else.
    """
    if exact:
        plans = sorted(over_units(workspace, partial(_plan_part, as_of=as_of, approve=approve)),
                       key=lambda p: natural_key(p.plan.unit_id))
    else:
        plans = _kept_plans(workspace, as_of, approve)
    problems = approval_problems(workspace, plans, approve)
    if problems:
        raise BadInput("\n".join(["--approve 无法批准以下房号，未做任何改动：", *(f"  {p}" for p in problems)]))
    workspace.last_plan = _Planned(as_of, approve, plans, _written(workspace))
    return plans


@dataclass(frozen=True)
class _Planned:
    """An estate plan and what the database was when it was made."""

    as_of: date
    approve: frozenset[str]
    plans: list[UnitPlan]
    written: tuple[int, int]


def _written(workspace: Workspace) -> tuple[int, int]:
    """Changes since the connection opened: committed by other connections (SQLite's data_version moves
    on each), and rows written by this one. Equal twice: the database is as it was."""
    db = workspace.db
    return int(db.execute("PRAGMA data_version").fetchone()[0]), db.total_changes


def _plan_to_issue(workspace: Workspace, as_of: date, approve: frozenset[str]) -> list[UnitPlan]:
    """The estate plan, made again unless this connection's last plan is of the same day and approvals
    and nothing was written since (the monthly batch plans, then issues: a plan is seconds at 100,000 units)."""
    planned, workspace.last_plan = workspace.last_plan, None
    if (isinstance(planned, _Planned) and (planned.as_of, planned.approve) == (as_of, approve)
            and planned.written == _written(workspace)):
        return planned.plans
    plans = plan_estate(workspace, as_of, approve=approve)
    workspace.last_plan = None  # issuing writes: this plan is spent too
    return plans


def collection_after(workspace: Workspace, as_of: date) -> date | None:
    """The day of the last recorded collection step when it is after ``as_of``, else None."""
    latest = latest_collection_day(workspace.db)
    return latest if latest is not None and as_of < latest else None


def require_not_before_collection(workspace: Workspace, as_of: date) -> None:
    """Cases and notices only move forward in time: a plan as of a day before the last recorded step
    would close cases before they opened and repeat stages already issued."""
    latest = collection_after(workspace, as_of)
    if latest is not None:
        raise BadInput(f"--as-of {as_of.isoformat()} 早于已记录的最近一次催缴（{latest.isoformat()}）："
                       f"案件和通知只能按日期向后推进，请用不早于 {latest.isoformat()} 的日期；"
                       "当时的欠费可用 aging / unit 查看")


def approval_problems(workspace: Workspace, plans: list[UnitPlan], approve: frozenset[str]) -> list[str]:
    """Why each approved unit cannot be approved, in unit order; empty when all can."""
    if not approve:
        return []
    by_unit, known = {p.plan.unit_id: p.plan for p in plans}, owners(workspace.db)
    shown = {p.plan.unit_id: p.shown_reason() for p in plans}
    needs = workspace.settings.policy.approval_stages
    problems = []
    for unit_id in sorted(approve, key=natural_key):
        plan = by_unit.get(unit_id)
        if unit_id not in known:
            problems.append(f"{unit_id}：没有这个房号")
        elif plan is None or (plan.next_stage is None and plan.blocked_by is not Block.DISPUTE):
            problems.append(f"{unit_id}：{shown[unit_id] if plan else '没有逾期欠费，也没有进行中的催缴'}，无需批准")
        elif plan.blocked_by is Block.DISPUTE:
            problems.append(f"{unit_id}：{shown[unit_id]}，不能批准")
        elif plan.next_stage is not None and plan.next_stage not in needs:
            problems.append(f"{unit_id}：下一级是第 {plan.next_stage} 级 {STAGE_NAMES[plan.next_stage]}，不需要批准"
                            f"（需批准的级别：{'、'.join(map(str, sorted(needs)))}）")
    return problems


def _kept_plans(workspace: Workspace, as_of: date, approve: frozenset[str]) -> list[UnitPlan]:
    """Plans from the kept facts. A unit with no debt near its limitation end is not expiring; one
    with such a debt is planned the exact way only when its ladder is held back (the one place a plan
    reads whether a debt is expiring)."""
    kept, settings = kept_state(workspace, as_of), workspace.settings
    facts, estate = kept.facts, kept.facts.estate
    index = unit_index(estate)
    with_case = np.zeros(len(estate.unit_ids), dtype=bool)
    with_case[[index[unit_id] for unit_id in kept.records.cases if unit_id in index]] = True
    wanted = (facts.overdue_fen > 0) | with_case
    exact = wanted & kept.exact
    warn_days = settings.limitation_warn_days
    people, fast, near_limit = kept.records.people, wanted & ~exact, limitation_candidates(facts, warn_days).tolist()
    overdue, payments = facts.overdue_by_unit(kept.buckets), kept.case_payments(fast)
    charge_ids, rules, policy = facts.overdue_charge_ids(), settings.segment_rules, settings.policy
    found: dict[int, UnitPlan] = {}
    for unit in np.flatnonzero(fast).tolist():
        unit_id = estate.unit_ids[unit]
        case, closed = kept.case(unit)
        summary = summary_position(facts, unit, overdue.get(unit, Counter()), payments.get(unit, []))
        verdict = classify(rules, kept.facts_of(people[unit_id], unit, notices_ignored(case, summary)))
        approved = unit_id in approve
        if near_limit[unit] and expiry_matters(summary, verdict.segment, NO_STANDING, case, policy, approved=approved):
            exact[unit] = True
            continue
        plan = plan_unit(summary, verdict.segment, NO_STANDING, case, policy, approved=approved)
        found[unit] = UnitPlan(plan, summary.overdue_fen, charge_ids.get(unit, ()), closed)
    found |= {index[p.plan.unit_id]: p for p in _plans(workspace, named(estate, exact), as_of, approve, kept.records)}
    # Natural unit order (1-1-101 before 1-1-1002): notice numbers, letters and lists follow it.
    return [found[unit] for unit in sorted(found, key=estate.unit_rank.tolist().__getitem__)]


def _plan_part(workspace: Workspace, units: UnitRange, *, as_of: date, approve: frozenset[str]) -> list[UnitPlan]:
    return list(_plans(workspace, units, as_of, approve))


def _plans(workspace: Workspace, units: UnitRange | NamedUnits, as_of: date, approve: frozenset[str],
           records: Records | None = None) -> Iterator[UnitPlan]:
    db, settings = workspace.db, workspace.settings
    buckets, policy = Buckets(settings.aging_buckets), settings.policy
    rest_days = RestDays(settings.extra_holidays, settings.extra_workdays)
    records = records or Records.read(workspace)
    cases, recorded, people, delivered = records.cases, records.recorded, records.people, deliveries(db)
    for ledger in unit_ledgers(db, units):
        unit_id = ledger.unit_id
        case = cases.get(unit_id)
        unit = position(ledger, as_of, buckets)
        if not unit.overdue_fen and case is None:
            continue
        closed = closed_since(ledger, case, as_of, buckets, policy) if case else None
        if closed is not None:
            case = None
        outcomes = recorded.get(unit_id, [])
        now = standing(outcomes, unit.payments, as_of)
        ignored = notices_ignored(case, unit, outcomes)
        verdict = classify(settings.segment_rules, facts(people[unit_id], unit, now, ignored))
        limitation = clocks(unit, outcomes, rest_days, settings.limitation_warn_days, delivered.get(unit_id, []))
        expiring = any(c.status is Status.EXPIRING for c in limitation)  # an expired debt no demand revives
        plan = plan_unit(unit, verdict.segment, now, case, policy, expiring=expiring, approved=unit_id in approve)
        owed = unit.allocation.owed
        overdue_ids = tuple(c.id for c in unit.charges if owed[c.id] > 0 and c.due_date < as_of)
        yield UnitPlan(plan, unit.overdue_fen, overdue_ids, closed)


def issue_notices(workspace: Workspace, run: Run, as_of: date, *,
                  approve: frozenset[str] = frozenset()) -> list[StoredNotice]:
    """Record every notice the plan says to issue now; returns them.

    The plan is made inside the write transaction: a second issuer waits for
    this one and then plans from what it recorded, and an outcome recorded
    meanwhile either committed before (the plan sees it) or waits until after.
    A plan this connection made before, of the same day and approvals, is taken
    up when the database shows no write since, which is checked here too.
    """
    today = date.today()
    if as_of > today:  # a letter dated in the future would be evidence of nothing
        raise BadInput(f"--as-of {as_of.isoformat()} 晚于今天（{today.isoformat()}）：通知不能记为尚未到来的日期发出")
    policy, db, issued = workspace.settings.policy, workspace.db, []
    with transaction(db):
        _refuse_tampered(workspace)
        require_not_before_collection(workspace, as_of)
        plans = _plan_to_issue(workspace, as_of, approve)  # under the write lock: nobody writes meanwhile
        recorded = highest_recorded_notice_no(db, f"CJ{as_of.year}-")
        numbers = notice_numbers(next_notice_no(db, as_of.year, recorded))
        with appended_events(db) as events:
            for unit_plan in plans:
                _close_cases(workspace, run, events, unit_plan, as_of)
                if unit_plan.plan.issue_now:
                    issued.append(_issue(workspace, run, events, unit_plan, as_of, policy, next(numbers)))
    run.counts.update(as_of=as_of.isoformat(), notices_issued=len(issued))
    return issued


def _refuse_tampered(workspace: Workspace) -> None:
    """Issue nothing when the notices or cases disagree with the audit chain.

    A notice row deleted outside cuijiao (triggers dropped) would otherwise be
    planned, and sent, a second time.
    """
    problems = verify_state(workspace.db, ("notices", "cases", "case_closings"))
    if problems:
        shown = problems[:10] + ([f"……另有 {len(problems) - 10} 处"] if len(problems) > 10 else [])
        raise CuijiaoError("\n".join([
            "通知、案件记录与审计链不一致，可能在 cuijiao 之外被改动；为免重复发出通知，未发出任何通知：",
            *(f"  {p}" for p in shown),
            "请先运行 cuijiao audit verify 查明全部问题，并从备份恢复工作区后再发出通知。"]))


def notice_numbers(first: str) -> Iterator[str]:
    """``first`` (CJ<year>-<six digits>) and the numbers after it: one issuing transaction's, in which
    nobody else issues."""
    prefix, number = first[:first.index("-") + 1], int(first[first.index("-") + 1:])
    while True:
        yield f"{prefix}{number:06d}"
        number += 1


def _close_cases(workspace: Workspace, run: Run, events: Events, unit_plan: UnitPlan, as_of: date) -> None:
    plan, closings = unit_plan.plan, []
    if unit_plan.closed is not None:
        closings.append(unit_plan.closed)
    if plan.close_case and plan.case is not None and plan.case.id is not None:
        closings.append((plan.case.id, as_of))
    for case_id, closed_on in closings:
        close_case(workspace.db, run.id, case_id, closed_on)
        events.append(run.id, "case.close", {"case_id": case_id, "closed_on": closed_on.isoformat()},
                      unit_id=plan.unit_id)


def _issue(workspace: Workspace, run: Run, events: Events, unit_plan: UnitPlan, as_of: date, policy: Policy,
           notice_no: str) -> StoredNotice:
    plan, db = unit_plan.plan, workspace.db
    assert plan.case is not None and plan.next_stage is not None
    case_id = plan.case.id
    if case_id is None:
        case_id = insert_case(db, run.id, plan.unit_id, plan.case.opened_on)
        events.append(run.id, "case.open", {"case_id": case_id, "opened_on": plan.case.opened_on.isoformat()},
                      unit_id=plan.unit_id)
    charge_ids = unit_plan.overdue_charge_ids
    deadline = as_of + timedelta(days=policy.deadline_days) if plan.next_stage >= WRITTEN_DEMAND else None
    stored = StoredNotice(notice_no, case_id, plan.unit_id, plan.next_stage, as_of,
                          deadline, unit_plan.overdue_fen, charge_ids, plan.purpose)
    approved_by = os_user() if plan.next_stage in policy.approval_stages else None
    today = date.today()
    insert_notice(db, run.id, stored, plan.segment, approved_by, today)
    events.append(run.id, "notice.issue", {
        "recorded_on": today.isoformat(), "backdated": as_of < today,
        "notice_no": stored.notice_no, "case_id": case_id, "stage": stored.stage, "purpose": stored.purpose.value,
        "segment": plan.segment, "amount": format_yuan(stored.amount_fen), "charge_ids": list(charge_ids),
        "deadline": deadline.isoformat() if deadline else None, "approved_by": approved_by, "reason": unit_plan.reason,
    }, unit_id=plan.unit_id)
    return stored
