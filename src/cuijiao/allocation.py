"""Apply a unit's payments to its charges, the way the Civil Code says (arts. 560, 561).

Pure: charges and payments in, applications, what each charge still owes and
the unit's credit out. No database, no terminal, no clock.

Payments are applied in date order, then receipt number:

1. to the charge the payment designates (item + period), up to what it owes;
2. the rest to charges already due on the payment date, oldest due date first;
   charges due on the same day share pro rata, in fen, largest remainder first,
   ties by item then period;
3. then to charges not yet due, in due-date order (prepayment), same-day
   charges again pro rata;
4. what is left is the unit's credit.

Steps 2 and 3 are one walk over the open charges in due-date order: the due
ones come first by construction. Within one charge, when late fees exist
(PRODUCT.md §4: costs → late fee → principal), each charge will carry those
parts and :func:`_pay_charge` splits a take across them; today a charge is
principal only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple


class Rule(StrEnum):
    """Why an amount went where it went; the Chinese label is for statements."""

    DESIGNATED = "designated"
    OLDEST_DUE = "oldest_due"
    SAME_DAY_PRO_RATA = "same_day_pro_rata"
    PREPAYMENT = "prepayment"
    CREDIT = "credit"

    @property
    def label(self) -> str:
        return _RULE_LABELS[self]


_RULE_LABELS = {
    Rule.DESIGNATED: "指定清偿：付款时指定了该项费用",
    Rule.OLDEST_DUE: "未指定：先抵已到期中最早到期的费用",
    Rule.SAME_DAY_PRO_RATA: "未指定：同日到期的费用按比例分摊",
    Rule.PREPAYMENT: "已到期费用结清后，抵未到期费用（预缴）",
    Rule.CREDIT: "全部费用结清后的余额，留待以后抵扣",
}


class Charge(NamedTuple):
    """A receivable. Named tuples, not dataclasses: millions are built per report."""

    id: int
    item: str
    period: str
    due_date: date
    amount_fen: int  # net of adjustments (减免/红冲)
    period_start: date = date.min  # when it is billed; see aging.billed_by

    @property
    def order(self) -> tuple[date, str, str, int]:
        return self.due_date, self.item, self.period, self.id


class Payment(NamedTuple):
    id: int
    paid_on: date
    amount_fen: int
    receipt_no: str | None = None
    item: str | None = None  # designation, when the payer named one
    period: str | None = None

    @property
    def order(self) -> tuple[date, str, int]:
        return _payment_order(self)

    @property
    def designates(self) -> tuple[str, str] | None:
        return (self.item, self.period) if self.item and self.period else None


class Application(NamedTuple):
    payment_id: int
    charge_id: int | None  # None: the amount became credit
    amount_fen: int
    rule: Rule


@dataclass
class Allocation:
    applications: list[Application] = field(default_factory=list)
    owed: dict[int, int] = field(default_factory=dict)  # charge id → still owed
    credit_fen: int = 0

    def paid(self, charge_id: int) -> int:
        return sum(a.amount_fen for a in self.applications if a.charge_id == charge_id)


_CHARGE_ORDER = itemgetter(3, 1, 2, 0)  # due date, item, period, id
_DUE_DATE = itemgetter(3)


def _payment_order(payment: Payment) -> tuple[date, str, int]:
    return payment.paid_on, payment.receipt_no or "", payment.id


def allocate(charges: Iterable[Charge], payments: Iterable[Payment]) -> Allocation:
    """Apply ``payments`` to ``charges``; the input order does not matter."""
    ordered = sorted(charges, key=_CHARGE_ORDER)
    result = Allocation(owed={c.id: c.amount_fen for c in ordered})
    walker = _Walker([list(group) for _, group in groupby(ordered, key=_DUE_DATE)], result)
    designated: dict[tuple[str, str], list[Charge]] | None = None
    for payment in sorted(payments, key=_payment_order):
        left = payment.amount_fen
        if payment.item and payment.period:
            if designated is None:
                designated = {}
                for charge in ordered:
                    designated.setdefault((charge.item, charge.period), []).append(charge)
            for charge in designated.get((payment.item, payment.period), ()):
                left -= walker.pay(payment.id, charge.id, left, Rule.DESIGNATED)
        left = walker.walk(payment, left)
        if left:
            result.credit_fen += left
            result.applications.append(Application(payment.id, None, left, Rule.CREDIT))
    return result


class _Walker:
    """Walks the open charges in due-date order, remembering where they start."""

    def __init__(self, groups: list[list[Charge]], result: Allocation) -> None:
        self.groups, self.result, self.first_open = groups, result, 0

    def pay(self, payment_id: int, charge_id: int, available: int, rule: Rule) -> int:
        """Apply up to ``available`` to the charge; returns what was taken."""
        take = min(available, self.result.owed[charge_id])
        if take <= 0:
            return 0
        self.result.owed[charge_id] -= take
        self.result.applications.append(Application(payment_id, charge_id, take, rule))
        return take

    def walk(self, payment: Payment, left: int) -> int:
        owed, groups = self.result.owed, self.groups
        index = self.first_open
        while left > 0 and index < len(groups):
            group = [c for c in groups[index] if owed[c.id] > 0]
            if not group and index == self.first_open:
                self.first_open += 1  # every charge before here is paid: later walks start here
            elif group:
                left = self._pay_group(payment, group, left)
            index += 1
        return left

    def _pay_group(self, payment: Payment, group: list[Charge], left: int) -> int:
        """Pay charges due on one day: in full if the money reaches, else pro rata."""
        owed = self.result.owed
        due = group[0].due_date <= payment.paid_on
        if len(group) == 1 or left >= sum(owed[c.id] for c in group):
            rule = Rule.OLDEST_DUE if due else Rule.PREPAYMENT
            shares = [left] * len(group)
        else:
            rule = Rule.SAME_DAY_PRO_RATA if due else Rule.PREPAYMENT
            shares = pro_rata(left, [owed[c.id] for c in group])
        for charge, share in zip(group, shares, strict=True):
            left -= self.pay(payment.id, charge.id, min(share, left), rule)
        return left


def pro_rata(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` fen over ``weights`` in proportion, by largest remainder.

    Shares are floor(amount × w / Σw); the fen left over go one each to the
    largest remainders, ties to the earlier position (callers order by item,
    then period). The shares always add up to ``amount``.
    """
    total = sum(weights)
    if total <= 0:
        raise ValueError("pro_rata needs a positive total weight")
    shares, remainders = [], []
    for position, weight in enumerate(weights):
        share, remainder = divmod(amount * weight, total)
        shares.append(share)
        remainders.append((-remainder, position))
    for _, position in sorted(remainders)[: amount - sum(shares)]:
        shares[position] += 1
    return shares
