"""The audit trail: runs and hash-chained events.

Each event's hash covers its own canonical JSON and the previous event's
hash, so changing or removing any event breaks every link after it;
:func:`verify` recomputes the chain and names the first broken link. SQLite
triggers (see migrations) refuse UPDATE and DELETE on the audit tables.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cuijiao import __version__
from cuijiao.fileio import process_alive
from cuijiao.money import format_yuan
from cuijiao.store import seal
from cuijiao.store.db import transaction

# A run's outcome as a clerk reads it (the log, audit log); the runs table and --json keep the keys.
RUN_OUTCOMES = {"ok": "完成", "warnings": "完成（有警告）", "error": "出错", "bad_input": "输入有误，未做改动",
                "interrupted": "被中断"}
# A failed monthly run that had already imported inbox files: "未做改动" would not be true.
RUN_FAILED_AFTER_IMPORT = {"error": "出错", "bad_input": "输入有误"}


def run_failure_words(outcome: str, counts: dict[str, Any]) -> str:
    """A run's outcome in words, true of a ``cuijiao run`` that failed after its imports were committed."""
    inbox = counts.get("inbox")
    imported = inbox.get("imported", 0) if isinstance(inbox, dict) else 0
    if outcome in RUN_FAILED_AFTER_IMPORT and imported:
        return f"{RUN_FAILED_AFTER_IMPORT[outcome]}；已导入的 {imported} 个文件保留，其后的步骤未执行"
    return RUN_OUTCOMES.get(outcome, outcome)
# The ledger tables as a clerk names their files.
TABLE_LABELS = {"units": "房屋业主", "charges": "应收", "payments": "实收"}

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def now_text() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return "unknown"


def event_hash(prev_hash: str, record: dict[str, Any]) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical_json(record)}".encode()).hexdigest()


def _record(event_id: int, run_id: int | None, at: str, kind: str, unit_id: str | None,
            payload: str) -> dict[str, Any]:
    return {"id": event_id, "run_id": run_id, "at": at, "kind": kind, "unit_id": unit_id,
            "payload": payload}


_INSERT_EVENT = ("INSERT INTO events (id, run_id, at, kind, unit_id, payload, prev_hash, hash)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def append_event(db: sqlite3.Connection, run_id: int | None, kind: str,
                 payload: dict[str, Any], unit_id: str | None = None) -> int:
    """Append one event to the chain. Call inside a write transaction."""
    with appended_events(db) as events:
        return events.append(run_id, kind, payload, unit_id)


class Events:
    """Events chained here one after another and inserted together (``appended_events``): a batch's thousands
    of notices cost one read of the chain's head and one ``executemany``, not a statement pair each."""

    BATCH = 1_000  # events held before they are inserted: a month's 80,000 issuing events held were 30 MB

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        last = db.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
        self.next_id: int = int(last[0]) + 1 if last else 1
        self.prev_hash: str = str(last[1]) if last else GENESIS
        self.rows: list[tuple[Any, ...]] = []
        self._second, self._at = -1, ""

    def append(self, run_id: int | None, kind: str, payload: dict[str, Any], unit_id: str | None = None) -> int:
        event_id, at, body = self.next_id, self._now(), canonical_json(payload)
        digest = event_hash(self.prev_hash, _record(event_id, run_id, at, kind, unit_id, body))
        self.rows.append((event_id, run_id, at, kind, unit_id, body, self.prev_hash, digest))
        self.next_id, self.prev_hash = event_id + 1, digest
        if len(self.rows) >= self.BATCH:
            self.insert()
        return event_id

    def insert(self) -> None:
        """Insert the events chained so far (the block's end does too)."""
        if self.rows:
            self._db.executemany(_INSERT_EVENT, self.rows)
            self.rows.clear()

    def _now(self) -> str:
        """now_text(), worked out again only when the second changes (a time zone lookup each time is not free)."""
        second = int(time.time())
        if second != self._second:
            self._second, self._at = second, now_text()
        return self._at


@contextmanager
def appended_events(db: sqlite3.Connection) -> Iterator[Events]:
    """Chain events in the block and insert them a thousand at a time and at its end, inside the caller's
    write transaction.

    Nothing else may append to the chain in the block: the events are chained from the head read at its
    start. On an exception the rest is not inserted, and the caller's transaction rolls back the thousands
    inserted before, with whatever else the block wrote.
    """
    events = Events(db)
    yield events
    events.insert()


@dataclass
class Run:
    """One command invocation; ``counts`` is filled in by the work it does."""

    id: int
    command: str
    counts: dict[str, Any]
    outcome: str = "ok"


def chain_head(db: sqlite3.Connection) -> tuple[int, str]:
    """(number of events, hash of the newest): print it where it is kept apart from the database.

    ``audit verify --head N:HASH`` checks the chain against a printed head, so
    removing the newest events (which leaves a shorter, valid chain) is detected.
    """
    last = db.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
    return (int(last[0]), str(last[1])) if last else (0, GENESIS)


def format_head(head: tuple[int, str]) -> str:
    return f"{head[0]}:{head[1]}"


def start_run(db: sqlite3.Connection, command: str, arguments: list[str]) -> Run:
    with transaction(db):
        noticed = close_interrupted_runs(db)
        cursor = db.execute(
            "INSERT INTO runs (command, arguments, os_user, version, started_at, pid, host)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (command, canonical_json(arguments), os_user(), __version__, now_text(), os.getpid(),
             socket.gethostname()),
        )
        run_id = int(cursor.lastrowid or 0)
        for stale in noticed:
            append_event(db, run_id, "run.interrupted", {"run_id": stale})
        touched = seal.outside_changes(db)
        if touched:
            append_event(db, run_id, "ledger.outside_change", {"touched": touched})
        append_event(db, run_id, "run.start", {"command": command, "arguments": arguments,
                                               "os_user": os_user(), "version": __version__})
    return Run(run_id, command, {})


def record_read_run(db: sqlite3.Connection, command: str, arguments: list[str], started_at: str,
                    run: Run) -> None:
    """Record, after the fact, a read-only command's run: its start and its end in one write.

    A command that only reads gives its answer first (from the database as
    committed, whatever another command is writing) and only then takes the
    write lock for these few rows, so an import never keeps a clerk from a report.
    """
    with transaction(db, message=_RECORD_WAIT):
        noticed = close_interrupted_runs(db)
        cursor = db.execute(
            "INSERT INTO runs (command, arguments, os_user, version, started_at, pid, host, finished_at,"
            " outcome, counts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (command, canonical_json(arguments), os_user(), __version__, started_at, os.getpid(),
             socket.gethostname(), now_text(), run.outcome, canonical_json(run.counts)),
        )
        run.id = int(cursor.lastrowid or 0)
        for stale in noticed:
            append_event(db, run.id, "run.interrupted", {"run_id": stale})
        touched = seal.outside_changes(db)
        if touched:
            append_event(db, run.id, "ledger.outside_change", {"touched": touched})
        append_event(db, run.id, "run.start", {"command": command, "arguments": arguments,
                                               "os_user": os_user(), "version": __version__})
        append_event(db, run.id, "run.end", {"outcome": run.outcome, "counts": run.counts})


_RECORD_WAIT = "（结果已在上方给出）正在等待另一个 cuijiao 命令完成，以便把本次查询记入审计记录…"


def close_interrupted_runs(db: sqlite3.Connection) -> list[int]:
    """Close, as interrupted, the open runs whose process on this machine is gone (killed, power cut).

    A run whose process still lives (a command running beside this one), or that
    another machine started, stays open. Call inside a write transaction.
    """
    here, closed = socket.gethostname(), []
    for run_id, pid, host in db.execute(
        "SELECT id, pid, host FROM runs WHERE finished_at IS NULL ORDER BY id"
    ).fetchall():
        if pid is not None and (host != here or process_alive(int(pid))):
            continue
        db.execute("UPDATE runs SET finished_at = ?, outcome = 'interrupted' WHERE id = ?", (now_text(), run_id))
        closed.append(int(run_id))
    return closed


def seal_ledger(db: sqlite3.Connection, run_id: int, import_ids: Iterable[int],
                started: seal.Started | None = None) -> None:
    """Append the seal of the ledger rows these imports wrote (and of the imports they touched).

    Call inside the import's transaction, after its writes (see store/seal.py).
    """
    append_event(db, run_id, "ledger.seal", {"imports": seal.seal(db, import_ids, started)})


def finish_run(db: sqlite3.Connection, run: Run, *, wait: bool = True) -> None:
    with transaction(db, wait=wait):
        db.execute(
            "UPDATE runs SET finished_at = ?, outcome = ?, counts = ? WHERE id = ?",
            (now_text(), run.outcome, canonical_json(run.counts), run.id),
        )
        append_event(db, run.id, "run.end", {"outcome": run.outcome, "counts": run.counts})


@contextmanager
def recorded(db: sqlite3.Connection, command: str, arguments: list[str]) -> Iterator[Run]:
    """A run around library work: closed as ok, or as error when the work raises."""
    run = start_run(db, command, arguments)
    try:
        yield run
    except BaseException:
        run.outcome = "error"
        finish_run(db, run)
        raise
    finish_run(db, run)


@dataclass(frozen=True)
class Event:
    id: int
    run_id: int | None
    at: str
    kind: str
    unit_id: str | None
    payload: dict[str, Any]


def events(db: sqlite3.Connection, *, unit_id: str | None = None,
           limit: int | None = None) -> list[Event]:
    """Events newest first, optionally about one unit."""
    sql = "SELECT id, run_id, at, kind, unit_id, payload FROM events"
    params: list[Any] = []
    if unit_id is not None:
        sql += " WHERE unit_id = ?"
        params.append(unit_id)
    sql += " ORDER BY id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [Event(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in db.execute(sql, params)]


@dataclass(frozen=True)
class Verification:
    checked: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(db: sqlite3.Connection) -> Verification:
    """Recompute the chain from the first event; stop at the first broken link."""
    expected_prev, expected_id, checked = GENESIS, 1, 0
    for row in _all_events(db):
        event_id, run_id, at, kind, unit_id, payload, prev_hash, digest = row
        if event_id != expected_id:
            return Verification(checked, expected_id, f"事件 #{expected_id} 缺失（被删除）")
        if prev_hash != expected_prev:
            return Verification(checked, event_id, f"事件 #{event_id} 与前一事件的链接不符")
        record = _record(event_id, run_id, at, kind, unit_id, payload)
        if event_hash(prev_hash, record) != digest:
            return Verification(checked, event_id, f"事件 #{event_id} 的内容与其哈希不符（被改动）")
        expected_prev, expected_id, checked = digest, expected_id + 1, checked + 1
    return Verification(checked)


def _all_events(db: sqlite3.Connection) -> Iterator[tuple[Any, ...]]:
    yield from db.execute(
        "SELECT id, run_id, at, kind, unit_id, payload, prev_hash, hash FROM events ORDER BY id"
    )


@dataclass(frozen=True)
class LedgerCheck:
    imports_checked: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_ledger(db: sqlite3.Connection) -> LedgerCheck:
    """The ledger against its seals, and every change the trail says was made outside cuijiao."""
    problems = []
    seals = []
    for event_id, kind, payload in db.execute(
        "SELECT id, kind, payload FROM events WHERE kind IN ('ledger.seal', 'ledger.outside_change') ORDER BY id"
    ):
        body = json.loads(payload)
        if kind == "ledger.seal":
            seals.append(body["imports"])
        else:
            places = "、".join(f"{TABLE_LABELS.get(table, table)} 导入 #{import_id}"
                               for table, import_id in body["touched"])
            problems.append(f"事件 #{event_id}：发现台账在 cuijiao 之外被改动或删除（{places}）")
    checked, mismatches = seal.check(db, iter(seals))
    return LedgerCheck(checked, problems + [m.message() for m in mismatches])


def check_head(db: sqlite3.Connection, text: str) -> str | None:
    """None when the chain holds the head ``N:HASH`` (printed earlier); else what is wrong, in Chinese."""
    number, _, expected = text.strip().partition(":")
    if not number.isdigit() or len(expected) != 64:
        raise ValueError(f"链头应写成 事件数:哈希，如 1234:{'0' * 8}…（64 位），不是 {text}")
    count = int(number)
    if count == 0:
        return None
    row = db.execute("SELECT hash FROM events WHERE id = ?", (count,)).fetchone()
    if row is None:
        have = chain_head(db)[0]
        return f"审计链只有 {have} 个事件，少于记下的链头 {count}：最新的事件被删除（截断）"
    if row[0] != expected.lower():
        return f"事件 #{count} 的哈希与记下的链头不符：此前的审计记录被改写"
    return None


# The state tables whose rows the chain records, one event per row: the event
# kind, the key the payload names the row by, and the fields compared.
def _notice_fields(row: tuple[Any, ...]) -> dict[str, Any]:
    unit_id, case_id, stage, purpose, segment, amount_fen, charge_ids, deadline, approved_by = row
    return {"unit_id": unit_id, "case_id": case_id, "stage": stage, "purpose": purpose, "segment": segment,
            "amount": format_yuan(int(amount_fen)), "charge_ids": json.loads(charge_ids), "deadline": deadline,
            "approved_by": approved_by}


def _state_checks() -> list[tuple[str, str, str, str, Any]]:
    """(table, event kinds LIKE, payload key, SELECT key + fields, fields of a row)."""
    return [
        ("notices", "notice.issue", "notice_no",
         "SELECT notice_no, unit_id, case_id, stage, purpose, segment, amount_fen, charge_ids, deadline,"
         " approved_by FROM notices", _notice_fields),
        ("cases", "case.open", "case_id", "SELECT id, unit_id, opened_on FROM cases",
         lambda r: {"unit_id": r[0], "opened_on": r[1]}),
        ("case_closings", "case.close", "case_id", "SELECT case_id, closed_on FROM case_closings",
         lambda r: {"closed_on": r[0]}),
        ("deliveries", "notice.delivered", "delivery_id",
         "SELECT id, notice_no, delivered_on, method, signer, relation, evidence FROM deliveries",
         lambda r: {"notice_no": r[0], "on": r[1], "method": r[2], "signer": r[3] or "",
                    "relation": r[4] or "", "evidence": r[5] or ""}),
        ("outcomes", "outcome.%", "outcome_id",
         "SELECT id, unit_id, kind, on_date, until_date, amount_fen FROM outcomes",
         lambda r: {"unit_id": r[0], "kind": r[1], "on": r[2], "until": r[3],
                    "amount": format_yuan(int(r[4])) if r[4] is not None else None}),
    ]


def _event_fields(kind: str, unit_id: str | None, payload: dict[str, Any], wanted: Iterable[str]) -> dict[str, Any]:
    found = {**payload, "unit_id": unit_id, "kind": kind.removeprefix("outcome.")}
    return {name: found.get(name) for name in wanted}


def verify_state(db: sqlite3.Connection, tables: Iterable[str] | None = None) -> list[str]:
    """The state tables against the events that recorded each row, set-wise, one pass each.

    A row with no event (inserted outside cuijiao), an event with no row (the row
    deleted, e.g. after dropping the triggers), and a row whose fields differ from
    its event (altered) are each named by table and id, in Chinese. ``tables``:
    only these (default all).
    """
    problems: list[str] = []
    for table, kind, key, select, fields in _state_checks():
        if tables is not None and table not in tables:
            continue
        rows = {row[0]: fields(row[1:]) for row in db.execute(select)}
        recorded: dict[Any, tuple[int, dict[str, Any]]] = {}
        for event_id, event_kind, unit_id, payload in db.execute(
            "SELECT id, kind, unit_id, payload FROM events WHERE kind LIKE ? ORDER BY id", (kind,)
        ):
            body = json.loads(payload)
            if key in body and body[key] not in recorded:
                recorded[body[key]] = (int(event_id), {**body, "kind": event_kind, "unit_id": unit_id})
        for row_key in sorted(rows.keys() - recorded.keys(), key=str):
            problems.append(f"{table} 表 {row_key}：审计链中没有记录它的事件（在 cuijiao 之外插入）")
        for row_key in sorted(recorded.keys() - rows.keys(), key=str):
            problems.append(f"{table} 表 {row_key}：审计链事件 #{recorded[row_key][0]} 记录了它，"
                            "但表中已没有这一行（在 cuijiao 之外被删除）")
        for row_key in sorted(rows.keys() & recorded.keys(), key=str):
            event_id, body = recorded[row_key]
            have = rows[row_key]
            said = _event_fields(body["kind"], body["unit_id"], body, have)
            differ = [name for name in have if have[name] != said[name]]
            if differ:
                problems.append(f"{table} 表 {row_key}：{'、'.join(differ)} 与审计链事件 #{event_id} 的记录不符"
                                "（在 cuijiao 之外被改动）")
    return problems


def highest_recorded_notice_no(db: sqlite3.Connection, prefix: str) -> str | None:
    """The highest notice number the chain ever recorded with this prefix (its row may be gone)."""
    row = db.execute(
        "SELECT max(json_extract(payload, '$.notice_no')) FROM events"
        " WHERE kind = 'notice.issue' AND json_extract(payload, '$.notice_no') LIKE ?", (prefix + "%",)
    ).fetchone()
    return str(row[0]) if row and row[0] else None
