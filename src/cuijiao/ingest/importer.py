"""Import ledger files into the workspace: all or nothing, idempotent, audited.

One call imports any number of files of one kind inside one transaction.
Strict by default: any problem in any file and nothing is imported. With
``skip_invalid`` the good rows go in and the bad ones, with their reasons, are
written to ``<file>.rejected.csv``. Importing the same rows again changes
nothing; the same identity with different content is a conflict, applied
only with ``replace`` and then audited with before and after.

A charges CSV is read in columns (charge_columns.py: pandas' C tokenizer, cells
checked a distinct value at a time, doubtful rows through the row-by-row path);
into an empty table its rows go straight in with foreign keys off (checked once
after) and their seal is hashed from the columns (column_load.py). The answers —
rows stored, counts, every problem at its file:row:column — are the row-by-row
path's (tests/test_fast_import.py).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cuijiao.errors import BadInput, InputProblems, Problem
from cuijiao.ingest.cells import Limits
from cuijiao.ingest.charge_columns import ChargeColumns, read_charge_columns
from cuijiao.ingest.column_load import SealThread, insert_columns, load_in_bulk
from cuijiao.ingest.fields import FIELDS, SCHEMAS
from cuijiao.ingest.readers import Source, open_source
from cuijiao.ingest.records import ChargeParser, PaymentParser, RowParser, parse_units
from cuijiao.ingest.rejected import write_rejected
from cuijiao.ingest.report import FileReport, ImportResult
from cuijiao.ingest.table import cover_sheet_hint, locate_header
from cuijiao.money import format_yuan
from cuijiao.payment_checks import payment_warnings
from cuijiao.store import bulk, ledger, seal
from cuijiao.store.audit import Run, append_event, now_text, seal_ledger
from cuijiao.store.db import begin_immediate
from cuijiao.workspace import Workspace

KINDS = tuple(SCHEMAS)


@dataclass(frozen=True)
class ImportOptions:
    sheet: str | None = None
    encoding: str | None = None
    dry_run: bool = False
    skip_invalid: bool = False
    replace: bool = False


def import_files(workspace: Workspace, run: Run, kind: str, paths: list[Path],
                 options: ImportOptions) -> ImportResult:
    """Import ``paths`` as ``kind`` (units, charges or payments)."""
    if kind not in SCHEMAS:
        raise BadInput(f"未知的导入类型 {kind}（可用：{'、'.join(KINDS)}）")
    importer = _Importer(workspace, run, kind, paths, options)
    # Reading, decoding and parsing the files takes no lock: other commands
    # read and write meanwhile. The write lock covers only the merge below.
    importer.read()
    # Into an empty table, rows go in without a foreign-key probe each, checked once after.
    bulk_expected = kind != "units" and bulk.is_empty(workspace.db, importer.table)
    try:
        _write(importer, foreign_keys=not bulk_expected)
    except _TableFilled:  # another import filled it meanwhile: merge as into any table
        _write(importer, foreign_keys=True)
    if not options.dry_run:
        importer.write_rejected_files()
    run.counts[f"import_{kind}"] = importer.result.totals()
    return importer.result


class _TableFilled(Exception):
    pass


def _write(importer: _Importer, *, foreign_keys: bool) -> None:
    """The merge, in one write transaction; rolled back on a dry run or any problem."""
    db, options = importer.db, importer.options
    with bulk.foreign_keys(db, on=foreign_keys):
        begin_immediate(db)
        # Rows point at their imports row, which is written last with its counts.
        db.execute("PRAGMA defer_foreign_keys = ON")
        try:
            importer.execute(foreign_keys=foreign_keys)
            if not options.dry_run:  # the ledger rows these imports wrote, into the audit chain
                seal_ledger(db, importer.run.id, range(importer.first_import_id,
                                                       importer.first_import_id + len(importer.reports)),
                            started=importer.started_seal())
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("ROLLBACK" if options.dry_run else "COMMIT")


class _Importer:
    def __init__(self, workspace: Workspace, run: Run, kind: str, paths: list[Path],
                 options: ImportOptions) -> None:
        self.workspace, self.db, self.run = workspace, workspace.db, run
        self.kind, self.schema, self.options = kind, SCHEMAS[kind], options
        self.result = ImportResult(kind, [FileReport(path) for path in paths], options.dry_run)
        self.problems: list[Problem] = []
        # Strict mode: problems found by one check are kept here while the later
        # checks run, so the clerk sees every problem of the import at once.
        self.deferred: list[Problem] = []
        self.first_import_id = 0  # known once the write lock is held: see execute()
        self._units: list[tuple[Any, ...]] = []
        # Optional unit columns a file lacks keep their stored values, so a
        # file without 标签 never wipes the tags another file set.
        self._absent: dict[int, set[int]] = {}
        self._bulk: Counter[int] | None = None  # rows bulk-loaded per file, when the table was empty
        self._rebuild: list[str] = []
        self._columns: dict[int, ChargeColumns] = {}  # charges read in columns, per file
        self._seal: SealThread | None = None
        self._started: seal.Started | None = None  # the seal begun from columns
        self._known: set[str] | None = None
        self._read_known: set[str] | None = None  # the units the rows were checked against

    @property
    def reports(self) -> list[FileReport]:
        return self.result.files

    @property
    def table(self) -> ledger.LedgerTable:
        return ledger.CHARGES if self.kind == "charges" else ledger.PAYMENTS

    def read(self) -> None:
        """Read, decode, parse and check every file into memory (columns, or a TEMP
        staging table); writes nothing to the workspace, so it needs no write lock."""
        self.problems, self._units, self._absent, self._known, self._columns = [], [], {}, None, {}
        for report in self.reports:
            report.rows_read = report.blank_rows = 0
            report.totals_rows, report.footer_rows = [], []
        if self.kind != "units":
            ledger.create_staging(self.db, self.table)
        for src, report in enumerate(self.reports):
            self._read_file(src, report)
        self._read_known = self._known

    def execute(self, *, foreign_keys: bool = True) -> None:
        """The merge, inside the write transaction: checks against the stored rows are made here.

        With ``foreign_keys`` off, only into an empty table (else :class:`_TableFilled`).
        """
        self.first_import_id = ledger.next_import_id(self.db)
        self._bulk, self._seal, self._started = None, None, None
        if self._read_known is not None and ledger.known_unit_ids(self.db) != self._read_known:
            self.read()  # units were imported meanwhile: check the rows against the units stored now
        if self.kind != "units" and bulk.is_empty(self.db, self.table):
            # Into an empty table nothing can conflict: load straight in and
            # rebuild the identity indexes after, which also finds duplicates.
            self._rebuild = bulk.drop_bulk_indexes(self.db, self.table)
            self._bulk = self._load()
        elif not foreign_keys:
            raise _TableFilled
        if self.kind == "units":
            self._merge_units()
        else:
            self._merge_ledger()
        if self.deferred:
            raise InputProblems(sorted(dict.fromkeys(self.deferred), key=_problem_order))
        if self.kind == "payments":
            self._check_payments()
        for src, report in enumerate(self.reports):
            self._record_import(src, report)

    # --- reading ------------------------------------------------------------

    def started_seal(self) -> seal.Started | None:
        """The seal of the rows bulk-loaded from columns, hashed meanwhile on a thread."""
        return self._started

    def _read_file(self, src: int, report: FileReport) -> None:
        path = report.path
        report.name = path.name
        synonyms = self.workspace.settings.header_synonyms
        try:
            source = open_source(path, sheet=self.options.sheet, encoding=self.options.encoding)
            try:
                table = locate_header(source, self.schema, synonyms)
            except BadInput as exc:
                if source.sheet is None or self.options.sheet is not None:
                    raise
                raise BadInput(cover_sheet_hint(path, source.sheet, self.schema, synonyms) or str(exc)) from None
        except BadInput as exc:
            self.problems.append(Problem(path.name, 0, "", str(exc)))
            return
        report.name, report.encoding, report.sheet = table.name, source.encoding, source.sheet
        parser = RowParser(table, src, Limits(*self.workspace.settings.cell_limits))
        self._absent[src] = {i for i, name in enumerate(ledger.UNIT_COLUMNS) if name in
                             self.schema.optional and name not in table.columns}
        with ThreadPoolExecutor(1) as pool:  # reading and hashing let go of the GIL: hashed while parsed
            digest = pool.submit(_file_digest, path)
            try:
                self._parse_rows(parser, source)
            except BadInput as exc:  # the file broke off part way: a bad zip member, a runaway cell
                self.problems.append(Problem(table.name, 0, "", str(exc)))
            report.sha256, report.size_bytes = digest.result()
        report.rows_read = parser.stats.data_rows
        report.blank_rows = parser.stats.blank_rows
        report.totals_rows = parser.stats.total_rows
        report.footer_rows = parser.stats.footer_rows
        if report.rows_read == 0 and not parser.problems:
            self.problems.append(Problem(table.name, table.header_row, "", "只有表头，没有数据行"))
        self.problems.extend(parser.problems)

    def _parse_rows(self, parser: RowParser, source: Source) -> None:
        if self.kind == "units":
            self._units.extend(parse_units(parser))
            return
        known = self._known_units()
        if self.kind == "charges":
            charges = ChargeParser(parser, known, self.workspace.settings.deposit_items)
            reader = read_charge_columns(charges, self.reports[parser.src].path, source)
            if reader is not None and reader.columns is not None:
                self._columns[parser.src] = reader.columns
                ledger.stage(self.db, self.table, reader.adjustments)
                return
            records = charges.records()
        else:
            records = PaymentParser(parser, known).records()
        ledger.stage(self.db, self.table, records)

    def _known_units(self) -> set[str]:
        """The stored unit ids, read once per import however many files it has."""
        if self._known is None:
            self._known = ledger.known_unit_ids(self.db)
        return self._known

    # --- checking -------------------------------------------------------------

    def _fail_or_reject(self, found: list[Problem]) -> None:
        """Strict: every problem listed, nothing imported — a file that cannot be read too, after the
        other files' checks (adjustments, conflicts) have run. Else: reject those rows; a file that
        cannot be read has no row to reject, so the import stops at once."""
        if not self.options.skip_invalid:
            self.deferred.extend(found)
            return
        if any(p.row == 0 for p in found):
            raise InputProblems(sorted(dict.fromkeys([*self.deferred, *found]), key=_problem_order))
        by_name = {report.name: report for report in self.reports}
        for problem in found:
            by_name[problem.file].rejected.append(problem)

    @property
    def _names(self) -> list[str]:
        return [report.name for report in self.reports]

    def _staged_problem(self, src: int, line: int, column: str, message: str) -> Problem:
        return Problem(self.reports[src].name, line, column, message)

    # --- merging: units -----------------------------------------------------

    def _merge_units(self) -> None:
        seen: dict[str, tuple[int, int]] = {}
        fresh: list[tuple[Any, ...]] = []
        for record in self._units:
            src, line, unit_id = record[0], record[1], record[2]
            if unit_id in seen:
                first_src, first_line = seen[unit_id]
                other = "" if first_src == src else f"{self.reports[first_src].name} "
                where = f"{other}第 {first_line} 行"
                self.problems.append(self._staged_problem(src, line, "", f"房号“{unit_id}”与{where}重复"))
                continue
            seen[unit_id] = (src, line)
            fresh.append(record)
        self._fail_or_reject(self.problems)
        stored = ledger.stored_units(self.db)
        inserts = []
        for src, line, unit_id, *values in fresh:
            report, import_id = self.reports[src], self.first_import_id + src
            before = stored.get(unit_id)
            if before is None:
                inserts.append((unit_id, *values, import_id, line))
                report.inserted += 1
                continue
            merged = tuple(before[i] if i in self._absent[src] else v for i, v in enumerate(values))
            if before == merged:
                report.unchanged += 1
            else:
                self._update_unit(report, unit_id, before, merged, import_id, line)
        ledger.insert_units(self.db, inserts)

    def _update_unit(self, report: FileReport, unit_id: str, before: tuple[Any, ...],
                     after: tuple[Any, ...], import_id: int, line: int) -> None:
        ledger.update_unit(self.db, unit_id, after, import_id, line)
        report.replaced += 1
        old, new = ledger.unit_dict(before), ledger.unit_dict(after)
        changed = {k: {"before": old[k], "after": new[k]} for k in old if old[k] != new[k]}
        append_event(self.db, self.run.id, "unit.update",
                     {"file": report.name, "row": line, "changes": changed}, unit_id=unit_id)

    # --- merging: charges and payments ----------------------------------------

    def _load(self) -> Counter[int]:
        """Bulk-load every file's rows; returns the rows each loaded. Rows read in columns
        have their seal hashed on a thread meanwhile, rather than read back."""
        first_id = bulk.first_free_id(self.db, self.table)
        loaded = load_in_bulk(self.db, self.table, self.first_import_id, len(self.reports), self._columns)
        every_file = self._columns and len(self._columns) == len(self.reports)
        refused = self.options.dry_run or (self.problems and not self.options.skip_invalid)
        if every_file and not refused and bulk.first_free_id(self.db, self.table) == first_id + sum(
                len(columns) for columns in self._columns.values()):  # ids as the seal will read them back
            self._seal = SealThread(self._columns, first_id, self.first_import_id)
        return loaded

    def _merge_ledger(self) -> None:
        table = self.table
        if self._bulk is not None:
            self._merge_bulk(table, self._bulk)
            return
        for src, columns in self._columns.items():
            insert_columns(self.db, columns, src=src)
        ledger.index_staging(self.db, table)
        found = list(self.problems)
        found += [self._staged_problem(*p) for p in ledger.duplicate_problems(self.db, table, self._names)]
        conflicts = ledger.conflicts(self.db, table)
        if not self.options.replace:
            found += [self._staged_problem(c.src, c.line, "", c.message(table)) for c in conflicts]
            conflicts = []
        self._fail_or_reject(found)
        ledger.drop_staged(self.db, table, {(self._src_of(p), p.row) for p in found})
        for src, count in ledger.unchanged_counts(self.db, table).items():
            self.reports[src].unchanged = count
        for src, report in enumerate(self.reports):
            report.inserted = ledger.insert_new(self.db, table, src, self.first_import_id + src,
                                                where="s.kind != 'adjustment'" if table is ledger.CHARGES else "1")
        for conflict in conflicts:
            self._replace(table, conflict)
        if table is ledger.CHARGES:
            self._merge_adjustments()

    def _merge_bulk(self, table: ledger.LedgerTable, inserted: Counter[int]) -> None:
        found = list(self.problems)
        # With the seal hashing on the other core, a helper sort thread only competes with it
        # (3.6 M charges: 2.4 s and 520 MiB at most, against 2.9 s and 650 MiB).
        threads = 0 if self._seal is not None else None
        try:
            bulk.rebuild_indexes(self.db, self._rebuild, sort_threads=threads)
        except sqlite3.IntegrityError:  # two rows of this import share an identity
            twins = bulk.stored_duplicates(self.db, table, self.first_import_id)
            found += [self._staged_problem(src, line, "", ledger.duplicate_message(table, first_src, src, first_line,
                                                                                   self._names))
                      for _id, src, line, first_src, first_line in twins]
            self._fail_or_reject(found)
            bulk.delete_rows(self.db, table, [twin[0] for twin in twins])
            inserted.subtract(twin[1] for twin in twins)
            self._seal = None  # it hashed the deleted twins: read the rows back instead
            bulk.rebuild_indexes(self.db, self._rebuild)
        else:
            self._fail_or_reject(found)
        self._check_units(table)
        # Done before the adjustments: each of their queries would wait for the GIL.
        self._started = self._seal.result() if self._seal is not None else None
        for src, count in inserted.items():
            self.reports[src].inserted = count
        if table is ledger.CHARGES:
            self._merge_adjustments()

    def _check_units(self, table: ledger.LedgerTable) -> None:
        """The foreign-key check of a load made with foreign keys off: a row whose unit is not
        stored is refused where it stands, and nothing is imported."""
        problems = [Problem(self.reports[import_id - self.first_import_id].name, line, FIELDS["unit_id"].label,
                            f"房号“{unit_id}”不在房屋资料中，请先导入房屋业主文件（cuijiao import units）")
                    for import_id, line, unit_id in bulk.rows_without_unit(self.db, table)]
        if problems:
            raise InputProblems(problems)

    def _check_payments(self) -> None:
        """Deposit receipts apart from fees; warnings on designations and future dates (the law stream's rules)."""
        ledger.mark_deposit_receipts(self.db, self.first_import_id, self.workspace.settings.deposit_items)
        for import_id, line, message in payment_warnings(self.db, self.first_import_id, date.today()):
            report = self.reports[import_id - self.first_import_id]
            report.warnings.append(Problem(report.name, line, "", message))

    def _src_of(self, problem: Problem) -> int:
        return next(i for i, report in enumerate(self.reports) if report.name == problem.file)

    def _replace(self, table: ledger.LedgerTable, conflict: ledger.Conflict) -> None:
        report = self.reports[conflict.src]
        ledger.replace(self.db, table, conflict, self.first_import_id + conflict.src)
        report.replaced += 1
        unit_id = conflict.after.get("unit_id") or self.db.execute(
            f"SELECT unit_id FROM {table.name} WHERE id = ?", (conflict.row_id,)
        ).fetchone()[0]
        append_event(self.db, self.run.id, f"{table.name}.replace",
                     {"file": report.name, "row": conflict.line, "id": conflict.row_id,
                      "before": conflict.before, "after": conflict.after}, unit_id=unit_id)

    def _merge_adjustments(self) -> None:
        """Each adjustment reduces the charge with its unit, item and period."""
        found: list[Problem] = []
        for adjustment in ledger.new_adjustments(self.db):
            target = ledger.adjustment_target(self.db, *adjustment.unit_item_period)
            problem = _adjustment_problem(adjustment, target)
            if problem:
                found.append(self._staged_problem(adjustment.src, adjustment.line, "", problem))
                continue
            assert target is not None
            ledger.insert_adjustment(self.db, adjustment, target[0],
                                     self.first_import_id + adjustment.src)
            self.reports[adjustment.src].inserted += 1
        self._fail_or_reject(found)

    # --- recording ------------------------------------------------------------

    def _record_import(self, src: int, report: FileReport) -> None:
        import_id = self.first_import_id + src
        self.db.execute(
            "INSERT INTO imports (id, run_id, kind, file_name, sheet, sha256, size_bytes, encoding,"
            " rows_read, inserted, unchanged, replaced, rejected, skipped, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (import_id, self.run.id, self.kind, report.path.name, report.sheet, report.sha256,
             report.size_bytes, report.encoding, report.rows_read, report.inserted,
             report.unchanged, report.replaced, report.rejected_rows,
             len(report.totals_rows) + len(report.footer_rows) + report.blank_rows, now_text()),
        )
        payload = {"import_id": import_id, "kind": self.kind, **report.as_json()}
        payload.pop("problems")
        append_event(self.db, self.run.id, "import", payload)

    def write_rejected_files(self) -> None:
        for report in self.reports:
            if report.rejected:
                report.rejected_file = write_rejected(report.path, self.schema, self.options.sheet,
                                                      self.options.encoding, report.rejected,
                                                      self.workspace.settings.header_synonyms)


def _adjustment_problem(adjustment: ledger.StagedAdjustment, target: tuple[int, int] | None) -> str:
    unit_id, item, period = adjustment.unit_item_period
    if target is None:
        return f"负数金额是减免/红冲，但没有找到要冲减的应收（{unit_id} {item} {period}）"
    if target[1] + adjustment.amount_fen < 0:
        return (f"减免/红冲 {format_yuan(-adjustment.amount_fen, grouping=True)} 超过该笔应收的余额 "
                f"{format_yuan(target[1], grouping=True)}（{unit_id} {item} {period}）")
    return ""


def _file_digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _problem_order(problem: Problem) -> tuple[str, int]:
    return problem.file, problem.row  # stable: a row's problems stay in column order
