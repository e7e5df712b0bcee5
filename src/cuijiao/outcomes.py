"""Recorded outcomes of collection and what they mean on a date. Pure.

An outcome is something that happened to a unit's account: the owner promised
to pay, raised a dispute (and it was resolved), the company put collection on
hold, called, or took a legal step. From the list, as of a date: is a dispute
open, is a promise in effect, how many promises were broken, is a hold in
effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from cuijiao.allocation import Payment


class Kind(StrEnum):
    PROMISE = "promise"
    DISPUTE = "dispute"
    RESOLVE = "resolve"
    HOLD = "hold"
    CALL = "call"
    LEGAL = "legal"


CALL_OUTCOMES = ("承诺缴费", "拒接", "无人接听", "投诉", "已缴", "其他")
LEGAL_STEPS = ("支付令申请", "起诉", "调解申请", "仲裁申请")


@dataclass(frozen=True)
class Outcome:
    id: int
    unit_id: str
    kind: Kind
    on: date
    until: date | None = None
    amount_fen: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Standing:
    """A unit's standing on a date, from its outcomes and payments."""

    open_dispute: Outcome | None
    promise_in_effect: Outcome | None
    broken_promises: int
    hold: Outcome | None
    # The latest promise whose date has not passed, kept or not: the ladder waits for its date.
    promise_until: Outcome | None = None
    legal_step: Outcome | None = None  # the latest legal step recorded (payment order, suit …)


def promise_kept(promise: Outcome, payments: Sequence[Payment]) -> bool:
    """Kept when payments from the promise date to its deadline reach the amount."""
    assert promise.until is not None and promise.amount_fen is not None
    paid = sum(p.amount_fen for p in payments if promise.on <= p.paid_on <= promise.until)
    return paid >= promise.amount_fen


def standing(outcomes: Sequence[Outcome], payments: Sequence[Payment], as_of: date) -> Standing:
    """What the outcomes recorded up to ``as_of`` mean on that day."""
    known = sorted((o for o in outcomes if o.on <= as_of), key=lambda o: (o.on, o.id))
    dispute: Outcome | None = None
    for outcome in known:
        if outcome.kind is Kind.DISPUTE:
            dispute = dispute or outcome
        elif outcome.kind is Kind.RESOLVE:
            dispute = None
    promises = [o for o in known if o.kind is Kind.PROMISE]
    in_effect = next((p for p in reversed(promises)
                      if p.until and as_of <= p.until and not promise_kept(p, payments)), None)
    broken = sum(1 for p in promises if p.until and p.until < as_of and not promise_kept(p, payments))
    hold = next((h for h in reversed(known) if h.kind is Kind.HOLD and h.until and as_of <= h.until), None)
    waiting = next((p for p in reversed(promises) if p.until and as_of <= p.until), None)
    legal = next((o for o in reversed(known) if o.kind is Kind.LEGAL), None)
    return Standing(dispute, in_effect, broken, hold, waiting, legal)


def overlapping_hold(outcomes: Sequence[Outcome], start: date, until: date) -> Outcome | None:
    """A recorded hold whose days meet ``start``…``until``: two holds would contradict."""
    return next((o for o in outcomes if o.kind is Kind.HOLD and o.until
                 and o.on <= until and start <= o.until), None)
