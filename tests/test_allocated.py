"""Aging from the kept allocation is the exact aging, on any date, and the cache follows the ledger."""

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import Invoke, write_csv
from cuijiao import allocated
from cuijiao.aging import AgingReport, Buckets, UnitLedger, build_report, merge_reports
from cuijiao.allocated import AllocatedEstate, age, allocate_estate, join
from cuijiao.allocation import Charge, Payment
from cuijiao.arrears import aging_report, allocated_estate, kept_facts, month_end_totals
from cuijiao.demo import sample_workspace
from cuijiao.kept_facts import unit_facts
from cuijiao.reports.monthly_figures import gather, month_ends
from cuijiao.store import allocation_cache
from cuijiao.store.reading import unit_ledgers
from cuijiao.workspace import open_workspace

ITEMS = ("物业费", "车位管理费", "公共能耗分摊费")
START = date(2024, 1, 1)
BUCKETS = Buckets((30, 90, 365))

# Charges billed well before, just before, on or after their due date, so that
# one due date can hold charges billed on different days (the hard case).
charge_rows = st.lists(
    st.tuples(st.sampled_from(ITEMS), st.integers(0, 20), st.integers(-50_00, 400_00),
              st.sampled_from([0, 9, 45, 200])),
    max_size=14, unique_by=lambda t: (t[0], t[1]),
)
# A designation: none, an item alone, a period alone, a range of periods, or item and period.
designations = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(ITEMS), st.none()),
    st.tuples(st.none(), st.integers(0, 20)),
    st.tuples(st.none(), st.tuples(st.integers(0, 20), st.integers(1, 4))),
    st.tuples(st.sampled_from(ITEMS), st.integers(0, 20)),
)
payment_rows = st.lists(st.tuples(st.integers(0, 700), st.integers(1, 900_00), designations), max_size=10)


def month_label(month: int) -> str:
    return f"{2024 + month // 12}-{month % 12 + 1:02d}"


def designation(value: object) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    item, period = value  # type: ignore[misc]
    if isinstance(period, tuple):
        first, length = period
        return item, f"{month_label(first)}~{month_label(first + length)}"
    return item, month_label(period) if period is not None else None
unit_rows = st.lists(st.tuples(charge_rows, payment_rows, st.sampled_from(["1栋", "2栋", "10栋"])), max_size=6)


def ledgers_of(units: list[tuple[list, list, str]]) -> list[UnitLedger]:  # type: ignore[type-arg]
    ledgers, next_id = [], 1
    for number, (charges, payments, building) in enumerate(units):
        unit_charges = []
        for item, month, fen, lead in charges:
            due = START + timedelta(days=30 * month)
            unit_charges.append(Charge(next_id, item, month_label(month), due, fen, due - timedelta(days=lead)))
            next_id += 1
        unit_payments = []
        for day, fen, named in payments:
            unit_payments.append(Payment(next_id, START + timedelta(days=day), fen, f"R{next_id:04d}",
                                         *designation(named)))
            next_id += 1
        ledgers.append(UnitLedger(f"{building[:-1]}-{number + 1}01", building, f"业主{number}",
                                  unit_charges, unit_payments))
    return ledgers


def from_columns(ledgers: list[UnitLedger], estate: AllocatedEstate, as_of: date,
                 month_of: str = "due_date") -> AgingReport:
    """What arrears.aging_report does, without the database."""
    aged = age(estate, as_of, BUCKETS, kpi_month=month_of)
    exact = [ledger for ledger in ledgers if ledger.unit_id in aged.exact_elsewhere]
    return merge_reports([aged.report, build_report(exact, as_of, BUCKETS, kpi_month=month_of)])


@settings(max_examples=300, deadline=None)
@given(unit_rows, st.integers(-10, 800), st.sampled_from(["due_date", "period_start"]))
def test_columns_give_the_exact_report_on_any_date(units, day: int, month_of: str) -> None:  # type: ignore[no-untyped-def]
    ledgers = ledgers_of(units)
    as_of = START + timedelta(days=day)
    assert (from_columns(ledgers, allocate_estate(ledgers), as_of, month_of)
            == build_report(ledgers, as_of, BUCKETS, kpi_month=month_of))


@settings(max_examples=200, deadline=None)
@given(unit_rows, st.integers(-10, 800))
def test_units_answered_from_columns_need_no_correction(units, day: int) -> None:  # type: ignore[no-untyped-def]
    """The units the columns answer are exact on their own, not only after the merge."""
    ledgers = ledgers_of(units)
    as_of = START + timedelta(days=day)
    aged = age(allocate_estate(ledgers), as_of, BUCKETS)
    answered = [ledger for ledger in ledgers if ledger.unit_id not in aged.exact_elsewhere]
    assert aged.report == build_report(answered, as_of, BUCKETS)


def test_a_prepayment_of_a_charge_billed_later_is_credit_until_it_is_billed() -> None:
    """Paid on 1 March for April's fee, billed on 1 April: as of 15 March the 100.00 is credit."""
    ledger = UnitLedger("1-101", "1栋", "张三",
                        [Charge(1, "物业费", "2025-04", date(2025, 4, 10), 100_00, date(2025, 4, 1))],
                        [Payment(2, date(2025, 3, 1), 100_00, "R1", "物业费", "2025-04")])
    estate = allocate_estate([ledger])
    early = age(estate, date(2025, 3, 15), BUCKETS)
    assert early.exact_elsewhere == []  # nothing billed was left open: the columns answer
    assert (early.report.total.credit_fen, early.report.total.not_yet_due_fen) == (100_00, 0)
    later = age(estate, date(2025, 4, 2), BUCKETS)
    assert (later.report.total.credit_fen, later.report.total.not_yet_due_fen) == (0, 0)


def test_a_prepayment_past_an_open_debt_sends_the_unit_to_the_exact_path() -> None:
    """January's 100.00 is unpaid when 100.00 is paid on 1 March for April's fee.

    As of 15 March April's fee is not billed; the designation keeps the money
    for it (credit), and January stays owed (art. 560 para 1). The whole-ledger
    allocation gave it to April and left January open; the unit is aged the
    exact way, and both say the same.
    """
    ledger = UnitLedger("1-101", "1栋", "张三",
                        [Charge(1, "物业费", "2025-01", date(2025, 1, 10), 100_00, date(2025, 1, 1)),
                         Charge(2, "物业费", "2025-04", date(2025, 4, 10), 100_00, date(2025, 4, 1))],
                        [Payment(3, date(2025, 3, 1), 100_00, "R1", "物业费", "2025-04")])
    aged = age(allocate_estate([ledger]), date(2025, 3, 15), BUCKETS)
    assert aged.exact_elsewhere == ["1-101"]
    assert aged.report.units == []
    exact = build_report([ledger], date(2025, 3, 15), BUCKETS)
    assert (exact.total.overdue_fen, exact.total.credit_fen) == (100_00, 100_00)
    # The manager's months name it too, on the days it goes elsewhere only.
    days = [date(2025, 2, 28), date(2025, 3, 15), date(2025, 4, 30)]
    totals = allocated.month_totals(allocate_estate([ledger]), days, BUCKETS)
    assert [t.exact_elsewhere for t in totals] == [[], ["1-101"], []]


@settings(max_examples=100, deadline=None)
@given(unit_rows, st.integers(1, 5))
def test_parts_joined_equal_the_whole(units, cut: int) -> None:  # type: ignore[no-untyped-def]
    ledgers = ledgers_of(units)
    whole = allocate_estate(ledgers)
    joined = join([allocate_estate(ledgers[:cut]), allocate_estate(ledgers[cut:])])
    for as_of in (START, START + timedelta(days=200), START + timedelta(days=700)):
        assert from_columns(ledgers, joined, as_of) == from_columns(ledgers, whole, as_of)


@settings(max_examples=50, deadline=None)
@given(unit_rows)
def test_columns_gathered_in_small_chunks_are_the_same(units) -> None:  # type: ignore[no-untyped-def]
    """Large estates are narrowed in chunks as they are gathered; chunk edges must not show."""
    ledgers = ledgers_of(units)
    whole = allocate_estate(ledgers)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(allocated._Builder, "CHUNK_ROWS", 3)
        chunked = allocate_estate(ledgers)
    for name in AllocatedEstate.array_names():
        assert getattr(chunked, name).tolist() == getattr(whole, name).tolist(), name


def test_the_sample_estate_on_many_dates(tmp_path: Path) -> None:
    """The bundled estate, through the database and the kept allocation, against the exact path."""
    target = sample_workspace(tmp_path / "sample")
    workspace = open_workspace(target)
    try:
        buckets = Buckets(workspace.settings.aging_buckets)
        ledgers = list(unit_ledgers(workspace.db))
        for as_of in (date(2024, 1, 1), date(2024, 12, 31), date(2025, 6, 15), date(2026, 2, 28), date(2026, 11, 25)):
            assert aging_report(workspace, as_of, workers=1) == build_report(ledgers, as_of, buckets)
    finally:
        workspace.close()


def test_the_kept_allocation_is_reused_and_follows_each_import(with_units: Invoke, workspace_dir: Path,
                                                                tmp_path: Path) -> None:
    charges = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
               ["1-101", "物业费", "2025-01", "2025-01-10", "100.00"]]
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", charges))).exit_code == 0
    assert with_units("aging", "--as-of", "2025-03-01", "--format", "json").exit_code == 0
    workspace = open_workspace(workspace_dir)
    try:
        first_state = allocation_cache.ledger_state(workspace.db)
        kept = allocation_cache.load(workspace.db, first_state)
        assert kept is not None and kept.unit_ids  # the aging run above kept it
        assert aging_report(workspace, date(2025, 3, 1)).total.overdue_fen == 100_00
        payments = [["收据号", "房号", "实收金额", "收款日期"], ["SJ1", "1-101", "30.00", "2025-02-01"]]
        assert with_units("import", "payments", str(write_csv(tmp_path / "p.csv", payments))).exit_code == 0
        assert allocation_cache.load(workspace.db, allocation_cache.ledger_state(workspace.db)) is None  # stale
        assert aging_report(workspace, date(2025, 3, 1)).total.overdue_fen == 70_00
        workspace.finish_keeping()  # named in the workspace once the report is out
        assert allocation_cache.load(workspace.db, allocation_cache.ledger_state(workspace.db)) is not None
        # Held by the process while the ledger stays as it is, read-only; an import makes it stale there too.
        held = allocated_estate(workspace)
        assert allocated_estate(workspace) is held and not held.app_amount.flags.writeable
        more = [["收据号", "房号", "实收金额", "收款日期"], ["SJ2", "1-101", "20.00", "2025-02-02"]]
        assert with_units("import", "payments", str(write_csv(tmp_path / "p2.csv", more))).exit_code == 0
        assert allocated_estate(workspace) is not held
        assert aging_report(workspace, date(2025, 3, 1)).total.overdue_fen == 50_00
    finally:
        workspace.close()


def test_a_unit_the_columns_cannot_answer_is_aged_exactly_through_the_workspace(with_units: Invoke,
                                                                                  tmp_path: Path) -> None:
    """January unpaid; 1 March: 150.00 paid for April's fee, billed on 1 April (worked by hand below)."""
    charges = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
               ["1-101", "物业费", "2025-01", "2025-01-10", "100.00"],
               ["1-101", "物业费", "2025-04", "2025-04-10", "100.00"]]
    payments = [["收据号", "房号", "实收金额", "收款日期", "收费项目", "所属期间"],
                ["SJ1", "1-101", "150.00", "2025-03-01", "物业费", "2025-04"]]
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", charges))).exit_code == 0
    assert with_units("import", "payments", str(write_csv(tmp_path / "p.csv", payments))).exit_code == 0
    # 15 March: April's fee is not billed; 100.00 is kept for it (credit, art. 560 para 1),
    # the other 50.00 pays January (oldest due), which still owes 50.00.
    march = json.loads(with_units("aging", "--as-of", "2025-03-15", "--format", "json").stdout)
    assert [(row["unit_id"], row["overdue_total"], row["credit"]) for row in march["rows"]] == [
        ("1-101", "50.00", "100.00")]
    # 15 April: the designation finds April's fee (100.00), the other 50.00 pays January, 95 days overdue.
    april = json.loads(with_units("aging", "--as-of", "2025-04-15", "--format", "json").stdout)
    assert [(row["unit_id"], row["overdue_total"], row["by_bucket"]["91-180"], row["credit"])
            for row in april["rows"]] == [("1-101", "50.00", "50.00", "0.00")]


@settings(max_examples=200, deadline=None)
@given(unit_rows, st.integers(0, 700), st.integers(1, 14), st.sampled_from(["due_date", "period_start"]),
       st.data())
def test_many_month_ends_at_once_equal_each_days_aging(units, start: int, months: int, month_of: str,  # type: ignore[no-untyped-def]
                                                       data: st.DataObject) -> None:
    """month_totals (the manager's twelve months) gives each day's total KPIs, overdue and elsewhere
    units as aging that day does; those units' exact figures added make the exact report's."""
    ledgers = ledgers_of(units)
    first = START + timedelta(days=start)
    days = []
    for k in range(months):  # one day per month, any day of it: a month end, or the as-of day
        month = date(first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1)
        days.append(month + timedelta(days=data.draw(st.integers(0, 27))))
    estate = allocate_estate(ledgers)
    for totals in allocated.month_totals(estate, days, BUCKETS, kpi_month=month_of, overdue_on=days[::2]):
        aged = age(estate, totals.as_of, BUCKETS, kpi_month=month_of)
        assert totals.kpi == aged.report.total.kpi
        assert totals.exact_elsewhere == aged.exact_elsewhere
        assert totals.overdue == (aged.report.total.overdue if totals.as_of in days[::2] else None)
        exact = build_report([ledger for ledger in ledgers if ledger.unit_id in totals.exact_elsewhere],
                             totals.as_of, BUCKETS, kpi_month=month_of).total
        assert exact.kpi is not None
        exact.kpi.add(totals.kpi)
        assert exact.kpi == build_report(ledgers, totals.as_of, BUCKETS, kpi_month=month_of).total.kpi


def test_the_managers_twelve_months_equal_each_month_ends_aging(tmp_path: Path) -> None:
    """month_end_totals and the report's figures (KPIs of twelve months, last month's buckets) through
    the workspace, against a whole aging report for each day."""
    workspace = open_workspace(sample_workspace(tmp_path / "sample"))
    try:
        as_of = date(2026, 11, 25)
        ends = month_ends(as_of)
        report = aging_report(workspace, as_of)
        figures = gather(workspace, as_of, report, waiting_approval=[])
        for day, totals in zip(ends[:-1], month_end_totals(workspace, ends[:-1], overdue_on=ends), strict=True):
            whole = aging_report(workspace, day).total
            assert (totals.kpi, totals.overdue, totals.exact_elsewhere) == (whole.kpi, whole.overdue, [])
        for day in ends:
            kpi = aging_report(workspace, day).total.kpi
            assert kpi is not None
            row = figures.kpis.loc[f"{day:%Y-%m}"]
            assert [int(row[name]) for name in ("billed", "collected", "arrears_start", "arrears_collected")] == [
                kpi.billed_fen, kpi.collected_fen, kpi.arrears_start_fen, kpi.arrears_collected_fen]
        last = aging_report(workspace, ends[-2]).total.overdue
        assert figures.buckets["last_month"].tolist() == [last[label] for label in report.buckets.labels]
    finally:
        workspace.close()


def test_a_month_end_the_columns_cannot_answer_is_added_from_the_exact_path(with_units: Invoke,
                                                                             workspace_dir: Path,
                                                                             tmp_path: Path) -> None:
    charges = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
               ["1-101", "物业费", "2025-01", "2025-01-10", "100.00"],
               ["1-101", "物业费", "2025-04", "2025-04-10", "100.00"],
               ["1-102", "物业费", "2025-03", "2025-03-10", "80.00"]]
    payments = [["收据号", "房号", "实收金额", "收款日期", "收费项目", "所属期间"],
                ["SJ1", "1-101", "150.00", "2025-03-01", "物业费", "2025-04"],
                ["SJ2", "1-102", "30.00", "2025-03-20", "", ""]]
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", charges))).exit_code == 0
    assert with_units("import", "payments", str(write_csv(tmp_path / "p.csv", payments))).exit_code == 0
    workspace = open_workspace(workspace_dir)
    try:
        days = [date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30)]
        kept = allocated.month_totals(allocated_estate(workspace), days, Buckets(workspace.settings.aging_buckets))
        assert [t.exact_elsewhere for t in kept] == [[], ["1-101"], []]
        for totals in month_end_totals(workspace, days, overdue_on=days):
            whole = aging_report(workspace, totals.as_of).total
            assert (totals.kpi, totals.overdue, totals.exact_elsewhere) == (whole.kpi, whole.overdue, [])
    finally:
        workspace.close()


def test_the_kept_facts_are_held_for_the_day_and_follow_the_ledger(tmp_path: Path) -> None:
    workspace = open_workspace(sample_workspace(tmp_path / "sample"))
    try:
        day = date(2026, 11, 25)
        facts = kept_facts(workspace, day)
        assert kept_facts(workspace, day) is facts and not facts.owed.flags.writeable
        assert kept_facts(workspace, day + timedelta(days=1)).as_of == day + timedelta(days=1)
        assert kept_facts(workspace, day) is not facts
        assert kept_facts(workspace, day).overdue_fen.tolist() == unit_facts(allocated_estate(workspace),
                                                                               day).overdue_fen.tolist()
    finally:
        workspace.close()
