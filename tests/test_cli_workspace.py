"""``-w DIR`` wins over ``$CUIJIAO_WORKSPACE`` wherever it is written, and every command names its workspace."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import UNIT_HEADER, UNITS, write_csv
from cuijiao.cli import app
from cuijiao.workspace import init_workspace
from test_record import CHARGES


def _calls(root: Path) -> int:
    with sqlite3.connect(root / "cuijiao.db") as db:
        return int(db.execute("SELECT count(*) FROM outcomes WHERE kind = 'call'").fetchone()[0])


def _units(root: Path) -> int:
    with sqlite3.connect(root / "cuijiao.db") as db:
        return int(db.execute("SELECT count(*) FROM units").fetchone()[0])


@pytest.fixture
def two_workspaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """A (named by the environment) and B (named by -w), both real and holding the same units."""
    units = write_csv(tmp_path / "units.csv", [UNIT_HEADER, *UNITS])
    charges = write_csv(tmp_path / "charges.csv", CHARGES)
    roots = []
    for name in ("A", "B"):
        root = tmp_path / name
        init_workspace(root, {"name": "翠湖物业服务有限公司", "address": "翠湖路1号", "phone": "0571-88880000"},
                       estate="翠湖花园").close()  # letters need both
        for kind, path in (("units", units), ("charges", charges)):
            result = CliRunner().invoke(app, ["-w", str(root), "import", kind, str(path)])
            assert result.exit_code == 0, result.output
        roots.append(root)
    monkeypatch.setenv("CUIJIAO_WORKSPACE", str(roots[0]))
    return roots[0], roots[1], units


CALL = ["record", "call", "1-101", "--outcome", "拒接", "--on", "2026-11-20"]


@pytest.mark.parametrize("position", ["before", "after", "both"])
def test_w_wins_over_the_environment_for_record(two_workspaces: tuple[Path, Path, Path], position: str) -> None:
    env_ws, chosen, _ = two_workspaces
    flag = ["-w", str(chosen)]
    args = {"before": flag + CALL, "after": CALL + flag, "both": ["-w", str(env_ws), *CALL, *flag]}[position]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert _calls(chosen) == 1
    assert _calls(env_ws) == 0
    assert f"工作区 {chosen}" in result.output.strip().splitlines()[-1]


@pytest.mark.parametrize("position", ["before", "after"])
def test_w_wins_over_the_environment_for_import(two_workspaces: tuple[Path, Path, Path], tmp_path: Path,
                                                position: str) -> None:
    env_ws, chosen, _ = two_workspaces
    more = write_csv(tmp_path / "more.csv", [UNIT_HEADER, ["9-901", "9栋", "赵六", "13700137000", "60", ""]])
    command = ["import", "units", str(more)]
    flag = ["-w", str(chosen)]
    result = CliRunner().invoke(app, flag + command if position == "before" else command + flag)
    assert result.exit_code == 0, result.output
    assert (_units(chosen), _units(env_ws)) == (len(UNITS) + 1, len(UNITS))
    assert f"工作区 {chosen}" in result.output.strip().splitlines()[-1]


def test_the_environment_is_used_without_w(two_workspaces: tuple[Path, Path, Path]) -> None:
    env_ws, other, _ = two_workspaces
    result = CliRunner().invoke(app, CALL)
    assert result.exit_code == 0, result.output
    assert (_calls(env_ws), _calls(other)) == (1, 0)
    assert f"工作区 {env_ws}" in result.output


READ_COMMANDS = [
    ["aging", "--as-of", "2026-11-25"],
    ["unit", "1-101", "--as-of", "2026-11-25"],
    ["segment", "--as-of", "2026-11-25"],
    ["notices", "plan", "--as-of", "2026-11-25"],
    ["notices", "issue", "--as-of", "2026-11-25"],
    ["limitation", "--as-of", "2026-11-25"],
    ["audit", "log"],
    ["audit", "verify"],
]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize("position", ["before", "after"])
def test_every_command_names_the_workspace_it_used(two_workspaces: tuple[Path, Path, Path], command: list[str],
                                                   position: str) -> None:
    _, chosen, _ = two_workspaces
    flag = ["-w", str(chosen)]
    result = CliRunner().invoke(app, flag + command if position == "before" else command + flag)
    assert result.exit_code == 0, result.output
    assert f"工作区 {chosen}" in result.output.strip().splitlines()[-1]
