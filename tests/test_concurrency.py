"""Two clerks at once: one issuer at a time, busy rather than broken (issue #12 items 1, 2).

These run real ``cuijiao`` processes against a real workspace file.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import Invoke, write_csv
from cuijiao.store.db import connect
from cuijiao.store.migrations import MIGRATIONS, run_script

UNITS = 300
AS_OF = "2025-03-25"


def cuijiao(workspace: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cuijiao", "-w", str(workspace), *args], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})


@pytest.fixture
def owing(cli: Invoke, tmp_path: Path) -> Invoke:
    """An estate where every unit is 43 days overdue on 2025-03-25: each is due a first notice."""
    units = [["房号", "楼栋", "业主姓名", "联系电话", "建筑面积"]] + [
        [f"1-{i:03d}", "1栋", f"业主{i}", "13800000000", "80"] for i in range(UNITS)]
    charges = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]] + [
        [f"1-{i:03d}", "物业费", "2025-02", "2025-02-10", "100.00"] for i in range(UNITS)]
    assert cli("import", "units", str(write_csv(tmp_path / "u.csv", units))).exit_code == 0
    assert cli("import", "charges", str(write_csv(tmp_path / "c.csv", charges))).exit_code == 0
    return cli


def _notices(workspace: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(workspace / "cuijiao.db") as db:
        return db.execute("SELECT unit_id, stage FROM notices ORDER BY unit_id").fetchall()


def test_two_issuers_at_once_send_each_notice_once(owing: Invoke, workspace_dir: Path) -> None:
    first, second = cuijiao(workspace_dir, "notices", "issue", "--as-of", AS_OF), \
        cuijiao(workspace_dir, "notices", "issue", "--as-of", AS_OF)
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    for process, (_out, err) in zip((first, second), outputs, strict=True):
        assert process.returncode in (0, 3), err  # 3: units without an address get no letter
        assert "Traceback" not in err
    notices = _notices(workspace_dir)
    assert len(notices) == UNITS
    assert len(set(notices)) == UNITS
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        assert db.execute("SELECT count(*) FROM cases").fetchone()[0] == UNITS
    issued = sorted(int(out.strip().splitlines()[-1].split()[1]) for out, _err in outputs)
    assert issued == [0, UNITS]


def test_a_writer_waits_says_so_then_gives_up_without_a_traceback(owing: Invoke, workspace_dir: Path) -> None:
    holder = sqlite3.connect(workspace_dir / "cuijiao.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another command importing
    try:
        process = cuijiao(workspace_dir, "record", "call", "1-000", "--outcome", "拒接", "--on", AS_OF,
                          env={"CUIJIAO_BUSY_TIMEOUT": "1"})
        _out, err = process.communicate(timeout=60)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert process.returncode == 1
    assert "正在等待另一个 cuijiao 命令完成" in err
    assert "已等待 1 秒仍未释放" in err
    assert "Traceback" not in err
    assert "database is locked" not in err


def test_a_writer_that_waits_goes_on_when_the_lock_is_released(owing: Invoke, workspace_dir: Path) -> None:
    holder = sqlite3.connect(workspace_dir / "cuijiao.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    process = cuijiao(workspace_dir, "record", "call", "1-000", "--outcome", "拒接", "--on", AS_OF)
    try:
        assert process.stderr is not None
        waiting = process.stderr.readline()  # blocks until the command says it waits
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    out, err = process.communicate(timeout=60)
    assert "正在等待另一个 cuijiao 命令完成" in waiting
    assert process.returncode == 0, err
    assert "已记录" in out


def test_readers_read_while_an_import_holds_the_write_lock(owing: Invoke, workspace_dir: Path) -> None:
    writer = sqlite3.connect(workspace_dir / "cuijiao.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM allocation_cache")  # uncommitted work of a long import
    try:
        reader = sqlite3.connect(workspace_dir / "cuijiao.db", timeout=0)
        assert reader.execute("SELECT count(*) FROM units").fetchone()[0] == UNITS
        reader.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# --- the database's own guard -------------------------------------------------------------


# Columns named: later migrations add columns (m011 recorded_on), and this seeds older schemas too.
NOTICE_INSERT = ("INSERT INTO notices (notice_no, case_id, unit_id, stage, segment, issued_on, deadline, amount_fen,"
                 " charge_ids, approved_by, purpose, run_id) VALUES ")


def _seed(db: sqlite3.Connection) -> None:
    run_script(db, """
        INSERT INTO runs (id, command, arguments, os_user, version, started_at) VALUES (1, 't', '[]', 'u', '0', 'x');
        INSERT INTO imports (id, run_id, kind, file_name, sha256, size_bytes, rows_read, inserted, unchanged,
                             replaced, rejected, skipped, at)
        VALUES (1, 1, 'units', 'u', 'h', 0, 1, 1, 0, 0, 0, 0, 'x');
        INSERT INTO units VALUES ('1-101', '1栋', '张三', '', '80', '[]', '', 1, 2);
        INSERT INTO units VALUES ('1-102', '1栋', '李四', '', '80', '[]', '', 1, 3);
        INSERT INTO cases (id, unit_id, opened_on, run_id) VALUES (1, '1-101', '2025-01-01', 1);
        """ + NOTICE_INSERT + """('CJ2025-000001', 1, '1-101', 1, 's', '2025-01-02', NULL, 100, '[]', NULL,
                                    'ladder', 1);
    """)


def _assert_guarded(db: sqlite3.Connection) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="open case"):
        db.execute("INSERT INTO cases (unit_id, opened_on, run_id) VALUES ('1-101', '2025-02-01', 1)")
    with pytest.raises(sqlite3.IntegrityError, match="duplicate stage"):
        db.execute(NOTICE_INSERT + "('CJ2025-000002', 1, '1-101', 1, 's', '2025-02-02', NULL, 100, '[]',"
                   " NULL, 'ladder', 1)")
    with pytest.raises(sqlite3.IntegrityError, match="duplicate stage"):  # a case of another unit
        db.execute(NOTICE_INSERT + "('CJ2025-000002', 1, '1-102', 2, 's', '2025-02-02', NULL, 100, '[]',"
                   " NULL, 'ladder', 1)")
    db.execute(NOTICE_INSERT + "('CJ2025-000002', 1, '1-101', 2, 's', '2025-02-02', NULL, 100, '[]',"
               " NULL, 'ladder', 1)")
    # Once the case is closed, a new one may open and start the ladder again.
    db.execute("INSERT INTO case_closings VALUES (1, '2025-03-01', 1)")
    db.execute("INSERT INTO cases (id, unit_id, opened_on, run_id) VALUES (2, '1-101', '2025-04-01', 1)")
    db.execute(NOTICE_INSERT + "('CJ2025-000003', 2, '1-101', 1, 's', '2025-04-02', NULL, 100, '[]',"
               " NULL, 'ladder', 1)")
    with pytest.raises(sqlite3.IntegrityError, match="duplicate stage"):  # closed cases take no notice
        db.execute(NOTICE_INSERT + "('CJ2025-000004', 1, '1-101', 3, 's', '2025-04-02', NULL, 100, '[]',"
                   " NULL, 'ladder', 1)")


def test_one_open_case_and_each_stage_once_from_a_blank_database(tmp_path: Path) -> None:
    db = connect(tmp_path / "cuijiao.db")
    _seed(db)
    _assert_guarded(db)


def test_one_open_case_and_each_stage_once_after_migrating_the_previous_schema(tmp_path: Path) -> None:
    path = tmp_path / "cuijiao.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    previous = [name for name, _ in MIGRATIONS].index("m006_one_open_case")
    for name, function in MIGRATIONS[:previous]:
        function(old)
        old.execute("INSERT INTO schema_migrations VALUES (?, 'x')", (name,))
    _seed(old)
    old.close()
    db = connect(path)
    assert "m006_one_open_case" in {row[0] for row in db.execute("SELECT name FROM schema_migrations")}
    _assert_guarded(db)


# --- readers are never kept waiting by a writer (issue #12 item 2) --------------------------

_HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("DELETE FROM allocation_cache")  # uncommitted work of a long import
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
db.execute("ROLLBACK")
"""


def _hold_write_lock(workspace: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(workspace / "cuijiao.db")], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def _lines_until(process: subprocess.Popen[str], marker: str, seconds: float) -> list[str]:
    """stdout lines up to the one containing ``marker``, which must come within ``seconds``."""
    found: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            found.put(line)
        found.put(None)

    threading.Thread(target=pump, daemon=True).start()
    lines, deadline = [], time.monotonic() + seconds
    while True:
        line = found.get(timeout=max(0.0, deadline - time.monotonic()))
        assert line is not None, "".join(lines)
        lines.append(line)
        if marker in line:
            return lines


@pytest.mark.parametrize(("args", "marker"), [
    (("aging", "--as-of", AS_OF), f"截至 {AS_OF}：欠费 {UNITS} 户"),
    (("notices", "plan", "--as-of", AS_OF), f"共 {UNITS} 户；现在可发 {UNITS} 份通知"),
])
def test_a_reader_answers_at_once_while_another_command_holds_the_write_lock(
        owing: Invoke, workspace_dir: Path, args: tuple[str, ...], marker: str) -> None:
    holder = _hold_write_lock(workspace_dir)
    try:
        started = time.monotonic()
        process = cuijiao(workspace_dir, *args, env={"CUIJIAO_BUSY_TIMEOUT": "120"})
        _lines_until(process, marker, seconds=60)  # the whole answer, while the lock is still held
        answered = time.monotonic() - started
        time.sleep(1.5)  # longer than a writer waits quietly before it says it waits
        assert process.poll() is None  # still waiting to record its run
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert answered < 60
    assert "数据库正被使用" not in err  # the answer was never held up by the lock
    assert "结果已在上方给出" in err  # only the recording waited, and said so
    assert "Traceback" not in err
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        run_id, outcome, finished = db.execute(
            "SELECT id, outcome, finished_at FROM runs WHERE command = ? ORDER BY id DESC LIMIT 1",
            (" ".join(args[:-2]),)).fetchone()
        kinds = [row[0] for row in db.execute("SELECT kind FROM events WHERE run_id = ? ORDER BY id", (run_id,))]
    assert (outcome, finished is not None) == ("ok", True)
    assert kinds == ["run.start", "run.end"]


def test_a_reader_that_finds_no_lock_records_its_run_without_a_word(owing: Invoke, workspace_dir: Path) -> None:
    process = cuijiao(workspace_dir, "notices", "plan", "--as-of", AS_OF)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert err == ""
    assert f"共 {UNITS} 户" in out
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        assert db.execute("SELECT outcome FROM runs WHERE command = 'notices plan'").fetchall() == [("ok",)]


def test_a_reader_whose_run_cannot_be_recorded_still_gives_its_answer(owing: Invoke, workspace_dir: Path) -> None:
    holder = _hold_write_lock(workspace_dir)
    try:
        process = cuijiao(workspace_dir, "aging", "--as-of", AS_OF, env={"CUIJIAO_BUSY_TIMEOUT": "1"})
        out, err = process.communicate(timeout=120)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert f"截至 {AS_OF}：欠费 {UNITS} 户" in out
    assert process.returncode == 1
    assert "本次查询未能记入审计记录" in err
    assert "Traceback" not in err


# --- an import reads its files before it takes the write lock ------------------------------


@pytest.mark.parametrize("kind", ["units", "charges", "payments"])
def test_an_import_reads_and_parses_its_files_without_the_write_lock(
        owing: Invoke, workspace_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    rows = {
        "units": [["房号", "楼栋", "业主姓名", "联系电话", "建筑面积"],
                  ["2-001", "2栋", "新业主", "13900000000", "90"]],
        "charges": [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
                    ["1-001", "物业费", "2025-03", "2025-03-10", "100.00"]],
        "payments": [["房号", "收款日期", "金额", "收据号"], ["1-001", "2025-03-01", "50.00", "R-1"]],
    }[kind]
    path = write_csv(tmp_path / f"{kind}.csv", rows)
    from cuijiao.ingest import importer  # noqa: PLC0415 - the module whose reading is watched

    free_while_parsing: list[bool] = []
    real_parser = importer.RowParser

    def watched_parser(*args: object, **kwargs: object) -> object:
        # Another command takes the write lock at once while this file is parsed: the import holds none.
        other = sqlite3.connect(workspace_dir / "cuijiao.db", isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            free_while_parsing.append(True)
        except sqlite3.OperationalError:
            free_while_parsing.append(False)
        finally:
            other.close()
        return real_parser(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importer, "RowParser", watched_parser)
    result = owing("import", kind, str(path))
    assert result.exit_code == 0, result.output
    assert free_while_parsing == [True]


def test_a_units_import_between_reading_and_merging_is_seen_by_the_merge(
        owing: Invoke, workspace_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows are checked against the units stored when the write lock is taken, not when read."""
    charges = write_csv(tmp_path / "c2.csv", [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
                                              ["9-999", "物业费", "2025-03", "2025-03-10", "100.00"]])
    from cuijiao.ingest import importer  # noqa: PLC0415

    real_read = importer._Importer.read
    calls: list[int] = []

    def read_then_another_clerk_imports_units(self: importer._Importer) -> None:
        real_read(self)
        calls.append(1)
        if len(calls) == 1:  # a second clerk's units import commits between our reading and our merge
            with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
                db.execute("INSERT INTO runs (command, arguments, os_user, version, started_at)"
                           " VALUES ('t', '[]', 'u', '0', 'x')")
                run_id = db.execute("SELECT max(id) FROM runs").fetchone()[0]
                db.execute("INSERT INTO imports (id, run_id, kind, file_name, sha256, size_bytes, rows_read, inserted,"
                           " unchanged, replaced, rejected, skipped, at)"
                           " VALUES ((SELECT max(id) + 1 FROM imports), ?, 'units', 'u', 'h', 0, 1, 1,"
                           " 0, 0, 0, 0, 'x')",
                           (run_id,))
                db.execute("INSERT INTO units (unit_id, building, owner_name, phone, area_m2, tags, address,"
                           " import_id, source_row) VALUES ('9-999', '9栋', '王五', '', '80', '[]', '',"
                           " (SELECT max(id) FROM imports), 2)")

    monkeypatch.setattr(importer._Importer, "read", read_then_another_clerk_imports_units)
    result = owing("import", "charges", str(charges))
    assert result.exit_code == 0, result.output
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        assert db.execute("SELECT count(*) FROM charges WHERE unit_id = '9-999'").fetchone()[0] == 1


MONTHLY_RUN_HOLDS_THE_LOCK = """
import sys, time
from pathlib import Path
from cuijiao.store.lock import workspace_lock
with workspace_lock(Path(sys.argv[1]), "cuijiao run --as-of 2025-03-31"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _monthly_run_holding(workspace: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", MONTHLY_RUN_HOLDS_THE_LOCK, str(workspace), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def _rows(workspace: Path) -> tuple[int, int, int]:
    with sqlite3.connect(workspace / "cuijiao.db") as db:
        return tuple(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[return-value]
                     for table in ("payments", "outcomes", "runs"))


def test_imports_and_records_wait_for_the_monthly_run_then_give_up_changing_nothing(
        owing: Invoke, workspace_dir: Path, tmp_path: Path) -> None:
    """While `run` (or `notices issue`) holds the workspace, a payment imported or a call recorded would
    change the ledger under the month's letters and reports: each says it waits, for whom, then gives
    up naming the holder, and writes nothing."""
    payments = write_csv(tmp_path / "p.csv", [["收据号", "房号", "实收金额", "收款日期"],
                                              ["R1", "1-001", "100.00", "2025-03-20"]])
    before = _rows(workspace_dir)
    holder = _monthly_run_holding(workspace_dir, 30)
    try:
        for args in (("import", "payments", str(payments)),
                     ("record", "call", "1-000", "--outcome", "拒接", "--on", AS_OF)):
            _out, err = cuijiao(workspace_dir, *args, env={"CUIJIAO_BUSY_TIMEOUT": "1"}).communicate(timeout=60)
            assert "正在等待另一个 cuijiao 命令完成" in err and "cuijiao run --as-of 2025-03-31" in err, err
            assert "请等它结束后再运行" in err and "Traceback" not in err, err
        assert _rows(workspace_dir) == before
    finally:
        holder.kill()
        holder.wait()


def test_an_import_waiting_for_the_monthly_run_goes_on_when_it_ends(owing: Invoke, workspace_dir: Path,
                                                                   tmp_path: Path) -> None:
    payments = write_csv(tmp_path / "p.csv", [["收据号", "房号", "实收金额", "收款日期"],
                                              ["R1", "1-001", "100.00", "2025-03-20"]])
    holder = _monthly_run_holding(workspace_dir, 2)
    importing = cuijiao(workspace_dir, "import", "payments", str(payments))
    _out, err = importing.communicate(timeout=60)
    holder.wait()
    assert importing.returncode == 0, err
    assert "正在等待另一个 cuijiao 命令完成" in err
    assert _rows(workspace_dir)[0] == 1


def test_a_write_command_taking_over_a_killed_command_s_lock_says_so(owing: Invoke, workspace_dir: Path,
                                                                      tmp_path: Path) -> None:
    """A run killed mid-month leaves its holder in the lock file: the next command to write takes the
    lock over, and tells the clerk which command's lock it took (as `run` does)."""
    payments = write_csv(tmp_path / "p.csv", [["收据号", "房号", "实收金额", "收款日期"],
                                              ["R1", "1-001", "100.00", "2025-03-20"]])
    holder = _monthly_run_holding(workspace_dir, 30)
    holder.kill()
    holder.wait()
    importing = cuijiao(workspace_dir, "import", "payments", str(payments))
    _out, err = importing.communicate(timeout=60)
    assert importing.returncode == 0, err
    assert "接管了已退出进程遗留的工作区锁" in err and f"进程 {holder.pid}" in err, err
    assert "cuijiao run --as-of 2025-03-31" in err and "正在等待" not in err, err
    assert _rows(workspace_dir)[0] == 1
