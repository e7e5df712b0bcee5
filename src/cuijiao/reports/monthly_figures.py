"""The figures of the manager's monthly report, gathered from the workspace.

pandas holds the series and pivots (twelve months of KPIs, buckets this month
against last, notices by stage and segment). Money stays integer fen in every
frame; rates are Decimal fractions, rounded once, where they are shown.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from cuijiao.aging import AgingReport, Collection
from cuijiao.allocated import MonthTotals
from cuijiao.arrears import limitation_report, month_end_totals
from cuijiao.dates import add_months, month_end
from cuijiao.limitation import Status
from cuijiao.outcomes import Kind, promise_kept, standing
from cuijiao.privacy import mask_name
from cuijiao.segments import segment_labels
from cuijiao.stages import STAGE_NAMES
from cuijiao.store.outcomes import outcomes_by_unit
from cuijiao.store.reading import NamedUnits, unit_ledgers
from cuijiao.workspace import Workspace

MONTHS = 12
LARGEST = 10


@dataclass(frozen=True)
class MonthlyFigures:
    estate: str
    company: str
    as_of: date
    kpis: pd.DataFrame  # index 'YYYY-MM'; billed, collected, arrears_start, arrears_collected (fen)
    buckets: pd.DataFrame  # index bucket label; this_month, last_month, change (fen)
    total_overdue_fen: int
    owing_units: int
    largest: pd.DataFrame  # unit_id, owner, building, overdue_fen, oldest_due
    notices: pd.DataFrame  # rows stage name, columns segment label, counts (the month's notices)
    outcomes: list[tuple[str, int]]  # what happened in the month, label → count
    limitation: tuple[int, int, int]  # charges expiring, expired, their owed fen
    waiting_approval: list[str]

    @property
    def month(self) -> str:
        return f"{self.as_of:%Y-%m}"


def rate(part: int, whole: int) -> Decimal | None:
    """``part / whole`` as a fraction rounded to four places (0.1234 = 12.34 %), or None without a base."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def percent_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def month_ends(as_of: date, count: int = MONTHS) -> list[date]:
    """The as-of dates of the last ``count`` months, oldest first; the current month ends at ``as_of``."""
    first = date(as_of.year, as_of.month, 1)
    days = []
    for back in range(count - 1, 0, -1):
        month = add_months(first, -back)
        days.append(month_end(month.year, month.month))
    return [*days, as_of]


def earlier_months(workspace: Workspace, as_of: date) -> list[MonthTotals]:
    """The report's earlier months: only their totals, all read in one pass over the kept allocation
    (and last month's overdue by bucket, for the change)."""
    ends = month_ends(as_of)
    return month_end_totals(workspace, ends[:-1], overdue_on=ends[-2:-1])


def gather(workspace: Workspace, as_of: date, report: AgingReport, *, waiting_approval: list[str],
           earlier: list[MonthTotals] | None = None) -> MonthlyFigures:
    """The month's figures; ``earlier``: :func:`earlier_months`, when the caller has read them already."""
    settings = workspace.settings
    if earlier is None:
        earlier = earlier_months(workspace, as_of)
    kpis = {totals.as_of: totals.kpi for totals in earlier} | {as_of: report.total.kpi or Collection()}
    last_month = earlier[-1].overdue if earlier else None
    return MonthlyFigures(
        settings.estate_name, settings.company_name, as_of,
        _kpis(kpis), _buckets(report, last_month or Counter()), report.total.overdue_fen, report.total.owing_units,
        _largest(report), _notices(workspace, as_of), _outcomes(workspace, as_of), _limitation(workspace, as_of),
        waiting_approval,
    )


def _kpis(kpis: dict[date, Collection]) -> pd.DataFrame:
    rows = []
    for day, kpi in kpis.items():
        rows.append({"month": f"{day:%Y-%m}", "billed": kpi.billed_fen, "collected": kpi.collected_fen,
                     "arrears_start": kpi.arrears_start_fen, "arrears_collected": kpi.arrears_collected_fen})
    return pd.DataFrame(rows).set_index("month")


def _buckets(report: AgingReport, last: Counter[str]) -> pd.DataFrame:
    labels = list(report.buckets.labels)
    frame = pd.DataFrame({"this_month": [report.total.overdue[label] for label in labels],
                          "last_month": [last[label] for label in labels]}, index=labels, dtype="int64")
    frame["change"] = frame["this_month"] - frame["last_month"]
    return frame


def _largest(report: AgingReport) -> pd.DataFrame:
    # report.units is in natural unit order; a stable sort keeps it among equal debts
    rows = sorted((row for row in report.units if row.overdue_fen), key=lambda row: -row.overdue_fen)
    return pd.DataFrame([{"unit_id": row.key, "owner": mask_name(row.owner_name), "building": row.building,
                          "overdue_fen": row.overdue_fen,
                          "oldest_due": row.oldest_due.isoformat() if row.oldest_due else ""}
                         for row in rows[:LARGEST]],
                        columns=["unit_id", "owner", "building", "overdue_fen", "oldest_due"])


def _notices(workspace: Workspace, as_of: date) -> pd.DataFrame:
    labels = segment_labels(workspace.settings.segment_rules)
    rows = workspace.db.execute("SELECT stage, segment FROM notices WHERE issued_on BETWEEN ? AND ?",
                                (date(as_of.year, as_of.month, 1).isoformat(), as_of.isoformat())).fetchall()
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows, columns=["stage", "segment"])
    frame["stage"] = frame["stage"].map(lambda stage: f"第{stage}级 {STAGE_NAMES[stage]}")
    frame["segment"] = frame["segment"].map(lambda name: labels.get(name, name))
    return frame.pivot_table(index="stage", columns="segment", aggfunc="size", fill_value=0)


def _outcomes(workspace: Workspace, as_of: date) -> list[tuple[str, int]]:
    first, db = date(as_of.year, as_of.month, 1), workspace.db
    recorded = outcomes_by_unit(db)
    promised = {unit: [o for o in items if o.kind is Kind.PROMISE and o.until and first <= o.until <= as_of]
                for unit, items in recorded.items()}
    promised = {unit: items for unit, items in promised.items() if items}
    kept = broken = 0
    for ledger in unit_ledgers(db, NamedUnits(tuple(promised))):
        for promise in promised[ledger.unit_id]:
            if promise_kept(promise, ledger.payments):
                kept += 1
            elif promise.until is not None and promise.until < as_of:
                broken += 1
    counts: Counter[str] = Counter()
    for items in recorded.values():
        for outcome in items:
            if first <= outcome.on <= as_of:
                counts[outcome.kind.value] += 1
    open_disputes = sum(1 for items in recorded.values() if standing(items, (), as_of).open_dispute)
    delivered = db.execute("SELECT count(*) FROM deliveries WHERE delivered_on BETWEEN ? AND ?",
                           (first.isoformat(), as_of.isoformat())).fetchone()[0]
    return [("本月新承诺", counts[Kind.PROMISE.value]), ("到期承诺：已履行", kept), ("到期承诺：未履行", broken),
            ("本月新争议", counts[Kind.DISPUTE.value]), ("本月解决争议", counts[Kind.RESOLVE.value]),
            ("月末未决争议", open_disputes), ("本月暂缓催收", counts[Kind.HOLD.value]),
            ("本月电话催缴", counts[Kind.CALL.value]), ("本月法律程序", counts[Kind.LEGAL.value]),
            ("本月送达", int(delivered))]


def _limitation(workspace: Workspace, as_of: date) -> tuple[int, int, int]:
    clocks = limitation_report(workspace, as_of)
    expiring = sum(1 for clock in clocks if clock.status is Status.EXPIRING)
    expired = sum(1 for clock in clocks if clock.status is Status.EXPIRED)
    return expiring, expired, sum(clock.owed_fen for clock in clocks if clock.status)
