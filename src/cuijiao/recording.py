"""Record an outcome: check it against the account, write it, put it in the audit trail.

Every check runs before anything is written; a refused outcome changes nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from cuijiao.aging import UnitPosition
from cuijiao.allocation import Payment
from cuijiao.arrears import unit_position
from cuijiao.errors import BadInput
from cuijiao.ingest.cells import strip_controls
from cuijiao.money import format_yuan
from cuijiao.outcomes import CALL_OUTCOMES, LEGAL_STEPS, Kind, Outcome, overlapping_hold, standing
from cuijiao.store.audit import Run, append_event
from cuijiao.store.db import transaction
from cuijiao.store.notices import insert_delivery
from cuijiao.store.notices import notice as stored_notice
from cuijiao.store.outcomes import insert_outcome, unit_outcomes
from cuijiao.workspace import Workspace


def record(workspace: Workspace, run: Run, outcome: Outcome, *, today: date) -> Outcome:
    """Check ``outcome`` and record it; returns it with its id.

    Checked and written in one write transaction, so a racing ``notices issue``
    plans either with this outcome or before it. The same outcome recorded
    again (same unit, kind, dates and content: a command repeated after a kill
    that came after its commit) is not recorded twice; the first is returned.
    """
    if outcome.on > today:
        raise BadInput(f"日期 {outcome.on.isoformat()} 晚于今天（{today.isoformat()}），不能记录尚未发生的事")
    outcome = replace(outcome, detail=_plain(outcome.detail))
    with transaction(workspace.db):
        position = unit_position(workspace, outcome.unit_id, outcome.on)  # also: the unit must exist
        if outcome.kind in (Kind.PROMISE, Kind.LEGAL):
            outcome = with_coverage(outcome, position)
        earlier = unit_outcomes(workspace.db, outcome.unit_id)
        same = next((e for e in earlier if replace(e, id=0) == replace(outcome, id=0)), None)
        if same is not None:
            run.counts.update(outcome_id=same.id, already_recorded=True)
            return same
        _check(outcome, position.overdue_fen, earlier)
        saved = replace(outcome, id=insert_outcome(workspace.db, run.id, outcome))
        append_event(workspace.db, run.id, f"outcome.{outcome.kind.value}", _payload(saved), unit_id=saved.unit_id)
    run.counts["outcome_id"] = saved.id
    return saved


def _plain(value: Any) -> Any:
    """Text a clerk typed, without control characters (an escape sequence would reach the terminal
    every time ``audit log`` prints it), through the lists and mappings of an outcome's detail."""
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, list | tuple):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def with_coverage(outcome: Outcome, position: UnitPosition) -> Outcome:
    """The promise or legal step with the charges it covers (SPC limitation rules arts. 11, 14).

    Those owed on its date that match its ``items`` and ``periods`` (a period
    or a range); with neither, every charge owed that day. A charge named
    explicitly (``named``) is acknowledged even if its limitation has ended;
    one covered only by default is not revived (art. 192).
    """
    detail = dict(outcome.detail)
    items, periods = list(detail.pop("items", []) or []), list(detail.pop("periods", []) or [])
    owed = [c for c in sorted(position.charges, key=lambda c: c.order)
            if position.allocation.owed[c.id] > 0 and c.due_date <= outcome.on]
    doing = "承诺缴纳" if outcome.kind is Kind.PROMISE else "列入法律程序"
    for item in items:
        if not any(c.item == item for c in owed):
            raise BadInput(f"房号 {outcome.unit_id} 截至 {outcome.on.isoformat()} 没有“{item}”的欠费，不能{doing}")
    for period in periods:
        if not any(Payment(0, outcome.on, 0, None, None, period).matches(c) for c in owed):
            raise BadInput(f"房号 {outcome.unit_id} 截至 {outcome.on.isoformat()} 没有“{period}”的欠费，不能{doing}")
    covered = [c for c in owed if (not items or c.item in items)
               and (not periods or any(Payment(0, outcome.on, 0, None, None, p).matches(c) for p in periods))]
    detail.update(charge_ids=[c.id for c in covered], covers=[f"{c.item} {c.period}" for c in covered],
                  named=bool(items or periods))
    return replace(outcome, detail=detail)


def _check(outcome: Outcome, overdue_fen: int, earlier: list[Outcome]) -> None:
    if outcome.until is not None and outcome.until < outcome.on:
        raise BadInput(f"截止日期 {outcome.until.isoformat()} 早于记录日期 {outcome.on.isoformat()}")
    if outcome.kind is Kind.PROMISE:
        if overdue_fen <= 0:
            raise BadInput(f"房号 {outcome.unit_id} 截至 {outcome.on.isoformat()} 没有逾期欠费，无需记录缴费承诺")
        if not outcome.amount_fen or outcome.amount_fen <= 0:
            raise BadInput("承诺金额应大于零")
    if outcome.kind is Kind.HOLD:
        assert outcome.until is not None
        clash = overlapping_hold(earlier, outcome.on, outcome.until)
        if clash is not None and clash.until is not None:
            raise BadInput(f"房号 {outcome.unit_id} 已暂停催缴 {clash.on.isoformat()} 至 {clash.until.isoformat()}"
                           f"（{clash.detail.get('reason', '')}），与新的暂停期重叠")
    if outcome.kind is Kind.RESOLVE and standing(earlier, [], outcome.on).open_dispute is None:
        raise BadInput(f"房号 {outcome.unit_id} 截至 {outcome.on.isoformat()} 没有未解决的争议")
    if outcome.kind is Kind.CALL and outcome.detail.get("outcome") not in CALL_OUTCOMES:
        raise BadInput(f"通话结果只能是：{'、'.join(CALL_OUTCOMES)}")
    if outcome.kind is Kind.LEGAL and outcome.detail.get("step") not in LEGAL_STEPS:
        raise BadInput(f"法律程序只能是：{'、'.join(LEGAL_STEPS)}")


def _payload(outcome: Outcome) -> dict[str, object]:
    return {
        "outcome_id": outcome.id, "kind": outcome.kind.value, "on": outcome.on.isoformat(),
        "until": outcome.until.isoformat() if outcome.until else None,
        "amount": format_yuan(outcome.amount_fen) if outcome.amount_fen is not None else None,
        **outcome.detail,
    }


DELIVERY_METHODS = ("当面签收", "EMS", "挂号信", "电子送达", "公告")
# What each method's evidence is (SPC limitation rules art. 8); 当面签收's is the signer.
_EVIDENCE = {
    "EMS": "EMS 送达须写明邮件号（--evidence），并在邮单内件品名注明“物业费催缴函”",
    "挂号信": "挂号信 送达须写明邮件号（--evidence），并在邮单内件品名注明“物业费催缴函”",
    "电子送达": "电子送达须写明证据（--evidence）：短信或电子邮件的消息编号、截图编号",
    "公告": "公告送达须写明证据（--evidence）：刊登公告的报刊名称及日期；仅限业主下落不明时",
}
SIGNER_RELATIONS = ("本人", "同住成年家属", "代理人")


@dataclass(frozen=True)
class Delivery:
    notice_no: str
    on: date
    method: str
    signer: str = ""
    relation: str = ""
    evidence: str = ""


def record_delivery(workspace: Workspace, run: Run, delivery: Delivery, *, today: date) -> int:
    """Evidence that a notice reached the owner (it restarts the limitation clock of the debts it listed)."""
    notice = stored_notice(workspace.db, delivery.notice_no)
    if notice is None:
        raise BadInput(f"没有编号为 {delivery.notice_no} 的通知")
    if delivery.on > today:
        raise BadInput(f"送达日期 {delivery.on.isoformat()} 晚于今天（{today.isoformat()}）")
    if delivery.on < notice.issued_on:
        raise BadInput(f"送达日期 {delivery.on.isoformat()} 早于通知发出日期 {notice.issued_on.isoformat()}")
    _check_delivery(delivery)
    delivery = replace(delivery, signer=_plain(delivery.signer), relation=_plain(delivery.relation),
                       evidence=_plain(delivery.evidence))
    with transaction(workspace.db):
        earlier = delivery_of(workspace.db, delivery.notice_no)
        if earlier is not None:
            earlier_id, earlier_delivery = earlier
            if earlier_delivery == delivery:  # the same command again, after a kill: nothing new
                return earlier_id
            raise BadInput(f"通知 {delivery.notice_no} 已于 {earlier_delivery.on.isoformat()} 以"
                           f"{earlier_delivery.method}送达（记录 #{earlier_id}），不能重复记录")
        delivery_id = insert_delivery(workspace.db, run.id, delivery.notice_no, delivery.on, delivery.method,
                                      delivery.signer, delivery.relation, delivery.evidence)
        append_event(workspace.db, run.id, "notice.delivered", {
            "delivery_id": delivery_id, "notice_no": delivery.notice_no, "on": delivery.on.isoformat(),
            "method": delivery.method, "signer": delivery.signer, "relation": delivery.relation,
            "evidence": delivery.evidence}, unit_id=notice.unit_id)
    run.counts["delivery_id"] = delivery_id
    return delivery_id


def _check_delivery(delivery: Delivery) -> None:
    if delivery.method not in DELIVERY_METHODS:
        raise BadInput(f"送达方式只能是：{'、'.join(DELIVERY_METHODS)}")
    if delivery.relation and delivery.relation not in SIGNER_RELATIONS:
        raise BadInput(f"签收人与业主的关系只能是：{'、'.join(SIGNER_RELATIONS)}")
    if delivery.method == "当面签收" and not (delivery.signer and delivery.relation):
        raise BadInput("当面签收须写明签收人（--signer）及其与业主的关系（--relation）")
    if delivery.method in _EVIDENCE and not delivery.evidence:
        raise BadInput(_EVIDENCE[delivery.method])


def delivery_of(db: sqlite3.Connection, notice_no: str) -> tuple[int, Delivery] | None:
    """The delivery already recorded for a notice, if any: one notice arrives once."""
    row = db.execute("SELECT id, delivered_on, method, signer, relation, evidence FROM deliveries"
                     " WHERE notice_no = ? ORDER BY id LIMIT 1", (notice_no,)).fetchone()
    if row is None:
        return None
    delivery_id, on, method, signer, relation, evidence = row
    return int(delivery_id), Delivery(notice_no, date.fromisoformat(on), method, signer or "", relation or "",
                                      evidence or "")
