"""Charges of a large CSV checked a column at a time, with the same answers as row by row.

Chunks come from pandas' C tokenizer (csvchunks.py). In each, every distinct cell
of a column is parsed once, by the very parsers the row-by-row path uses (through a
memo that lasts the file), and the answers are spread back over the rows with
numpy. A row is accepted as it stands when its five cells parsed, its unit is
stored and is plainly a unit (not a totals, footer or blank line) and its amount is
not negative. Every other row — a bad cell, a totals line, an adjustment — goes, in
file order, through :meth:`ChargeParser.row` on the csv module's cells of its own
line: it is reported at the same ``file:row:column`` with the same words as ever.

That path remembers the cells of every valid row it has seen, and takes a row all
of whose cells it remembers without asking whether it is a totals line; so before
each doubtful row it is told the cells of the rows accepted before it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cuijiao.ingest import cells as parse
from cuijiao.ingest import csvchunks
from cuijiao.ingest.csvchunks import Block, Lines
from cuijiao.ingest.readers import Row, Source
from cuijiao.ingest.records import CHARGE_FIELDS, ChargeParser, Record, plainly_a_unit
from cuijiao.store.seal_text import Coded, Column, Joined

Codes = npt.NDArray[np.int32]
# The code of a 房号 cell that a totals or footer row might hold (charges.row decides).
_NOT_PLAINLY_A_UNIT = -2
_ROW_BATCH = 50_000


@dataclass
class Values:
    """The distinct parsed values of one field, by code."""

    items: list[Any] = field(default_factory=list)
    codes: dict[Any, int] = field(default_factory=dict)

    def code(self, value: Hashable) -> int:
        found = self.codes.get(value)
        if found is None:
            found = self.codes[value] = len(self.items)
            self.items.append(value)
        return found


@dataclass
class ChargeColumns:
    """The charges of one file (adjustments apart), in line order: per field
    (CHARGE_FIELDS), a code into that field's values."""

    lines: npt.NDArray[np.int64]
    codes: tuple[Codes, ...]
    values: tuple[Values, ...]  # unit id; (item, kind); (label, start, end); due date; amount in fen

    def __len__(self) -> int:
        return len(self.lines)

    def value_rows(self, start: int, stop: int) -> npt.NDArray[np.object_]:
        """Rows ``start:stop`` of bulk.CHARGE_VALUES (Python values in a 2-D array), for the multi-row INSERT."""
        columns = self._columns
        grid = np.empty((stop - start, len(columns) + 1), dtype=object)
        for j, (codes, values) in enumerate(columns):
            grid[:, j] = values[codes[start:stop]]
        grid[:, -1] = self.lines[start:stop].tolist()
        return grid

    def seal_columns(self, first_id: int, import_id: int) -> list[Column]:
        """The rows as the seal reads them back (seal.LEDGER_COLUMNS["charges"]), for seal_text.RowsText."""
        unit, item, label, start, end, due, amount, kind = (Coded(c, v.tolist()) for c, v in self._columns)
        ids = np.arange(first_id, first_id + len(self), dtype=np.int64)
        key = Joined(("c:", unit, "\x1f", item, "\x1f", label))  # as ChargeParser._identity makes it
        return [ids, key, unit, item, label, start, end, due, amount, kind, None, None, import_id, self.lines]

    @cached_property
    def _columns(self) -> list[tuple[Codes, npt.NDArray[np.object_]]]:
        """Codes and values of unit, item, period, start, end, due date, amount and kind."""
        unit, item, period, due, amount = self.codes
        units, items, periods, dues, amounts = (v.items for v in self.values)
        return [(unit, _array(units)), (item, _array([i for i, _kind in items])),
                (period, _array([p[0] for p in periods])), (period, _array([p[1] for p in periods])),
                (period, _array([p[2] for p in periods])), (due, _array(dues)), (amount, _array(amounts)),
                (item, _array([kind for _i, kind in items]))]


def read_charge_columns(charges: ChargeParser, path: Path, source: Source) -> ChargeColumnReader | None:
    """The file's charges read in columns, or None when it is not a CSV that pandas reads as the
    csv module does (a workbook, UTF-16, bill numbers, a header across lines): read it by rows."""
    table = charges.parser.table
    if "bill_no" in table.columns or not csvchunks.readable(source.encoding, source.delimiter):
        return None
    assert source.encoding is not None and source.delimiter is not None
    offset = csvchunks.data_offset(path, table.header_row, source.delimiter)
    if offset is None:
        return None
    wanted = [table.columns[name] for name in CHARGE_FIELDS]
    reader = ChargeColumnReader(charges, wanted)
    reader.columns = reader.read(csvchunks.read_blocks(path, source.encoding, source.delimiter, offset=offset,
                                                       line=table.header_row + 1, wanted=wanted))
    return reader


class ChargeColumnReader:
    """Reads one file's blocks into :class:`ChargeColumns`; adjustments are kept as records."""

    def __init__(self, charges: ChargeParser, wanted: list[int]) -> None:
        self.charges = charges
        self.wanted = wanted  # the column index of each field, in CHARGE_FIELDS order
        self.values = tuple(Values() for _ in CHARGE_FIELDS)
        self.adjustments: list[Record] = []
        self.columns: ChargeColumns | None = None  # once read
        self._memos: tuple[dict[object, int], ...] = tuple({} for _ in CHARGE_FIELDS)
        self._parsers = self._cell_parsers()
        self._lines: list[npt.NDArray[np.int64]] = []
        self._codes: list[list[Codes]] = [[] for _ in CHARGE_FIELDS]

    def read(self, blocks: Iterable[Block]) -> ChargeColumns:
        for block in blocks:
            if isinstance(block, Lines):
                self._chunk(block)
            else:
                self._rows(block)
        if not self._lines:
            return ChargeColumns(np.zeros(0, np.int64), tuple(np.zeros(0, np.int32) for _ in CHARGE_FIELDS),
                                 self.values)
        return ChargeColumns(np.concatenate(self._lines), tuple(np.concatenate(c) for c in self._codes),
                             self.values)

    # --- a chunk read by pandas ------------------------------------------------

    def _chunk(self, lines: Lines) -> None:
        import pandas as pd  # noqa: PLC0415 - imported once a chunk exists (csvchunks.py)

        cells = [_Distinct(*pd.factorize(lines.columns[index])) for index in self.wanted]
        for f, column in enumerate(cells):
            column.value_codes = self._value_codes(f, column.uniques)
        coded = [column.value_codes[column.raw_codes] for column in cells]
        accepted = np.logical_and.reduce([codes >= 0 for codes in coded])
        # Only a row whose one flaw is an odd-looking unit may find all its cells remembered.
        remembering = (coded[0] == _NOT_PLAINLY_A_UNIT) & np.logical_and.reduce([codes >= 0 for codes in coded[1:]])
        if np.count_nonzero(remembering) > len(lines) // 16:  # many such rows: all rows one by one, as ever
            self._rows((lines.first_line + i, lines.cells(i)) for i in range(len(lines)))
            return
        records, told = [], 0
        doubtful = np.flatnonzero(~accepted)
        for i in doubtful.tolist():
            if remembering[i]:
                self._remember(cells, accepted, told, i)
                told = i
            record = self.charges.row(lines.first_line + i, lines.cells(i))
            if record is not None:
                records.append(record)
        self._remember(cells, accepted, told, len(lines))
        self.charges.parser.stats.data_rows += len(lines) - len(doubtful)
        rows = np.flatnonzero(accepted)
        self._append(lines.first_line + rows, [codes[rows] for codes in coded], records)

    def _value_codes(self, f: int, uniques: npt.NDArray[np.object_]) -> Codes:
        """For each distinct raw cell, the code of its parsed value, or -1 (doubtful)."""
        memo, parser = self._memos[f], self._parsers[f]
        codes = np.empty(len(uniques), dtype=np.int32)
        for k, cell in enumerate(uniques.tolist()):
            code = memo.get(cell)
            if code is None:
                code = memo[cell] = parser(cell)
            codes[k] = code
        return codes

    def _remember(self, cells: list[_Distinct], accepted: npt.NDArray[np.bool_], start: int, stop: int) -> None:
        """Tell the row-by-row path the cells of the rows accepted in ``start:stop``."""
        if start >= stop:
            return
        rows = np.flatnonzero(accepted[start:stop]) + start
        for f, column in enumerate(cells):
            seen, values = self.charges.seen_cells[f], self.values[f].items
            present = np.bincount(column.raw_codes[rows], minlength=len(column.uniques))
            for k in np.flatnonzero(present).tolist():
                seen[column.uniques[k]] = values[column.value_codes[k]]

    # --- rows read by the csv module -------------------------------------------

    def _rows(self, rows: Iterator[Row] | Iterable[Row]) -> None:
        """Rows one by one, a batch of records at a time (the rest of a file may be millions)."""
        row, rows = self.charges.row, iter(rows)
        while batch := list(islice(rows, _ROW_BATCH)):
            records = [record for line, cells in batch if (record := row(line, cells)) is not None]
            self._append(np.zeros(0, np.int64), [np.zeros(0, np.int32) for _ in CHARGE_FIELDS], records)

    def _append(self, lines: npt.NDArray[np.int64], codes: list[Codes], records: list[Record]) -> None:
        """Add accepted rows and the records of doubtful ones, in line order."""
        plain = [r for r in records if r[10] != "adjustment"]
        self.adjustments += [r for r in records if r[10] == "adjustment"]
        if plain:
            lines = np.concatenate([lines, np.array([r[1] for r in plain], dtype=np.int64)])
            extra = self._record_codes(plain)
            codes = [np.concatenate([c, e]) for c, e in zip(codes, extra, strict=True)]
            order = np.argsort(lines, kind="stable")
            lines, codes = lines[order], [c[order] for c in codes]
        if len(lines):
            self._lines.append(lines)
            for f, c in enumerate(codes):
                self._codes[f].append(c)

    def _record_codes(self, records: list[Record]) -> list[Codes]:
        units, items, periods, dues, amounts = self.values
        fields = (
            [units.code(r[3]) for r in records],
            [items.code((r[4], r[10])) for r in records],
            [periods.code((r[5], r[6], r[7])) for r in records],
            [dues.code(r[8]) for r in records],
            [amounts.code(r[9]) for r in records],
        )
        return [np.array(codes, dtype=np.int32) for codes in fields]

    # --- one distinct cell --------------------------------------------------------

    def _cell_parsers(self) -> tuple[Callable[[object], int], ...]:
        """Per field: raw cell → code of its value, or -1 when the row must be read on its own."""
        parser, charges = self.charges.parser, self.charges
        units, items, periods, dues, amounts = self.values

        def unit(cell: object) -> int:
            if not plainly_a_unit(cell):
                return _NOT_PLAINLY_A_UNIT
            value = _parsed(parser.unit_text, cell)
            return -1 if value is None or value not in charges.known_units else units.code(value)

        def item(cell: object) -> int:
            value = _parsed(parser.item_text, cell)
            return -1 if value is None else items.code((value, charges.kind(value)))

        def period(cell: object) -> int:
            value = _parsed(parse.period_parts, cell)
            return -1 if value is None else periods.code(value)

        def due(cell: object) -> int:
            value = _parsed(parse.iso_date, cell)
            return -1 if value is None else dues.code(value)

        def amount(cell: object) -> int:
            value = _parsed(parse.amount_fen, cell)
            return -1 if value is None or value < 0 else amounts.code(value)  # negative: an adjustment

        return unit, item, period, due, amount


@dataclass
class _Distinct:
    """One column of a chunk as its distinct raw cells and, per row, which one it holds."""

    raw_codes: npt.NDArray[np.intp]
    uniques: npt.NDArray[np.object_]
    value_codes: Codes = field(default_factory=lambda: np.zeros(0, np.int32))  # per distinct cell


def _array(values: list[Any]) -> npt.NDArray[np.object_]:
    array = np.empty(len(values), dtype=object)
    array[:] = values  # element by element: tuples stay whole
    return array


def _parsed(parser: Callable[[object], Any], cell: object) -> Any:
    """What the row-by-row path stores for this cell, or None where it reports a problem."""
    try:
        return parser(cell.strip() if isinstance(cell, str) else cell)
    except ValueError:
        return None
