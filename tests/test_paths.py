"""Paths and files (issue #12 item 8): -o only where asked, personal data private, no leftovers."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Invoke, write_csv
from cuijiao.cli import app

AGING = ("aging", "--as-of", "2025-03-25")


@pytest.fixture
def charged(with_units: Invoke, tmp_path: Path) -> Invoke:
    charges = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
               ["1-101", "物业费", "2025-01", "2025-01-10", "100"]]
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", charges))).exit_code == 0
    return with_units


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_output_into_a_missing_folder_is_refused(charged: Invoke, tmp_path: Path, fmt: str) -> None:
    result = charged(*AGING, "--format", fmt, "-o", str(tmp_path / "没有" / f"a.{fmt}"))
    assert result.exit_code == 2
    assert "不存在" in result.output
    assert not (tmp_path / "没有").exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_output_onto_a_folder_is_refused(charged: Invoke, tmp_path: Path, fmt: str) -> None:
    folder = tmp_path / "报表"
    folder.mkdir()
    result = charged(*AGING, "--format", fmt, "-o", str(folder))
    assert result.exit_code == 2
    assert "是一个目录" in result.output
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_output_onto_a_device_is_refused_and_the_device_stays(charged: Invoke, fmt: str) -> None:
    result = charged(*AGING, "--format", fmt, "-o", "/dev/null")
    assert result.exit_code == 2
    assert "不是普通文件" in result.output
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)


def test_output_onto_a_fifo_is_refused(charged: Invoke, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert charged(*AGING, "--format", "csv", "-o", str(fifo)).exit_code == 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_output_through_a_symlink_is_refused(charged: Invoke, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me", encoding="utf-8")
    link = tmp_path / f"link.{fmt}"
    link.symlink_to(target)
    result = charged(*AGING, "--format", fmt, "-o", str(link))
    assert result.exit_code == 2
    assert "符号链接" in result.output
    assert target.read_text(encoding="utf-8") == "keep me"
    assert link.is_symlink()


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_reports_with_names_are_private(charged: Invoke, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"账龄.{fmt}"
    out.write_text("old", encoding="utf-8")
    out.chmod(0o644)
    assert charged(*AGING, "--format", fmt, "-o", str(out), "--unmask").exit_code == 0
    assert _mode(out) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_workspace_folders_and_database_are_private(workspace_dir: Path) -> None:
    assert _mode(workspace_dir) == 0o700
    for sub in ("templates", "out", "logs", "inbox"):
        assert _mode(workspace_dir / sub) == 0o700, sub
    assert _mode(workspace_dir / "cuijiao.db") == 0o600


def test_a_killed_writers_temp_file_is_removed_by_the_next_write(charged: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "账龄.xlsx"
    dead = tmp_path / ".账龄.xlsx.cuijiao-4194303-deadbeef.tmp"  # above any pid this machine has given
    live = tmp_path / f".账龄.xlsx.cuijiao-{os.getpid()}-cafef00d.tmp"  # a writer still at work
    dead.write_bytes(b"half a workbook")
    live.write_bytes(b"being written")
    assert charged(*AGING, "--format", "xlsx", "-o", str(out)).exit_code == 0
    assert not dead.exists()
    assert live.exists()


def test_sample_writes_three_private_files_and_will_not_overwrite(tmp_path: Path) -> None:
    runner, target = CliRunner(), tmp_path / "导出"
    first = runner.invoke(app, ["sample", str(target), "--units", "5", "--months", "2"])
    assert first.exit_code == 0, first.output
    files = sorted(target.iterdir())
    assert [p.name for p in files] == ["charges.csv", "payments.xlsx", "units.xlsx"]
    assert {_mode(p) for p in files} == {0o600}
    assert _mode(target) == 0o700
    before = {p.name: p.read_bytes() for p in files}
    (target / "units.xlsx").write_bytes(b"a clerk's own file")
    again = runner.invoke(app, ["sample", str(target), "--units", "5", "--months", "2"])
    assert again.exit_code == 2
    assert "--force" in again.output
    assert (target / "units.xlsx").read_bytes() == b"a clerk's own file"
    forced = runner.invoke(app, ["sample", str(target), "--units", "5", "--months", "2", "--force"])
    assert forced.exit_code == 0, forced.output
    assert (target / "charges.csv").read_bytes() == before["charges.csv"]
    assert (target / "units.xlsx").read_bytes().startswith(b"PK")  # a workbook again, not the clerk's file
    assert {_mode(p) for p in target.iterdir()} == {0o600}
