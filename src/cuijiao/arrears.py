"""The arrears engine for commands: read the workspace, run the pure core.

Commands, the monthly batch and tests all come through here, so they share
one path from the database to the numbers.
"""

from __future__ import annotations

import difflib
import gc
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt

from cuijiao.aging import (
    AgingReport,
    Buckets,
    Collection,
    UnitLedger,
    UnitPosition,
    build_report,
    merge_reports,
    natural_key,
    position,
)
from cuijiao.allocated import AllocatedEstate, MonthTotals, age, allocate_estate, join, month_totals
from cuijiao.allocated_update import NewColumns, extend, reaching_back
from cuijiao.allocation import Payment
from cuijiao.config import Settings
from cuijiao.errors import BadInput
from cuijiao.kept_facts import UnitFacts, closings, exact_units, limitation_candidates, summary_position, unit_facts
from cuijiao.limitation import Clock, RestDays, barred_applications, clocks
from cuijiao.memory import give_back
from cuijiao.outcomes import Outcome, standing
from cuijiao.segments import Owner, Rule, Verdict, classify, facts, facts_of
from cuijiao.stages import Case, Policy, may_be_ignored, notices_ignored
from cuijiao.store import allocation_cache
from cuijiao.store.notices import deliveries, open_cases
from cuijiao.store.outcomes import outcomes_by_unit, unit_outcomes
from cuijiao.store.reading import (
    NamedUnits,
    RowsSince,
    UnitRange,
    designations_up_to,
    holds_rows,
    one_unit,
    owners,
    rows_since,
    split_units,
    unit_count,
    unit_ids,
    unit_ledgers,
    unit_list,
)
from cuijiao.workers import worker_pool
from cuijiao.workspace import Workspace


def require_data(workspace: Workspace) -> None:
    """A clear next step when there is nothing to compute on yet."""
    if not holds_rows(workspace.db, "units"):
        raise BadInput("工作区还没有数据：请先导入房屋业主（cuijiao import units），再导入应收和实收")
    if not holds_rows(workspace.db, "charges"):
        raise BadInput("工作区还没有应收数据：请先导入应收（cuijiao import charges），再导入实收")


# Below this many units one process is faster than starting a second.
PARALLEL_FROM_UNITS = 20_000

T = TypeVar("T")


def over_units(workspace: Workspace, work: Callable[[Workspace, UnitRange], list[T]], *,
               workers: int | None = None) -> list[T]:
    """``work`` over every unit; a large estate is split over the machine's cores.

    Each worker process takes one range of units, opens its own read-only
    connection and runs the same ``work`` (a module-level function, so it can
    be sent to the worker); the parts come back in unit order.
    """
    require_data(workspace)
    if workers is None:
        many = unit_count(workspace.db) >= PARALLEL_FROM_UNITS
        workers = min(os.cpu_count() or 1, 4) if many else 1
    if workers <= 1:
        return work(workspace, UnitRange())
    ranges = split_units(workspace.db, workers)
    with worker_pool(workers) as pool:
        parts = pool.map(_part, [workspace.root] * workers, [workspace.settings] * workers, [work] * workers, ranges)
        return [item for part in parts for item in part]


def _part(root: Path, settings: Settings, work: Callable[[Workspace, UnitRange], list[T]],
          units: UnitRange) -> list[T]:
    workspace = Workspace.read_only(root, settings)
    try:
        return work(workspace, units)
    finally:
        workspace.close()


def aging_report(workspace: Workspace, as_of: date, *, workers: int | None = None) -> AgingReport:
    """The estate's aging as of ``as_of``, read from the kept allocation.

    Units the kept allocation cannot answer for that date (see
    :mod:`cuijiao.allocated`) are aged by the exact path and merged in.
    """
    buckets = Buckets(workspace.settings.aging_buckets)
    month_of = workspace.settings.kpi_month
    estate, kept = _estate_kept_behind(workspace, workers)
    # A new allocation's file is written meanwhile, on a thread; the command names it in the workspace
    # once the report is out (the write outlasts the aging by half a second at 100,000 units).
    workspace.keep_later(kept)
    aged = age(estate, as_of, buckets, kpi_month=month_of)
    if not aged.exact_elsewhere:
        return aged.report
    exact = build_report(unit_ledgers(workspace.db, NamedUnits(tuple(aged.exact_elsewhere))), as_of, buckets,
                         kpi_month=month_of)
    return merge_reports([aged.report, exact])


def month_end_totals(workspace: Workspace, days: Sequence[date], *,
                     overdue_on: Iterable[date] = ()) -> list[MonthTotals]:
    """The estate's total KPIs (and overdue by bucket for ``overdue_on``) as of each day, one day a month:
    what ``aging_report(workspace, day).total`` holds, without a row per unit (the manager's twelve months)."""
    buckets, month_of = Buckets(workspace.settings.aging_buckets), workspace.settings.kpi_month
    result = []
    for kept in month_totals(allocated_estate(workspace), days, buckets, kpi_month=month_of, overdue_on=overdue_on):
        if not kept.exact_elsewhere:
            result.append(kept)
            continue
        exact = build_report(unit_ledgers(workspace.db, NamedUnits(tuple(kept.exact_elsewhere))), kept.as_of,
                             buckets, kpi_month=month_of).total
        kpi = Collection()
        for part in (kept.kpi, exact.kpi or Collection()):
            kpi.add(part)
        overdue = None if kept.overdue is None else kept.overdue + exact.overdue
        result.append(MonthTotals(kept.as_of, kpi, overdue, []))
    return result


def allocated_estate(workspace: Workspace, *, workers: int | None = None) -> AllocatedEstate:
    """The whole ledger's allocation: kept from an earlier run if the ledger is unchanged, else computed and kept.

    Kept in the process too, for the same state of the ledger: the monthly batch and the manager's
    report ask for it at every step. Its columns are read-only, as those read from the database are.
    """
    _estate, kept = _estate_kept_behind(workspace, workers)
    return kept()  # what the process holds from now on: the kept file's pages, once kept


def _estate_kept_behind(workspace: Workspace,
                        workers: int | None) -> tuple[AllocatedEstate, Callable[[], AllocatedEstate]]:
    """:func:`allocated_estate`, and the call that finishes keeping it (its file is written meanwhile) and
    returns the estate to go on with: the one the process holds, once kept."""
    require_data(workspace)
    if workspace.finish_keeping():  # an allocation still being written is named (and held) before the next is asked
        give_back(workspace.db)  # the computed columns gave way to the kept file's pages: their heap space goes
    state = allocation_cache.ledger_state(workspace.db)  # before reading: a later import makes the key stale
    if workspace.kept_estate is not None and workspace.kept_estate[0] == state:
        held = cast(AllocatedEstate, workspace.kept_estate[1])
        return held, lambda: held
    workspace.kept_estate = None  # an older state's columns are not held while the new ones are made
    estate, keep = _allocated_estate(workspace, state, workers)
    for name in AllocatedEstate.array_names():
        getattr(estate, name).flags.writeable = False

    def kept() -> AllocatedEstate:
        held = keep()  # held in the process only once kept in the workspace: else the next call keeps it
        if held is None:
            return estate
        workspace.kept_estate = (state, held)
        return held

    return estate, kept


def _allocated_estate(workspace: Workspace, state: str,
                      workers: int | None) -> tuple[AllocatedEstate, Callable[[], AllocatedEstate | None]]:
    """The estate, and the call that keeps it and returns what the process may hold (None: not kept)."""
    estate = allocation_cache.load(workspace.db, state)
    if estate is not None:
        return estate, lambda: estate
    with _collector_paused():
        updated = extended_estate(workspace, state)
    give_back(workspace.db)  # the update's own garbage, before the caller's pass over the new columns
    estate, event = updated or (join(over_units(workspace, _allocate_part, workers=workers)), None)
    return estate, _mapped_once_kept(workspace, state, estate, allocation_cache.save_behind(
        workspace.db, state, estate, event))


def _mapped_once_kept(workspace: Workspace, state: str, estate: AllocatedEstate,
                      save: Callable[[], str | None]) -> Callable[[], AllocatedEstate | None]:
    """Once the computed estate is kept, the process holds the kept file's pages instead of its arrays:
    the kernel can drop mapped pages between the steps of a long command (``run``), never arrays."""
    def keep() -> AllocatedEstate | None:
        token = save()
        return None if token is None else allocation_cache.mapped(workspace.db, state, token) or estate

    return keep


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cycle collection while a few hundred thousand rows become tuples (none of them cyclic): each
    pass of the collector walks every object alive, and the passes took a third of the update's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def extended_estate(workspace: Workspace, state: str) -> tuple[AllocatedEstate, dict[str, object]] | None:
    """The kept allocation of an earlier state extended by the rows added since (see
    :mod:`cuijiao.allocated_update`), and the audit event naming the units allocated afresh;
    None when only a full recompute is exact (an edit or deletion, a changed unit list)."""
    db = workspace.db
    earlier = allocation_cache.load_earlier(db, state)
    if earlier is None:
        return None
    charge_id, payment_id, kept = earlier
    units, buildings, names = unit_list(db)
    if (units, buildings, names) != (kept.unit_ids, kept.buildings, kept.owner_names):
        return None
    index = unit_index(kept)
    new = _columns(rows_since(db, charge_id, payment_id), index)
    first_new_period = date.fromordinal(int(new.charge_start.min())) if len(new.charge_start) else None
    designations = designations_up_to(db, payment_id, first_new_period) if first_new_period else {}
    why = reaching_back(kept, new, {index[unit]: found for unit, found in designations.items() if unit in index})
    afresh = {kept.unit_ids[k]: reason for k, reason in sorted(why.items())}
    fresh = {index[ledger.unit_id]: ledger for ledger in unit_ledgers(db, NamedUnits(tuple(afresh)))} if afresh else {}
    give_back(db)  # the rows read are columns now: their memory goes before the update needs its own
    estate = extend(kept, new, fresh)
    return estate, {"extended_units": len(new.units()) - len(afresh), "allocated_afresh": afresh}


def _transposed(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def _columns(added: RowsSince, index: dict[str, int]) -> NewColumns:
    """The rows an import added as columns, units by number, dates as ordinals."""
    ordinal: dict[str, int] = {}
    for text in {row[4] for row in added.charges} | {row[6] for row in added.charges} | {
            row[2] for row in added.payments}:
        ordinal[text] = date.fromisoformat(text).toordinal()
    units, ids, items, periods, dues, amounts, starts = _transposed(added.charges, 7)
    p_units, p_ids, paid_on, p_amounts, receipts, p_items, p_periods = _transposed(added.payments, 7)
    return NewColumns.grouped(
        [index[unit] for unit in units], ids, items, periods, [ordinal[day] for day in dues],
        [ordinal[day] for day in starts], amounts, [index[unit] for unit in p_units], p_ids,
        [ordinal[day] for day in paid_on], p_amounts, receipts, p_items, p_periods,
        [index[unit] for unit in added.adjusted])


def _allocate_part(workspace: Workspace, units: UnitRange) -> list[AllocatedEstate]:
    return [allocate_estate(unit_ledgers(workspace.db, units))]


def limitation_report(workspace: Workspace, as_of: date, *, warn_days: int | None = None,
                      exact: bool = False) -> list[Clock]:
    """Charges whose limitation period has ended, or ends within ``warn_days``, as of ``as_of``.

    Only the units whose report can hold a row (:func:`cuijiao.kept_facts.limitation_candidates`, the
    units with recorded outcomes, those the kept allocation does not answer) are read and walked;
    ``exact``: every unit read and allocated afresh, the reference the other way is checked against.
    """
    window = workspace.settings.limitation_warn_days if warn_days is None else warn_days
    if exact:
        return over_units(workspace, partial(_limitation_part, as_of=as_of, window=window))
    facts = kept_facts(workspace, as_of)
    walked = facts.elsewhere | limitation_candidates(facts, window)
    index = unit_index(facts.estate)
    walked[[index[unit_id] for unit_id in outcomes_by_unit(workspace.db) if unit_id in index]] = True
    return _limitation_part(workspace, named(facts.estate, walked), as_of=as_of, window=window)


def kept_facts(workspace: Workspace, as_of: date) -> UnitFacts:
    """The per-unit facts of the kept allocation as of ``as_of``; held for the day, as the allocation is:
    the monthly batch's plan and its report's limitation figures read the same facts."""
    estate = allocated_estate(workspace)
    held = workspace.kept_facts
    if isinstance(held, UnitFacts) and held.estate is estate and held.as_of == as_of:
        return held
    facts = unit_facts(estate, as_of)
    for value in vars(facts).values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    workspace.kept_facts = facts
    return facts


def unit_index(estate: AllocatedEstate) -> dict[str, int]:
    return {unit_id: k for k, unit_id in enumerate(estate.unit_ids)}


def named(estate: AllocatedEstate, units: npt.NDArray[np.bool_]) -> NamedUnits:
    return NamedUnits(tuple(estate.unit_ids[k] for k in np.flatnonzero(units).tolist()))


def _limitation_part(workspace: Workspace, units: UnitRange | NamedUnits, *, as_of: date,
                     window: int) -> list[Clock]:
    settings = workspace.settings
    rest_days = RestDays(settings.extra_holidays, settings.extra_workdays)
    buckets = Buckets(settings.aging_buckets)
    recorded, delivered = outcomes_by_unit(workspace.db), deliveries(workspace.db)
    rows = []
    for ledger in unit_ledgers(workspace.db, units):
        unit = position(ledger, as_of, buckets)
        if unit.overdue_fen or unit.payments:  # a paid-up unit may have paid a time-barred debt: listed as waived
            found = clocks(unit, recorded.get(ledger.unit_id, []), rest_days, window, delivered.get(ledger.unit_id, []))
            rows += [clock for clock in found if clock.status]
    return rows


@dataclass(frozen=True)
class Segmented:
    owner: Owner
    as_of: date
    overdue_fen: int
    facts: dict[str, Any]
    verdict: Verdict


def segment_units(workspace: Workspace, as_of: date, *, exact: bool = False) -> list[Segmented]:
    """Every unit with arrears as of ``as_of``, with its facts and the rule that matched, in natural unit order.

    Read from the kept allocation; the units it cannot answer alone
    (:func:`cuijiao.kept_facts.exact_units`) the exact way. ``exact``: every
    unit read and allocated afresh, the reference the other way is checked against.
    """
    if exact:
        return sorted(over_units(workspace, partial(_segment_part, as_of=as_of)),
                      key=lambda row: natural_key(row.owner.unit_id))
    kept = kept_state(workspace, as_of)
    index = unit_index(kept.facts.estate)
    found = {index[row.owner.unit_id]: row for row in _segment_part(
        workspace, named(kept.facts.estate, kept.exact), as_of=as_of, records=kept.records)}
    rules, people = workspace.settings.segment_rules, kept.records.people
    fast = (kept.facts.overdue_fen > 0) & ~kept.exact
    overdue, payments = kept.facts.overdue_by_unit(kept.buckets), kept.case_payments(fast)
    for unit in np.flatnonzero(fast).tolist():
        unit_id = kept.facts.estate.unit_ids[unit]
        case, _closed = kept.case(unit)
        summary = summary_position(kept.facts, unit, overdue[unit], payments.get(unit, []))
        values = kept.facts_of(people[unit_id], unit, notices_ignored(case, summary))
        found[unit] = Segmented(people[unit_id], as_of, summary.overdue_fen, values, classify(rules, values))
    return [found[unit] for unit in sorted(found, key=kept.facts.estate.unit_rank.tolist().__getitem__)]  # natural


@dataclass(frozen=True)
class KeptState:
    """What segment and plan read once for the whole estate: the facts, cases, and who goes the exact way."""

    facts: UnitFacts
    records: Records
    closed_on: dict[int, date]  # unit → the day its open case's arrears fell below the minimum
    exact: npt.NDArray[np.bool_]
    buckets: Buckets

    def case(self, unit: int) -> tuple[Case | None, tuple[int, date] | None]:
        """The unit's open case, or None and (case id, day) when it was paid below the minimum since."""
        case = self.records.cases.get(self.facts.estate.unit_ids[unit])
        closed = self.closed_on.get(unit)
        if case is None or closed is None:
            return case, None
        assert case.id is not None
        return None, (case.id, closed)

    def case_payments(self, units: npt.NDArray[np.bool_]) -> dict[int, list[Payment]]:
        """What the notices-ignored count reads of each of ``units`` with an open case: its payments
        from the issue of the first notice that may have been ignored (:func:`cuijiao.stages.may_be_ignored`)
        to the date; a unit with no such notice has none to read."""
        index, as_of = unit_index(self.facts.estate), self.facts.as_of
        since = np.full(len(units), as_of.toordinal() + 1, dtype=np.int64)  # none
        for unit_id, case in self.records.cases.items():
            if unit_id in index and units[index[unit_id]]:
                issued = [n.issued_on for n in case.notices if may_be_ignored(n, as_of)]
                if issued:
                    since[index[unit_id]] = min(issued).toordinal()
        return self.facts.payments(since)

    def facts_of(self, owner: Owner, unit: int, ignored: int) -> dict[str, Any]:
        oldest = self.facts.oldest(unit)
        return facts_of(owner, overdue_fen=int(self.facts.overdue_fen[unit]),
                        oldest_days=(self.facts.as_of - oldest).days if oldest else 0,
                        months_in_arrears=int(self.facts.months_in_arrears[unit]),
                        credit_fen=int(self.facts.credit_fen[unit]), standing=NO_STANDING, notices_ignored=ignored)


NO_STANDING = standing((), (), date.min)  # a unit with no recorded outcomes


def kept_state(workspace: Workspace, as_of: date) -> KeptState:
    facts = kept_facts(workspace, as_of)
    records, index = Records.read(workspace), unit_index(facts.estate)
    since = {index[unit_id]: (case.last_notice.issued_on if case.last_notice else case.opened_on).toordinal()
             for unit_id, case in records.cases.items() if unit_id in index}
    closed = closings(facts, since, workspace.settings.policy.minimum_fen)
    exact = exact_units(facts, records.recorded) | closed.unsure
    return KeptState(facts, records, closed.closed_on, exact, Buckets(workspace.settings.aging_buckets))


@dataclass(frozen=True)
class Records:
    """What is recorded about the units besides their ledgers, read once per command."""

    recorded: dict[str, list[Outcome]]
    people: dict[str, Owner]
    cases: dict[str, Case]

    @classmethod
    def read(cls, workspace: Workspace) -> Records:
        return cls(outcomes_by_unit(workspace.db), owners(workspace.db), open_cases(workspace.db))


def _segment_part(workspace: Workspace, units: UnitRange | NamedUnits, *, as_of: date,
                  records: Records | None = None) -> list[Segmented]:
    buckets, rules = Buckets(workspace.settings.aging_buckets), workspace.settings.segment_rules
    policy = workspace.settings.policy
    records = records or Records.read(workspace)
    recorded, people, cases = records.recorded, records.people, records.cases
    result = []
    for ledger in unit_ledgers(workspace.db, units):
        unit = position(ledger, as_of, buckets)
        if unit.overdue_fen:
            case = cases.get(ledger.unit_id)
            if case is not None and closed_since(ledger, case, as_of, buckets, policy):
                case = None  # paid up since its last notice: those notices were not ignored
            result.append(_segmented(people[ledger.unit_id], unit, recorded.get(ledger.unit_id, []), rules, case))
    return result


def explain_unit(workspace: Workspace, unit_id: str, as_of: date) -> Segmented:
    unit = unit_position(workspace, unit_id, as_of)
    return _segmented(owners(workspace.db)[unit_id], unit, unit_outcomes(workspace.db, unit_id),
                      workspace.settings.segment_rules, open_cases(workspace.db).get(unit_id))


def _segmented(owner: Owner, unit: UnitPosition, recorded: list[Outcome], rules: tuple[Rule, ...],
               case: Case | None) -> Segmented:
    """The same facts and rules the planner uses, so "why" here is "why" there."""
    ignored = notices_ignored(case, unit, recorded)
    values = facts(owner, unit, standing(recorded, unit.payments, unit.as_of), ignored)
    return Segmented(owner, unit.as_of, unit.overdue_fen, values, classify(rules, values))


def closed_since(
    ledger: UnitLedger, case: Case, as_of: date, buckets: Buckets, policy: Policy
) -> tuple[int, date] | None:
    """The day a payment since the case's last step took its arrears below the minimum, if any."""
    assert case.id is not None
    last = case.last_notice
    since = last.issued_on if last else case.opened_on
    for payment_day in sorted({p.paid_on for p in ledger.payments if since < p.paid_on <= as_of}):
        if position(ledger, payment_day, buckets).overdue_fen < policy.minimum_fen:
            return case.id, payment_day
    return None


def time_barred_payments(workspace: Workspace, unit: UnitPosition) -> dict[tuple[int, int], date]:
    """(payment id, charge id) → the end of the limitation period that payment paid past."""
    settings = workspace.settings
    unit_id = unit.ledger.unit_id
    return barred_applications(unit, unit_outcomes(workspace.db, unit_id),
                               RestDays(settings.extra_holidays, settings.extra_workdays),
                               deliveries(workspace.db).get(unit_id, []))


def unit_position(workspace: Workspace, unit_id: str, as_of: date) -> UnitPosition:
    require_data(workspace)
    ledger = next(unit_ledgers(workspace.db, one_unit(unit_id)), None)
    if ledger is None:
        close = sorted(difflib.get_close_matches(unit_id, unit_ids(workspace.db), n=3, cutoff=0.75), key=natural_key)
        hint = f"。是否是：{'、'.join(close)}？" if close else "。请检查房号，或先导入房屋业主文件"
        raise BadInput(f"没有房号“{unit_id}”{hint}")
    return position(ledger, as_of, Buckets(workspace.settings.aging_buckets))
