"""Turn the data rows of a located table into typed records, or problems.

Each kind of file has a parser that yields, per data row, either a record
tuple ready for the store or the list of :class:`Problem` found in it. Cell
parsers are memoised per file: a ledger repeats the same dates, periods,
items and amounts thousands of times.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cuijiao.errors import Problem
from cuijiao.ingest import cells as parse
from cuijiao.ingest.cells import DEFAULT_LIMITS, Limits
from cuijiao.ingest.fields import FIELDS
from cuijiao.ingest.readers import cell_text
from cuijiao.ingest.table import Table
from cuijiao.ingest.xlsx import UncomputedFormula

Record = tuple[Any, ...]


@dataclass
class RowStats:
    """What was passed over while reading, for the import report."""

    data_rows: int = 0
    blank_rows: int = 0
    total_rows: list[int] = field(default_factory=list)
    footer_rows: list[int] = field(default_factory=list)


_MISSING = object()


class RowParser:
    """Reads cells of one table by field, collecting problems with their place.

    Each field keeps a memo of raw cell → parsed value: a ledger repeats the
    same units, items, periods, dates and amounts many times, and this keeps
    parsing to a dictionary look-up per cell on the common path.
    """

    def __init__(self, table: Table, src: int, limits: Limits = DEFAULT_LIMITS) -> None:
        self.table, self.src, self.limits = table, src, limits
        self.unit_text = parse.identity_text("房号", limits.id_chars, required=True)
        self.item_text = parse.identity_text("收费项目", limits.name_chars, required=True)
        self.optional_item = parse.identity_text("收费项目", limits.name_chars, required=False)
        self.reference_text = parse.identity_text("单据号", limits.id_chars, required=False)
        self.stats = RowStats()
        self.problems: list[Problem] = []
        self._columns = table.columns
        self._memo: dict[str, dict[object, Any]] = {name: {} for name in FIELDS}
        self._unit_index = table.columns.get("unit_id", 0)

    def is_data_row(self, line: int, cells: list[object]) -> bool:
        """False for blank, totals and footer rows, which are counted in ``stats``."""
        unit = cells[self._unit_index] if self._unit_index < len(cells) else None
        if plainly_a_unit(unit):
            self.stats.data_rows += 1
            return True
        if not any(cell_text(cell) for cell in cells):
            self.stats.blank_rows += 1
            return False
        if _is_totals_row(cells, self._unit_index):
            self.stats.total_rows.append(line)
            return False
        if _is_footer_row(cells, self._unit_index):
            self.stats.footer_rows.append(line)
            return False
        self.stats.data_rows += 1
        return True

    def raw(self, cells: list[object], name: str) -> object:
        index = self._columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    def problem(self, line: int, name: str, message: str) -> None:
        column = self.table.headers.get(name, FIELDS[name].label)
        self.problems.append(Problem(self.table.name, line, column, message))

    def value(self, line: int, cells: list[object], name: str, parse: Callable[[object], Any], *,
              memo: bool = True) -> Any:
        """The parsed cell of field ``name``, or None after recording the problem.

        ``memo=False`` for fields unique to each row (receipt and bill numbers),
        whose memo would only grow.
        """
        index = self._columns.get(name)
        raw = cells[index] if index is not None and index < len(cells) else None
        if isinstance(raw, UncomputedFormula):
            self.problem(line, name, f"是公式（{raw[:60]}），文件中没有保存它的计算结果（程序生成、未经 Excel "
                                     "计算的表格常见）：请用 Excel 或 WPS 打开该文件、保存后再导入")
            return None
        seen = self._memo[name]
        found = seen.get(raw, _MISSING) if memo else _MISSING
        if found is not _MISSING:
            return found
        try:
            parsed = parse(raw.strip() if isinstance(raw, str) else raw)
        except ValueError as exc:
            self.problem(line, name, str(exc))
            return None
        if memo:
            seen[raw] = parsed
        return parsed


    def known_unit(self, line: int, cells: list[object], known: set[str]) -> str:
        """The row's unit id; a unit not imported yet is a problem at its cell."""
        unit_id: str = self.value(line, cells, "unit_id", self.unit_text)
        if unit_id and unit_id not in known:
            self.problem(line, "unit_id",
                         f"房号“{unit_id}”不在房屋资料中，请先导入房屋业主文件（cuijiao import units）")
        return unit_id


CHARGE_FIELDS = ("unit_id", "item", "period", "due_date", "amount")
_PAYMENT_FIELDS = ("unit_id", "paid_on", "amount", "item", "period")
# A data row's 房号 never starts with these (nor ends with 户); a totals row or a footer often does.
_SPECIAL_INITIALS = frozenset("合总小共制审复打财经负导 \t")
_TOTAL_CELL = re.compile(r"^.{0,16}(?:合计|总计|小计)[:：]?.{0,16}$")
# A count of units in the 房号 column of a totals row: ``6户``, ``共6户``, ``合计：6户``.
_UNIT_COUNT = re.compile(r"^(?:共|合计|总计|小计)?[:：]?\d+户$")
_FOOTER_CELL = re.compile(r"^(?:制表|制单|审核|复核|打印|财务|经办|负责人|导出|收款人|出纳)")


def plainly_a_unit(unit: object) -> bool:
    """A 房号 cell that no totals, footer or blank row has: the row is data, whatever else it holds."""
    return (unit.__class__ is str and bool(unit) and unit[0] not in _SPECIAL_INITIALS
            and "计" not in unit and unit[-1] != "户")


def _is_totals_row(cells: list[object], unit_column: int) -> bool:
    """``1栋小计``, ``小计：``, ``合 计``, ``总计`` in any column, with no unit of its own.

    The 房号 cell of a totals row may hold a count of units (``6户``, ``共6户``).
    """
    unit = cell_text(cells[unit_column]).replace(" ", "") if unit_column < len(cells) else ""
    if unit and not _TOTAL_CELL.match(unit) and not _UNIT_COUNT.match(unit):
        return False
    return any(_TOTAL_CELL.match(cell_text(c).replace(" ", "")) for c in cells if c.__class__ is str and c)


def _is_footer_row(cells: list[object], unit_column: int) -> bool:
    """``制表人：…``, ``审核：…``, ``打印日期`` as the row's first text, with no unit of its own."""
    first = next((c for c in cells if cell_text(c)), None)
    if first is None or not _FOOTER_CELL.match(cell_text(first).replace(" ", "")):
        return False
    unit = cells[unit_column] if unit_column < len(cells) else None
    return not cell_text(unit) or unit is first


def _row_hash(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


# --- Units ------------------------------------------------------------------


def parse_units(parser: RowParser) -> Iterator[Record]:
    """(src, line, unit_id, building, owner_name, phone, area_m2, tags, address)."""
    limits = parser.limits
    building_text = parse.identity_text("楼栋", limits.name_chars, required=True)
    owner_text = parse.identity_text("业主姓名", limits.name_chars, required=True)
    phone_text, tags_text = parse.phone_text(limits.id_chars), parse.tags_text(limits.text_chars)
    address_text = parse.free_text("通讯地址", limits.text_chars)
    for line, cells in parser.table.rows:
        if not parser.is_data_row(line, cells):
            continue
        before = len(parser.problems)
        unit_id = parser.value(line, cells, "unit_id", parser.unit_text)
        building = parser.value(line, cells, "building", building_text)
        owner = parser.value(line, cells, "owner_name", owner_text)
        phone = parser.value(line, cells, "phone", phone_text)
        area = parser.value(line, cells, "area_m2", parse.area_m2)
        tags = parser.value(line, cells, "tags", tags_text)
        address = parser.value(line, cells, "address", address_text)
        if len(parser.problems) == before:
            yield parser.src, line, unit_id, building, owner, phone, area, tags, address


# --- Charges ----------------------------------------------------------------


class ChargeParser:
    """(src, line, key, unit_id, item, period, start, end, due, amount_fen, kind, bill_no).

    A charge is identified by its bill number, else by unit + item + period. A
    negative amount is an adjustment (减免/红冲) of that charge, identified by
    its bill number, else by a hash of the row and how often that row occurred.
    """

    def __init__(self, parser: RowParser, known_units: set[str], deposit_items: tuple[str, ...]) -> None:
        self.parser, self.known_units = parser, known_units
        self.deposit_items = set(deposit_items)
        self._seen_adjustments: dict[str, int] = {}
        self._kinds: dict[str, str] = {}
        # Raw cell → parsed value, per field (CHARGE_FIELDS), for cells of rows that were valid.
        self.seen_cells: tuple[dict[object, Any], ...] = ({}, {}, {}, {}, {})
        self._index = [parser.table.columns[name] for name in CHARGE_FIELDS]
        self._width = max(self._index) + 1
        self._short_path = "bill_no" not in parser.table.columns

    def records(self) -> Iterator[Record]:
        """Every valid row as a record; problems go to the parser."""
        row = self.row
        for line, cells in self.parser.table.rows:
            record = row(line, cells)
            if record is not None:
                yield record

    def row(self, line: int, cells: list[object]) -> Record | None:
        """The row's record, or None (a problem, a blank, totals or footer row).

        A row whose every cell has been seen, valid, in an earlier row takes
        the short path: five dictionary look-ups and no parsing. Any other row
        (first sightings, errors, blank and totals rows, adjustments, bill
        numbers) is read in full, and what it taught is remembered.
        """
        if self._short_path and len(cells) >= self._width:
            i_unit, i_item, i_period, i_due, i_amount = self._index
            units, items, periods, dates, amounts = self.seen_cells
            try:
                unit_id, (item, kind) = units[cells[i_unit]], items[cells[i_item]]
                (label, start, end), due = periods[cells[i_period]], dates[cells[i_due]]
                amount = amounts[cells[i_amount]]
            except KeyError:
                pass
            else:
                self.parser.stats.data_rows += 1
                key = f"c:{unit_id}\x1f{item}\x1f{label}"
                return self.parser.src, line, key, unit_id, item, label, start, end, due, amount, kind, None
        record = self._full_row(line, cells)
        if record is not None and record[10] != "adjustment":
            self._remember([cells[i] if i < len(cells) else None for i in self._index], record)
        return record

    def _full_row(self, line: int, cells: list[object]) -> Record | None:
        parser, value = self.parser, self.parser.value
        if not parser.is_data_row(line, cells):
            return None
        before = len(parser.problems)
        unit_id = parser.known_unit(line, cells, self.known_units)
        item = value(line, cells, "item", parser.item_text)
        period = value(line, cells, "period", parse.period_parts)
        due = value(line, cells, "due_date", parse.iso_date)
        amount = value(line, cells, "amount", parse.amount_fen)
        bill_no = value(line, cells, "bill_no", parser.reference_text, memo=False) or None
        if len(parser.problems) != before:
            return None
        label, start, end = period
        kind, key = self._identity(unit_id, item, label, due, amount, bill_no)
        return parser.src, line, key, unit_id, item, label, start, end, due, amount, kind, bill_no

    def _remember(self, raw: list[object], record: Record) -> None:
        units, items, periods, dates, amounts = self.seen_cells
        _src, _line, _key, unit_id, item, label, start, end, due, amount, kind, _bill = record
        units[raw[0]], items[raw[1]], periods[raw[2]] = unit_id, (item, kind), (label, start, end)
        dates[raw[3]], amounts[raw[4]] = due, amount

    def _identity(self, unit_id: str, item: str, period: str, due: object, amount: int,
                  bill_no: str | None) -> tuple[str, str]:
        if amount < 0:
            if bill_no:
                return "adjustment", f"b:{bill_no}"
            content = _row_hash(unit_id, item, period, due, amount)
            occurrence = self._seen_adjustments.get(content, 0) + 1
            self._seen_adjustments[content] = occurrence
            return "adjustment", f"a:{content}:{occurrence}"
        kind = self.kind(item)
        return kind, f"b:{bill_no}" if bill_no else f"c:{unit_id}\x1f{item}\x1f{period}"

    def kind(self, item: str) -> str:
        """A charge's kind by its item: a deposit (装修押金 …) or a fee."""
        kind = self._kinds.get(item)
        if kind is None:
            kind = self._kinds[item] = "deposit" if item in self.deposit_items or "押金" in item else "charge"
        return kind


# --- Payments ---------------------------------------------------------------


class PaymentParser:
    """(src, line, key, unit_id, paid_on, amount_fen, receipt_no, item, period).

    A payment line is identified by its receipt number (plus the item and
    period it designates: one receipt may pay several items), else by a hash
    of the row and how often that row occurred in the file.
    """

    def __init__(self, parser: RowParser, known_units: set[str]) -> None:
        self.parser, self.known_units = parser, known_units
        self._seen: dict[str, int] = {}
        # Raw cell → parsed value, per field, for cells of rows that were valid.
        self._seen_cells: tuple[dict[object, Any], ...] = ({}, {}, {}, {}, {})

    def records(self) -> Iterator[Record]:
        """Every valid row as a record; problems go to the parser.

        As for charges, a row whose cells (all but the receipt number, which is
        new on every row) were all seen valid before takes the short path.
        """
        parser, src, columns = self.parser, self.parser.src, self.parser.table.columns
        index = [columns.get(name) for name in _PAYMENT_FIELDS]
        i_unit, i_paid, i_amount = columns["unit_id"], columns["paid_on"], columns["amount"]
        i_item, i_period = index[3:]
        i_receipt = columns.get("receipt_no")
        width = max(i for i in (*index, i_receipt) if i is not None) + 1
        units, dates, amounts, items, periods = self._seen_cells
        reference = parser.reference_text
        for line, cells in parser.table.rows:
            if len(cells) >= width:
                try:
                    unit_id, paid_on, amount = units[cells[i_unit]], dates[cells[i_paid]], amounts[cells[i_amount]]
                    item = items[cells[i_item] if i_item is not None else None]
                    period = periods[cells[i_period] if i_period is not None else None]
                    receipt = (reference(cells[i_receipt]) or None) if i_receipt is not None else None
                except (KeyError, ValueError):  # a new cell, or a bad receipt: read in full
                    pass
                else:
                    parser.stats.data_rows += 1
                    key = self._identity(unit_id, paid_on, amount, receipt, item, period)
                    yield src, line, key, unit_id, paid_on, amount, receipt, item, period
                    continue
            record = self._full_row(line, cells)
            if record is not None:
                self._remember([cells[i] if i is not None and i < len(cells) else None for i in index], record)
                yield record

    def _full_row(self, line: int, cells: list[object]) -> Record | None:
        parser, value = self.parser, self.parser.value
        if not parser.is_data_row(line, cells):
            return None
        before = len(parser.problems)
        unit_id = parser.known_unit(line, cells, self.known_units)
        paid_on = value(line, cells, "paid_on", parse.iso_date)
        amount = value(line, cells, "amount", parse.amount_fen)
        if amount is not None and amount <= 0:
            parser.problem(line, "amount", "实收金额应大于零（退款请在收费系统中处理后重新导出）")
        receipt = value(line, cells, "receipt_no", parser.reference_text, memo=False) or None
        item = value(line, cells, "item", parser.optional_item) or None
        period = value(line, cells, "period", parse.optional_period)
        if len(parser.problems) != before:
            return None
        label = period.label if period else None
        key = self._identity(unit_id, paid_on, amount, receipt, item, label)
        return parser.src, line, key, unit_id, paid_on, amount, receipt, item, label

    def _remember(self, raw: list[object], record: Record) -> None:
        units, dates, amounts, items, periods = self._seen_cells
        _src, _line, _key, unit_id, paid_on, amount, _receipt, item, period = record
        units[raw[0]], dates[raw[1]], amounts[raw[2]] = unit_id, paid_on, amount
        items[raw[3]], periods[raw[4]] = item, period

    def _identity(self, unit_id: str, paid_on: object, amount: int, receipt: str | None,
                  item: str | None, period: str | None) -> str:
        if receipt:
            return f"r:{receipt}\x1f{item or ''}\x1f{period or ''}"
        content = _row_hash(unit_id, paid_on, amount, item, period)
        occurrence = self._seen.get(content, 0) + 1
        self._seen[content] = occurrence
        return f"h:{content}:{occurrence}"
