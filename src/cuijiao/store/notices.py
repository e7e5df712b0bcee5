"""Cases, notices and deliveries: written once, read back for the planner."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from functools import cache

from cuijiao.stages import Case, IssuedNotice, Purpose


@dataclass(frozen=True)
class StoredNotice:
    notice_no: str
    case_id: int
    unit_id: str
    stage: int
    issued_on: date
    deadline: date | None
    amount_fen: int
    charge_ids: tuple[int, ...]
    purpose: Purpose


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


_NOTICE_COLUMNS = "notice_no, case_id, unit_id, stage, issued_on, deadline, amount_fen, charge_ids, purpose"


def _notice(row: tuple[object, ...]) -> StoredNotice:
    no, case_id, unit_id, stage, issued, deadline, amount, charges, purpose = row
    return StoredNotice(str(no), int(str(case_id)), str(unit_id), int(str(stage)), date.fromisoformat(str(issued)),
                        _day(str(deadline)) if deadline else None, int(str(amount)),
                        tuple(json.loads(str(charges))), Purpose(str(purpose)))


def open_cases(db: sqlite3.Connection) -> dict[str, Case]:
    """Each unit's open case (at most one) with the notices issued in it."""
    by_case: dict[int, list[IssuedNotice]] = {}
    day = cache(date.fromisoformat)  # a few hundred distinct days over 100,000 notices
    purposes = {purpose.value: purpose for purpose in Purpose}  # Purpose(text) costs a microsecond or two
    for no, case_id, stage, issued, deadline, purpose, delivered in db.execute(
        "SELECT n.notice_no, n.case_id, n.stage, n.issued_on, n.deadline, n.purpose,"
        " (SELECT min(delivered_on) FROM deliveries AS d WHERE d.notice_no = n.notice_no)"
        " FROM notices AS n WHERE n.case_id NOT IN (SELECT case_id FROM case_closings)"
        " ORDER BY n.issued_on, n.notice_no"
    ):
        by_case.setdefault(case_id, []).append(IssuedNotice(
            no, stage, day(issued), day(deadline) if deadline else None, purposes[purpose],
            day(delivered) if delivered else None))
    return {unit_id: Case(case_id, day(opened), tuple(by_case.get(case_id, ()))) for case_id, unit_id, opened in
            db.execute("SELECT id, unit_id, opened_on FROM cases WHERE id NOT IN (SELECT case_id FROM case_closings)")}


def stored_notices(
    db: sqlite3.Connection, *, open_only: bool = False, unit_id: str | None = None
) -> list[StoredNotice]:
    sql = f"SELECT {_NOTICE_COLUMNS} FROM notices WHERE 1"
    params: list[object] = []
    if open_only:
        sql += " AND case_id NOT IN (SELECT case_id FROM case_closings)"
    if unit_id is not None:
        sql += " AND unit_id = ?"
        params.append(unit_id)
    return [_notice(row) for row in db.execute(sql + " ORDER BY issued_on, notice_no", params)]


def notice(db: sqlite3.Connection, notice_no: str) -> StoredNotice | None:
    row = db.execute(f"SELECT {_NOTICE_COLUMNS} FROM notices WHERE notice_no = ?", (notice_no,)).fetchone()
    return _notice(row) if row else None


def deliveries(db: sqlite3.Connection) -> dict[str, list[tuple[date, tuple[int, ...]]]]:
    """Unit → (delivered on, charge ids the delivered notice demanded), for the limitation clock."""
    found: dict[str, list[tuple[date, tuple[int, ...]]]] = {}
    for unit_id, delivered, charges in db.execute(
        "SELECT n.unit_id, d.delivered_on, n.charge_ids FROM deliveries d JOIN notices n USING (notice_no)"
    ):
        found.setdefault(unit_id, []).append((date.fromisoformat(delivered), tuple(json.loads(charges))))
    return found


def latest_collection_day(db: sqlite3.Connection) -> date | None:
    """The day of the last recorded step of any case: a notice issued, a case opened or closed."""
    row = db.execute("SELECT max(day) FROM (SELECT max(issued_on) AS day FROM notices"
                     " UNION ALL SELECT max(opened_on) FROM cases UNION ALL SELECT max(closed_on) FROM case_closings)"
                     ).fetchone()
    return date.fromisoformat(row[0]) if row and row[0] else None


def insert_case(db: sqlite3.Connection, run_id: int, unit_id: str, opened_on: date) -> int:
    cursor = db.execute("INSERT INTO cases (unit_id, opened_on, run_id) VALUES (?, ?, ?)",
                        (unit_id, opened_on.isoformat(), run_id))
    return int(cursor.lastrowid or 0)


def close_case(db: sqlite3.Connection, run_id: int, case_id: int, closed_on: date) -> None:
    db.execute("INSERT INTO case_closings (case_id, closed_on, run_id) VALUES (?, ?, ?)",
               (case_id, closed_on.isoformat(), run_id))


def next_notice_no(db: sqlite3.Connection, year: int, recorded: str | None = None) -> str:
    """CJ<year>-<six digits>, numbered on within the year, after the highest ever issued.

    ``recorded``: the highest number the audit chain recorded (see
    ``audit.highest_recorded_notice_no``), so a number whose row was deleted is
    never issued again; read once per issuing run, its notices are in the table.
    """
    prefix = f"CJ{year}-"
    last = db.execute("SELECT max(notice_no) FROM notices WHERE notice_no LIKE ?", (prefix + "%",)).fetchone()[0]
    numbers = [int(text.removeprefix(prefix)) for text in (last, recorded)
               if text and text.startswith(prefix) and text.removeprefix(prefix).isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:06d}"


def insert_notice(db: sqlite3.Connection, run_id: int, stored: StoredNotice, segment: str,
                  approved_by: str | None, recorded_on: date | None = None) -> None:
    """``recorded_on``: the real day (default today), beside ``issued_on``, the as-of date."""
    db.execute(
        "INSERT INTO notices (notice_no, case_id, unit_id, stage, segment, issued_on, deadline, amount_fen,"
        " charge_ids, approved_by, purpose, run_id, recorded_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (stored.notice_no, stored.case_id, stored.unit_id, stored.stage, segment, stored.issued_on.isoformat(),
         stored.deadline.isoformat() if stored.deadline else None, stored.amount_fen,
         json.dumps(list(stored.charge_ids)), approved_by, stored.purpose.value, run_id,
         (recorded_on or date.today()).isoformat()),
    )


def insert_delivery(db: sqlite3.Connection, run_id: int, notice_no: str, on: date, method: str, signer: str,
                    relation: str, evidence: str) -> int:
    cursor = db.execute(
        "INSERT INTO deliveries (notice_no, delivered_on, method, signer, relation, evidence, run_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (notice_no, on.isoformat(), method, signer or None, relation or None, evidence or None, run_id),
    )
    return int(cursor.lastrowid or 0)
