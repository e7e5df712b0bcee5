"""Unit ids sort as a person counts (1-1-99 before 1-1-101 before 1-1-1002), in every listing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Invoke, write_csv

ORDER = ["1-1-99", "1-1-101", "1-1-1002", "2-1-101"]


@pytest.fixture
def estate(cli: Invoke, tmp_path: Path) -> Invoke:
    units = [["房号", "楼栋", "业主姓名", "联系电话", "建筑面积"]] + [
        [unit, unit[0] + "栋", "张三", "13800138000", "80"] for unit in reversed(ORDER)]
    charges = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]] + [
        [unit, "物业费", "2023-01", "2023-01-10", "100.00"] for unit in sorted(ORDER)]
    assert cli("import", "units", str(write_csv(tmp_path / "u.csv", units))).exit_code == 0
    assert cli("import", "charges", str(write_csv(tmp_path / "c.csv", charges))).exit_code == 0
    return cli


@pytest.mark.parametrize("command", [
    ["aging", "--as-of", "2025-11-25"],
    ["segment", "--as-of", "2025-11-25"],
    ["notices", "plan", "--as-of", "2025-11-25"],
    ["limitation", "--as-of", "2025-11-25"],
])
def test_rows_come_in_natural_order(estate: Invoke, command: list[str]) -> None:
    result = estate("--json", *command)
    assert result.exit_code == 0, result.output
    units = [row["unit_id"] for row in json.loads(result.stdout)["rows"]]
    assert units == ORDER
    table = estate(*command).output
    assert sorted(ORDER, key=table.index) == ORDER
