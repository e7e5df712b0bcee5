"""``--approve UNIT`` for a unit it cannot apply to is bad input (exit 2) that lists which and why."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from conftest import Invoke, write_csv

AS_OF = "2026-11-25"
UNITS = [["房号", "楼栋", "业主姓名", "联系电话", "建筑面积"],
         ["1-101", "1栋", "张三", "13800138000", "89.50"],   # 76 days overdue: stage 2, which needs approval here
         ["1-102", "1栋", "李四", "13900139000", "120"],     # 15 days overdue: stage 1, no approval needed
         ["2-201", "2栋", "王五", "13700137000", "75.25"],   # disputed: capped at stage 1
         ["2-202", "2栋", "赵六", "13600136000", "75.25"]]   # owes nothing
CHARGES = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
           ["1-101", "物业费", "2026-09", "2026-09-10", "300.00"],
           ["1-102", "物业费", "2026-11", "2026-11-10", "300.00"],
           ["2-201", "物业费", "2026-09", "2026-09-10", "300.00"]]


@pytest.fixture
def ladder(cli: Invoke, workspace_dir: Path, tmp_path: Path) -> Invoke:
    config = workspace_dir / "cuijiao.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("approval_stages = [4, 5]", "approval_stages = [2, 4, 5]")
    config.write_text(text.replace("max_stage = { dispute = 2 }", "max_stage = { dispute = 1 }"), encoding="utf-8")
    assert cli("import", "units", str(write_csv(tmp_path / "u.csv", UNITS))).exit_code == 0
    assert cli("import", "charges", str(write_csv(tmp_path / "c.csv", CHARGES))).exit_code == 0
    assert cli("record", "dispute", "2-201", "--reason", "漏水未修", "--on", "2026-11-01").exit_code == 0
    return cli


def _notices(workspace: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(workspace / "cuijiao.db") as db:
        return db.execute("SELECT unit_id, stage FROM notices ORDER BY unit_id").fetchall()


@pytest.mark.parametrize("command", ["plan", "issue"])
def test_approving_what_cannot_be_approved_lists_each_and_changes_nothing(ladder: Invoke, workspace_dir: Path,
                                                                          command: str) -> None:
    result = ladder("notices", command, "--as-of", AS_OF,
                    *("--approve", "9-999"), *("--approve", "1-102"), *("--approve", "2-201"),
                    *("--approve", "2-202"), *("--approve", "1-101"))
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert any(line.strip().startswith("9-999：") and "没有这个房号" in line for line in lines)
    assert any(line.strip().startswith("1-102：") and "不需要批准" in line and "第 1 级" in line for line in lines)
    assert any(line.strip().startswith("2-201：") and "最多到第 1 级" in line for line in lines)
    assert any(line.strip().startswith("2-202：") and "无需批准" in line for line in lines)
    assert not any(line.strip().startswith("1-101：") for line in lines)
    assert _notices(workspace_dir) == []


def test_approving_the_unit_that_needs_it_issues_its_notice(ladder: Invoke, workspace_dir: Path) -> None:
    without = ladder("notices", "issue", "--as-of", AS_OF)
    assert without.exit_code == 0, without.output
    assert _notices(workspace_dir) == [("1-102", 1)]
    result = ladder("notices", "issue", "--as-of", AS_OF, "--approve", "1-101")
    assert result.exit_code == 0, result.output
    assert _notices(workspace_dir) == [("1-101", 2), ("1-102", 1)]
