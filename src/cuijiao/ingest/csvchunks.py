"""Read a large CSV export with pandas' C tokenizer, as the csv module would read it.

The csv module tokenises a million ledger rows in about a second of Python; pandas'
``read_csv`` (``dtype=str``: cells stay text, no number is ever parsed) does it in a
fraction of that. The importer's answers must not change, though: every cell as the
csv module gives it, every row at the line it starts on. So pandas reads a chunk only
where the two cannot differ — whole lines, each line one row, no NUL, no lone CR, no
line longer than the csv module's field limit, quotes only around whole fields — and
from the first chunk that is not like that, the csv module reads the rest of the file
(:func:`~cuijiao.ingest.readers.csv_rows`). A row the importer has doubts about is read
again from its own line by the csv module (:meth:`Lines.cells`), so every problem it
reports comes from exactly the cells it always saw.

Only encodings in which the bytes of a newline, CR, quote, comma and tab never occur
inside a multi-byte character are read this way (UTF-8 and GB18030 are; UTF-16 is not).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt

from cuijiao.ingest.readers import Row, csv_rows

FAST_ENCODINGS = frozenset({"utf-8", "utf-8-sig", "gb18030"})
CHUNK_BYTES = 4 << 20
_LINE_BREAK = 10


def readable(encoding: str | None, delimiter: str | None) -> bool:
    """Whether a CSV in this encoding can be read in chunks by byte-level line breaks."""
    return (encoding is not None and delimiter is not None
            and codecs.lookup(encoding).name in FAST_ENCODINGS)


@dataclass
class Lines:
    """Rows read by pandas: row ``i`` is the whole of line ``first_line + i``."""

    first_line: int
    columns: dict[int, npt.NDArray[np.object_]]  # wanted column index → its cells, "" where a row is short
    raw: bytes  # the chunk's bytes, in the file's encoding
    encoding: str
    delimiter: str
    _starts: npt.NDArray[np.intp] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def cells(self, i: int) -> list[object]:
        """Row ``i`` as the csv module reads it from its line."""
        if self._starts is None:
            breaks = np.flatnonzero(np.frombuffer(self.raw, dtype=np.uint8) == _LINE_BREAK)
            self._starts = np.concatenate(([0], breaks + 1, [len(self.raw)]))
        start, end = int(self._starts[i]), int(self._starts[i + 1])
        line = self.raw[start:end].decode(_text_codec(self.encoding))
        cells: list[str] = next(csv.reader([line], delimiter=self.delimiter, strict=False), [])
        return cast("list[object]", cells)


Block = Lines | Iterator[Row]


def data_offset(path: Path, header_line: int, delimiter: str) -> int | None:
    """Byte offset of the line after the header, or None when lines cannot be counted by LF
    up to there (a lone CR ends a line for the csv module too) or the header may span lines."""
    head = b""
    with path.open("rb") as stream:  # the header sits near the top: little is read
        while head.count(b"\n") < header_line:
            data = stream.read(CHUNK_BYTES)
            if not data:
                return None
            head += data
    starts = [0]
    for _ in range(header_line):
        starts.append(head.index(b"\n", starts[-1]) + 1)
    before, header = head[: starts[-1]], head[starts[-2]: starts[-1]]
    if before.count(b"\r") != before.count(b"\r\n"):
        return None
    if b'"' in header and b'"' in _quoted_field(delimiter).sub(b"", header):
        return None  # a quote the pattern does not close on this line: perhaps a cell across lines
    return starts[-1]


def read_blocks(path: Path, encoding: str, delimiter: str, *, offset: int, line: int,
                wanted: list[int]) -> Iterator[Block]:
    """The rows from byte ``offset`` (the start of ``line``) to the end of the file:
    :class:`Lines` read by pandas, and at most one last block of the csv module's rows."""
    quoted = _quoted_field(delimiter)
    with path.open("rb") as stream:
        stream.seek(offset)
        carry = b""
        while True:
            data = carry + stream.read(CHUNK_BYTES)
            at_end = len(data) == len(carry)
            cut = len(data) if at_end else data.rfind(b"\n") + 1
            chunk, carry = data[:cut], data[cut:]
            if not chunk:
                if at_end:
                    return
                if len(carry) > csv.field_size_limit():  # one line longer than the csv module reads
                    yield csv_rows(path, encoding, delimiter, offset=offset, line=line)
                    return
                continue
            lines = _lines(chunk, encoding, delimiter, line, wanted, quoted)
            if lines is None:
                yield csv_rows(path, encoding, delimiter, offset=offset, line=line)
                return
            yield lines
            offset, line = offset + len(chunk), line + len(lines)


def _lines(chunk: bytes, encoding: str, delimiter: str, line: int, wanted: list[int],
           quoted: re.Pattern[bytes]) -> Lines | None:
    """The chunk read by pandas, or None where it might read differently from the csv module."""
    if not _plain(chunk, quoted):
        return None
    text = chunk if _text_codec(encoding) == "utf-8" else chunk.decode(encoding).encode("utf-8")
    if text.startswith(codecs.BOM_UTF8):
        return None  # pandas would drop a BOM that starts its input; the csv module keeps it mid-file
    # pandas takes the number of columns from the first line: one of our own, wide
    # enough for every wanted column, goes first (a shorter row then reads as "" cells,
    # a longer one is cut, as the importer reads them), and its row is dropped.
    width = max(wanted) + 1
    import pandas as pd  # noqa: PLC0415 - 0.15 s to import: only a large charges CSV pays it, not every command

    try:
        frame = pd.read_csv(
            io.BytesIO(delimiter.encode() * (width - 1) + b"\n" + text), sep=delimiter, header=None,
            names=range(width), usecols=wanted, dtype=str, keep_default_na=False, na_filter=False,
            skip_blank_lines=False, quotechar='"', doublequote=True, engine="c", encoding="utf-8",
        )
    except (pd.errors.ParserError, ValueError):
        return None
    if len(frame) - 1 != chunk.count(b"\n") + (not chunk.endswith(b"\n")):
        return None  # a row ran over more than one line
    columns = {index: frame[index].to_numpy(dtype=object)[1:] for index in wanted}
    return Lines(line, columns, chunk, encoding, delimiter)


def _plain(chunk: bytes, quoted: re.Pattern[bytes]) -> bool:
    """No NUL, no lone CR, quotes only around whole one-line fields, no line past the csv
    module's field limit (it refuses such a cell, and must be the one to say so)."""
    if b"\x00" in chunk or chunk.count(b"\r") != chunk.count(b"\r\n"):
        return False
    if b'"' in chunk and b'"' in quoted.sub(b"", chunk):
        return False
    if len(chunk) <= csv.field_size_limit():
        return True
    breaks = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == _LINE_BREAK)
    return int(np.diff(breaks, prepend=-1, append=len(chunk)).max()) <= csv.field_size_limit()


def _quoted_field(delimiter: str) -> re.Pattern[bytes]:
    """A field quoted whole on one line: what both readers take the same way."""
    d = re.escape(delimiter.encode())
    return re.compile(rb'(?:(?<=' + d + rb')|^)"(?:[^"\r\n]|"")*"(?=' + d + rb'|\r?$)', re.MULTILINE)


def _text_codec(encoding: str) -> str:
    """The codec of a chunk from the middle of the file: a BOM there is a character."""
    name = codecs.lookup(encoding).name
    return "utf-8" if name == "utf-8-sig" else name
