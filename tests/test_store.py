import sqlite3
import stat
from pathlib import Path

import pytest

from cuijiao.store import migrations
from cuijiao.store.audit import Events, append_event, appended_events, start_run, verify
from cuijiao.store.db import connect, migrate, transaction
from cuijiao.store.migrations import MIGRATIONS


def test_blank_database_gets_every_migration_in_order(tmp_path: Path) -> None:
    db = connect(tmp_path / "cuijiao.db")
    names = [row[0] for row in db.execute("SELECT name FROM schema_migrations ORDER BY rowid")]
    assert names == [name for name, _ in MIGRATIONS]
    assert names == sorted(names)  # m001_, m002_ … sort in the order they apply
    assert migrate(db) == []  # a second time there is nothing to do
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "events", "imports", "units", "charges", "payments"} <= tables


def test_database_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "cuijiao.db"
    connect(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_money_columns_are_integer(tmp_path: Path) -> None:
    db = connect(tmp_path / "cuijiao.db")
    for table in ("charges", "payments"):
        types = {row[1]: row[2] for row in db.execute(f"PRAGMA table_info({table})")}
        assert types["amount_fen"] == "INTEGER"


@pytest.mark.parametrize("statement", [
    "UPDATE events SET kind = 'x'",
    "DELETE FROM events",
    "DELETE FROM runs",
    "UPDATE runs SET command = 'x'",
])
def test_audit_tables_are_append_only(tmp_path: Path, statement: str) -> None:
    db = connect(tmp_path / "cuijiao.db")
    run = start_run(db, "test", [])
    db.execute("UPDATE runs SET finished_at = 'now', outcome = 'ok', counts = '{}' WHERE id = ?",
               (run.id,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute(statement)


def test_verify_names_the_first_changed_event(tmp_path: Path) -> None:
    db = connect(tmp_path / "cuijiao.db")
    run = start_run(db, "test", [])
    with transaction(db):
        for n in range(5):
            append_event(db, run.id, "note", {"n": n})
    assert verify(db).ok
    assert verify(db).checked == 6
    # Someone with the sqlite3 shell drops the guard and edits event 4.
    db.execute("DROP TRIGGER events_no_update")
    db.execute("""UPDATE events SET payload = '{"n":99}' WHERE id = 4""")
    result = verify(db)
    assert (result.ok, result.broken_at, result.checked) == (False, 4, 3)
    assert result.reason == "事件 #4 的内容与其哈希不符（被改动）"


def test_events_appended_together_chain_as_one_by_one_and_an_error_inserts_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch's events (issuing, recording letters) are chained in Python and inserted at the block's end."""
    db = connect(tmp_path / "cuijiao.db")
    run = start_run(db, "test", [])
    with transaction(db):
        append_event(db, run.id, "note", {"n": 0})
        with appended_events(db) as events:
            ids = [events.append(run.id, "note", {"n": n}, unit_id=f"1-{n}") for n in range(1, 4)]
        append_event(db, run.id, "note", {"n": 4})
    assert ids == [3, 4, 5]  # after the run's start and the first note
    assert [row[0] for row in db.execute("SELECT unit_id FROM events WHERE id BETWEEN 3 AND 5 ORDER BY id")] == [
        "1-1", "1-2", "1-3"]
    assert verify(db).ok and verify(db).checked == 6
    monkeypatch.setattr(Events, "BATCH", 2)  # inserted two at a time inside the block, then the rest
    with transaction(db), appended_events(db) as events:
        for n in range(5):
            events.append(run.id, "note", {"n": n})
    assert verify(db).ok and verify(db).checked == 11
    with pytest.raises(RuntimeError), transaction(db), appended_events(db) as events:
        events.append(run.id, "note", {"n": 5})
        raise RuntimeError("stopped")
    assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 11 and verify(db).ok


def test_verify_names_a_deleted_event(tmp_path: Path) -> None:
    db = connect(tmp_path / "cuijiao.db")
    run = start_run(db, "test", [])
    with transaction(db):
        for n in range(3):
            append_event(db, run.id, "note", {"n": n})
    db.execute("DROP TRIGGER events_no_delete")
    db.execute("DELETE FROM events WHERE id = 2")
    result = verify(db)
    assert (result.broken_at, result.reason) == (2, "事件 #2 缺失（被删除）")


def test_failed_migration_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, ("m999_broken", broken)])
    monkeypatch.setattr("cuijiao.store.db.MIGRATIONS", migrations.MIGRATIONS)
    with pytest.raises(RuntimeError):
        connect(tmp_path / "cuijiao.db")
    db = sqlite3.connect(tmp_path / "cuijiao.db")
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "half_done" not in tables
    assert "units" in tables  # the good migrations before it stayed


@pytest.mark.parametrize("table", ["charges", "payments"])
def test_an_imports_rows_are_found_by_index_not_by_scanning_the_ledger(tmp_path: Path, table: str) -> None:
    # The seal hashes an import's rows, and a deferred foreign key looks for them when the
    # imports row is written last: both read the ledger by import id.
    db = connect(tmp_path / "w.db")
    migrate(db)
    plan = " ".join(row[-1] for row in db.execute(
        f"EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE import_id IN (7, 8) ORDER BY id"))
    assert f"USING INDEX {table}_import" in plan, plan
