"""The collection ladder: which notice each unit is due next, when, or what blocks it. Pure.

Stages (PRODUCT.md §7): 1 缴费提醒, 2 催缴通知书, 3 催缴函, 4 律师函, 5 诉讼材料. A
case opens when a unit falls overdue and closes when its arrears drop below the
minimum; the stages belong to the case. One step at a time, each at least the
minimum interval after the previous notice and never before that notice's payment
deadline has passed; the first notice of a case is a written demand (stage 2) when
the oldest charge is already 30 days overdue. Nothing is issued under a promise in
effect or a hold; a segment may cap the ladder (dispute: stage 2), but debts whose
limitation period ends soon still get a written demand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import NamedTuple

from cuijiao.aging import UnitPosition
from cuijiao.outcomes import Kind, Outcome, Standing

STAGE_NAMES = {1: "缴费提醒", 2: "催缴通知书", 3: "催缴函", 4: "律师函", 5: "诉讼材料"}
LAST_STAGE = 5
WRITTEN_DEMAND = 2


class Block(StrEnum):
    PROMISE = "promise"
    HOLD = "hold"
    DISPUTE = "dispute"
    APPROVAL = "approval"
    INTERVAL = "interval"
    DEADLINE = "deadline"
    BELOW_MINIMUM = "below_minimum"
    THRESHOLD = "threshold"  # the oldest debt is not yet overdue long enough for the stage


class Purpose(StrEnum):
    LADDER = "ladder"
    LIMITATION = "limitation"


@dataclass(frozen=True)
class Policy:
    thresholds: Mapping[int, int] = field(default_factory=lambda: {1: 15, 2: 30, 3: 90, 4: 180, 5: 365})
    min_interval_days: int = 15
    deadline_days: int = 15
    minimum_fen: int = 5000
    approval_stages: frozenset[int] = frozenset({4, 5})
    max_stage_by_segment: Mapping[str, int] = field(default_factory=lambda: {"dispute": 2})


class IssuedNotice(NamedTuple):
    """A notice of an open case (a named tuple: every open case's notices are read per plan)."""

    notice_no: str
    stage: int
    issued_on: date
    deadline: date | None
    purpose: Purpose = Purpose.LADDER
    delivered_on: date | None = None  # recorded proof that it arrived


@dataclass(frozen=True)
class Case:
    id: int | None  # None: the case this plan would open
    opened_on: date
    notices: tuple[IssuedNotice, ...] = ()

    @property
    def stage(self) -> int:
        return max((n.stage for n in self.notices if n.purpose is Purpose.LADDER), default=0)

    @property
    def last_notice(self) -> IssuedNotice | None:
        return max(self.notices, key=lambda n: (n.issued_on, n.stage), default=None)


@dataclass(frozen=True)
class Plan:
    unit_id: str
    segment: str
    case: Case | None
    stage_now: int
    next_stage: int | None
    next_on: date | None
    blocked_by: Block | None
    reason: str
    issue_now: bool = False
    purpose: Purpose = Purpose.LADDER
    close_case: bool = False
    # Text in the reason that may be health or other sensitive data (a hold's reason): masked
    # in output unless the clerk asks (PIPL art. 28).
    private: tuple[str, ...] = ()


def notices_ignored(case: Case | None, unit: UnitPosition, outcomes: Sequence[Outcome] = ()) -> int:
    """Written notices of the case, delivered, whose deadline passed with no payment, promise or dispute meanwhile.

    A letter with no proof that it arrived was not ignored: the owner may never have seen it.
    """
    if case is None:
        return 0
    answers = [p.paid_on for p in unit.payments] + [o.on for o in outcomes if o.kind in (Kind.PROMISE, Kind.DISPUTE)]
    return sum(1 for n in case.notices if may_be_ignored(n, unit.as_of)
               and n.deadline is not None and not any(n.issued_on <= day <= n.deadline for day in answers))


def may_be_ignored(notice: IssuedNotice, as_of: date) -> bool:
    """A written notice, delivered, whose deadline passed by ``as_of``: ignored unless answered between
    its issue and its deadline."""
    return (notice.stage >= WRITTEN_DEMAND and notice.deadline is not None and notice.deadline < as_of
            and notice.delivered_on is not None and notice.delivered_on <= as_of)



def plan_unit(unit: UnitPosition, segment: str, standing: Standing, case: Case | None, policy: Policy, *,
              expiring: bool = False, approved: bool = False) -> Plan:
    """What to do next for one unit as of its position's date."""
    unit_id, today = unit.ledger.unit_id, unit.as_of
    if unit.overdue_fen < policy.minimum_fen or unit.oldest_due is None:
        stage = case.stage if case else 0
        reason = "欠费已低于起催金额，结案" if case else "欠费低于起催金额，暂不催缴"
        return Plan(unit_id, segment, case, stage, None, None, Block.BELOW_MINIMUM if unit.overdue_fen else None,
                    reason, close_case=case is not None)
    case = case or Case(None, unit.oldest_due + timedelta(days=1))
    ladder = _Ladder(unit, segment, standing, case, policy, today)
    if expiring and ladder.held_back(approved=approved):
        demand = ladder.limitation_demand()
        if demand is not None:
            return demand
    return ladder.next_step(approved=approved)


def expiry_matters(unit: UnitPosition, segment: str, standing: Standing, case: Case | None, policy: Policy, *,
                   approved: bool = False) -> bool:
    """Whether :func:`plan_unit`'s answer may depend on ``expiring``: only a held-back ladder reads it."""
    if unit.overdue_fen < policy.minimum_fen or unit.oldest_due is None:
        return False
    case = case or Case(None, unit.oldest_due + timedelta(days=1))
    return _Ladder(unit, segment, standing, case, policy, unit.as_of).held_back(approved=approved)


@dataclass
class _Ladder:
    unit: UnitPosition
    segment: str
    standing: Standing
    case: Case
    policy: Policy
    today: date

    @property
    def oldest_days(self) -> int:
        assert self.unit.oldest_due is not None
        return (self.today - self.unit.oldest_due).days

    def candidate(self) -> int | None:
        stage = self.case.stage
        if stage == 0:
            return WRITTEN_DEMAND if self.oldest_days >= self.policy.thresholds[WRITTEN_DEMAND] else 1
        return stage + 1 if stage < LAST_STAGE else None

    def held_back(self, *, approved: bool) -> bool:
        """Whether the ladder cannot demand now: segment cap, promise, hold, approval awaited, or the top
        reached with no legal step on record."""
        stage = self.candidate()
        if stage is None:
            return self.standing.legal_step is None
        cap = self.policy.max_stage_by_segment.get(self.segment, LAST_STAGE)
        awaiting = stage in self.policy.approval_stages and not approved
        return bool(self.standing.hold or self.standing.promise_until or stage > cap or awaiting)

    def _plan(self, stage: int | None, on: date | None, block: Block | None, reason: str, *,
              issue: bool = False, purpose: Purpose = Purpose.LADDER) -> Plan:
        hold = self.standing.hold
        private = (str(hold.detail["reason"]),) if hold is not None and hold.detail.get("reason") else ()
        return Plan(self.unit.ledger.unit_id, self.segment, self.case, self.case.stage, stage, on, block, reason,
                    issue, purpose, private=private)

    def next_step(self, *, approved: bool) -> Plan:
        stage = self.candidate()
        if stage is None:
            return self._plan(None, None, None, "已到最后一级（诉讼材料），由律师跟进")
        cap = self.policy.max_stage_by_segment.get(self.segment, LAST_STAGE)
        if stage > cap:
            return self._plan(None, None, Block.DISPUTE,
                              f"所在分群最多到第 {cap} 级（{STAGE_NAMES[cap]}），先处理争议")
        waits = self._waits(stage)
        pending = [(on, block, why) for on, block, why in waits if on > self.today]
        next_on = max([self.today, *(on for on, _, _ in waits)])
        name = f"第 {stage} 级 {STAGE_NAMES[stage]}"
        if pending:
            _on, block, _why = _binding(pending)
            pending.sort(key=lambda wait: wait[0])
            waiting = "；".join(f"{why}（{on.isoformat()} 起）" for on, _block, why in pending)
            return self._plan(stage, next_on, block, f"{name}：{waiting}")
        if stage in self.policy.approval_stages and not approved:
            return self._plan(stage, self.today, Block.APPROVAL, f"{name}需经批准（notices issue --approve 房号）")
        return self._plan(stage, self.today, None, f"{name}：最早欠费已逾期 {self.oldest_days} 天", issue=True)

    def _waits(self, stage: int) -> list[tuple[date, Block | None, str]]:
        """Each condition the step waits for: the first day it holds, what blocks until then, why."""
        assert self.unit.oldest_due is not None
        policy = self.policy
        waits: list[tuple[date, Block | None, str]] = []
        threshold = policy.thresholds[stage]
        waits.append((self.unit.oldest_due + timedelta(days=threshold), Block.THRESHOLD,
                      f"待最早欠费逾期满 {threshold} 天"))
        last = self.case.last_notice
        if last is not None:
            waits.append((last.issued_on + timedelta(days=policy.min_interval_days), Block.INTERVAL,
                          f"距上次通知（{last.notice_no}）不足 {policy.min_interval_days} 天"))
            if last.deadline is not None:
                waits.append((last.deadline + timedelta(days=1), Block.DEADLINE,
                              f"上次通知的缴费期限 {last.deadline.isoformat()} 未过"))
        promise = self.standing.promise_until
        if promise is not None and promise.until:
            kept = "（已按承诺付款，到期后再核对）" if promise is not self.standing.promise_in_effect else ""
            waits.append((promise.until + timedelta(days=1), Block.PROMISE,
                          f"业主承诺 {promise.until.isoformat()} 前缴费{kept}"))
        if self.standing.hold and self.standing.hold.until:
            until = self.standing.hold.until
            reason = self.standing.hold.detail.get("reason", "")
            waits.append((until + timedelta(days=1), Block.HOLD, f"暂停催缴至 {until.isoformat()}（{reason}）"))
        return waits

    def limitation_demand(self) -> Plan | None:
        """A written demand for debts whose limitation period ends soon, outside the ladder."""
        last = self.case.last_notice
        if last is not None and (last.issued_on + timedelta(days=self.policy.min_interval_days) > self.today
                                 or (last.deadline is not None and last.deadline >= self.today)):
            return None  # a demand is fresh enough: deliver it and record the delivery
        return self._plan(WRITTEN_DEMAND, self.today, None, "诉讼时效即将届满：发出书面催缴，并保留送达证据",
                          issue=True, purpose=Purpose.LIMITATION)


_PRIORITY = (Block.HOLD, Block.PROMISE, Block.DEADLINE, Block.INTERVAL, Block.THRESHOLD, None)


def _binding(pending: list[tuple[date, Block | None, str]]) -> tuple[date, Block | None, str]:
    """The constraint that binds: the one that passes last (the next date is its), ties by priority."""
    return min(pending, key=lambda wait: (-wait[0].toordinal(), _PRIORITY.index(wait[1])))
