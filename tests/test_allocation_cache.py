"""The kept allocation's file beside the database: switched by the database's commit, never half-read.

Real workspaces through the CLI; the database is held and edited the way
another process or a SQLite shell would, with plain ``sqlite3``.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import zlib
from datetime import date
from pathlib import Path

from conftest import Invoke, write_csv
from cuijiao.allocated import AllocatedEstate, join
from cuijiao.arrears import _allocate_part, aging_report, allocated_estate, over_units
from cuijiao.store import allocation_cache
from cuijiao.workspace import open_workspace
from test_allocated_update import decoded

CHARGES = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
           ["1-101", "物业费", "2025-01", "2025-01-10", "100.00"],
           ["1-102", "物业费", "2025-01", "2025-01-10", "120.00"]]
LATER_CHARGES = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
                 ["1-101", "物业费", "2025-02", "2025-02-10", "100.00"],
                 ["1-102", "物业费", "2025-02", "2025-02-10", "120.00"]]
PAYMENTS = [["收据号", "房号", "实收金额", "收款日期"], ["R1", "1-101", "150.00", "2025-01-20"]]
AS_OF = date(2025, 3, 1)


def _import(cli: Invoke, folder: Path, kind: str, rows: list[list[str]], name: str) -> None:
    result = cli("import", kind, str(write_csv(folder / name, rows)))
    assert result.exit_code == 0, result.output


def _pointer(workspace: Path) -> dict[str, bytes]:
    with sqlite3.connect(workspace / "cuijiao.db") as db:
        return {name: bytes(data) for name, data in db.execute("SELECT name, data FROM allocation_cache")}


def _files(workspace: Path) -> list[str]:
    return sorted(path.name for path in (workspace / "cache").iterdir())


def test_a_cache_not_switched_for_a_busy_database_leaves_the_old_one_whole(with_units: Invoke, workspace_dir: Path,
                                                                         tmp_path: Path) -> None:
    """What a crash before the commit leaves: the old pointer, its file, no trace of the new file."""
    _import(with_units, tmp_path, "charges", CHARGES, "c.csv")
    assert with_units("aging", "--as-of", AS_OF.isoformat()).exit_code == 0
    before, files = _pointer(workspace_dir), _files(workspace_dir)
    _import(with_units, tmp_path, "payments", PAYMENTS, "p.csv")
    workspace = open_workspace(workspace_dir)
    holder = sqlite3.connect(workspace_dir / "cuijiao.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert aging_report(workspace, AS_OF).total.overdue_fen == 120_00  # 100 + 120 - 100 of R1's 150
        workspace.finish_keeping()  # what the command does once the report is out: the database is busy
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    try:
        assert _pointer(workspace_dir) == before and _files(workspace_dir) == files
        assert allocation_cache.load(workspace.db, before["state"].decode()) is not None  # the old cache, whole
        assert aging_report(workspace, AS_OF).total.overdue_fen == 120_00  # extended and kept now
        workspace.finish_keeping()
        assert _files(workspace_dir) != files and len(_files(workspace_dir)) == 1
    finally:
        workspace.close()


ENDS_BEFORE_NAMING = """
import sys
import time
from datetime import date
from pathlib import Path
from cuijiao.arrears import aging_report
from cuijiao.workspace import open_workspace

root = Path(sys.argv[1])
kept = set((root / "cache").glob("*.bin"))
workspace = open_workspace(root)
aging_report(workspace, date.fromisoformat(sys.argv[2]))  # a new allocation, its file named on the way out...
deadline = time.monotonic() + 60
while not set((root / "cache").glob("*.bin")) - kept and time.monotonic() < deadline:
    time.sleep(0.01)  # (written: as at 100,000 units, where the write outlasts the report)
sys.exit(1)  # ...but the command ends first: a SIGTERM between the report and the naming
"""


def test_a_command_ended_before_naming_its_allocation_leaves_no_file(with_units: Invoke, workspace_dir: Path,
                                                                     tmp_path: Path) -> None:
    """The file a report wrote but never named goes with the process, not an hour later (343 MiB at 100,000
    units, left by a SIGTERM just after aging's report in 3 of 4 tries)."""
    _import(with_units, tmp_path, "charges", CHARGES, "c.csv")
    assert with_units("aging", "--as-of", AS_OF.isoformat()).exit_code == 0
    before, files = _pointer(workspace_dir), _files(workspace_dir)
    _import(with_units, tmp_path, "payments", PAYMENTS, "p.csv")
    script = tmp_path / "ends.py"
    script.write_text(ENDS_BEFORE_NAMING)
    done = subprocess.run([sys.executable, str(script), str(workspace_dir), AS_OF.isoformat()],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert _pointer(workspace_dir) == before and _files(workspace_dir) == files


def _legacy_rows(state: str, estate: AllocatedEstate) -> list[tuple[str, bytes]]:
    """The cache as the older layout kept it: one row per column, a CRC-32 row over the others."""
    rows: list[tuple[str, bytes]] = [("state", state.encode())]
    rows += [(name, json.dumps(getattr(estate, name), ensure_ascii=False).encode())
             for name in AllocatedEstate.list_names()]
    for name in AllocatedEstate.array_names():
        column = getattr(estate, name)
        rows += [(f"{name}.dtype", json.dumps(column.dtype.str).encode()), (name, column.tobytes())]
    crc = 0
    for name, data in sorted(rows):
        crc = zlib.crc32(data, zlib.crc32(name.encode(), crc))
    return [*rows, ("checksum", str(crc).encode())]


def test_a_cache_of_the_older_layout_is_extended_and_moved_to_the_file(with_units: Invoke, workspace_dir: Path,
                                                                        tmp_path: Path) -> None:
    _import(with_units, tmp_path, "charges", CHARGES, "c.csv")
    _import(with_units, tmp_path, "payments", PAYMENTS, "p.csv")
    workspace = open_workspace(workspace_dir)
    try:
        kept = allocated_estate(workspace)
        state = allocation_cache.ledger_state(workspace.db)
    finally:
        workspace.close()
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        db.execute("DELETE FROM allocation_cache")
        db.executemany("INSERT INTO allocation_cache (name, data) VALUES (?, ?)", _legacy_rows(state, kept))
    for path in (workspace_dir / "cache").iterdir():
        path.unlink()
    _import(with_units, tmp_path, "charges", LATER_CHARGES, "c2.csv")
    workspace = open_workspace(workspace_dir)
    try:
        assert allocation_cache.load_earlier(workspace.db, allocation_cache.ledger_state(workspace.db)) is not None
        extended = allocated_estate(workspace)
        event = workspace.db.execute("SELECT payload FROM events WHERE kind = 'allocation.update'").fetchone()
        assert json.loads(event[0])["extended_units"] == 2  # extended from the older layout, not recomputed
        assert set(_pointer(workspace_dir)) == {"state", "file", "checksum"}
        assert len(_files(workspace_dir)) == 1
        again = allocation_cache.load(workspace.db, allocation_cache.ledger_state(workspace.db))
        assert again is not None and decoded(again) == decoded(extended)
    finally:
        workspace.close()


def _assert_kept_is_recomputed_exactly(workspace_dir: Path) -> dict[str, str]:
    """The kept allocation after the latest import equals the whole ledger allocated afresh; the units the
    update allocated afresh, and why."""
    workspace = open_workspace(workspace_dir)
    try:
        kept = allocated_estate(workspace)
        whole = join(over_units(workspace, _allocate_part, workers=1))
        assert decoded(kept) == decoded(whole)
        row = workspace.db.execute("SELECT payload FROM events WHERE kind = 'allocation.update'"
                                   " ORDER BY id DESC LIMIT 1").fetchone()
        return dict(json.loads(row[0])["allocated_afresh"]) if row else {}
    finally:
        workspace.close()


def test_a_month_with_an_adjustment_and_a_replace_beside_ordinary_rows(with_units: Invoke, workspace_dir: Path,
                                                                       tmp_path: Path) -> None:
    """The month's ordinary rows extend in bulk (designated and not, credit replayed), an adjustment sends
    its unit afresh, a --replace (an edit of the ledger) recomputes everything: each equal to the whole."""
    head = ["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]
    _import(with_units, tmp_path, "charges", [head, ["1-101", "物业费", "2025-01", "2025-01-10", "100.00"],
                                              ["1-101", "车位管理费", "2025-01", "2025-01-10", "60.00"],
                                              ["1-102", "物业费", "2025-01", "2025-01-10", "120.00"]], "c1.csv")
    pay_head = ["收据号", "房号", "实收金额", "收款日期", "收费项目", "所属期间"]
    _import(with_units, tmp_path, "payments", [pay_head, ["R1", "1-101", "200.00", "2025-01-20", "", ""],
                                               ["R2", "1-102", "50.00", "2025-01-21", "物业费", "2025-01"]], "p1.csv")
    _assert_kept_is_recomputed_exactly(workspace_dir)  # and kept
    _import(with_units, tmp_path, "charges", [head, ["1-101", "物业费", "2025-02", "2025-02-10", "100.00"],
                                              ["1-101", "车位管理费", "2025-02", "2025-02-10", "60.00"],
                                              ["1-102", "物业费", "2025-02", "2025-02-10", "120.00"]], "c2.csv")
    _import(with_units, tmp_path, "payments", [pay_head, ["R3", "1-101", "160.00", "2025-02-20", "", ""],
                                               ["R4", "1-102", "90.00", "2025-02-21", "物业费", "2025-02"]], "p2.csv")
    assert _assert_kept_is_recomputed_exactly(workspace_dir) == {}  # extended, none afresh
    _import(with_units, tmp_path, "charges", [head, ["1-102", "物业费", "2025-02", "2025-02-10", "-20.00"]], "a.csv")
    assert _assert_kept_is_recomputed_exactly(workspace_dir) == {"1-102": "adjustment"}
    replaced = write_csv(tmp_path / "r.csv", [head, ["1-101", "物业费", "2025-02", "2025-02-10", "90.00"]])
    result = with_units("import", "charges", "--replace", str(replaced))
    assert result.exit_code == 0, result.output
    workspace = open_workspace(workspace_dir)
    try:
        assert allocation_cache.load_earlier(workspace.db, allocation_cache.ledger_state(workspace.db)) is None
    finally:
        workspace.close()
    _assert_kept_is_recomputed_exactly(workspace_dir)  # recomputed whole: an edit is not extended
