"""The law through the CLI, on small estates worked by hand (issue #8)."""

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from conftest import Invoke, write_csv, write_xlsx
from cuijiao.payment_checks import payment_warnings
from cuijiao.store.db import connect
from cuijiao.store.migrations import MIGRATIONS, run_script

CHARGES = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
           ["1-101", "物业费", "2025-01", "2025-01-10", "100.00"],
           ["1-101", "物业费", "2025-02", "2025-02-10", "100.00"],
           ["1-101", "物业费", "2025-04", "2025-04-10", "100.00"]]
PAY_HEADER = ["收据号", "房号", "实收金额", "收款日期", "收费项目", "所属期间"]


@pytest.fixture
def owing(with_units: Invoke, tmp_path: Path) -> Invoke:
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", CHARGES))).exit_code == 0
    return with_units


def test_a_deposit_receipt_is_never_applied_to_fees(owing: Invoke, tmp_path: Path) -> None:
    payments = write_csv(tmp_path / "p.csv", [PAY_HEADER, ["SJ1", "1-101", "2000", "2025-02-20", "装修押金", ""],
                                              ["SJ2", "1-101", "50", "2025-02-20", "", ""]])
    assert owing("import", "payments", str(payments)).exit_code == 0
    data = json.loads(owing("--json", "unit", "1-101", "--as-of", "2025-03-01").output)
    # Only the 50.00 fee payment pays January; the 2,000.00 deposit is held apart, not credit.
    assert [c["owed"] for c in data["charges"]] == ["50.00", "100.00"]
    assert data["totals"]["credit"] == "0.00"
    assert [p["receipt_no"] for p in data["payments"]] == ["SJ2"]
    assert data["deposits"] == [{"paid_on": "2025-02-20", "receipt_no": "SJ1", "item": "装修押金",
                                 "amount": "2000.00"}]
    text = owing("unit", "1-101", "--as-of", "2025-03-01").output
    assert "押金（不抵扣物业费等费用）" in text
    limitation = json.loads(owing("--json", "limitation", "--as-of", "2028-01-25", "--within", "30").output)["rows"]
    # The deposit is no acknowledgement: February 2025 runs from its due date (2028-02-10).
    assert [(r["period"], r["last_interruption"]) for r in limitation] == [("2025-01", "2025-02-20"),
                                                                          ("2025-02", None)]


def test_the_statement_says_what_became_of_each_designation(owing: Invoke, tmp_path: Path) -> None:
    payments = write_csv(tmp_path / "p.csv", [PAY_HEADER,
                                              ["SJ1", "1-101", "100", "2025-03-01", "物业费", "2025-04"],
                                              ["SJ2", "1-101", "30", "2025-03-02", "停车费", "2025-01"]])
    result = owing("import", "payments", str(payments))
    assert result.exit_code == 3, result.output
    assert "提醒 p.csv:3: 指定的“停车费 2025-01”没有对应的应收，将按法定顺序抵扣" in result.stderr
    data = json.loads(owing("--json", "unit", "1-101", "--as-of", "2025-03-15").output)
    first, second = data["payments"]
    assert [(a["item"], a["period"], a["rule"]) for a in first["applied"]] == [("物业费", "2025-04", "earmarked")]
    assert [(a["period"], a["explanation"]) for a in second["applied"]] == [
        ("2025-01", "指定的“停车费 2025-01”没有对应的应收，按法定顺序：先抵已到期中最早到期的费用")]
    assert (data["totals"]["overdue"], data["totals"]["credit"]) == ("170.00", "100.00")


def test_a_payment_dated_after_today_is_stored_with_a_warning(owing: Invoke, tmp_path: Path,
                                                              workspace_dir: Path) -> None:
    later = (date.today() + timedelta(days=30)).isoformat()
    payments = write_csv(tmp_path / "p.csv", [PAY_HEADER, ["SJ1", "1-101", "50", later, "", ""]])
    result = owing("import", "payments", str(payments))
    assert result.exit_code == 3
    assert f"提醒 p.csv:2: 收款日期 {later} 晚于今天（{date.today().isoformat()}），请核对" in result.stderr
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        assert db.execute("SELECT count(*) FROM payments").fetchone()[0] == 1


def test_deposit_receipts_stored_before_the_migration_are_classed_by_it(tmp_path: Path) -> None:
    path = tmp_path / "cuijiao.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for name, function in MIGRATIONS[:[name for name, _ in MIGRATIONS].index("m010_deposit_receipts")]:
        function(old)
        old.execute("INSERT INTO schema_migrations VALUES (?, 'x')", (name,))
    run_script(old, """
        INSERT INTO runs (id, command, arguments, os_user, version, started_at) VALUES (1, 't', '[]', 'u', '0', 'x');
        INSERT INTO imports (id, run_id, kind, file_name, sha256, size_bytes, rows_read, inserted, unchanged,
                             replaced, rejected, skipped, at)
        VALUES (1, 1, 'units', 'u', 'h', 0, 1, 1, 0, 0, 0, 0, 'x');
        INSERT INTO units VALUES ('1-101', '1栋', '张三', '', '80', '[]', '', 1, 2);
        INSERT INTO payments (payment_key, unit_id, paid_on, amount_fen, item, import_id, source_row)
        VALUES ('a', '1-101', '2025-01-02', 200000, '装修押金', 1, 2),
               ('b', '1-101', '2025-01-02', 100, '物业费', 1, 3),
               ('c', '1-101', '2025-01-02', 100, NULL, 1, 4);
    """)
    old.close()
    db = connect(path)
    assert db.execute("SELECT payment_key, kind FROM payments ORDER BY payment_key").fetchall() == [
        ("a", "deposit"), ("b", "payment"), ("c", "payment")]


def test_a_large_import_still_warns_of_designations_that_match_nothing(owing: Invoke, tmp_path: Path,
                                                                        workspace_dir: Path) -> None:
    """Past SETTLED_CHECK_UNITS units the check finds what matches nothing without allocating."""
    payments = write_csv(tmp_path / "p.csv", [PAY_HEADER,
                                              ["SJ1", "1-101", "100", "2025-03-01", "物业费", "2025-04"],
                                              ["SJ2", "1-101", "30", "2025-03-02", "停车费", "2025-01"],
                                              ["SJ3", "1-101", "30", "2025-03-02", "", "2025-02~2025-04"],
                                              ["SJ4", "1-101", "30", "2025-03-02", "", "2024"]])
    assert owing("import", "payments", str(payments)).exit_code == 3
    with sqlite3.connect(workspace_dir / "cuijiao.db") as db:
        first = db.execute("SELECT min(import_id) FROM payments").fetchone()[0]
        found = payment_warnings(db, first, date.today(), settled_check_units=0)
    assert [(line, message) for _import, line, message in found] == [
        (3, "指定的“停车费 2025-01”没有对应的应收，将按法定顺序抵扣"),
        (5, "指定的“2024”没有对应的应收，将按法定顺序抵扣")]


_B201 = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
         *[["1-101", "物业费", f"2026-0{m}", f"2026-0{m}-10", "300.00"] for m in range(1, 5)]]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
@pytest.mark.parametrize("others", [False, True])
def test_a_designated_period_later_than_every_charge_is_warned_and_kept_once_billed(
        with_units: Invoke, tmp_path: Path, suffix: str, others: bool) -> None:
    """A payment for 物业费 2026-12, a charge not in the ledger: warned at import, applied by law, and
    kept for 2026-12 (earmarked) as soon as the clerk imports that charge (the allocation is recomputed)."""
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", _B201))).exit_code == 0
    rows = [PAY_HEADER, ["SK006", "1-101", "1000", "2026-06-30", "物业费", "2026-12"]]
    if others:
        rows.append(["SK007", "1-101", "100", "2026-07-01", "物业费", "2026-04"])
    path = tmp_path / f"p.{suffix}"
    write_xlsx(path, rows) if suffix == "xlsx" else write_csv(path, rows)
    result = with_units("import", "payments", str(path))
    assert result.exit_code == 3, result.output
    place = "p.xlsx[Sheet1]" if suffix == "xlsx" else "p.csv"
    assert f"提醒 {place}:2: 指定的“物业费 2026-12”没有对应的应收，将按法定顺序抵扣" in result.stderr
    assert result.stderr.count("指定的") == 1
    data = json.loads(with_units("--json", "unit", "1-101", "--as-of", "2026-07-15").output)
    sk006 = next(p for p in data["payments"] if p["receipt_no"] == "SK006")
    assert [a["period"] for a in sk006["applied"]] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert all("没有对应的应收" in a["explanation"] for a in sk006["applied"])
    later = write_csv(tmp_path / "c2.csv", [_B201[0], ["1-101", "物业费", "2026-12", "2026-12-10", "300.00"]])
    assert with_units("import", "charges", str(later)).exit_code == 0
    data = json.loads(with_units("--json", "unit", "1-101", "--as-of", "2026-07-15").output)
    sk006 = next(p for p in data["payments"] if p["receipt_no"] == "SK006")
    first = sk006["applied"][0]
    assert (first["period"], first["rule"], first["amount"]) == ("2026-12", "earmarked", "300.00")
    aging = json.loads(with_units("--json", "aging", "--as-of", "2026-07-15").output)["rows"]
    # The numpy columns behind aging agree with the statement's allocation.
    assert [(r["overdue_total"], r["credit"]) for r in aging] == [
        (data["totals"]["overdue"], data["totals"]["credit"])], (aging, data["totals"])
