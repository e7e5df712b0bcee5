"""Promises, legal steps and deliveries as evidence (issue #8 items 2, 11 and the bad inputs)."""

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from conftest import Invoke, unplaced, write_csv

CHARGES = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
           ["1-101", "物业费", "2025-01", "2025-01-10", "100.00"],
           ["1-101", "物业费", "2025-02", "2025-02-10", "100.00"],
           ["1-101", "车位管理费", "2025-02", "2025-02-10", "50.00"]]


@pytest.fixture
def owing(with_units: Invoke, tmp_path: Path) -> Invoke:
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", CHARGES))).exit_code == 0
    return with_units


def outcome_details(workspace_dir: Path) -> list[dict[str, object]]:
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        return [json.loads(row[0]) for row in db.execute("SELECT detail FROM outcomes ORDER BY id")]


def clocks(owing: Invoke) -> dict[tuple[str, str], str | None]:
    rows = json.loads(owing("--json", "limitation", "--as-of", "2028-01-20", "--within", "60").output)["rows"]
    return {(r["item"], r["period"]): r["last_interruption"] for r in rows}


def test_a_promise_with_evidence_restarts_only_what_it_covers(owing: Invoke, workspace_dir: Path) -> None:
    result = owing("record", "promise", "1-101", "--amount", "100", "--by", "2025-03-31", "--on", "2025-03-01",
                   "--evidence", "还款承诺书 No.7", "--period", "2025-01")
    assert result.exit_code == 0, result.stderr
    assert "承诺涵盖：物业费 2025-01" in result.output
    assert outcome_details(workspace_dir)[0]["charge_ids"] == [1]
    # January restarts on 2025-03-01 (ends 2028-03-01); February's two charges run from their due date.
    assert clocks(owing) == {("物业费", "2025-01"): "2025-03-01", ("物业费", "2025-02"): None,
                             ("车位管理费", "2025-02"): None}


def test_a_promise_without_evidence_holds_the_ladder_but_not_the_clock(owing: Invoke) -> None:
    result = owing("record", "promise", "1-101", "--amount", "100", "--by", "2025-03-31", "--on", "2025-03-01")
    assert result.exit_code == 0, result.stderr
    assert "承诺涵盖：物业费 2025-01、物业费 2025-02、车位管理费 2025-02" in result.output
    assert "没有证据，不使诉讼时效重新计算" in result.output
    plan = json.loads(owing("--json", "notices", "plan", "--as-of", "2025-03-10").output)["rows"]
    assert plan[0]["blocked_by"] == "promise"
    assert set(clocks(owing).values()) == {None}


def test_a_legal_step_restarts_the_charges_it_names(owing: Invoke) -> None:
    result = owing("record", "legal", "1-101", "--step", "起诉", "--evidence", "(2025)浙0106民初1号",
                   "--item", "物业费", "--on", "2025-03-01")
    assert result.exit_code == 0, result.stderr
    assert clocks(owing) == {("物业费", "2025-01"): "2025-03-01", ("物业费", "2025-02"): "2025-03-01",
                             ("车位管理费", "2025-02"): None}


@pytest.mark.parametrize(("args", "message"), [
    (["promise", "1-101", "--amount", "100", "--by", "2025-03-31", "--on", "2025-03-01", "--period", "2025-05"],
     "房号 1-101 截至 2025-03-01 没有“2025-05”的欠费，不能承诺缴纳"),
    (["promise", "1-101", "--amount", "100", "--by", "2025-03-31", "--on", "2025-03-01", "--evidence", "  "],
     "--evidence 不能为空：写明还款承诺书编号、通话录音编号等"),
    (["legal", "1-101", "--step", "起诉", "--on", "2025-03-01", "--evidence", ""],
     "--evidence 不能为空：写明法院受理通知书文号等"),
])
def test_bad_promises_and_steps_are_refused(owing: Invoke, workspace_dir: Path, args: list[str],
                                            message: str) -> None:
    result = owing("record", *args)
    assert (result.exit_code, unplaced(result.stderr)) == (2, message)
    assert outcome_details(workspace_dir) == []


def test_delivery_evidence_and_no_second_delivery(owing: Invoke, workspace_dir: Path) -> None:
    assert owing("notices", "issue", "--as-of", "2025-03-01").exit_code == 0
    electronic = owing("record", "delivered", "CJ2025-000001", "--method", "电子送达", "--on", "2025-03-02")
    assert (electronic.exit_code, unplaced(electronic.stderr)) == (
        2, "电子送达须写明证据（--evidence）：短信或电子邮件的消息编号、截图编号")
    public = owing("record", "delivered", "CJ2025-000001", "--method", "公告", "--on", "2025-03-02")
    assert (public.exit_code, unplaced(public.stderr)) == (
        2, "公告送达须写明证据（--evidence）：刊登公告的报刊名称及日期；仅限业主下落不明时")
    blank = owing("record", "delivered", "CJ2025-000001", "--method", "EMS", "--on", "2025-03-02",
                  "--evidence", " ")
    assert (blank.exit_code, unplaced(blank.stderr)) == (2, "--evidence 不能为空")
    first = owing("record", "delivered", "CJ2025-000001", "--method", "公告", "--on", "2025-03-05",
                  "--evidence", "《浙江日报》2025-03-05 第8版")
    assert first.exit_code == 0, first.stderr
    again = owing("record", "delivered", "CJ2025-000001", "--method", "EMS", "--on", "2025-03-06",
                  "--evidence", "EA123456789CN")
    assert (again.exit_code, unplaced(again.stderr)) == (
        2, "通知 CJ2025-000001 已于 2025-03-05 以公告送达（记录 #1），不能重复记录")
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        assert db.execute("SELECT count(*) FROM deliveries").fetchone() == (1,)


def test_notices_cannot_be_dated_after_today_and_a_backdated_run_says_so(owing: Invoke, workspace_dir: Path) -> None:
    later = (date.today() + timedelta(days=1)).isoformat()
    future = owing("notices", "issue", "--as-of", later)
    assert (future.exit_code, unplaced(future.stderr)) == (
        2, f"--as-of {later} 晚于今天（{date.today().isoformat()}）：通知不能记为尚未到来的日期发出")
    assert owing("notices", "issue", "--as-of", "2025-03-01").exit_code == 0
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        assert db.execute("SELECT issued_on, recorded_on FROM notices").fetchall() == [
            ("2025-03-01", date.today().isoformat())]
        payload = json.loads(db.execute("SELECT payload FROM events WHERE kind = 'notice.issue'").fetchone()[0])
    assert (payload["recorded_on"], payload["backdated"]) == (date.today().isoformat(), True)


def test_a_hold_s_reason_is_masked_in_the_plan_unless_asked(owing: Invoke) -> None:
    assert owing("record", "hold", "1-101", "--until", "2025-05-31", "--reason", "业主住院化疗",
                 "--on", "2025-03-01").exit_code == 0
    masked = json.loads(owing("--json", "notices", "plan", "--as-of", "2025-03-10").output)["rows"][0]
    assert masked["blocked_by"] == "hold" and "化疗" not in masked["reason"]
    assert "暂停催缴至 2025-05-31（***（--unmask 显示））" in masked["reason"]
    assert "化疗" not in owing("notices", "plan", "--as-of", "2025-03-10").output
    shown = json.loads(owing("--json", "notices", "plan", "--as-of", "2025-03-10", "--unmask").output)["rows"][0]
    assert "暂停催缴至 2025-05-31（业主住院化疗）" in shown["reason"]
