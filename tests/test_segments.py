"""Segments: readable rules, first match wins, and a clear "why"."""

import json
import pickle
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import Invoke, write_csv
from cuijiao.config import load_settings
from cuijiao.errors import ConfigError
from cuijiao.segments import Condition, ConditionError, classify, default_rules

BASE = {"tags": [], "owner_type": "individual", "owner_group": "", "overdue_total": Decimal("0"),
        "oldest_days": 0, "months_in_arrears": 0, "open_dispute": False, "promise_in_effect": False,
        "broken_promises": 0, "on_hold": False, "notices_ignored": 0, "credit": Decimal("0"),
        "reachable_phone": True}


@pytest.mark.parametrize(("changes", "segment"), [
    ({"overdue_total": Decimal("80.00"), "oldest_days": 15}, "reminder"),
    ({"overdue_total": Decimal("80.00"), "oldest_days": 365}, "chronic"),
    ({"overdue_total": Decimal("80.00"), "broken_promises": 1}, "chronic"),
    ({"overdue_total": Decimal("80.00"), "oldest_days": 400, "tags": ["投诉中"]}, "dispute"),  # dispute comes first
    ({"overdue_total": Decimal("80.00"), "reachable_phone": False}, "absentee"),
    ({"overdue_total": Decimal("80.00"), "owner_type": "developer", "tags": ["空置"]}, "developer"),
    ({"overdue_total": Decimal("80.00"), "tags": ["出租", "困难"]}, "tenant"),
    ({}, "unmatched"),  # nothing overdue: no rule holds
])
def test_first_matching_rule_wins(changes: dict[str, object], segment: str) -> None:
    verdict = classify(default_rules(), {**BASE, **changes})
    assert verdict.segment == segment
    assert all(not matched for _rule, matched in verdict.tried[:-1])


@pytest.mark.parametrize(("text", "message"), [
    ("overdue_days > 30", "条件“overdue_days > 30”中有未知的事实 overdue_days"),
    ("oldest_days >", "条件“oldest_days >”写法有误"),
    ("__import__('os').system('rm -rf /')", "条件“__import__('os').system('rm -rf /')”中不能使用"),
])
def test_conditions_are_checked(text: str, message: str) -> None:
    with pytest.raises(ConditionError) as caught:
        Condition.parse(text)
    assert str(caught.value).startswith(message)


def test_amounts_compare_as_decimals() -> None:
    rule = Condition.parse("overdue_total >= 1234.5 and credit == 0")
    assert rule.holds({**BASE, "overdue_total": Decimal("1234.50")})
    assert not rule.holds({**BASE, "overdue_total": Decimal("1234.49")})


def test_a_bad_rule_in_cuijiao_toml_names_its_line(workspace_dir: Path) -> None:
    config = workspace_dir / "cuijiao.toml"
    text = config.read_text(encoding="utf-8").replace("oldest_days >= 365 or", "olderst_days >= 365 or")
    config.write_text(text, encoding="utf-8")
    rows = text.splitlines()  # the message points at the rule's `when` line, not its [[segments]] header
    line = next(n for n, row in enumerate(rows, 1) if row.startswith("when = 'olderst_days"))
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(caught.value).startswith(f"cuijiao.toml:{line}: 分群 chronic：条件“olderst_days >= 365")


def test_a_workspace_writes_its_own_rules(workspace_dir: Path) -> None:
    config = workspace_dir / "cuijiao.toml"
    head = config.read_text(encoding="utf-8").split("[[segments]]")[0]
    # The default ladder caps "dispute", which these rules no longer define: a configuration error.
    config.write_text(head + '[[segments]]\nname = "rest"\nwhen = "overdue_total > 0"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    line = next(n for n, row in enumerate(head.splitlines(), 1) if row.startswith("max_stage"))
    assert str(caught.value) == f"cuijiao.toml:{line}: [stages] max_stage 中未知的分群 dispute（已定义：rest）"
    text = head.replace("max_stage = { dispute = 2 }", "max_stage = { big = 3 }") + (
        '[[segments]]\nname = "big"\nlabel = "大额"\nwhen = "overdue_total >= 10000"\nstrategy = "经理约谈"\n\n'
        '[[segments]]\nname = "rest"\nwhen = "overdue_total > 0"\n')
    config.write_text(text, encoding="utf-8")
    rules = load_settings(config).segment_rules
    assert [(r.name, r.label, r.strategy) for r in rules] == [("big", "大额", "经理约谈"), ("rest", "rest", "")]
    assert load_settings(config).policy.max_stage_by_segment == {"big": 3}


CHARGES = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
           ["1-101", "物业费", "2025-01", "2025-01-10", "100.00"],
           ["1-102", "物业费", "2024-01", "2024-01-10", "100.00"],
           ["2-201", "物业费", "2025-01", "2025-01-10", "100.00"]]


def test_segment_command_and_explain(with_units: Invoke, tmp_path: Path) -> None:
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", CHARGES))).exit_code == 0
    assert with_units("record", "promise", "1-102", "--amount", "100", "--by", "2025-02-28",
                      "--on", "2025-02-01").exit_code == 0
    report = json.loads(with_units("--json", "segment", "--as-of", "2025-03-15").output)
    # 1-101 is rented (出租); 1-102 broke its promise (nothing paid by 2/28): chronic;
    # 2-201 is tagged 空置 and has no phone: absentee comes before hardship.
    assert [(r["unit_id"], r["owner_name"], r["segment"]) for r in report["rows"]] == [
        ("1-101", "张*", "tenant"), ("1-102", "李*", "chronic"), ("2-201", "王*", "absentee")]
    assert report["counts"] == {"tenant": 1, "chronic": 1, "absentee": 1}
    why = json.loads(with_units("--json", "segment", "--as-of", "2025-03-15", "--explain", "1-102").output)
    assert (why["facts"]["broken_promises"], why["facts"]["oldest_days"], why["segment"]) == (1, 430, "chronic")
    assert [t["matched"] for t in why["tried"]] == [False, False, False, False, False, True]
    text = with_units("segment", "--as-of", "2025-03-15", "--explain", "1-102").output
    assert "✔ chronic（长期拒缴）：oldest_days >= 365 or notices_ignored >= 2 or broken_promises >= 1" in text
    # Before the deadline the promise is in effect, not broken.
    early = json.loads(with_units("--json", "segment", "--as-of", "2025-02-15", "--explain", "1-102").output)
    assert (early["facts"]["promise_in_effect"], early["facts"]["broken_promises"]) == (True, 0)


def test_a_rule_sent_to_a_worker_process_decides_as_the_original() -> None:
    """Rules travel to the allocation workers pickled; compiled conditions are rebuilt from their text."""
    condition = Condition.parse('overdue_total > ¥1,000 and ("空置" in tags or not reachable_phone)')
    copy = pickle.loads(pickle.dumps(condition))  # noqa: S301 - our own bytes, as multiprocessing sends them
    assert copy.text == condition.text
    for total, tags, reachable in [("1000.01", ["空置"], True), ("1000", ["空置"], False),
                                   ("5000", [], False), ("5000", [], True)]:
        facts = {"overdue_total": Decimal(total), "tags": tags, "reachable_phone": reachable}
        assert copy.holds(facts) == condition.holds(facts) == (
            Decimal(total) > 1000 and ("空置" in tags or not reachable))
