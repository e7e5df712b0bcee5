"""What happens between two monthly runs of the demo: the estate's outcomes.

After each month's run the demo records what a real month brings — letters
delivered (signed for in person, by EMS), calls, promises kept and broken, a
dispute opened and later resolved, a hardship owner's instalment plan (a hold),
a payment-order application after the litigation file — so that, with the
manager approving a few lawyer's letters each month (``approve_first``), a year
shows every stage, segment and document. Choices are deterministic: the same
sample always tells the same story.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from cuijiao.errors import BadInput
from cuijiao.outcomes import Kind, Outcome
from cuijiao.recording import Delivery, record, record_delivery
from cuijiao.stages import WRITTEN_DEMAND
from cuijiao.store.audit import Run, recorded
from cuijiao.store.notices import StoredNotice
from cuijiao.workspace import Workspace

Save = Callable[[Outcome], bool]
APPROVALS_PER_MONTH = 3  # the manager approves a few of those waiting each month, in unit order
DISPUTE_MONTH, RESOLVE_MONTH = 2, 6


@dataclass
class Story:
    """What the story has set in motion, carried from month to month."""

    disputed: str | None = None
    planned: str | None = None
    sued: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


def between_months(workspace: Workspace, story: Story, month: int, as_of: date,
                   issued: list[StoredNotice]) -> None:
    """Record the outcomes of the days after ``as_of`` (the ``month``-th run of the demo)."""
    with recorded(workspace.db, "demo outcomes", [as_of.isoformat()]) as run:
        def save(outcome: Outcome) -> bool:
            try:
                record(workspace, run, outcome, today=outcome.on)
            except BadInput:
                return False  # the account no longer allows it (paid meanwhile): the story moves on
            story.count(outcome.kind.value)
            return True

        _deliver(workspace, story, run, issued)
        _calls(save, as_of, issued)
        _promises(workspace, save, as_of, issued)
        _dispute(story, save, month, as_of, issued)
        _instalments(workspace, story, save, as_of)
        for notice in issued:
            if notice.stage == 5 and notice.unit_id not in story.sued:
                story.sued.add(notice.unit_id)
                save(Outcome(0, notice.unit_id, Kind.LEGAL, as_of + timedelta(days=20),
                             detail={"step": "支付令申请", "evidence": f"法院收件回执 {notice.notice_no}"}))


def _deliver(workspace: Workspace, story: Story, run: Run, issued: list[StoredNotice]) -> None:
    """Most written notices arrive; one in seven is never proven delivered."""
    names = dict(workspace.db.execute("SELECT unit_id, owner_name FROM units").fetchall())
    for index, notice in enumerate(issued):
        if notice.stage < WRITTEN_DEMAND or index % 7 == 6:
            continue
        on = notice.issued_on + timedelta(days=2 + index % 4)
        if notice.stage == WRITTEN_DEMAND:
            relation = "同住成年家属" if index % 3 == 2 else "本人"
            signer = names.get(notice.unit_id, "") if relation == "本人" else "家属"
            delivery = Delivery(notice.notice_no, on, "当面签收", signer, relation, "送达回执")
        else:
            delivery = Delivery(notice.notice_no, on, "EMS", evidence=f"EMS{notice.notice_no[2:].replace('-', '')}CN")
        record_delivery(workspace, run, delivery, today=on)
        story.count("delivered")


def _calls(save: Save, as_of: date, issued: list[StoredNotice]) -> None:
    results = ("承诺缴费", "无人接听", "拒接", "其他")
    for index, notice in enumerate(n for n in issued if n.stage == 1):
        save(Outcome(0, notice.unit_id, Kind.CALL, as_of + timedelta(days=1),
                     detail={"outcome": results[index % len(results)], "note": "缴费提醒后回访"}))


def _promises(workspace: Workspace, save: Save, as_of: date, issued: list[StoredNotice]) -> None:
    """One owner who then pays as promised, one who does not."""
    on, by = as_of + timedelta(days=1), as_of + timedelta(days=20)
    paying: dict[str, int] = dict(workspace.db.execute(
        "SELECT unit_id, sum(amount_fen) FROM payments WHERE kind = 'payment' AND paid_on > ? AND paid_on <= ?"
        " GROUP BY unit_id",
        (on.isoformat(), by.isoformat())).fetchall())
    candidates = [n for n in issued if n.stage <= 3]
    kept = next((n for n in candidates if paying.get(n.unit_id)), None)
    if kept is not None:
        save(Outcome(0, kept.unit_id, Kind.PROMISE, on, by, min(paying[kept.unit_id], kept.amount_fen),
                     {"note": "电话中承诺发工资后缴清"}))
    broken = next((n for n in reversed(candidates) if n.unit_id not in paying), None)
    if broken is not None:
        save(Outcome(0, broken.unit_id, Kind.PROMISE, on, as_of + timedelta(days=15), broken.amount_fen,
                     {"note": "上门时口头承诺半月内缴清"}))


def _dispute(story: Story, save: Save, month: int, as_of: date, issued: list[StoredNotice]) -> None:
    if month == DISPUTE_MONTH and story.disputed is None:
        notice = next((n for n in issued if n.stage == WRITTEN_DEMAND), None)
        if notice is not None and save(Outcome(0, notice.unit_id, Kind.DISPUTE, as_of + timedelta(days=5),
                                               detail={"reason": "投诉楼道漏水长期未修"})):
            story.disputed = notice.unit_id
    if month == RESOLVE_MONTH and story.disputed is not None:
        save(Outcome(0, story.disputed, Kind.RESOLVE, as_of + timedelta(days=3),
                     detail={"note": "漏水已修复，业主签字确认"}))


def _instalments(workspace: Workspace, story: Story, save: Save, as_of: date) -> None:
    """A hardship owner agrees an instalment plan: collection holds for three months."""
    if story.planned is not None:
        return
    row = workspace.db.execute(
        "SELECT n.unit_id FROM notices n JOIN units u USING (unit_id)"
        " WHERE n.segment = 'hardship' AND n.issued_on = ? ORDER BY n.notice_no LIMIT 1", (as_of.isoformat(),)
    ).fetchone()
    if row and save(Outcome(0, row[0], Kind.HOLD, as_of + timedelta(days=4), as_of + timedelta(days=94),
                            detail={"reason": "经济困难，签订分期缴费计划（每月缴300元）"})):
        story.planned = row[0]
