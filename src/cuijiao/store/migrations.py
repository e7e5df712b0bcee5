"""The schema as ordered, named migrations. Never edit one that has shipped;
add the next. Money is INTEGER fen, dates are ISO ``YYYY-MM-DD`` TEXT."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]

# The partial index's condition, written the same way where queries use the index (store/reading.py).
DESIGNATED = "kind = 'payment' AND (item IS NOT NULL OR period IS NOT NULL)"
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(function: Migration) -> Migration:
    MIGRATIONS.append((function.__name__, function))
    return function


def run_script(db: sqlite3.Connection, script: str) -> None:
    """Execute a script statement by statement, inside the caller's transaction.

    ``executescript`` would COMMIT first, so a failed migration could leave
    half a schema behind.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement.strip()[:60]}")


def _append_only(table: str) -> str:
    return f"""
    CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
    BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;
    CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
    BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;
    """


@migration
def m001_audit(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            command TEXT NOT NULL,
            arguments TEXT NOT NULL,          -- canonical JSON list
            os_user TEXT NOT NULL,
            version TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            outcome TEXT,                     -- ok | warnings | error | interrupted
            counts TEXT                       -- canonical JSON object
        );
        -- A run is written once when it starts and closed once when it ends.
        CREATE TRIGGER runs_close_once BEFORE UPDATE ON runs
        WHEN OLD.finished_at IS NOT NULL
          OR NEW.id IS NOT OLD.id OR NEW.command IS NOT OLD.command
          OR NEW.arguments IS NOT OLD.arguments OR NEW.os_user IS NOT OLD.os_user
          OR NEW.version IS NOT OLD.version OR NEW.started_at IS NOT OLD.started_at
        BEGIN SELECT RAISE(ABORT, 'runs is append-only'); END;
        CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs
        BEGIN SELECT RAISE(ABORT, 'runs is append-only'); END;

        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES runs(id),
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            unit_id TEXT,
            payload TEXT NOT NULL,            -- canonical JSON object
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE
        );
        CREATE INDEX events_unit ON events(unit_id, id);
        """
        + _append_only("events")
    )


@migration
def m002_ledger(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            kind TEXT NOT NULL,               -- units | charges | payments
            file_name TEXT NOT NULL,
            sheet TEXT,
            sha256 TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            encoding TEXT,
            rows_read INTEGER NOT NULL,
            inserted INTEGER NOT NULL,
            unchanged INTEGER NOT NULL,
            replaced INTEGER NOT NULL,
            rejected INTEGER NOT NULL,
            skipped INTEGER NOT NULL,
            at TEXT NOT NULL
        );

        CREATE TABLE units (
            unit_id TEXT PRIMARY KEY,
            building TEXT NOT NULL,
            owner_name TEXT NOT NULL,
            phone TEXT NOT NULL,
            area_m2 TEXT NOT NULL,            -- exact decimal text, e.g. '89.56'
            tags TEXT NOT NULL,               -- JSON list
            address TEXT NOT NULL,
            import_id INTEGER NOT NULL REFERENCES imports(id),
            source_row INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE charges (
            id INTEGER PRIMARY KEY,
            charge_key TEXT NOT NULL,         -- identity: bill number or unit+item+period
            unit_id TEXT NOT NULL REFERENCES units(unit_id),
            item TEXT NOT NULL,
            period TEXT NOT NULL,             -- canonical label: 2025-01, 2025Q1, 2025-01~2025-03
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            due_date TEXT NOT NULL,
            amount_fen INTEGER NOT NULL,
            -- Not "IN (…)": SQLite builds the IN list afresh for every inserted row.
            kind TEXT NOT NULL CHECK (kind = 'charge' OR kind = 'adjustment' OR kind = 'deposit'),
            bill_no TEXT,
            adjusts_id INTEGER REFERENCES charges(id),
            import_id INTEGER NOT NULL REFERENCES imports(id),
            source_row INTEGER NOT NULL
        );
        -- Identity indexes are separate statements, not column constraints, so a
        -- bulk load into an empty table can drop and rebuild them (ledger.py).
        CREATE UNIQUE INDEX charges_key ON charges(charge_key);
        CREATE INDEX charges_unit_due ON charges(unit_id, due_date);
        -- Partial: only adjustments carry it. Without it, every insert into charges
        -- while a deferred foreign key is pending would scan the table for children.
        CREATE INDEX charges_adjusts ON charges(adjusts_id) WHERE adjusts_id IS NOT NULL;

        CREATE TABLE payments (
            id INTEGER PRIMARY KEY,
            payment_key TEXT NOT NULL,        -- identity: receipt line or a hash of the row
            unit_id TEXT NOT NULL REFERENCES units(unit_id),
            paid_on TEXT NOT NULL,
            amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
            receipt_no TEXT,
            item TEXT,                        -- designation, when the payer named one
            period TEXT,
            import_id INTEGER NOT NULL REFERENCES imports(id),
            source_row INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX payments_key ON payments(payment_key);
        CREATE INDEX payments_unit_date ON payments(unit_id, paid_on);
        """
        + _append_only("imports")
    )


@migration
def m003_outcomes(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        -- What happened in collecting: promises, disputes and their resolution,
        -- holds, calls, legal steps. Facts for segments, the planner and the
        -- limitation clock; written once, never changed.
        CREATE TABLE outcomes (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            unit_id TEXT NOT NULL REFERENCES units(unit_id),
            kind TEXT NOT NULL,               -- promise | dispute | resolve | hold | call | legal
            on_date TEXT NOT NULL,            -- when it happened
            until_date TEXT,                  -- promise: pay by; hold: until
            amount_fen INTEGER,               -- promise: how much
            detail TEXT NOT NULL,             -- canonical JSON: reason, outcome, note, evidence …
            recorded_at TEXT NOT NULL
        );
        CREATE INDEX outcomes_unit ON outcomes(unit_id, on_date);
        """
        + _append_only("outcomes"),
    )


@migration
def m004_cases_and_notices(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        -- A collection case: from a unit falling overdue until its arrears drop
        -- below the minimum. The stages of the ladder belong to a case.
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            unit_id TEXT NOT NULL REFERENCES units(unit_id),
            opened_on TEXT NOT NULL,
            run_id INTEGER NOT NULL REFERENCES runs(id)
        );
        CREATE INDEX cases_unit ON cases(unit_id, id);
        CREATE TABLE case_closings (
            case_id INTEGER PRIMARY KEY REFERENCES cases(id),
            closed_on TEXT NOT NULL,
            run_id INTEGER NOT NULL REFERENCES runs(id)
        );

        -- Every notice issued. One stage once per case: the unique index is the
        -- last guard against sending the same letter twice for the same arrears.
        CREATE TABLE notices (
            notice_no TEXT PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            unit_id TEXT NOT NULL REFERENCES units(unit_id),
            stage INTEGER NOT NULL CHECK (stage BETWEEN 1 AND 5),
            segment TEXT NOT NULL,
            issued_on TEXT NOT NULL,
            deadline TEXT,                    -- the payment deadline the notice gives
            amount_fen INTEGER NOT NULL,      -- overdue total demanded
            charge_ids TEXT NOT NULL,         -- JSON list: the debts it demands (limitation)
            approved_by TEXT,                 -- OS user who approved stages 4-5
            -- ladder: the next step; limitation: a demand for debts whose limitation
            -- period ends soon, sent even while the ladder is held back
            purpose TEXT NOT NULL CHECK (purpose = 'ladder' OR purpose = 'limitation'),
            run_id INTEGER NOT NULL REFERENCES runs(id)
        );
        CREATE UNIQUE INDEX notices_case_stage ON notices(case_id, stage) WHERE purpose = 'ladder';
        CREATE INDEX notices_unit ON notices(unit_id, issued_on);

        -- Evidence that a notice reached the owner (SPC limitation rules art. 8).
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            notice_no TEXT NOT NULL REFERENCES notices(notice_no),
            delivered_on TEXT NOT NULL,
            method TEXT NOT NULL,
            signer TEXT,
            relation TEXT,
            evidence TEXT,
            run_id INTEGER NOT NULL REFERENCES runs(id)
        );
        CREATE INDEX deliveries_notice ON deliveries(notice_no);
        """
        + _append_only("cases") + _append_only("case_closings") + _append_only("notices")
        + _append_only("deliveries"),
    )


@migration
def m005_allocation_cache(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        -- The whole ledger's allocation in columns (cuijiao.allocated), kept so
        -- that aging does not re-apply every payment on each run. Derived data:
        -- the row named 'state' says which ledger it was computed from, and it
        -- is recomputed when the ledger has changed since.
        CREATE TABLE allocation_cache (
            name TEXT PRIMARY KEY,
            data BLOB NOT NULL
        );
        """,
    )


@migration
def m006_one_open_case(db: sqlite3.Connection) -> None:
    """At most one open case per unit, and each ladder stage once per open case.

    The last guard against two issuers racing: whatever the code does, the
    database refuses a second open case for a unit, a notice whose case belongs
    to another unit, and a ladder stage the unit's open case already has.
    """
    run_script(
        db,
        """
        CREATE TRIGGER cases_one_open BEFORE INSERT ON cases
        WHEN EXISTS (SELECT 1 FROM cases AS c WHERE c.unit_id = NEW.unit_id
                     AND c.id NOT IN (SELECT case_id FROM case_closings))
        BEGIN SELECT RAISE(ABORT, 'unit already has an open case'); END;

        CREATE TRIGGER notices_stage_once BEFORE INSERT ON notices
        WHEN NEW.unit_id IS NOT (SELECT unit_id FROM cases WHERE id = NEW.case_id)
          OR NEW.case_id IN (SELECT case_id FROM case_closings)
          OR (NEW.purpose = 'ladder' AND EXISTS (
                SELECT 1 FROM notices AS n JOIN cases AS c ON c.id = n.case_id
                WHERE c.unit_id = NEW.unit_id AND n.stage = NEW.stage AND n.purpose = 'ladder'
                  AND n.case_id NOT IN (SELECT case_id FROM case_closings)))
        BEGIN SELECT RAISE(ABORT, 'duplicate stage for a unit in an open case'); END;
        """,
    )


# Append-only tables and the column sets each row is unique by. SQLite's REPLACE
# conflict resolution deletes the old row without firing DELETE triggers (unless
# recursive_triggers is on, which a stranger's SQLite shell does not set), so
# INSERT OR REPLACE over an existing row needs its own refusal; an UPSERT's DO
# UPDATE is refused here too, before SQLite looks for the conflict.
APPEND_ONLY_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "runs": (("id",),),
    "events": (("id",), ("hash",)),
    "imports": (("id",),),
    "outcomes": (("id",),),
    "cases": (("id",),),
    "case_closings": (("case_id",),),
    "notices": (("notice_no",),),
    "deliveries": (("id",),),
}


def _no_overwrite(table: str, keys: tuple[tuple[str, ...], ...]) -> str:
    clash = " OR ".join(
        "EXISTS (SELECT 1 FROM {t} AS o WHERE {cond})".format(
            t=table, cond=" AND ".join(f"o.{c} = NEW.{c}" for c in columns))
        for columns in keys
    )
    return f"""
    CREATE TRIGGER {table}_no_overwrite BEFORE INSERT ON {table}
    WHEN {clash}
    BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;
    """


@migration
def m007_no_overwrite(db: sqlite3.Connection) -> None:
    run_script(db, "".join(_no_overwrite(table, keys) for table, keys in APPEND_ONLY_KEYS.items()))


@migration
def m008_run_process(db: sqlite3.Connection) -> None:
    """Which process a run is, so the next command can tell a killed run from a running one."""
    run_script(
        db,
        """
        ALTER TABLE runs ADD COLUMN pid INTEGER;
        ALTER TABLE runs ADD COLUMN host TEXT;
        DROP TRIGGER runs_close_once;
        CREATE TRIGGER runs_close_once BEFORE UPDATE ON runs
        WHEN OLD.finished_at IS NOT NULL
          OR NEW.id IS NOT OLD.id OR NEW.command IS NOT OLD.command
          OR NEW.arguments IS NOT OLD.arguments OR NEW.os_user IS NOT OLD.os_user
          OR NEW.version IS NOT OLD.version OR NEW.started_at IS NOT OLD.started_at
          OR NEW.pid IS NOT OLD.pid OR NEW.host IS NOT OLD.host
        BEGIN SELECT RAISE(ABORT, 'runs is append-only'); END;
        """,
    )


@migration
def m009_ledger_changes(db: sqlite3.Connection) -> None:
    """A counter every UPDATE or DELETE of the ledger raises, from cuijiao or any SQLite tool.

    Inserts raise the tables' highest ids and row counts, which the allocation
    cache's key already reads; edits and deletions change neither, so without
    this an ``UPDATE charges`` made outside cuijiao would leave aging stale.
    """
    script = """
        CREATE TABLE ledger_changes (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
        INSERT INTO ledger_changes (id, n) VALUES (1, 0);
    """
    for table in ("units", "charges", "payments"):
        for event in ("UPDATE", "DELETE"):
            script += f"""
        CREATE TRIGGER {table}_{event.lower()}_counted AFTER {event} ON {table}
        BEGIN UPDATE ledger_changes SET n = n + 1 WHERE id = 1; END;
        """
    run_script(db, script)


@migration
def m010_deposit_receipts(db: sqlite3.Connection) -> None:
    """A payment for a deposit item (装修押金 …) is a deposit receipt, never applied to fees (art. 568).

    Rows already stored are classed by the rule the importer applies: an item
    stored as a deposit charge, one of the default deposit items, or any item
    containing 押金.
    """
    run_script(
        db,
        """
        ALTER TABLE payments ADD COLUMN kind TEXT NOT NULL DEFAULT 'payment'
            CHECK (kind = 'payment' OR kind = 'deposit');
        UPDATE payments SET kind = 'deposit'
        WHERE item LIKE '%押金%' OR item IN ('装修押金', '装修保证金', '押金')
           OR item IN (SELECT item FROM charges WHERE kind = 'deposit');
        """,
    )


@migration
def m011_ledger_touched(db: sqlite3.Connection) -> None:
    """Which imports' rows were changed or removed since the last seal (see store/seal.py).

    Each import re-seals the imports it touched; rows touched outside an import
    are found by the next command and recorded in the audit trail as such.
    """
    script = """
        CREATE TABLE ledger_touched (
            ledger TEXT NOT NULL, import_id INTEGER NOT NULL, PRIMARY KEY (ledger, import_id)
        ) WITHOUT ROWID;
    """
    for table in ("units", "charges", "payments"):
        for event in ("UPDATE", "DELETE"):
            script += f"""
        CREATE TRIGGER {table}_{event.lower()}_touched AFTER {event} ON {table}
        BEGIN INSERT OR IGNORE INTO ledger_touched VALUES ('{table}', OLD.import_id); END;
        """
    run_script(db, script)


@migration
def m011_notice_recorded_on(db: sqlite3.Connection) -> None:
    """The day a notice was really recorded, beside the as-of date it was issued for: a backdated
    run shows on the notice's record (rows from before this migration have none)."""
    run_script(db, "ALTER TABLE notices ADD COLUMN recorded_on TEXT;")


@migration
def m012_notices_by_case(db: sqlite3.Connection) -> None:
    """A letter cites its case's earlier notices: without this index (notices_case_stage covers
    ladder notices only) each letter scanned every notice, minutes for a month of 50,000 letters."""
    run_script(db, "CREATE INDEX notices_case ON notices(case_id, issued_on);")


@migration
def m013_payments_by_designation(db: sqlite3.Connection) -> None:
    """The designated payments by period: extending the kept allocation after a month's import
    reads only designations that could name one of the month's charges (store/reading.py), not
    all four million payments of a large estate's history."""
    run_script(db, f"CREATE INDEX payments_designation ON payments(period, item, unit_id) WHERE {DESIGNATED};")


@migration
def m014_ledger_by_import(db: sqlite3.Connection) -> None:
    """Ledger rows by the import that wrote them. An import writes its ``imports`` row last, under
    deferred foreign keys: SQLite then looks for the rows that point at it, and the seal hashes
    them; without these indexes each was a scan of every charge and payment (5 of a month's
    import's 9 seconds at 100,000 units). Appended in order, so cheap to keep."""
    run_script(db, "CREATE INDEX charges_import ON charges(import_id);\n"
                   "CREATE INDEX payments_import ON payments(import_id);\n")
