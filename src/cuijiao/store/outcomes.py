"""Store and read recorded outcomes (append-only)."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

from cuijiao.outcomes import Kind, Outcome
from cuijiao.store.audit import canonical_json, now_text

_COLUMNS = "id, unit_id, kind, on_date, until_date, amount_fen, detail"


def insert_outcome(db: sqlite3.Connection, run_id: int, outcome: Outcome) -> int:
    """Write ``outcome`` (its id is assigned here); call inside a write transaction."""
    cursor = db.execute(
        "INSERT INTO outcomes (run_id, unit_id, kind, on_date, until_date, amount_fen, detail, recorded_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (run_id, outcome.unit_id, outcome.kind.value, outcome.on.isoformat(),
         outcome.until.isoformat() if outcome.until else None, outcome.amount_fen,
         canonical_json(outcome.detail), now_text()),
    )
    return int(cursor.lastrowid or 0)


def _outcome(row: tuple[object, ...]) -> Outcome:
    outcome_id, unit_id, kind, on, until, amount, detail = row
    return Outcome(int(str(outcome_id)), str(unit_id), Kind(str(kind)), date.fromisoformat(str(on)),
                   date.fromisoformat(str(until)) if until else None,
                   int(str(amount)) if amount is not None else None, json.loads(str(detail)))


def unit_outcomes(db: sqlite3.Connection, unit_id: str) -> list[Outcome]:
    rows = db.execute(f"SELECT {_COLUMNS} FROM outcomes WHERE unit_id = ? ORDER BY on_date, id", (unit_id,))
    return [_outcome(row) for row in rows]


def outcomes_by_unit(db: sqlite3.Connection) -> dict[str, list[Outcome]]:
    """Every unit's outcomes; units with none are absent (outcomes are few beside the ledger)."""
    grouped: dict[str, list[Outcome]] = {}
    for row in db.execute(f"SELECT {_COLUMNS} FROM outcomes ORDER BY unit_id, on_date, id"):
        outcome = _outcome(row)
        grouped.setdefault(outcome.unit_id, []).append(outcome)
    return grouped
