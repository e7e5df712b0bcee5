"""Recording outcomes through the CLI: each audited, each bad one refused with nothing written."""

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import Invoke, unplaced, write_csv

CHARGES = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
           ["1-101", "物业费", "2025-01", "2025-01-10", "100.00"],
           ["1-101", "物业费", "2025-02", "2025-02-10", "100.00"]]


@pytest.fixture
def owing(with_units: Invoke, tmp_path: Path) -> Invoke:
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", CHARGES))).exit_code == 0
    return with_units


def outcomes(workspace_dir: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        return db.execute("SELECT unit_id, kind, on_date, until_date, amount_fen FROM outcomes ORDER BY id").fetchall()


def test_each_outcome_is_stored_and_audited(owing: Invoke, workspace_dir: Path) -> None:
    steps = [
        (["promise", "1-101", "--amount", "150", "--by", "2025-03-31", "--on", "2025-03-01"],
         "已记录：房号 1-101 承诺 2025-03-31 前缴纳 150.00 元（记录 #1）"),
        (["dispute", "1-101", "--reason", "电梯长期故障", "--on", "2025-03-05"],
         "已记录：房号 1-101 提出争议：电梯长期故障（记录 #2）"),
        (["resolve", "1-101", "--note", "电梯已修复", "--on", "2025-04-01"],
         "已记录：房号 1-101 争议已解决（记录 #3）"),
        (["hold", "1-101", "--until", "2025-05-31", "--reason", "业主住院", "--on", "2025-04-02"],
         "已记录：房号 1-101 暂停催缴至 2025-05-31：业主住院（记录 #4）"),
        (["call", "1-101", "--outcome", "无人接听", "--on", "2025-06-02"],
         "已记录：房号 1-101 电话：无人接听（记录 #5）"),
        (["legal", "1-101", "--step", "支付令申请", "--evidence", "(2025)浙0106民督12号", "--on", "2025-07-01"],
         "已记录：房号 1-101 支付令申请（(2025)浙0106民督12号）（记录 #6）"),
    ]
    for args, said in steps:
        result = owing("record", *args)
        # The summary line last; a promise or legal step first lists what it covers (test_law_record.py).
        assert (result.exit_code, result.output.strip().splitlines()[-1]) == (
            0, f"{said}（工作区 {workspace_dir}）"), result.stderr
    assert outcomes(workspace_dir) == [
        ("1-101", "promise", "2025-03-01", "2025-03-31", 15000), ("1-101", "dispute", "2025-03-05", None, None),
        ("1-101", "resolve", "2025-04-01", None, None), ("1-101", "hold", "2025-04-02", "2025-05-31", None),
        ("1-101", "call", "2025-06-02", None, None), ("1-101", "legal", "2025-07-01", None, None)]
    kinds = [e["kind"] for e in json.loads(owing("--json", "audit", "log", "--unit", "1-101").output)["events"]]
    assert kinds[:6] == ["outcome.legal", "outcome.call", "outcome.hold", "outcome.resolve", "outcome.dispute",
                         "outcome.promise"]
    assert owing("audit", "verify").exit_code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["promise", "1-102", "--amount", "100", "--by", "2025-04-30", "--on", "2025-03-01"],
     "房号 1-102 截至 2025-03-01 没有逾期欠费，无需记录缴费承诺"),
    (["promise", "1-101", "--amount", "五十元", "--by", "2025-04-30"],
     "--amount：金额“五十元”无法识别，应为数字，如 1,234.50"),
    (["promise", "1-101", "--amount", "100", "--by", "2025-02-01", "--on", "2025-03-01"],
     "截止日期 2025-02-01 早于记录日期 2025-03-01"),
    (["promise", "1-101", "--amount", "100", "--by", "2025-02-30"], "--by：日期“2025-02-30”不存在"),
    (["dispute", "1-101", "--reason", "x", "--on", "2999-01-01"], None),
    (["resolve", "1-101", "--on", "2025-03-01"], "房号 1-101 截至 2025-03-01 没有未解决的争议"),
    (["call", "1-101", "--outcome", "骂人"], "通话结果只能是：承诺缴费、拒接、无人接听、投诉、已缴、其他"),
    (["hold", "9-901", "--until", "2025-05-01", "--reason", "x", "--on", "2025-03-01"],
     "没有房号“9-901”。请检查房号，或先导入房屋业主文件"),
])
def test_bad_outcomes_are_refused_and_nothing_is_written(owing: Invoke, workspace_dir: Path, args: list[str],
                                                         message: str | None) -> None:
    result = owing("record", *args)
    assert result.exit_code == 2
    if message is None:  # a date in the future: the message names today's date
        assert result.stderr.startswith("日期 2999-01-01 晚于今天（")
    else:
        assert unplaced(result.stderr) == message
    assert outcomes(workspace_dir) == []


def test_conflicting_holds(owing: Invoke, workspace_dir: Path) -> None:
    first = ["hold", "1-101", "--until", "2025-05-31", "--reason", "业主住院", "--on", "2025-04-02"]
    assert owing("record", *first).exit_code == 0
    result = owing("record", "hold", "1-101", "--until", "2025-06-30", "--reason", "出国", "--on", "2025-05-01")
    assert (result.exit_code, unplaced(result.stderr)) == (
        2, "房号 1-101 已暂停催缴 2025-04-02 至 2025-05-31（业主住院），与新的暂停期重叠")
    after = ["hold", "1-101", "--until", "2025-07-31", "--reason", "出国", "--on", "2025-06-01"]
    assert owing("record", *after).exit_code == 0
    assert len(outcomes(workspace_dir)) == 2


def test_limitation_lists_expiring_and_expired_with_restarts(owing: Invoke, tmp_path: Path) -> None:
    header = ["收据号", "房号", "实收金额", "收款日期"]
    payments = write_csv(tmp_path / "p.csv", [header, ["SJ1", "1-101", "30", "2025-06-03"]])
    assert owing("import", "payments", str(payments)).exit_code == 0
    report = json.loads(owing("--json", "limitation", "--as-of", "2028-01-01").output)
    # January 2025: part-paid on 2025-06-03 → ends 2028-06-05 (06-03 is a Saturday, weekends only for 2028).
    # February 2025: due 2025-02-10 → ends 2028-02-10 (a Thursday): 40 days away.
    assert report == {"as_of": "2028-01-01", "rows": [
        {"unit_id": "1-101", "item": "物业费", "period": "2025-02", "due_date": "2025-02-10",
         "limitation_ends": "2028-02-10", "status": "expiring", "last_interruption": None,
         "owed": "100.00", "barred": "0.00", "waived_on": None, "waived_by": None, "waiver_evidence": None,
         "waived_amount": None}]}
    later = json.loads(owing("--json", "limitation", "--as-of", "2028-06-06").output)["rows"]
    assert [(r["period"], r["status"], r["last_interruption"]) for r in later] == [
        ("2025-01", "expired", "2025-06-03"), ("2025-02", "expired", None)]


def test_audit_log_masks_the_signer_even_in_the_recorded_command_line(owing: Invoke) -> None:
    assert owing("notices", "issue", "--as-of", "2025-03-01").exit_code == 0
    assert owing("record", "delivered", "CJ2025-000001", "--method", "当面签收", "--on", "2025-03-02",
                 "--signer", "张三丰", "--relation", "本人").exit_code == 0
    log = owing("--json", "audit", "log", "-n", "6").output
    assert "张三丰" not in log and "张**" in log
    assert "张三丰" in owing("--json", "audit", "log", "-n", "6", "--unmask").output


def test_a_note_typed_with_control_characters_is_stored_and_shown_without_them(owing: Invoke,
                                                                               workspace_dir: Path) -> None:
    note = "月中\x1b[31m发工资\u202e后缴\x07"
    result = owing("record", "call", "1-101", "--outcome", "承诺缴费", "--note", note, "--on", "2025-03-01")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        (detail,) = db.execute("SELECT detail FROM outcomes").fetchone()
    assert "月中[31m发工资后缴" in json.loads(detail)["note"]
    shown = owing("audit", "log", "--unmask").output + owing("--json", "audit", "log").output
    assert not any(char in shown for char in "\x1b\u202e\x07"), shown
