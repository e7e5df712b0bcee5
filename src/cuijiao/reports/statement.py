"""One unit's statement: every charge and payment, and how each payment was applied and why.

What a clerk reads out when an owner says "I already paid".
"""

from __future__ import annotations

from typing import Any

from cuijiao.aging import UnitPosition
from cuijiao.allocation import Charge
from cuijiao.money import format_yuan
from cuijiao.privacy import mask_name


def charge_status(unit: UnitPosition, charge: Charge) -> str:
    if unit.allocation.owed[charge.id] <= 0:
        return "已结清"
    days = (unit.as_of - charge.due_date).days
    return f"逾期 {days} 天" if days > 0 else "未到期"


def statement(unit: UnitPosition, *, unmask: bool = False) -> dict[str, Any]:
    ledger, allocation = unit.ledger, unit.allocation
    charges = sorted(unit.charges, key=lambda c: c.order)
    by_id = {c.id: c for c in charges}
    applied: dict[int, list[dict[str, Any]]] = {}
    for a in allocation.applications:
        target = by_id.get(a.charge_id) if a.charge_id is not None else None
        applied.setdefault(a.payment_id, []).append({
            "item": target.item if target else None, "period": target.period if target else None,
            "amount": format_yuan(a.amount_fen), "rule": a.rule.value, "explanation": a.rule.label,
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
            "designated": f"{p.item} {p.period}" if p.designates else None, "applied": applied.get(p.id, []),
        } for p in sorted(unit.payments, key=lambda p: p.order)],
        "totals": {
            "billed": format_yuan(sum(c.amount_fen for c in charges)),
            "paid": format_yuan(sum(p.amount_fen for p in unit.payments)),
            "overdue": format_yuan(unit.overdue_fen), "not_yet_due": format_yuan(unit.not_yet_due_fen),
            "credit": format_yuan(unit.credit_fen),
        },
    }
