"""Unit ids sort as a person counts (1-1-99 before 1-1-101 before 1-1-1002), in every listing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import docx
import openpyxl
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


def _in_order(text: str, units: list[str]) -> list[str]:
    """The units as they first appear in ``text`` (each as a whole id, not inside a longer one)."""
    found = {unit: re.search(rf"(?<![\w-]){re.escape(unit)}(?![\w-])", text) for unit in units}
    return sorted((u for u, m in found.items() if m), key=lambda u: found[u].start())  # type: ignore[union-attr]


def test_notices_are_numbered_and_filed_in_natural_unit_order(estate: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "letters"
    result = estate("--json", "notices", "issue", "--as-of", "2025-11-25", "-o", str(out))
    assert result.exit_code == 0, result.output
    issued = json.loads(result.stdout)["issued"]
    assert [n["unit_id"] for n in issued] == ORDER
    assert [n["notice_no"] for n in issued] == sorted(n["notice_no"] for n in issued)  # CJ…-000001 to 1-1-99
    manifest = (out / "manifest.csv").read_text(encoding="utf-8-sig")
    assert _in_order(manifest, ORDER) == ORDER
    sheets = sorted(out.glob("call_sheet_*.docx"))
    assert sheets
    text = "\n".join(cell.text for sheet in sheets for table in docx.Document(str(sheet)).tables
                     for row in table.rows for cell in row.cells)
    assert _in_order(text, ORDER) == ORDER


def test_the_run_lists_units_waiting_for_approval_in_natural_order(
        estate: Invoke, workspace_dir: Path) -> None:
    config = workspace_dir / "cuijiao.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("approval_stages = [4, 5]", "approval_stages = [1, 2, 3, 4, 5]"), encoding="utf-8")
    result = estate("run", "--as-of", "2023-06-30")  # before any limitation end nears
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if line.startswith("待审批（"))
    assert _in_order(line, ORDER) == ORDER
    book = openpyxl.load_workbook(workspace_dir / "out" / "2023-06-30" / "月报_2023-06.xlsx")
    assert [row[0] for row in book["待审批"].iter_rows(min_row=2, values_only=True)] == ORDER


def test_a_developers_letter_lists_its_other_units_in_natural_order(cli: Invoke, tmp_path: Path) -> None:
    units = [["房号", "楼栋", "业主姓名", "联系电话", "建筑面积", "标签"]] + [
        [unit, unit[0] + "栋", "翠湖置业有限公司", "0571-88886666", "80", "开发商"] for unit in reversed(ORDER)]
    charges = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]] + [
        [unit, "物业费", "2023-01", "2023-01-10", "100.00"] for unit in sorted(ORDER)]
    assert cli("import", "units", str(write_csv(tmp_path / "u.csv", units))).exit_code == 0
    assert cli("import", "charges", str(write_csv(tmp_path / "c.csv", charges))).exit_code == 0
    out = tmp_path / "letters"
    assert cli("notices", "issue", "--as-of", "2023-06-30", "-o", str(out)).exit_code == 0
    letter = next(out.glob("*_2-1-101.docx"))
    document = docx.Document(str(letter))
    text = "\n".join([p.text for p in document.paragraphs]
                     + [c.text for t in document.tables for row in t.rows for c in row.cells])
    assert _in_order(text, ORDER[:3]) == ORDER[:3], text
