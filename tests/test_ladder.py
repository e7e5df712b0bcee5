"""Two years of monthly runs on a small estate: the exact notices each owner gets.

Every expected date below was worked out by hand from the default policy:
stage thresholds 15/30/90/180/365 days, 15 days between notices, a 15-day
payment deadline on letters (stages 2-5), minimum ¥50, dispute capped at stage 2.
"""

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import Invoke, unplaced, write_csv
from cuijiao.aging import Buckets, UnitLedger, UnitPosition, position
from cuijiao.allocation import Charge
from cuijiao.outcomes import Kind, Outcome, Standing
from cuijiao.stages import Block, Case, IssuedNotice, Policy, Purpose, expiry_matters, plan_unit

UNITS = [["房号", "楼栋", "业主姓名", "联系电话", "建筑面积"],
         ["3-101", "3栋", "赵一", "13800000001", "80"],   # never pays
         ["3-102", "3栋", "钱二", "13800000002", "80"],   # disputes, later resolved
         ["3-103", "3栋", "孙三", "13800000003", "80"],   # promises, breaks the promise
         ["3-104", "3栋", "李四", "13800000004", "80"]]   # pays up, relapses later
MONTHS = [(2025, m) for m in range(1, 13)] + [(2026, m) for m in range(1, 13)]
# notices issue refuses a date after today (#8 item 12): the runs stop at today.
RUNS = [date(y, m, 25) for y, m in MONTHS if date(y, m, 25) <= date.today()]


@pytest.fixture
def estate(cli: Invoke, tmp_path: Path) -> Invoke:
    assert cli("import", "units", str(write_csv(tmp_path / "u.csv", UNITS))).exit_code == 0
    charges = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]] + [
        [unit[0], "物业费", f"{y}-{m:02d}", f"{y}-{m:02d}-10", "100.00"] for unit in UNITS[1:] for y, m in MONTHS]
    assert cli("import", "charges", str(write_csv(tmp_path / "c.csv", charges))).exit_code == 0
    payments = [["收据号", "房号", "实收金额", "收款日期"], ["D1", "3-104", "200.00", "2025-03-05"]] + [
        [f"D{m}", "3-104", "100.00", f"2025-{m:02d}-10"] for m in range(3, 9)]
    assert cli("import", "payments", str(write_csv(tmp_path / "p.csv", payments))).exit_code == 0
    for args in (["dispute", "3-102", "--reason", "楼道漏水未修", "--on", "2025-03-01"],
                 ["resolve", "3-102", "--note", "已修复", "--on", "2025-09-01"],
                 ["promise", "3-103", "--amount", "300", "--by", "2025-04-30", "--on", "2025-03-05"]):
        assert cli("record", *args).exit_code == 0
    return cli


def notices(workspace_dir: Path) -> dict[str, list[tuple[str, int, int]]]:
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        rows = db.execute("SELECT unit_id, issued_on, stage, case_id FROM notices ORDER BY unit_id, issued_on")
        found: dict[str, list[tuple[str, int, int]]] = {}
        for unit, issued, stage, case_id in rows:
            found.setdefault(unit, []).append((issued, stage, case_id))
        return found


def test_two_years_of_monthly_runs(estate: Invoke, workspace_dir: Path) -> None:
    for day in RUNS:
        plan = json.loads(estate("--json", "notices", "plan", "--as-of", day.isoformat()).output)["rows"]
        if day == date(2025, 7, 25):  # stage 4 needs approval: without it, nothing for 3-101
            row = next(r for r in plan if r["unit_id"] == "3-101")
            assert (row["stage_now"], row["next_stage"], row["blocked_by"]) == (3, 4, "approval")
        # the manager approves what asks for approval (approving anything else is refused)
        approve = [arg for r in plan if r["blocked_by"] == "approval" for arg in ("--approve", r["unit_id"])]
        result = estate("notices", "issue", "--as-of", day.isoformat(), *approve)
        assert result.exit_code == 0, result.stderr
        again = estate("--json", "notices", "issue", "--as-of", day.isoformat())
        assert json.loads(again.output)["issued"] == []  # running twice changes nothing
    found = notices(workspace_dir)
    sequence = {unit: [(issued, stage) for issued, stage, _case in rows] for unit, rows in found.items()}
    ladder = [1, 2, 3, 4, 5]
    # 3-101 never pays: 1 at 15 days, 2 at 46, then 3, 4 and 5 when the oldest charge
    # (2025-01-10) reaches 90 (04-10), 180 (07-09) and 365 days (2026-01-10).
    assert sequence["3-101"] == list(zip(
        ["2025-01-25", "2025-02-25", "2025-04-25", "2025-07-25", "2026-01-25"], ladder, strict=True))
    # 3-102 disputes on 03-01: held at stage 2 until it is resolved on 09-01.
    assert sequence["3-102"] == list(zip(
        ["2025-01-25", "2025-02-25", "2025-09-25", "2025-10-25", "2026-01-25"], ladder, strict=True))
    # 3-103 promises ¥300 by 04-30 and pays nothing: blocked on 04-25, resumes on 05-25.
    assert sequence["3-103"] == list(zip(
        ["2025-01-25", "2025-02-25", "2025-05-25", "2025-07-25", "2026-01-25"], ladder, strict=True))
    # 3-104 pays everything on 03-05 (the case closes) and each month to August; the
    # September charge starts a new case and a new ladder from stage 1.
    assert sequence["3-104"] == [("2025-01-25", 1), ("2025-02-25", 2), ("2025-09-25", 1), ("2025-10-25", 2),
                                 ("2025-12-25", 3), ("2026-03-25", 4), ("2026-09-25", 5)]
    # 3-101 let the deadlines of 02-25 (03-12) and 04-25 (05-10) pass without paying, but no
    # delivery of either was recorded: a letter not proven to arrive was not ignored (#8 item 9).
    why = json.loads(estate("--json", "segment", "--as-of", "2025-05-25", "--explain", "3-101").output)
    assert (why["facts"]["notices_ignored"], why["facts"]["oldest_days"], why["segment"]) == (0, 135, "reminder")
    cases = [case for _issued, _stage, case in found["3-104"]]
    assert cases[0] == cases[1] != cases[2] == cases[-1]
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        assert db.execute("SELECT closed_on FROM case_closings").fetchall() == [("2025-03-05",)]
    assert estate("audit", "verify").exit_code == 0


def test_plan_json_schema_and_blocks(estate: Invoke) -> None:
    estate("notices", "issue", "--as-of", "2025-02-25")
    plan = json.loads(estate("--json", "notices", "plan", "--as-of", "2025-03-10").output)
    rows = {row["unit_id"]: row for row in plan["rows"]}
    assert plan["as_of"] == "2025-03-10"
    assert rows["3-101"] == {
        "unit_id": "3-101", "segment": "reminder", "case_opened": "2025-01-11", "stage_now": 2, "next_stage": 3,
        "next_on": "2025-04-10", "blocked_by": "threshold",
        "reason": "第 3 级 催缴函：距上次通知（CJ2025-000001）不足 15 天（2025-03-12 起）；"
                  "上次通知的缴费期限 2025-03-12 未过（2025-03-13 起）；待最早欠费逾期满 90 天（2025-04-10 起）"}
    assert (rows["3-102"]["segment"], rows["3-102"]["next_stage"], rows["3-102"]["blocked_by"]) == (
        "dispute", None, "dispute")
    assert rows["3-103"]["blocked_by"] == "promise"
    # 3-104 paid everything on 03-05 and March on 03-10: its case is over, nothing is due.
    assert (rows["3-104"]["stage_now"], rows["3-104"]["case_opened"], rows["3-104"]["next_stage"]) == (0, None, None)
    assert rows["3-104"]["reason"].startswith("欠费已于 2025-03-05 降至起催金额以下，原案件结案")


def test_delivery_evidence(estate: Invoke, workspace_dir: Path) -> None:
    estate("notices", "issue", "--as-of", "2025-01-25")
    estate("notices", "issue", "--as-of", "2025-02-25")
    number = next(n for n in [f"CJ2025-{i:06d}" for i in range(1, 9)]
                  if estate("record", "delivered", n, "--method", "EMS", "--on", "2025-02-20").exit_code == 2
                  and "早于通知发出日期" in estate("record", "delivered", n, "--method", "EMS",
                                                   "--on", "2025-02-20").stderr)
    result = estate("record", "delivered", number, "--method", "EMS", "--on", "2025-02-27")
    assert (result.exit_code, unplaced(result.stderr)) == (
        2, "EMS 送达须写明邮件号（--evidence），并在邮单内件品名注明“物业费催缴函”")
    result = estate("record", "delivered", number, "--method", "当面签收", "--on", "2025-02-27", "--signer", "赵一")
    assert unplaced(result.stderr) == "当面签收须写明签收人（--signer）及其与业主的关系（--relation）"
    result = estate("record", "delivered", "CJ2099-000001", "--method", "EMS", "--evidence", "E1")
    assert (result.exit_code, unplaced(result.stderr)) == (2, "没有编号为 CJ2099-000001 的通知")
    ok = estate("record", "delivered", number, "--method", "当面签收", "--on", "2025-02-27",
                "--signer", "赵一", "--relation", "本人")
    assert ok.exit_code == 0, ok.stderr
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        assert db.execute("SELECT count(*) FROM deliveries").fetchone() == (1,)


# --- The pure planner, case by case -------------------------------------------------

NOTHING = Standing(None, None, 0, None)


def _position(as_of: date, *dues: date, fen: int = 10000) -> UnitPosition:
    charges = [Charge(i + 1, "物业费", f"{d:%Y-%m}", d, fen) for i, d in enumerate(dues)]
    return position(UnitLedger("9-901", "9栋", "周九", charges, []), as_of, Buckets())


def test_first_notice_is_a_written_demand_after_30_days() -> None:
    plan = plan_unit(_position(date(2025, 3, 1), date(2025, 1, 10)), "reminder", NOTHING, None, Policy())
    assert (plan.next_stage, plan.issue_now, plan.case.opened_on if plan.case else None) == (
        2, True, date(2025, 1, 11))


def test_below_minimum_and_hold() -> None:
    small = plan_unit(_position(date(2025, 3, 1), date(2025, 1, 10), fen=4999), "reminder", NOTHING, None, Policy())
    assert (small.blocked_by, small.next_stage, small.issue_now) == (Block.BELOW_MINIMUM, None, False)
    hold = Outcome(1, "9-901", Kind.HOLD, date(2025, 2, 1), date(2025, 3, 31), detail={"reason": "业主住院"})
    held = plan_unit(_position(date(2025, 3, 1), date(2025, 1, 10)), "reminder", Standing(None, None, 0, hold),
                     None, Policy())
    assert (held.blocked_by, held.next_on, held.issue_now) == (Block.HOLD, date(2025, 4, 1), False)


def test_expiring_debts_get_a_demand_even_when_the_dispute_caps_the_ladder() -> None:
    as_of = date(2026, 11, 27)
    unit = _position(as_of, date(2023, 12, 10))  # ends 2026-12-10: 13 days away
    case = Case(7, date(2023, 12, 11), (IssuedNotice("CJ2024-000001", 2, date(2024, 1, 25), date(2024, 2, 9)),))
    dispute = Outcome(2, "9-901", Kind.DISPUTE, date(2024, 2, 1), detail={"reason": "漏水"})
    standing = Standing(dispute, None, 0, None)
    capped = plan_unit(unit, "dispute", standing, case, Policy())
    assert (capped.blocked_by, capped.next_stage) == (Block.DISPUTE, None)
    demand = plan_unit(unit, "dispute", standing, case, Policy(), expiring=True)
    assert (demand.next_stage, demand.purpose, demand.issue_now) == (2, Purpose.LIMITATION, True)
    assert demand.reason == "诉讼时效即将届满：发出书面催缴，并保留送达证据"


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 1500), st.integers(1, 40_000), st.integers(0, 5), st.integers(1, 400),
       st.sampled_from(["reminder", "dispute", "chronic"]), st.booleans())
def test_a_plan_reads_expiring_only_where_expiry_matters(  # the kept plan goes the exact way only there
        age: int, fen: int, stage: int, since: int, segment: str, approved: bool) -> None:
    as_of = date(2026, 11, 27)
    unit = _position(as_of, as_of - timedelta(days=age), fen=fen)
    notices = (IssuedNotice("CJ2026-000001", stage, as_of - timedelta(days=since), as_of),) if stage else ()
    case = Case(7, as_of - timedelta(days=since + 1), notices) if stage else None
    if not expiry_matters(unit, segment, NOTHING, case, Policy(), approved=approved):
        assert (plan_unit(unit, segment, NOTHING, case, Policy(), expiring=True, approved=approved)
                == plan_unit(unit, segment, NOTHING, case, Policy(), approved=approved))


def test_a_capped_ladder_is_one_where_expiry_matters() -> None:
    as_of = date(2026, 11, 27)
    case = Case(7, date(2023, 12, 11), (IssuedNotice("CJ2024-000001", 2, date(2024, 1, 25), date(2024, 2, 9)),))
    assert expiry_matters(_position(as_of, date(2023, 12, 10)), "dispute", NOTHING, case, Policy())


def test_only_a_delivered_notice_restarts_the_clock(estate: Invoke) -> None:
    def last_interruptions() -> dict[str, str | None]:
        rows = json.loads(estate("--json", "limitation", "--as-of", "2027-12-31", "--within", "400").output)["rows"]
        return {r["period"]: r["last_interruption"] for r in rows if r["unit_id"] == "3-101"}

    estate("notices", "issue", "--as-of", "2025-02-25")
    plan = json.loads(estate("--json", "notices", "plan", "--as-of", "2025-02-25").output)["rows"]
    assert not any(row["next_on"] == "2025-02-25" and row["blocked_by"] is None for row in plan)  # nothing new
    assert last_interruptions()["2025-01"] is None  # issued, printed, not proven delivered
    future = estate("record", "delivered", "CJ2025-000001", "--method", "电子送达", "--on", "2999-01-01")
    assert (future.exit_code, future.stderr.startswith("送达日期 2999-01-01 晚于今天")) == (2, True)
    delivered = estate("record", "delivered", "CJ2025-000001", "--method", "当面签收", "--on", "2025-02-27",
                       "--signer", "赵一", "--relation", "本人")
    assert delivered.exit_code == 0, delivered.stderr
    after = last_interruptions()
    # The notice listed the debts overdue on 02-25 (January and February): only they restart.
    assert (after["2025-01"], after["2025-02"], after["2025-03"]) == ("2025-02-27", "2025-02-27", None)
