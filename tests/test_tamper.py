"""Tamper evidence that holds (issue #12 item 7) and notes kept private in the log (item 9).

Each tampering is done the way a person with the database file and a SQLite
shell would: a plain ``sqlite3`` connection, no cuijiao code.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import Invoke, write_csv
from cuijiao.store.audit import chain_head, format_head, highest_recorded_notice_no
from cuijiao.store.migrations import APPEND_ONLY_KEYS
from cuijiao.store.notices import next_notice_no

CHARGES = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
           ["1-101", "物业费", "2025-01", "2025-01-10", "100.00"],
           ["1-101", "物业费", "2025-02", "2025-02-10", "100.00"],
           ["1-102", "物业费", "2025-01", "2025-01-10", "120.00"],
           ["2-201", "物业费", "2025-01", "2025-01-10", "90.00"]]
PAYMENTS = [["收据号", "房号", "实收金额", "收款日期"],
            ["R1", "1-101", "100.00", "2025-01-20"], ["R2", "1-102", "50.00", "2025-02-01"]]


@pytest.fixture
def ledger(with_units: Invoke, tmp_path: Path) -> Invoke:
    for kind, rows in (("charges", CHARGES), ("payments", PAYMENTS)):
        result = with_units("import", kind, str(write_csv(tmp_path / f"{kind}.csv", rows)))
        assert result.exit_code == 0, result.output
    return with_units


@pytest.fixture
def everything(ledger: Invoke, tmp_path: Path) -> Invoke:
    """Every append-only table holds a row."""
    assert ledger("record", "call", "1-102", "--outcome", "拒接", "--note", "业主说下月中发工资后缴",
                  "--on", "2025-03-01").exit_code == 0
    issued = ledger("notices", "issue", "--as-of", "2025-03-25")
    assert issued.exit_code in (0, 3), issued.output  # 3: a unit without an address gets no letter
    assert ledger("record", "delivered", "CJ2025-000001", "--method", "EMS", "--evidence", "EA123",
                  "--on", "2025-03-26").exit_code == 0
    paid = [PAYMENTS[0], ["R3", "1-101", "100.00", "2025-03-28"]]  # 1-101 pays up: its case closes
    assert ledger("import", "payments", str(write_csv(tmp_path / "paid.csv", paid))).exit_code == 0
    assert ledger("notices", "issue", "--as-of", "2025-04-10").exit_code in (0, 3)
    return ledger


@contextmanager
def shell(workspace: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(workspace / "cuijiao.db", isolation_level=None)
    try:
        yield db
    finally:
        db.close()


def verify_fails(cli: Invoke, *args: str) -> str:
    result = cli("audit", "verify", *args)
    assert result.exit_code == 1, result.output
    return result.output


# --- append-only tables -------------------------------------------------------------------


@pytest.mark.parametrize("table", sorted(APPEND_ONLY_KEYS))
@pytest.mark.parametrize("verb", ["INSERT OR REPLACE", "REPLACE"])
def test_replace_over_an_append_only_row_is_refused(everything: Invoke, workspace_dir: Path, table: str,
                                                    verb: str) -> None:
    with shell(workspace_dir) as db:
        before = db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
        assert before, table
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(f"{verb} INTO {table} SELECT * FROM {table} ORDER BY rowid LIMIT 1")
        assert db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() == before
    assert everything("audit", "verify").exit_code == 0


@pytest.mark.parametrize("table", sorted(APPEND_ONLY_KEYS))
def test_upsert_over_an_append_only_row_is_refused(everything: Invoke, workspace_dir: Path, table: str) -> None:
    key = APPEND_ONLY_KEYS[table][0][0]
    with shell(workspace_dir) as db:
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
        other = next(c for c in columns if c != key)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(f"INSERT INTO {table} SELECT * FROM {table} WHERE true ORDER BY rowid LIMIT 1"
                       f" ON CONFLICT({key}) DO UPDATE SET {other} = excluded.{other}")


# --- the ledger against its seals -----------------------------------------------------------

TAMPERINGS = {
    "edit a charge": ["UPDATE charges SET amount_fen = 1 WHERE id = 1"],
    "edit a payment": ["UPDATE payments SET paid_on = '2024-12-31' WHERE id = 1"],
    "edit a unit": ["UPDATE units SET owner_name = '赵六' WHERE unit_id = '1-101'"],
    "delete a payment": ["DELETE FROM payments WHERE id = 2"],
    "delete a unit": ["PRAGMA foreign_keys = OFF", "DELETE FROM units WHERE unit_id = '2-201'"],
    "insert a charge": ["INSERT INTO charges (charge_key, unit_id, item, period, period_start, period_end,"
                        " due_date, amount_fen, kind, import_id, source_row) SELECT 'x', unit_id, item, '2025-03',"
                        " '2025-03-01', '2025-03-31', '2025-03-10', 500, 'charge', import_id, 99 FROM charges"
                        " WHERE id = 1"],
    "insert a payment": ["INSERT INTO payments (payment_key, unit_id, paid_on, amount_fen, import_id, source_row)"
                         " SELECT 'y', unit_id, paid_on, 9900, import_id, 9 FROM payments WHERE id = 1"],
    "insert a unit": ["INSERT INTO units SELECT '9-999', building, owner_name, phone, area_m2, tags, address,"
                      " import_id, 99 FROM units LIMIT 1"],
    "insert under the next import's number": [
        "INSERT INTO charges (charge_key, unit_id, item, period, period_start, period_end, due_date, amount_fen,"
        " kind, import_id, source_row) VALUES ('z', '1-101', '物业费', '2025-04', '2025-04-01', '2025-04-30',"
        " '2025-04-10', 700, 'charge', (SELECT max(id) + 1 FROM imports), 2)"],
}


@pytest.mark.parametrize("name", list(TAMPERINGS))
@pytest.mark.parametrize("hide", [False, True], ids=["as is", "triggers dropped first"])
def test_ledger_tampering_is_detected(ledger: Invoke, workspace_dir: Path, tmp_path: Path, name: str,
                                      hide: bool) -> None:
    assert ledger("audit", "verify").exit_code == 0
    with shell(workspace_dir) as db:
        if hide:  # someone who knows the schema removes what would record the change
            for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                         " AND name LIKE '%touched' OR name LIKE '%counted'").fetchall():
                db.execute(f"DROP TRIGGER {trigger}")
        for statement in TAMPERINGS[name]:
            db.execute(statement)
    # A later legitimate import must not bless the tampered rows.
    more = [CHARGES[0], ["1-102", "物业费", "2025-02", "2025-02-10", "120.00"]]
    assert ledger("import", "charges", str(write_csv(tmp_path / "more.csv", more))).exit_code == 0
    output = verify_fails(ledger)
    assert "cuijiao 之外" in output


def test_a_replace_by_a_later_import_keeps_the_seals_whole(ledger: Invoke, tmp_path: Path) -> None:
    changed = [CHARGES[0], ["1-101", "物业费", "2025-01", "2025-01-10", "110.00"]]
    assert ledger("import", "charges", str(write_csv(tmp_path / "c2.csv", changed)), "--replace").exit_code == 0
    units = [["房号", "楼栋", "业主姓名", "联系电话", "建筑面积"], ["1-101", "1栋", "张三丰", "13800138000", "89.50"]]
    assert ledger("import", "units", str(write_csv(tmp_path / "u2.csv", units))).exit_code == 0
    result = ledger("audit", "verify")
    assert result.exit_code == 0, result.output


# --- the printed head ------------------------------------------------------------------------------


def test_truncating_the_newest_events_is_caught_by_the_printed_head(everything: Invoke,
                                                                      workspace_dir: Path) -> None:
    with shell(workspace_dir) as db:
        head = chain_head(db)
    ok = everything("audit", "verify", "--head", format_head(head))
    assert ok.exit_code == 0, ok.output
    assert f"链头 {format_head(head)}" in ok.output  # a verify records its own run after it answers
    with shell(workspace_dir) as db:
        db.execute("DROP TRIGGER events_no_delete")
        # The newest events, from the last notice issued on (not a count of them: how many files a batch
        # writes, each with its event, is the batch's business).
        db.execute("DELETE FROM events WHERE id >= (SELECT max(id) FROM events WHERE kind = 'notice.issue')")
    # A shorter chain is still a chain: only the rows its lost events recorded give it away…
    assert "审计链中没有记录它的事件" in verify_fails(everything)
    assert "截断" in verify_fails(everything, "--head", format_head(head))  # …and the printed head always


def test_a_rewritten_chain_is_caught_by_the_printed_head(everything: Invoke, workspace_dir: Path) -> None:
    with shell(workspace_dir) as db:
        count, _hash = chain_head(db)
    assert "不符" in verify_fails(everything, "--head", f"{count}:{'0' * 64}")


def test_a_malformed_head_is_bad_usage(everything: Invoke) -> None:
    assert everything("audit", "verify", "--head", "12").exit_code == 2


# --- the kept allocation ---------------------------------------------------------------------------


def test_an_outside_update_of_charges_does_not_leave_aging_stale(ledger: Invoke, workspace_dir: Path) -> None:
    assert _overdue(ledger) == "260.00"  # 100 + 100 + 120 + 90 - 100 - 50; the allocation is kept now
    with shell(workspace_dir) as db:
        db.execute("UPDATE charges SET amount_fen = amount_fen + 10000 WHERE id = 1")
    assert _overdue(ledger) == "360.00"


def _cache_file(workspace: Path) -> Path:
    with shell(workspace) as db:
        token = bytes(db.execute("SELECT data FROM allocation_cache WHERE name = 'file'").fetchone()[0]).decode()
    return workspace / "cache" / f"allocation-{token}.bin"


def _zero_body(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2:] = bytes(len(data) - len(data) // 2)
    path.write_bytes(bytes(data))


def _foreign(path: Path) -> None:
    """Another workspace's file for the same ledger: same state, whole, its own token."""
    data = path.read_bytes()
    token = path.stem.removeprefix("allocation-")
    path.write_bytes(data.replace(token.encode(), b"0" * len(token)))


@pytest.mark.parametrize("damage", [
    lambda path: path.unlink(),
    lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    _zero_body,
    _foreign,
    lambda path: path.write_bytes(b""),
])
def test_a_damaged_or_foreign_allocation_cache_file_is_rebuilt(ledger: Invoke, workspace_dir: Path,
                                                               damage: Callable[[Path], None]) -> None:
    expected = _overdue(ledger)
    kept = _cache_file(workspace_dir)
    kept.chmod(0o600)  # written read-only: whoever damages it makes it writable first (root need not)
    damage(kept)
    assert _overdue(ledger) == expected
    assert _cache_file(workspace_dir).is_file()  # kept again, whole
    assert list((workspace_dir / "cache").iterdir()) == [_cache_file(workspace_dir)]  # the damaged one removed
    assert _overdue(ledger) == expected


@pytest.mark.parametrize("damage", [
    "UPDATE allocation_cache SET data = CAST('1' AS BLOB) WHERE name = 'checksum'",
    "UPDATE allocation_cache SET data = CAST('../cuijiao' AS BLOB) WHERE name = 'file'",
    "DELETE FROM allocation_cache WHERE name = 'file'",
    "UPDATE allocation_cache SET data = CAST('not json' AS BLOB) WHERE name = 'state'",
])
def test_a_corrupted_allocation_cache_pointer_is_rebuilt(ledger: Invoke, workspace_dir: Path, damage: str) -> None:
    expected = _overdue(ledger)
    with shell(workspace_dir) as db:
        assert {row[0] for row in db.execute("SELECT name FROM allocation_cache")} == {"state", "file", "checksum"}
        db.execute(damage)
    assert _overdue(ledger) == expected
    assert _overdue(ledger) == expected  # and kept again, whole


def _overdue(cli: Invoke) -> str:
    result = cli("--json", "aging", "--as-of", "2025-03-25")
    assert result.exit_code == 0, result.output
    return str(json.loads(result.output)["totals"]["overdue_total"])


# --- notes kept private ------------------------------------------------------------------------------


def test_notes_are_masked_in_the_log_and_unmasking_is_audited(everything: Invoke) -> None:
    masked = everything("audit", "log", "--unit", "1-102").output
    assert "业主说下月中发工资后缴" not in masked
    assert "业主…（已隐藏 11 字）" in masked
    clear = everything("audit", "log", "--unit", "1-102", "--unmask").output
    assert "业主说下月中发工资后缴" in clear
    latest = everything("audit", "log", "-n", "5").output
    assert "查看了未打码的审计记录" in latest  # the audit.unmask event, in words


# --- state tables against the events that recorded them -----------------------------------


def _drop_triggers(db: sqlite3.Connection, *tables: str) -> None:
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN"
                              f" ({','.join('?' * len(tables))})", tables).fetchall():
        db.execute(f'DROP TRIGGER "{name}"')


def test_a_deleted_notice_is_named_and_never_issued_again(ledger: Invoke, workspace_dir: Path) -> None:
    assert ledger("notices", "issue", "--as-of", "2025-03-25").exit_code in (0, 3)
    with shell(workspace_dir) as db:
        newest, unit = db.execute("SELECT notice_no, unit_id FROM notices ORDER BY notice_no DESC LIMIT 1").fetchone()
        _drop_triggers(db, "notices")
        db.execute("DELETE FROM notices WHERE notice_no = ?", (newest,))
    out = verify_fails(ledger)
    assert f"notices 表 {newest}" in out and "被删除" in out
    refused = ledger("notices", "issue", "--as-of", "2025-03-25")
    assert refused.exit_code == 1, refused.output
    assert "audit verify" in refused.output and "Traceback" not in refused.output
    with shell(workspace_dir) as db:
        assert db.execute("SELECT count(*) FROM notices WHERE unit_id = ?", (unit,)).fetchone()[0] == 0


def test_an_altered_notice_and_an_inserted_case_are_named(ledger: Invoke, workspace_dir: Path) -> None:
    assert ledger("notices", "issue", "--as-of", "2025-03-25").exit_code in (0, 3)
    with shell(workspace_dir) as db:
        first = db.execute("SELECT notice_no FROM notices ORDER BY notice_no LIMIT 1").fetchone()[0]
        _drop_triggers(db, "notices", "cases")
        db.execute("UPDATE notices SET amount_fen = amount_fen + 100 WHERE notice_no = ?", (first,))
        db.execute("INSERT INTO cases (id, unit_id, opened_on, run_id) VALUES (999, '2-201', '2025-01-01', 1)")
    out = verify_fails(ledger)
    assert f"notices 表 {first}：amount" in out
    assert "cases 表 999" in out
    assert ledger("notices", "issue", "--as-of", "2025-03-26").exit_code == 1


def test_a_deleted_delivery_and_outcome_are_named(everything: Invoke, workspace_dir: Path) -> None:
    with shell(workspace_dir) as db:
        _drop_triggers(db, "deliveries", "outcomes")
        delivery = db.execute("SELECT max(id) FROM deliveries").fetchone()[0]
        outcome = db.execute("SELECT max(id) FROM outcomes").fetchone()[0]
        db.execute("DELETE FROM deliveries WHERE id = ?", (delivery,))
        db.execute("DELETE FROM outcomes WHERE id = ?", (outcome,))
    out = verify_fails(everything)
    assert f"deliveries 表 {delivery}" in out and f"outcomes 表 {outcome}" in out


def test_a_whole_workspace_verifies(everything: Invoke) -> None:
    result = everything("audit", "verify")
    assert result.exit_code == 0, result.output


def test_notice_numbers_come_after_the_highest_ever_recorded(ledger: Invoke, workspace_dir: Path) -> None:
    assert ledger("notices", "issue", "--as-of", "2025-03-25").exit_code in (0, 3)
    with shell(workspace_dir) as db:
        newest = db.execute("SELECT max(notice_no) FROM notices").fetchone()[0]
        _drop_triggers(db, "notices")
        db.execute("DELETE FROM notices WHERE notice_no = ?", (newest,))
        number = next_notice_no(db, 2025, highest_recorded_notice_no(db, "CJ2025-"))
    assert number > newest


def _monthly(units: list[str], first: tuple[int, int], months: int) -> list[list[str]]:
    rows = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]]
    for k in range(months):
        year, month = divmod(first[0] * 12 + first[1] - 1 + k, 12)
        rows += [[unit, "物业费", f"{year}-{month + 1:02d}", f"{year}-{month + 1:02d}-10", "100.00"]
                 for unit in units]
    return rows


def test_imports_larger_than_a_seal_batch_verify_after_later_imports(cli: Invoke, tmp_path: Path) -> None:
    # The seal hashes an import's rows in batches; verify must read them the way their seal did,
    # not in batches counted from the first row of the whole table (a false alarm of tampering).
    units = [f"{n}-{r}" for n in range(1, 11) for r in range(101, 111)]
    units_rows = [["房号", "楼栋", "业主姓名", "联系电话", "建筑面积"], *[[u, u.split("-")[0], "业主", "", "80"]
                                                                 for u in units]]
    assert cli("import", "units", str(write_csv(tmp_path / "u.csv", units_rows))).exit_code == 0
    for name, first, months in (("a", (1999, 12), 1), ("b", (2000, 1), 230), ("c", (2019, 3), 30)):
        result = cli("import", "charges", str(write_csv(tmp_path / f"{name}.csv", _monthly(units, first, months))))
        assert result.exit_code == 0, result.output
    result = cli("audit", "verify")
    assert result.exit_code == 0, result.output
