"""``cuijiao demo``: a year of the sample estate, and ``--force`` that replaces only a demo's folder."""

from __future__ import annotations

import csv
import sqlite3
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cuijiao.cli import app
from cuijiao.demo import MARKER, fresh_workspace

STAGES = {1, 2, 3, 4, 5}
SEGMENTS = {"dispute", "developer", "absentee", "tenant", "hardship", "chronic", "reminder"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    target = tmp_path_factory.mktemp("demo") / "cuijiao-demo"
    return target, CliRunner().invoke(app, ["demo", str(target)])


def test_the_demo_runs_twelve_months_and_says_where_to_look(demo: tuple[Path, Result]) -> None:
    target, result = demo
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    months = [line for line in lines if line.startswith("月度批处理 ")]
    assert len(months) == 12
    assert months[0].startswith("月度批处理 2025-11-30 完成") and months[-1].startswith("月度批处理 2026-10-31 完成")
    assert "导入文件 3 个" in months[0]
    assert any(line.startswith("演示完成：") for line in lines)
    report = target / "out" / "2026-10-31" / "月报_2026-10.docx"
    assert f"月报：{report}" in result.output
    for folder in sorted((target / "out").iterdir()):
        assert (folder / f"月报_{folder.name[:7]}.docx").is_file()
        assert (folder / f"月报_{folder.name[:7]}.xlsx").is_file()
    assert len(list((target / "out").iterdir())) == 12


def test_the_year_shows_every_stage_segment_and_outcome(demo: tuple[Path, Result]) -> None:
    target, _ = demo
    db = sqlite3.connect(target / "cuijiao.db")
    assert {row[0] for row in db.execute("SELECT DISTINCT stage FROM notices")} == STAGES
    assert {row[0] for row in db.execute("SELECT DISTINCT segment FROM notices")} == SEGMENTS
    approved = db.execute("SELECT count(*) FROM notices WHERE stage >= 4 AND approved_by IS NOT NULL").fetchone()[0]
    assert approved == db.execute("SELECT count(*) FROM notices WHERE stage >= 4").fetchone()[0] > 0
    kinds = {row[0] for row in db.execute("SELECT DISTINCT kind FROM outcomes")}
    assert kinds >= {"promise", "dispute", "resolve", "hold", "call", "legal"}
    assert {row[0] for row in db.execute("SELECT DISTINCT method FROM deliveries")} == {"当面签收", "EMS"}
    # Promises kept and broken, judged here from the payments themselves.
    kept = broken = 0
    for unit, on, until, fen in db.execute(
            "SELECT unit_id, on_date, until_date, amount_fen FROM outcomes WHERE kind = 'promise'").fetchall():
        paid = db.execute("SELECT coalesce(sum(amount_fen), 0) FROM payments WHERE kind = 'payment' AND unit_id = ?"
                          " AND paid_on BETWEEN ? AND ?", (unit, on, until)).fetchone()[0]
        kept, broken = kept + (paid >= fen), broken + (paid < fen)
    assert kept and broken


def test_the_demo_workspace_is_whole(demo: tuple[Path, Result]) -> None:
    target, _ = demo
    db = sqlite3.connect(target / "cuijiao.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert CliRunner().invoke(app, ["-w", str(target), "audit", "verify"]).exit_code == 0
    assert (target / MARKER).is_file()
    again = CliRunner().invoke(app, ["demo", str(target)])
    assert again.exit_code == 2
    assert "目录已存在且不为空" in again.stderr and "--force" in again.stderr


def test_force_refuses_a_workspace_the_demo_did_not_make(tmp_path: Path) -> None:
    target = tmp_path / "翠湖"
    assert CliRunner().invoke(app, ["init", str(target)]).exit_code == 0
    (target / "out" / "催缴函.docx").write_bytes(b"a clerk's work")
    result = CliRunner().invoke(app, ["demo", "--force", str(target)])
    assert result.exit_code == 2
    assert f"不是 cuijiao demo 创建的目录（没有 {MARKER} 标记）" in result.stderr
    assert (target / "out" / "催缴函.docx").read_bytes() == b"a clerk's work"
    assert (target / "cuijiao.db").is_file()


def test_force_refuses_any_other_folder(tmp_path: Path) -> None:
    (tmp_path / "家庭照片.jpg").write_bytes(b"\xff\xd8")
    result = CliRunner().invoke(app, ["demo", "--force", str(tmp_path)])
    assert result.exit_code == 2
    assert (tmp_path / "家庭照片.jpg").is_file()


def test_force_replaces_a_folder_the_demo_made(tmp_path: Path) -> None:
    target = tmp_path / "cuijiao-demo"
    fresh_workspace(target, force=False).close()
    (target / "out" / "old.txt").write_text("from the last demo", encoding="utf-8")
    fresh_workspace(target, force=True).close()
    assert not (target / "out" / "old.txt").exists()
    assert (target / MARKER).is_file() and (target / "cuijiao.toml").is_file()


def test_the_summary_ties_the_charges_file_to_what_is_stored(demo: tuple[Path, Result]) -> None:
    """Counted here from the bundled file itself: data rows, deposits (押金) and adjustments (negative)."""
    _, result = demo
    sample = Path(str(resources.files("cuijiao.sample_data") / "charges.csv"))
    with sample.open(encoding="gb18030", newline="") as stream:
        rows = [row for row in list(csv.reader(stream))[3:] if row and row[0] != "合计"]
    deposits = sum(1 for row in rows if "押金" in row[1])
    adjustments = sum(1 for row in rows if row[4].startswith("-"))
    fees = len(rows) - deposits - adjustments
    assert deposits and adjustments
    assert f"charges.csv：数据行 {len(rows):,}，新入库 {len(rows):,}，未变 0，跳过的合计/空白/表尾行 1" in result.output
    assert (f"应收 {len(rows):,} 笔 = 费用 {fees:,} + 押金 {deposits:,}（押金单列，不计入欠费）"
            f" + 减免/红冲 {adjustments:,}") in result.output
