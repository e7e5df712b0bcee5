"""The segment rule language as a clerk writes it: money as the importer reads it, errors at the `when` line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import Invoke, write_csv

AS_OF = "2026-11-25"
UNITS = [["房号", "楼栋", "业主姓名", "联系电话", "建筑面积", "标签"],
         ["1-101", "1栋", "张三", "13800138000", "89.50", "出租"],
         ["1-102", "1栋", "李四", "13900139000", "120", ""],
         ["2-201", "2栋", "王五", "", "75.25", "空置"],
         ["2-202", "2栋", "翠湖置业有限公司", "0571-88886666", "75.25", "开发商"],
         ["3-301", "3栋", "赵六", "13700137000", "90", "困难"],
         ["3-302", "3栋", "钱七", "13600136000", "90", ""],
         ["3-303", "3栋", "孙八", "13500135000", "90", "投诉中"]]
# 1-101 owes 1,000.00 exactly (two charges), 1-102 owes 1,000.50, 3-302 owes 200 from 2024 (chronic).
CHARGES = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
           ["1-101", "物业费", "2026-09", "2026-09-10", "600.00"],
           ["1-101", "物业费", "2026-10", "2026-10-10", "400.00"],
           ["1-102", "物业费", "2026-10", "2026-10-10", "1000.50"],
           ["2-201", "物业费", "2026-10", "2026-10-10", "300.00"],
           ["2-202", "物业费", "2026-10", "2026-10-10", "300.00"],
           ["3-301", "物业费", "2026-10", "2026-10-10", "300.00"],
           ["3-302", "物业费", "2024-10", "2024-10-10", "200.00"],
           ["3-303", "物业费", "2026-10", "2026-10-10", "300.00"]]


@pytest.fixture
def estate(with_units: Invoke, tmp_path: Path) -> Invoke:
    assert with_units("import", "units", str(write_csv(tmp_path / "u.csv", UNITS))).exit_code == 0
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", CHARGES))).exit_code == 0
    return with_units


def _explain(cli: Invoke, unit: str) -> dict[str, object]:
    result = cli("--json", "segment", "--as-of", AS_OF, "--explain", unit)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize(("unit", "segment"), [
    ("3-303", "dispute"), ("2-202", "developer"), ("2-201", "absentee"), ("1-101", "tenant"),
    ("3-301", "hardship"), ("3-302", "chronic"), ("1-102", "reminder")])
def test_every_default_rule_matches_the_owner_it_describes(estate: Invoke, unit: str, segment: str) -> None:
    data = _explain(estate, unit)
    assert data["segment"] == segment
    tried = data["tried"]
    assert isinstance(tried, list)
    assert [t["matched"] for t in tried] == [False] * (len(tried) - 1) + [True]


def _with_rule(workspace: Path, when: str) -> int:
    """Replace the workspace's rules by the rule under test and a catch-all; return the `when` line."""
    path = workspace / "cuijiao.toml"
    head = path.read_text(encoding="utf-8").split("[[segments]]")[0].replace("max_stage = { dispute = 2 }",
                                                                               "max_stage = {}")
    body = (f"[[segments]]\nname = \"test\"\nlabel = \"测试\"\n\nwhen = '{when}'\n\n"
            "[[segments]]\nname = \"rest\"\nwhen = 'true'\n")
    path.write_text(head + body, encoding="utf-8")
    return (head + body).splitlines().index(f"when = '{when}'") + 1


# (condition, units it must match among 1-101 (owes 1,000.00) and 1-102 (owes 1,000.50))
HAND_WRITTEN = [
    ("overdue_total > 1,000", {"1-102"}),
    ("overdue_total >= 1,000", {"1-101", "1-102"}),
    ("overdue_total > 1,000.00", {"1-102"}),
    ("overdue_total >= 1,000.50", {"1-102"}),
    ("overdue_total > ¥1,000", {"1-102"}),
    ("overdue_total > ￥1000.49", {"1-102"}),
    ("overdue_total <= 1000元", {"1-101"}),
    ("overdue_total == 1,000.50元", {"1-102"}),
    ('"出租" in tags and overdue_total >= 1,000', {"1-101"}),
    ('"出租" not in tags', {"1-102"}),
    ("oldest_days >= 60 or months_in_arrears >= 2", {"1-101"}),
    ("reachable_phone and not open_dispute and credit == 0", {"1-101", "1-102"}),
    ('owner_type == "individual" and overdue_total < 1,000.01', {"1-101"}),
]


@pytest.mark.parametrize(("when", "matching"), HAND_WRITTEN)
def test_hand_written_rules_read_money_as_the_importer_does(estate: Invoke, workspace_dir: Path, when: str,
                                                            matching: set[str]) -> None:
    _with_rule(workspace_dir, when)
    matched = {unit for unit in ("1-101", "1-102") if _explain(estate, unit)["segment"] == "test"}
    assert matched == matching


@pytest.mark.parametrize(("when", "hint"), [
    ("overdue_total ＞ 1000", "＞"),
    ("“出租” in tags", "“"),
    ("overdue_total > 1,00", "1,00"),
    ("overdue_total > ¥1,000.505", "金额“¥1,000.505”"),
    ("overdue_total > 1000.505元", "两位小数"),
    ("overdue_total > 五百元", "五百元"),
    ("overdue_total >", "写法有误"),
    ("overdue_tota > 100", "overdue_tota"),
    ("overdue_total > 100, oldest_days > 30", "逗号"),
    ("credit > 1000.555", "两位小数"),
    ("credit >= 1e3", "1e3"),
    ("credit > 1_000", "1_000"),
    ("overdue_total > .5", "“.5”"),
    ("oldest_days > 0x10", "0x10"),
    ('overdue_total > "100"', "不能比较大小"),
    ("tags > 0", "不能比较大小"),
    ("owner_type > 5", "不能比较大小"),
    ('"x" in overdue_total', "in 的右边"),
    ("overdue_total > 100 == true", "永远不会相等"),
    ("open_dispute == 1", "永远不会相等"),
])
def test_a_rule_it_cannot_read_is_an_error_at_its_when_line(estate: Invoke, workspace_dir: Path, when: str,
                                                            hint: str) -> None:
    line = _with_rule(workspace_dir, when)
    result = estate("segment", "--as-of", AS_OF)
    assert result.exit_code == 2
    assert re.search(rf"cuijiao\.toml:{line}: ", result.output), result.output
    assert hint in result.output
    assert "Traceback" not in result.output


def test_full_width_symbols_get_a_hint_to_switch_the_input_method(estate: Invoke, workspace_dir: Path) -> None:
    _with_rule(workspace_dir, "overdue_total ＞ 1000")
    message = estate("segment", "--as-of", AS_OF).output
    assert "全角" in message and "“＞”改为“>”" in message


def test_owners_no_rule_matches_are_labelled_in_chinese(estate: Invoke, workspace_dir: Path) -> None:
    path = workspace_dir / "cuijiao.toml"
    head = path.read_text(encoding="utf-8").split("[[segments]]")[0].replace("max_stage = { dispute = 2 }",
                                                                               "max_stage = {}")
    path.write_text(head + "[[segments]]\nname = \"huge\"\nlabel = \"巨额\"\nwhen = 'overdue_total > 1000000'\n",
                    encoding="utf-8")
    for args in (("segment",), ("notices", "plan")):
        result = estate(*args, "--as-of", AS_OF)
        assert result.exit_code == 0, result.output
        assert "未归类" in result.output and "unmatched" not in result.output, result.output
    assert set(json.loads(estate("--json", "segment", "--as-of", AS_OF).output)["counts"]) == {"unmatched"}
