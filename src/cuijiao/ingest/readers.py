"""Read a clerk's export, CSV or workbook, into numbered rows of cells.

The kind of file is told by its first bytes, not its name, so a workbook
saved as ``.csv`` still reads. CSV text is decoded strictly: UTF-8 (with or
without BOM), UTF-16 with BOM (Excel's "Unicode text") or GB18030, tried in
that order over the whole file; never ``errors="ignore"``.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from python_calamine import CalamineError, CalamineWorkbook

from cuijiao.errors import BadInput

Row = tuple[int, list[object]]  # (1-based row number as the clerk sees it, cells)

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_AUTO_ENCODINGS = ("utf-8-sig", "gb18030")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    """An opened input: its name for messages and its rows, read lazily."""

    name: str
    rows: Iterator[Row]
    encoding: str | None = None
    sheet: str | None = None


def open_source(path: Path, *, sheet: str | None = None, encoding: str | None = None) -> Source:
    """Open ``path`` as a CSV or a workbook; raise :class:`BadInput` when it is neither."""
    if not path.is_file():
        raise BadInput(f"{path}: 文件不存在")
    head = _read_head(path)
    if not head:
        raise BadInput(f"{path.name}: 文件为空")
    if head.startswith((_ZIP_MAGIC, _OLE2_MAGIC)):
        return _open_workbook(path, sheet)
    if sheet is not None:
        raise BadInput(f"{path.name}: --sheet 只用于 Excel 文件，这是文本（CSV）文件")
    if b"\x00" in head and not head.startswith(_UTF16_BOMS):
        raise BadInput(f"{path.name}: 不是 CSV 或 Excel（.xlsx）文件，无法导入")
    chosen = _checked_encoding(path, encoding) if encoding else detect_encoding(path)
    return Source(path.name, _csv_rows(path, chosen), encoding=chosen)


def _read_head(path: Path) -> bytes:
    with path.open("rb") as stream:
        return stream.read(4096)


# --- CSV ------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """The first encoding that decodes the whole file strictly."""
    head = _read_head(path)
    if head.startswith(_UTF16_BOMS):
        return _checked_encoding(path, "utf-16")
    failure: tuple[int, int] | None = None
    for encoding in _AUTO_ENCODINGS:
        bad = _first_undecodable(path, encoding)
        if bad is None:
            return encoding
        failure = failure or bad
    line = failure[1] if failure else 0
    raise BadInput(
        f"{path.name}: 无法识别文件编码（已尝试 UTF-8、GB18030，第 {line} 行有无法解码的字节）。"
        "请用 --encoding 指定文件的编码，例如 --encoding big5"
    )


def _checked_encoding(path: Path, encoding: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise BadInput(f"未知的编码 --encoding {encoding}") from None
    bad = _first_undecodable(path, encoding)
    if bad is not None:
        raise BadInput(
            f"{path.name}:{bad[1]}: 按 --encoding {encoding} 无法解码（字节位置 {bad[0]}），"
            "请检查文件的编码"
        )
    return encoding


def _first_undecodable(path: Path, encoding: str) -> tuple[int, int] | None:
    """(byte offset, line number) of the first byte ``encoding`` cannot decode."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset, lines = 0, 1
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start, lines + chunk.count(b"\n", 0, exc.start)
            offset += len(chunk)
            lines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset, lines
    return None


def _csv_rows(path: Path, encoding: str) -> Iterator[Row]:
    with path.open(encoding=encoding, newline="") as stream:
        first_line = stream.readline()
        delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
        stream.seek(0)
        reader = csv.reader(stream, delimiter=delimiter, strict=False)
        start = 1
        for cells in reader:
            yield start, list(cells)
            start = reader.line_num + 1


# --- Workbooks ------------------------------------------------------------


def _open_workbook(path: Path, sheet: str | None) -> Source:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = list(workbook.sheet_names)
        chosen = _choose_sheet(path, names, sheet)
        rows = workbook.get_sheet_by_name(chosen).iter_rows()
    except CalamineError as exc:
        raise BadInput(f"{path.name}: 不是可读取的 Excel 文件（{exc}）") from exc
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path.name}: 不是可读取的 Excel 文件（{exc}）") from exc
    return Source(f"{path.name}[{chosen}]", _numbered(rows), sheet=chosen)


def _choose_sheet(path: Path, names: list[str], sheet: str | None) -> str:
    if not names:
        raise BadInput(f"{path.name}: 工作簿中没有工作表")
    if sheet is None:
        return names[0]
    if sheet in names:
        return sheet
    if sheet.isdigit() and 1 <= int(sheet) <= len(names):
        return names[int(sheet) - 1]
    listed = "、".join(names)
    raise BadInput(f"{path.name}: 没有名为“{sheet}”的工作表（有：{listed}）")


def _numbered(rows: Iterator[Sequence[object]]) -> Iterator[Row]:
    for index, cells in enumerate(rows, start=1):
        # A boolean cell would compare equal to 1 or 0 in the parsers' memos.
        yield index, [str(c).upper() if c is True or c is False else c for c in cells]


def cell_text(cell: object) -> str:
    """A cell as the clerk sees it: ``101.0`` from Excel is ``"101"``."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()
