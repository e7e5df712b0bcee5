"""Read a clerk's export, CSV or workbook, into numbered rows of cells.

The kind of file is told by its first bytes, not its name, so a workbook
saved as ``.csv`` still reads. CSV text is decoded strictly: UTF-8 (with or
without BOM), UTF-16 with BOM (Excel's "Unicode text") or GB18030, tried in
that order over the whole file; never ``errors="ignore"``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from python_calamine import CalamineError, CalamineWorkbook

from cuijiao.errors import BadInput
from cuijiao.ingest.xlsx import XlsxBook

Row = tuple[int, list[object]]  # (1-based row number as the clerk sees it, cells)

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    """An opened input: its name for messages and its rows, read lazily."""

    name: str
    rows: Iterator[Row]
    encoding: str | None = None
    sheet: str | None = None
    delimiter: str | None = None  # a CSV's: "," or a tab


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
        line = head.count(b"\n", 0, head.index(b"\x00")) + 1
        raise BadInput(f"{path.name}:{line}: 含有空字符（NUL），不是 CSV 或 Excel（.xlsx）文件，无法导入")
    chosen = _checked_encoding(path, encoding) if encoding else detect_encoding(path)
    delimiter = _delimiter(path, chosen)
    return Source(path.name, csv_rows(path, chosen, delimiter), encoding=chosen, delimiter=delimiter)


def _read_head(path: Path) -> bytes:
    with path.open("rb") as stream:
        return stream.read(4096)


# --- CSV ------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """The first encoding that decodes the whole file strictly, lines of two encodings refused."""
    head = _read_head(path)
    if head.startswith(_UTF16_BOMS):
        return _checked_encoding(path, "utf-16")
    bad = _first_problem(path, "utf-8-sig")
    if bad is None:
        return "utf-8-sig"
    unknown = BadInput(
        f"{path.name}: 无法识别文件编码（已尝试 UTF-8、GB18030，第 {bad[1]} 行有无法解码的字节）。"
        "请用 --encoding 指定文件的编码，例如 --encoding big5"
    )
    if not _ascii_before(path, bad[0]):  # UTF-8 text (or its BOM) came first
        if _decodes(_line_at(path, bad[0]), "gb18030"):
            raise BadInput(f"{path.name}:{bad[1]}: 文件混用了两种编码：前面的行是 UTF-8，这一行无法按 UTF-8 解码"
                           f"（可能是 GB18030）。{_RESAVE}")
        raise unknown
    gb = _first_problem(path, "gb18030")
    if gb is None:
        return "gb18030"
    if gb[2]:
        raise BadInput(_mixed_gb(path, gb[1]))
    raise unknown


_RESAVE = "请在 Excel 中打开后另存为一种编码再导入"
# GB2312 text never holds a byte in 0x80–0xA0; UTF-8 Chinese almost always does.
_NOT_GB2312 = re.compile(rb"[\x80-\xa0]")
_GB2312_BYTES = bytes(b for b in range(256) if not 0x80 <= b <= 0xA0)  # translate() finds the rest 5x faster
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def _checked_encoding(path: Path, encoding: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise BadInput(f"未知的编码 --encoding {encoding}") from None
    bad = _first_problem(path, encoding)
    if bad is not None and bad[2]:
        raise BadInput(_mixed_gb(path, bad[1]))
    if bad is not None:
        raise BadInput(
            f"{path.name}:{bad[1]}: 按 --encoding {encoding} 无法解码（字节位置 {bad[0]}），"
            "请检查文件的编码"
        )
    return encoding


def _mixed_gb(path: Path, line: int) -> str:
    return f"{path.name}:{line}: 文件混用了两种编码：前面的行是 GB18030，这一行是 UTF-8。{_RESAVE}"


def _first_problem(path: Path, encoding: str) -> tuple[int, int, bool] | None:
    """(byte offset, line number, is a UTF-8 line) of the first byte ``encoding`` cannot decode.

    A GB18030 file is also searched for a line written in UTF-8, which GB18030
    would decode without complaint, as mojibake: that line is refused.
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    gb = codecs.lookup(encoding).name == "gb18030"
    offset, lines, carry = 0, 1, b""
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            failure: int | None = None
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                failure = exc.start
            if gb:
                whole = carry + chunk[: chunk.rfind(b"\n") + 1]
                utf8 = _utf8_line(whole)
                if utf8 is not None:
                    at = offset - len(carry) + utf8
                    if failure is None or at < offset + failure:
                        return at, lines - carry.count(b"\n") + whole.count(b"\n", 0, utf8), True
                carry = (carry + chunk)[len(whole):][-_CHUNK:]  # a line longer than this is no ledger line
            if failure is not None:
                return offset + failure, lines + chunk.count(b"\n", 0, failure), False
            offset += len(chunk)
            lines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset, lines, False
        if gb and carry and _utf8_line(carry) is not None:
            return offset - len(carry), lines, True
    return None


def _utf8_line(buffer: bytes) -> int | None:
    """Offset of the first line of ``buffer`` that is Chinese in UTF-8, not in GB18030."""
    if not buffer.translate(None, _GB2312_BYTES):
        return None
    position = 0
    while (match := _NOT_GB2312.search(buffer, position)) is not None:
        start = buffer.rfind(b"\n", 0, match.start()) + 1
        end = buffer.find(b"\n", match.start())
        end = len(buffer) if end < 0 else end
        try:
            text = buffer[start:end].decode("utf-8")
        except UnicodeDecodeError:
            position = end + 1
            continue
        if _CJK.search(text):
            return start
        position = end + 1
    return None


def _ascii_before(path: Path, offset: int) -> bool:
    with path.open("rb") as stream:
        while offset > 0 and (chunk := stream.read(min(offset, _CHUNK))):
            if not chunk.isascii():
                return False
            offset -= len(chunk)
    return True


def _line_at(path: Path, offset: int) -> bytes:
    """The line holding byte ``offset`` (at most a chunk of it)."""
    with path.open("rb") as stream:
        stream.seek(max(offset - _CHUNK // 2, 0))
        before = stream.read(offset - stream.tell())
        after = stream.read(_CHUNK // 2)
    start = before.rfind(b"\n") + 1
    end = after.find(b"\n")
    return before[start:] + (after if end < 0 else after[:end])


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, newline="") as stream:
        first_line = stream.readline(_CHUNK)
    return "\t" if "\t" in first_line and "," not in first_line else ","


def csv_rows(path: Path, encoding: str, delimiter: str, *, offset: int = 0, line: int = 1) -> Iterator[Row]:
    """The rows of a CSV file, each with the line it starts on; from byte ``offset``,
    which starts line ``line``, when a faster reader hands the rest of a file back."""
    with path.open("rb") as raw:
        raw.seek(offset)
        # Past the start, a BOM is a character of a cell, as it was when read from the start.
        codec = "utf-8" if offset and codecs.lookup(encoding).name == "utf-8-sig" else encoding
        stream = io.TextIOWrapper(raw, encoding=codec, newline="")
        reader = csv.reader(stream, delimiter=delimiter, strict=False)
        start = line
        try:
            for cells in cast("Iterator[list[object]]", reader):  # a new list per row: no copy needed
                yield start, cells
                start = line + reader.line_num
        except csv.Error as exc:
            raise BadInput(f"{path.name}:{start}: {_csv_problem(exc)}") from None


def _csv_problem(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return f"单元格超过 {csv.field_size_limit():,} 个字符，无法读取（不是正常的收费系统导出）"
    if "NUL" in str(exc):
        return "这一行含有空字符（NUL），不是正常的文本文件"
    return "这一行无法按 CSV 读取，请检查引号是否成对"


# --- Workbooks ------------------------------------------------------------


def sheet_names(path: Path) -> list[str]:
    """The sheets of a workbook, in order; [] for a CSV."""
    if not _read_head(path).startswith((_ZIP_MAGIC, _OLE2_MAGIC)):
        return []
    if _is_xlsx(path):
        return XlsxBook(path).sheet_names
    return _open_legacy(path)[1]


def _is_xlsx(path: Path) -> bool:
    """An Office Open XML workbook (streamed); .xlsb and .ods are zips too, read by calamine."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.NameToInfo
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return True  # let the xlsx reader say what is wrong with it


def _open_workbook(path: Path, sheet: str | None) -> Source:
    if _is_xlsx(path):
        book = XlsxBook(path)
        chosen = _choose_sheet(path, book.sheet_names, sheet)
        return Source(f"{path.name}[{chosen}]", book.rows(chosen), sheet=chosen)
    workbook, names = _open_legacy(path)
    chosen = _choose_sheet(path, names, sheet)
    try:
        rows = workbook.get_sheet_by_name(chosen).iter_rows()
    except (CalamineError, OSError, ValueError) as exc:
        raise BadInput(f"{path.name}: 不是可读取的 Excel 文件（{exc}）") from exc
    return Source(f"{path.name}[{chosen}]", _numbered(rows), sheet=chosen)


def _open_legacy(path: Path) -> tuple[CalamineWorkbook, list[str]]:
    """.xls (65,536 rows at most), .xlsb or .ods through calamine, which holds the sheet in memory."""
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        return workbook, list(workbook.sheet_names)
    except (CalamineError, OSError, ValueError) as exc:
        raise BadInput(f"{path.name}: 不是可读取的 Excel 文件（{exc}）") from exc


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
