"""--json everywhere: an object on stdout, for results and for errors alike, before or after the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import Invoke, write_csv
from test_record import CHARGES


@pytest.fixture
def owing(with_units: Invoke, tmp_path: Path) -> Invoke:
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", CHARGES))).exit_code == 0
    return with_units


def _object(text: str) -> dict[str, object]:
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


def test_bad_input_under_json_is_an_object_with_each_problem(owing: Invoke, tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "bad.csv", [CHARGES[0], ["1-101", "物业费", "2025-05", "2025-05-10", "五十元"],
                                           ["9-999", "物业费", "2025-05", "2025-05-10", "10.00"]])
    result = owing("--json", "import", "charges", str(bad))
    assert result.exit_code == 2
    data = _object(result.stdout)
    assert isinstance(data["error"], str) and "未导入" in data["error"]
    problems = data["problems"]
    assert isinstance(problems, list) and len(problems) == 2
    assert problems[0]["file"] == "bad.csv" and problems[0]["row"] == 2 and problems[0]["column"]
    assert "五十元" in problems[0]["message"]
    assert set(problems[1]) == {"file", "row", "column", "message"}


def test_an_error_without_a_place_under_json(owing: Invoke) -> None:
    result = owing("record", "promise", "1-101", "--amount", "abc", "--by", "2025-03-31", "--json")
    assert result.exit_code == 2
    data = _object(result.stdout)
    assert data["problems"] == [] and "--amount" in str(data["error"])


def test_record_and_audit_verify_print_json(owing: Invoke) -> None:
    result = owing("--json", "record", "call", "1-101", "--outcome", "拒接", "--on", "2025-03-01")
    assert result.exit_code == 0, result.output
    data = _object(result.stdout)
    assert (data["unit_id"], data["kind"], data["on"], data["already_recorded"]) == ("1-101", "call", "2025-03-01",
                                                                                     False)
    assert isinstance(data["id"], int) and data["workspace"]
    verified = owing("audit", "verify", "--json")
    assert verified.exit_code == 0, verified.output
    checked = _object(verified.stdout)
    assert checked["ok"] is True and isinstance(checked["checked"], int) and checked["checked"] > 0


def test_audit_log_json_is_an_object(owing: Invoke) -> None:
    result = owing("audit", "log", "--json")
    assert result.exit_code == 0, result.output
    data = _object(result.stdout)
    events = data["events"]
    assert isinstance(events, list) and events and {"id", "at", "kind", "unit_id", "payload", "text"} <= set(events[0])


@pytest.mark.parametrize("position", ["before", "after"])
def test_quiet_before_or_after_the_command(owing: Invoke, position: str) -> None:
    args = ["unit", "1-101", "--as-of", "2025-03-15"]
    result = owing(*(["-q", *args] if position == "before" else [*args, "-q"]))
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 1


def _leaf_commands() -> list[list[str]]:
    import typer  # noqa: PLC0415

    from cuijiao.cli import app  # noqa: PLC0415

    def walk(command: Any, path: list[str]) -> list[list[str]]:
        if hasattr(command, "commands"):
            return [leaf for name, sub in command.commands.items() for leaf in walk(sub, [*path, name])]
        return [path]

    return walk(typer.main.get_command(app), [])


@pytest.mark.parametrize("path", _leaf_commands(), ids=" ".join)
def test_every_command_takes_the_global_flags_after_its_name(path: list[str]) -> None:
    """``cuijiao <command> --json --quiet -q`` is read as ``cuijiao --json --quiet <command>``, for every command."""
    from typer.testing import CliRunner  # noqa: PLC0415

    from cuijiao.cli import app  # noqa: PLC0415

    result = CliRunner().invoke(app, [*path, "--json", "--quiet", "-q", "--help"])
    assert result.exit_code == 0, result.output
    assert "--json" in CliRunner().invoke(app, ["--help"]).output


def test_json_and_quiet_after_the_command_name_take_effect(owing: Invoke) -> None:
    data = _object(owing("aging", "--as-of", "2025-03-15", "--json").stdout)
    assert {"as_of", "rows", "totals"} <= set(data)
    quiet = owing("aging", "--as-of", "2025-03-15", "--quiet")
    assert quiet.exit_code == 0 and len(quiet.output.strip().splitlines()) == 1, quiet.output
