"""Shared fixtures: real workspaces in temp folders, real files in real encodings."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from cuijiao.cli import app
from cuijiao.workspace import init_workspace

UNIT_HEADER = ["房号", "楼栋", "业主姓名", "联系电话", "建筑面积", "标签"]
UNITS = [
    ["1-101", "1栋", "张三", "13800138000", "89.50", "出租"],
    ["1-102", "1栋", "李四", "139 0013 9000", "120", ""],
    ["2-201", "2栋", "王五", "", "75.25", "空置;困难"],
]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch a real workspace named by the environment."""
    monkeypatch.delenv("CUIJIAO_WORKSPACE", raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # Rich tables unwrapped in captured output


def unplaced(text: str) -> str:
    """A failed command's message without the （工作区 …） its last line ends with (tests/test_clerk_cli.py
    checks that every one has it); stripped of surrounding blank space."""
    return re.sub(r"（工作区 [^）\n]*）$", "", text.strip())


def csv_bytes(rows: Sequence[Sequence[object]], encoding: str = "gb18030") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def write_csv(path: Path, rows: Sequence[Sequence[object]], encoding: str = "gb18030") -> Path:
    path.write_bytes(csv_bytes(rows, encoding))
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]], *, title_rows: int = 0,
               sheet: str = "Sheet1") -> Path:
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    for index in range(title_rows):
        worksheet.append([f"标题行 {index + 1}"] if index == 0 else [])
    for row in rows:
        worksheet.append(list(row))
    workbook.save(path)
    return path


def invoke_parts(*args: str) -> tuple[int, str, str]:
    """Run cuijiao in-process as a clerk would: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workspace_dir(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    init_workspace(root, {"name": "翠湖物业服务有限公司", "address": "翠湖路1号", "phone": "0571-88880000"},
                   estate="翠湖花园").close()  # letters need both
    return root


Invoke = Callable[..., Result]


@pytest.fixture
def cli(workspace_dir: Path) -> Invoke:
    """Run ``cuijiao -w <workspace> ARGS…`` in-process; returns the Click result."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["-w", str(workspace_dir), *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def units_file(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "units.csv", [UNIT_HEADER, *UNITS])


@pytest.fixture
def with_units(cli: Invoke, units_file: Path) -> Invoke:
    result = cli("import", "units", str(units_file))
    assert result.exit_code == 0, result.output
    return cli
