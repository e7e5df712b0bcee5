"""Item 11: every report command takes --format table|json|csv and -o FILE; --json is its shorthand."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import Invoke, write_csv
from test_record import CHARGES

AS_OF = ("--as-of", "2026-06-30")
REPORTS = [("segment",), ("notices", "plan"), ("limitation",), ("unit", "1-101"), ("audit", "log")]


@pytest.fixture
def owing(with_units: Invoke, tmp_path: Path) -> Invoke:
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", CHARGES))).exit_code == 0
    return with_units


def _args(command: tuple[str, ...]) -> tuple[str, ...]:
    return command if command[0] == "audit" else (*command, *AS_OF)



@pytest.mark.parametrize("command", REPORTS)
def test_format_json_is_what_json_prints(owing: Invoke, command: tuple[str, ...], tmp_path: Path) -> None:
    shorthand = owing("--json", *_args(command))
    assert shorthand.exit_code == 0, shorthand.output
    long = owing(*_args(command), "--format", "json")
    assert long.exit_code == 0, long.output
    expected = json.loads(shorthand.stdout)
    got = json.loads(long.stdout)
    if command[0] == "audit":  # the second run added its own events
        assert set(got) == set(expected) and got["events"]
    else:
        assert got == expected
    target = tmp_path / "out.json"
    written = owing(*_args(command), "--format", "json", "-o", str(target))
    assert written.exit_code == 0, written.output
    assert json.loads(target.read_text(encoding="utf-8")).keys() == expected.keys()


@pytest.mark.parametrize("command", REPORTS)
def test_format_csv_writes_utf8_bom(owing: Invoke, command: tuple[str, ...], tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    result = owing(*_args(command), "--format", "csv", "-o", str(target))
    assert result.exit_code == 0, result.output
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows and rows[0][0] in ("房号", "序号")


@pytest.mark.parametrize("command", REPORTS)
def test_csv_without_output_or_unknown_format_is_refused(owing: Invoke, command: tuple[str, ...]) -> None:
    assert owing(*_args(command), "--format", "csv").exit_code == 2
    bad = owing(*_args(command), "--format", "pdf")
    assert bad.exit_code == 2 and "--format" in bad.output and "Traceback" not in bad.output


def test_csv_cells_are_neutralised(with_units: Invoke, tmp_path: Path) -> None:
    charges = [CHARGES[0], ["1-101", "=HYPERLINK(\"x\")", "2026-01", "2026-01-10", "10.00"]]
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", charges))).exit_code == 0
    target = tmp_path / "lim.csv"
    assert with_units("unit", "1-101", *AS_OF, "--format", "csv", "-o", str(target)).exit_code == 0
    text = target.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text
    assert not any(cell.startswith("=") for row in csv.reader(text.splitlines()) for cell in row)


def test_segment_table_is_still_the_default(owing: Invoke) -> None:
    result = owing("segment", *AS_OF)
    assert result.exit_code == 0 and "催缴分群" in result.stdout
