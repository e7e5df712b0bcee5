"""Stream the rows of an .xlsx worksheet in bounded memory.

A workbook is a zip of XML parts. calamine builds the whole sheet in memory
(a 50 MB payments workbook took 1 GB) and sizes it from the cell references,
so a 5 KB file that claims a cell in column 10,000,000 aborted the process.
Here the sheet XML is parsed as a stream (expat, entity expansion bounded),
one row at a time; every limit is Excel's own (16,384 columns, 1,048,576
rows, 32,767 characters a cell), and a file past one is a located error.

Merged cells: the top-left value is copied down the first column of the range,
so 楼栋 merged over a block reads on every row; a range across columns is not
copied sideways (a header merged over two columns would read as two columns
of the same name). Merges are listed after the rows in the XML, so a first
pass over the raw bytes finds them.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Literal
from xml.etree.ElementTree import Element, ParseError
from xml.etree.ElementTree import iterparse as xml_iterparse

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse as safe_iterparse

from cuijiao.errors import BadInput

MAX_COLUMNS = 16_384  # XFD
MAX_ROWS = 1_048_576
MAX_CELL_CHARS = 32_767
MAX_SHARED_CHARS = 64 * 1024 * 1024  # all shared strings together
MAX_MERGES = 100_000
_MERGE_FILL_COLUMNS = 1_024  # merged ranges are copied down only within these columns

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REF = re.compile(r"([A-Z]{1,7})([0-9]{1,9})$")
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]{1,7})([0-9]{1,9}):([A-Z]{1,7})([0-9]{1,9})"')
_DIGITS = "0123456789"
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_BUILTIN_DATE_FORMATS = frozenset((*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)))
_DATE_CODE = re.compile(r"[ymdhse]", re.IGNORECASE)
_FORMAT_NOISE = re.compile(r'"[^"]*"|\[[^]]*]|\\.|_.|\*.')
_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)

Row = tuple[int, list[object]]
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, ParseError, DefusedXmlException, KeyError,
                EOFError, NotImplementedError, RuntimeError, ValueError, OSError)


class XlsxBook:
    """An opened .xlsx: its sheet names, and each sheet's rows on demand."""

    def __init__(self, path: Path) -> None:
        self.path, self.name = path, path.name
        try:
            self.zip = zipfile.ZipFile(path)
            self._sheets = self._sheet_parts()
            self._date_styles, self._epoch = self._styles()
        except BadInput:
            raise
        except _READ_ERRORS as exc:
            raise BadInput(f"{self.name}: 不是可读取的 Excel 文件（{type(exc).__name__}）") from None
        self._shared: list[str] | None = None

    @property
    def sheet_names(self) -> list[str]:
        return list(self._sheets)

    def rows(self, sheet: str) -> Iterator[Row]:
        """The sheet's rows as (row number, cells); problems raise :class:`BadInput`."""
        where = f"{self.name}[{sheet}]"
        try:
            merges = self._merges(self._sheets[sheet], where)
            yield from _apply_merges(self._rows(self._sheets[sheet], where), merges)
        except BadInput:
            raise
        except _READ_ERRORS as exc:
            raise BadInput(f"{where}: 工作表无法读取，文件可能已损坏（{type(exc).__name__}）") from None

    # --- the workbook's parts ---------------------------------------------------

    def _xml(self, part: str) -> Element:
        with self.zip.open(part) as stream:
            return _parse_small(stream)

    def _sheet_parts(self) -> dict[str, str]:
        workbook = self._xml("xl/workbook.xml")
        rels_part = "xl/_rels/workbook.xml.rels"
        targets = {rel.get("Id"): rel.get("Target", "") for rel in self._xml(rels_part).iter(f"{_PKG}Relationship")}
        sheets: dict[str, str] = {}
        for sheet in workbook.iter(f"{_MAIN}sheet"):
            target = targets.get(sheet.get(f"{_REL}id"), "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
            if part in self.zip.NameToInfo:
                sheets[sheet.get("name", "")] = part
        return sheets

    def _styles(self) -> tuple[frozenset[int], datetime]:
        """Which cell styles show numbers as dates, and the workbook's day zero."""
        workbook = self._xml("xl/workbook.xml")
        pr = workbook.find(f"{_MAIN}workbookPr")
        epoch = _EPOCH_1904 if pr is not None and pr.get("date1904") in ("1", "true") else _EPOCH_1900
        if "xl/styles.xml" not in self.zip.NameToInfo:
            return frozenset(), epoch
        styles = self._xml("xl/styles.xml")
        custom = {int(f.get("numFmtId", "0")): f.get("formatCode", "") for f in styles.iter(f"{_MAIN}numFmt")}
        dates = set()
        cell_xfs = styles.find(f"{_MAIN}cellXfs")
        for index, xf in enumerate(cell_xfs if cell_xfs is not None else ()):
            format_id = int(xf.get("numFmtId", "0"))
            code = custom.get(format_id)
            if format_id in _BUILTIN_DATE_FORMATS or (code and _DATE_CODE.search(_FORMAT_NOISE.sub("", code))):
                dates.add(index)
        return frozenset(dates), epoch

    def _shared_strings(self) -> list[str]:
        if self._shared is None:
            self._shared = []
            if "xl/sharedStrings.xml" in self.zip.NameToInfo:
                self._shared = self._read_shared()
        return self._shared

    def _read_shared(self) -> list[str]:
        strings: list[str] = []
        total = 0
        with self.zip.open("xl/sharedStrings.xml") as stream:
            for _event, element in fast_iterparse(stream, ("end",), self.name):
                if element.tag != f"{_MAIN}si":
                    continue
                text = _string_item(element)
                element.clear()
                total += len(text)
                if len(text) > MAX_CELL_CHARS or total > MAX_SHARED_CHARS:
                    raise BadInput(f"{self.name}: 共享字符串表过大（单元格超过 {MAX_CELL_CHARS:,} 字或合计过长），"
                                   "不是正常的收费系统导出")
                strings.append(text)
        return strings

    # --- a sheet ------------------------------------------------------------------

    def _merges(self, part: str, where: str) -> dict[int, list[tuple[int, int, int]]]:
        """Row → (last row, first column, last column) of each merged range starting there."""
        found: dict[int, list[tuple[int, int, int]]] = {}
        tail = b""
        count = 0
        with self.zip.open(part) as stream:
            while chunk := stream.read(1 << 20):
                data = tail + chunk
                if b"mergeCell" in data:
                    for match in _MERGE.finditer(data):
                        first_col, first_row = _column_index(match[1].decode()), int(match[2])
                        last_col, last_row = _column_index(match[3].decode()), int(match[4])
                        count += 1
                        if count > MAX_MERGES:
                            raise BadInput(f"{where}: 合并单元格超过 {MAX_MERGES:,} 处，不是正常的收费系统导出")
                        if first_col < _MERGE_FILL_COLUMNS and last_row > first_row:
                            found.setdefault(first_row, []).append((min(last_row, MAX_ROWS), first_col, last_col))
                    cut = data.rfind(b"<")
                    tail = data[cut:] if cut >= 0 and b">" not in data[cut:] else b""
                else:
                    tail = data[-256:]
        return found

    def _rows(self, part: str, where: str) -> Iterator[Row]:
        shared = self._shared_strings()
        dates, epoch = self._date_styles, self._epoch
        row_tag, cell_tag = f"{_MAIN}row", f"{_MAIN}c"
        columns: dict[str, int] = {}  # "AB" → 27, learnt once per letters
        previous = 0
        with self.zip.open(part) as stream:
            # End events only (half the events of start + end); a row is cleared once
            # read, so what stays of it is an empty element: bounded by Excel's row limit.
            for _event, element in fast_iterparse(stream, ("end",), where):
                if element.tag != row_tag:
                    continue
                number = _row_number(element.get("r"), previous, where)
                previous = number
                cells: list[object] = []
                for cell in element:
                    if cell.tag != cell_tag:
                        continue
                    ref = cell.get("r")
                    if ref:
                        letters = ref.rstrip(_DIGITS)
                        index = columns.get(letters)
                        if index is None:
                            index = columns[letters] = _cell_column(ref, letters, number, where)
                        if index > len(cells):
                            cells.extend([None] * (index - len(cells)))
                    cells.append(_cell_value(cell, shared, dates, epoch, where, number))
                element.clear()
                yield number, cells


def fast_iterparse(stream: IO[bytes], events: tuple[Literal["start", "end"], ...],
                   where: str) -> Iterator[tuple[str, Element]]:
    """The C parser for the large parts, which defusedxml would parse in pure Python
    (7x slower). Its dangers come from a DTD (entity expansion, external entities),
    and a DTD can only stand in the prolog: a part whose prolog holds one, or is
    not short, is refused before parsing."""
    head = stream.read(_PROLOG_LIMIT)
    if not _prolog_is_plain(head):
        raise BadInput(f"{where}: 工作簿中的 XML 含有 DTD 声明，不是正常的收费系统导出")
    return xml_iterparse(_Prefixed(head, stream), events=events)  # noqa: S314 (no DTD: checked above)


_PROLOG_LIMIT = 64 * 1024
_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)


def _prolog_is_plain(head: bytes) -> bool:
    """True when the part's prolog (declaration, comments) ends in its root element, no DTD."""
    position = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while (item := _PROLOG_ITEM.match(head, position)) is not None:
        position = item.end()
    rest = head[position:position + 2]
    return len(rest) == 2 and rest[:1] == b"<" and rest[1:] not in (b"!", b"?")


class _Prefixed:
    """A stream whose first bytes were already read: ``head``, then the rest."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head, self._rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            chunk, self._head = (self._head, b"") if size < 0 else (self._head[:size], self._head[size:])
            return chunk
        return self._rest.read(size)


def _parse_small(stream: IO[bytes]) -> Element:
    """A small part (workbook, relations, styles), refusing one that is not small."""
    data = stream.read(16 * 1024 * 1024 + 1)
    if len(data) > 16 * 1024 * 1024:
        raise ValueError("part too large")
    root: Element | None = None
    for _event, element in safe_iterparse(_BytesReader(data), events=("end",)):
        root = element
    if root is None:
        raise ValueError("empty part")
    return root


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data, self._at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._at + size
        chunk, self._at = self._data[self._at:end], min(end, len(self._data))
        return chunk


def _string_item(element: Element) -> str:
    """The text of a shared or inline string: its runs joined, phonetic guides left out."""
    direct = element.find(f"{_MAIN}t")
    if direct is not None:
        return _unescaped(direct.text or "")
    return _unescaped("".join(t.text or "" for run in element.iter(f"{_MAIN}r") for t in run.iter(f"{_MAIN}t")))


def _unescaped(text: str) -> str:
    """Excel writes characters XML cannot hold as ``_x001B_`` (and a literal ``_x`` as ``_x005F_x``)."""
    return _ESCAPE.sub(lambda match: chr(int(match[1], 16)), text) if "_x" in text else text


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _row_number(ref: str | None, previous: int, where: str) -> int:
    number = int(ref) if ref and ref.isdigit() else previous + 1
    if not 1 <= number <= MAX_ROWS:
        raise BadInput(f"{where}: 行号 {ref} 超出 Excel 的范围（1–{MAX_ROWS:,}），文件已损坏")
    return number


def _cell_column(ref: str, letters: str, row: int, where: str) -> int:
    index = _column_index(letters) if 1 <= len(letters) <= 3 and letters.isalpha() and letters.isupper() else -1
    if not 0 <= index < MAX_COLUMNS:
        raise BadInput(f"{where}:{row}: 单元格位置“{ref[:20]}”超出 Excel 的最大列数（{MAX_COLUMNS:,} 列），文件已损坏")
    return index


class UncomputedFormula(str):
    """A formula cell whose result the file does not hold (``=`` and its text): a workbook a program
    wrote and no spreadsheet ever calculated. Read as empty, its amount would be "missing"."""


def _cell_value(cell: Element, shared: list[str], dates: frozenset[int], epoch: datetime,
                where: str, row: int) -> object:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(f"{_MAIN}is")
        return _checked_text(_string_item(inline) if inline is not None else "", where, row)
    value = cell.find(f"{_MAIN}v")
    text = value.text if value is not None else None
    if text is None and (formula := cell.find(f"{_MAIN}f")) is not None:
        return UncomputedFormula("=" + (formula.text or ""))
    if text is None or kind not in ("n", "s"):
        return _typed_text(kind, text, where, row)
    if kind == "s":
        index = int(text)
        if not 0 <= index < len(shared):
            raise BadInput(f"{where}:{row}: 单元格引用了不存在的共享字符串，文件已损坏")
        return shared[index]
    number = float(text)
    style = cell.get("s")
    if style and style.isdigit() and int(style) in dates:
        return _as_date(number, epoch)
    return number


def _typed_text(kind: str, text: str | None, where: str, row: int) -> object:
    """A formula's text, an error (#N/A), a boolean or an ISO date, as text."""
    if text is None:
        return None
    if kind == "b":
        return "TRUE" if text.strip() in ("1", "true") else "FALSE"
    return _checked_text(text, where, row)


def _checked_text(text: str, where: str, row: int) -> str:
    if len(text) > MAX_CELL_CHARS:
        raise BadInput(f"{where}:{row}: 单元格超过 Excel 的上限 {MAX_CELL_CHARS:,} 字，文件已损坏")
    return text


def _as_date(serial: float, epoch: datetime) -> object:
    """An Excel date number as a datetime; a number that is no date stays a number."""
    if not 0 < serial < 2_958_466:  # 9999-12-31
        return serial
    with suppress(OverflowError, ValueError):
        moment = epoch + timedelta(days=serial)
        return moment.date() if serial == int(serial) else moment
    return serial


def _apply_merges(rows: Iterator[Row], merges: dict[int, list[tuple[int, int, int]]]) -> Iterator[Row]:
    if not merges:
        yield from rows
        return
    active: list[tuple[int, int, object]] = []  # (last row, column, value)
    for number, cells in rows:
        active = [entry for entry in active if entry[0] >= number]
        for _last, column, value in active:
            if column >= len(cells):
                cells.extend([None] * (column + 1 - len(cells)))
            if cells[column] is None or cells[column] == "":
                cells[column] = value
        for last_row, first_col, _last_col in merges.pop(number, ()):
            value = cells[first_col] if first_col < len(cells) else None
            if value is not None:
                active.append((last_row, first_col, value))
        yield number, cells
