"""One unit's statement: every charge and payment, and how each payment was applied and why.

What a clerk reads out when an owner says "I already paid".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from cuijiao.aging import UnitPosition
from cuijiao.allocation import Application, Charge, Payment, Rule
from cuijiao.money import format_yuan
from cuijiao.privacy import mask_name
from cuijiao.store.reading import DepositReceipt


def charge_status(unit: UnitPosition, charge: Charge) -> str:
    if unit.allocation.owed[charge.id] <= 0:
        return "已结清"
    days = (unit.as_of - charge.due_date).days
    return f"逾期 {days} 天" if days > 0 else "未到期"


def designation_text(payment: Payment) -> str | None:
    """What the payer designated, as a clerk reads it: 物业费 2025-03, 物业费, 2025-04~2025-06."""
    return " ".join(part for part in (payment.item, payment.period) if part) or None


_STATUTORY = {
    Rule.OLDEST_DUE: "先抵已到期中最早到期的费用",
    Rule.SAME_DAY_PRO_RATA: "同日到期的费用按比例分摊",
    Rule.PREPAYMENT: "抵未到期费用（预缴）",
    Rule.CREDIT: "全部费用结清后的余额，留待以后抵扣",
}


def explanation(application: Application, payment: Payment, note: str | None, barred_since: date | None) -> str:
    """The rule in words; beside a designation never "未指定", and a time-barred debt paid says so."""
    text = application.rule.label
    named = designation_text(payment)
    if named and application.rule in _STATUTORY:
        why = {"none": "没有对应的应收", "settled": "已结清"}.get(note or "", "已抵足")
        rest = "按法定顺序" if note else "余款按法定顺序"
        text = f"指定的“{named}”{why}，{rest}：{_STATUTORY[application.rule]}"
    if barred_since is not None:
        text += (f"；该项费用的诉讼时效已于 {barred_since.isoformat()} 届满，此笔为业主自愿清偿已过时效的欠款"
                 "（已付部分不得要求返还，最高法诉讼时效规定第十九条）")
    return text


def statement(unit: UnitPosition, *, unmask: bool = False,
              barred: Mapping[tuple[int, int], date] | None = None,
              deposits: Sequence[DepositReceipt] = ()) -> dict[str, Any]:
    """``barred``: (payment id, charge id) → the end of the period the payment paid past (limitation);
    ``deposits``: the unit's deposit receipts, shown apart: they never pay fees."""
    ledger, allocation, barred = unit.ledger, unit.allocation, barred or {}
    charges = sorted(unit.charges, key=lambda c: c.order)
    by_id = {c.id: c for c in ledger.charges}
    payments = {p.id: p for p in unit.payments}
    applied: dict[int, list[dict[str, Any]]] = {}
    for a in allocation.applications:
        charge_id = a.charge_id if a.charge_id is not None else a.earmarked_for
        target = by_id.get(charge_id) if charge_id is not None else None
        ended = barred.get((a.payment_id, a.charge_id)) if a.charge_id is not None else None
        applied.setdefault(a.payment_id, []).append({
            "item": target.item if target else None, "period": target.period if target else None,
            "amount": format_yuan(a.amount_fen), "rule": a.rule.value,
            "explanation": explanation(a, payments[a.payment_id], allocation.designation_notes.get(a.payment_id),
                                       ended),
            "time_barred": ended is not None,
        })
    return {
        "unit_id": ledger.unit_id, "building": ledger.building,
        "owner_name": ledger.owner_name if unmask else mask_name(ledger.owner_name),
        "as_of": unit.as_of.isoformat(),
        "charges": [{
            "item": c.item, "period": c.period, "due_date": c.due_date.isoformat(),
            "amount": format_yuan(c.amount_fen - ledger.adjustments.get(c.id, 0)),
            "adjustment": format_yuan(ledger.adjustments.get(c.id, 0)),
            "paid": format_yuan(allocation.paid(c.id)), "owed": format_yuan(allocation.owed[c.id]),
            "status": charge_status(unit, c),
        } for c in charges],
        "payments": [{
            "paid_on": p.paid_on.isoformat(), "receipt_no": p.receipt_no, "amount": format_yuan(p.amount_fen),
            "designated": designation_text(p), "designation": allocation.designation_notes.get(p.id),
            "applied": applied.get(p.id, []),
        } for p in sorted(unit.payments, key=lambda p: p.order)],
        "deposits": [{"paid_on": d.paid_on.isoformat(), "receipt_no": d.receipt_no, "item": d.item,
                      "amount": format_yuan(d.amount_fen)} for d in deposits],
        "totals": {
            "billed": format_yuan(sum(c.amount_fen for c in charges)),
            "paid": format_yuan(sum(p.amount_fen for p in unit.payments)),
            "overdue": format_yuan(unit.overdue_fen), "not_yet_due": format_yuan(unit.not_yet_due_fen),
            "credit": format_yuan(unit.credit_fen),
        },
    }
