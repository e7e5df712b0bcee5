"""Apply a unit's payments to its charges, the way the Civil Code says (arts. 560, 561).

Pure: charges and payments in, applications, what each charge still owes and
the unit's credit out. No database, no terminal, no clock.

Payments are applied in date order, then receipt number:

1. to what the payment designates (art. 560 para 1), up to what it owes: one
   charge (item + period), an item alone (its oldest open charges), a period
   alone (that period's charges, same-day ones pro rata) or a range of periods
   (oldest first). A designated charge in the ledger that is not billed yet
   keeps the money for itself: it is credit earmarked for that charge
   (:attr:`Rule.EARMARKED`) until the charge is billed, never paid to another;
2. the rest to charges already due on the payment date, oldest due date first;
   charges due on the same day share pro rata, in fen, largest remainder first,
   ties by item then period;
3. then to charges not yet due, in due-date order (prepayment), same-day
   charges again pro rata;
4. what is left is the unit's credit.

Steps 2 and 3 are one walk over the open charges in due-date order: the due
ones come first by construction. Within one charge, when late fees exist
(PRODUCT.md §4: costs → late fee → principal), each charge will carry those
parts and :meth:`_Walker.pay` splits a take across them; today a charge is
principal only.

A designation that matches no charge of the ledger, or only charges already
paid, is applied by the statutory order; :attr:`Allocation.designation_notes`
says which, for the statement and the import warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from cuijiao.dates import parse_period


class Rule(StrEnum):
    """Why an amount went where it went; the Chinese label is for statements."""

    DESIGNATED = "designated"
    EARMARKED = "earmarked"
    OLDEST_DUE = "oldest_due"
    SAME_DAY_PRO_RATA = "same_day_pro_rata"
    PREPAYMENT = "prepayment"
    CREDIT = "credit"

    @property
    def label(self) -> str:
        return _RULE_LABELS[self]


_RULE_LABELS = {
    Rule.DESIGNATED: "指定清偿：付款时指定了该项费用",
    Rule.EARMARKED: "指定清偿：所指定的费用尚未出账，款项留作该项费用的预收，出账后抵扣",
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
    def designates(self) -> bool:
        """Whether the payer named an item, a period (or range), or both."""
        return bool(self.item or self.period)

    def matches(self, charge: Charge) -> bool:
        """Whether ``charge`` is among what this payment designates."""
        if self.item and charge.item != self.item:
            return False
        return not self.period or charge.period == self.period or _within(charge.period, self.period)


@cache
def _bounds(label: str) -> tuple[date, date] | None:
    try:
        period = parse_period(label)
    except ValueError:
        return None
    return period.start, period.end


def _within(inner: str, outer: str) -> bool:
    """Whether period ``inner`` lies inside period (or range) ``outer``."""
    inside, around = _bounds(inner), _bounds(outer)
    return inside is not None and around is not None and around[0] <= inside[0] and inside[1] <= around[1]


class Application(NamedTuple):
    payment_id: int
    charge_id: int | None  # None: the amount became credit
    amount_fen: int
    rule: Rule
    earmarked_for: int | None = None  # EARMARKED: the charge, not billed yet, that the credit is kept for


@dataclass
class Allocation:
    applications: list[Application] = field(default_factory=list)
    owed: dict[int, int] = field(default_factory=dict)  # charge id → still owed
    credit_fen: int = 0
    # Payment id → why its designation took nothing: "none" (no such charge) or "settled" (already paid).
    designation_notes: dict[int, str] = field(default_factory=dict)

    def paid(self, charge_id: int) -> int:
        return sum(a.amount_fen for a in self.applications if a.charge_id == charge_id)


_CHARGE_ORDER = itemgetter(3, 1, 2, 0)  # due date, item, period, id
_DUE_DATE = itemgetter(3)


def _payment_order(payment: Payment) -> tuple[date, str, int]:
    return payment.paid_on, payment.receipt_no or "", payment.id


def allocate(charges: Iterable[Charge], payments: Iterable[Payment], unbilled: Iterable[Charge] = ()) -> Allocation:
    """Apply ``payments`` to ``charges``; the input order does not matter.

    ``unbilled`` are the ledger's charges not on the books yet: a payment
    designating one keeps the money as credit earmarked for it.
    """
    ordered = sorted(charges, key=_CHARGE_ORDER)
    result = Allocation(owed={c.id: c.amount_fen for c in ordered})
    walker = _Walker([list(group) for _, group in groupby(ordered, key=_DUE_DATE)], result)
    walker.room.update((c.id, c.amount_fen) for c in unbilled)
    everything = sorted([*ordered, *unbilled], key=_CHARGE_ORDER) if walker.room else ordered
    exact: dict[tuple[str, str], list[Charge]] | None = None
    for payment in sorted(payments, key=_payment_order):
        left = payment.amount_fen
        if payment.item or payment.period:
            if exact is None:
                exact = {}
                for charge in everything:
                    exact.setdefault((charge.item, charge.period), []).append(charge)
            targets = exact.get((payment.item or "", payment.period or ""))
            if targets is None:
                targets = [c for c in everything if payment.matches(c)]
            before = left
            left = walker.designated(payment, targets, left)
            if left == before:
                result.designation_notes[payment.id] = "settled" if targets else "none"
        left = walker.walk(payment, left)
        if left:
            result.credit_fen += left
            result.applications.append(Application(payment.id, None, left, Rule.CREDIT))
    return result


class _Walker:
    """Walks the open charges in due-date order, remembering where they start."""

    def __init__(self, groups: list[list[Charge]], result: Allocation) -> None:
        self.groups, self.result, self.first_open = groups, result, 0
        self.room: dict[int, int] = {}  # unbilled charge id → what may still be earmarked for it

    def designated(self, payment: Payment, targets: list[Charge], left: int) -> int:
        """Pay the designated charges, oldest due first, same-day ones pro rata; returns what is left."""
        owed, room = self.result.owed, self.room
        for _, same_day in groupby(targets, key=_DUE_DATE):
            open_ = [(c, owed[c.id] if c.id in owed else room[c.id]) for c in same_day]
            open_ = [(c, fen) for c, fen in open_ if fen > 0]
            if not open_ or left <= 0:
                continue
            due = sum(fen for _, fen in open_)
            shares = [fen for _, fen in open_] if left >= due else pro_rata(left, [fen for _, fen in open_])
            for (charge, _fen), share in zip(open_, shares, strict=True):
                if charge.id in owed:
                    left -= self.pay(payment.id, charge.id, share, Rule.DESIGNATED)
                else:
                    room[charge.id] -= share
                    left -= share
                    self.result.credit_fen += share
                    self.result.applications.append(
                        Application(payment.id, None, share, Rule.EARMARKED, charge.id))
        return left

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
