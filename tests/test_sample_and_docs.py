"""The bundled sample estate, the demo, and the documentation's promises."""

import csv
import json
import re
import sqlite3
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import typer.main
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from cuijiao.cli import app
from cuijiao.demo import SAMPLE_FILES, sample_file, sample_workspace
from cuijiao.sample import EstateSpec, write_estate

ROOT = Path(__file__).resolve().parent.parent


def _cells(path: Path) -> list[list[object]]:
    workbook = CalamineWorkbook.from_path(str(path))
    return workbook.get_sheet_by_index(0).to_python()


def test_bundled_sample_is_what_the_generator_makes(tmp_path: Path) -> None:
    written = write_estate(tmp_path, EstateSpec())
    for kind, name in SAMPLE_FILES.items():
        bundled, fresh = sample_file(name), written[kind]
        if name.endswith(".csv"):
            assert bundled.read_bytes() == fresh.read_bytes(), name
        else:
            assert _cells(bundled) == _cells(fresh), name


def test_generator_is_deterministic_and_scales(tmp_path: Path) -> None:
    spec = EstateSpec(units=60, months=13, seed=7)
    first = write_estate(tmp_path / "a", spec, formats=("csv", "csv", "csv"))
    second = write_estate(tmp_path / "b", spec, formats=("csv", "csv", "csv"))
    for kind in first:
        assert first[kind].read_bytes() == second[kind].read_bytes()
    units = first["units"].read_bytes().decode("gb18030").splitlines()
    assert len(units) == 3 + 60  # title, blank, header, one row per unit


def test_sample_estate_has_the_shapes_clerks_meet() -> None:
    text = sample_file("charges.csv").read_bytes().decode("gb18030")
    assert "装修押金" in text and "公共能耗分摊费" in text and "2024Q1" in text
    assert re.search(r",-\d", text), "an adjustment (negative charge)"
    units = _cells(sample_file("units.xlsx"))
    tags = " ".join(str(row[5]) for row in units)
    for tag in ("空置", "出租", "投诉中", "困难", "开发商"):
        assert tag in tags
    payments = _cells(sample_file("payments.xlsx"))
    assert any(row[0] == "" for row in payments[3:-1]), "a payment without receipt number"
    assert any(row[3] for row in payments[3:-1]), "a designated payment"


def test_sample_workspace_holds_the_whole_sample(tmp_path: Path) -> None:
    target = sample_workspace(tmp_path / "sample")
    db = sqlite3.connect(target / "cuijiao.db")
    assert db.execute("SELECT count(*) FROM units").fetchone()[0] == 264
    assert (target / ".cuijiao-demo").is_file()
    assert CliRunner().invoke(app, ["-w", str(target), "audit", "verify"]).exit_code == 0


def _yuan(text: object) -> Decimal:
    return Decimal(str(text).replace(",", ""))


def test_sample_arrears_match_the_files_own_sums(tmp_path: Path) -> None:
    """End to end: what the files bill less what they collect is what aging says is owed."""
    with sample_file("charges.csv").open(encoding="gb18030", newline="") as stream:
        rows = list(csv.reader(stream))[3:]
    billed = sum(_yuan(row[4]) for row in rows if row[0] != "合计" and "押金" not in row[1])
    payments = _cells(sample_file("payments.xlsx"))[3:]
    collected = sum(_yuan(row[5]) for row in payments if row[0] != "合计")
    target = sample_workspace(tmp_path / "sample")
    report = CliRunner().invoke(app, ["-w", str(target), "--json", "aging", "--as-of", "2026-11-25"])
    totals = json.loads(report.output)["totals"]
    owed = _yuan(totals["overdue_total"]) + _yuan(totals["not_yet_due"]) - _yuan(totals["credit"])
    assert owed == billed - collected


def _commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    click_group = typer.main.get_command(app) if group is None else group
    found = []
    for name, command in getattr(click_group, "commands", {}).items():
        found.append((*prefix, name))
        found += _commands(command, (*prefix, name))
    return found


@pytest.mark.parametrize("command", _commands(None))
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "用法：" in result.output
    top = command[0]
    assert top in (ROOT / "README.md").read_text(encoding="utf-8"), f"{top} is not in the README"


def test_readme_commands_are_the_ci_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci and "make test" in readme and "make demo" in readme
    targets = subprocess.run(["make", "-n", "-C", str(ROOT), "test", "demo"], capture_output=True,
                             text=True, check=True).stdout
    assert "pytest" in targets and "cuijiao demo" in targets


def _readme_session() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("A session on an invented estate", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_session_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    lines = _readme_session()
    assert len(lines) >= 10
    for line in lines:
        if line.startswith("export "):
            name, value = line.removeprefix("export ").split("=", 1)
            monkeypatch.setenv(name, str(tmp_path / value))
            continue
        words = line.split()
        assert words[0] == "cuijiao", line
        result = runner.invoke(app, words[1:])
        assert result.exit_code == 0, f"{line}\n{result.output}{result.stderr}"
    assert (tmp_path / "账龄.xlsx").is_file()
