"""The text a seal hashes, built from columns instead of from rows read back.

A seal hashes the ``repr`` of the ledger rows an import wrote (store/seal.py). After a
bulk load of millions of rows, reading them back and repr-ing one tuple at a time
costs more than loading them did. Here the same bytes are built from the columns the
importer holds: each distinct value's repr is taken once, spread over the rows with
numpy, and a run of rows becomes one ``bytes.join``. The tests compare the result
with ``repr`` of the rows themselves, for any text.

A column is :class:`Coded` (a code per row into its values), an integer array, a
:class:`Joined` text (literal and coded pieces concatenated, as a charge's identity
is made) or a constant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Coded:
    codes: npt.NDArray[np.int32]
    values: Sequence[Any]


@dataclass(frozen=True)
class Joined:
    """Text made of literal pieces and coded ones, e.g. ``("c:", unit, "\\x1f", item)``."""

    parts: tuple[str | Coded, ...]


Column = Coded | Joined | npt.NDArray[np.int64] | int | str | None


@dataclass
class _Table:
    """Bytes per code: one value's repr, with whatever constant text was folded around it."""

    codes: npt.NDArray[np.int32]
    pieces: list[bytes]


_Segment = bytes | _Table | npt.NDArray[np.int64]


class RowsText:
    """``text(lo, hi)``: the reprs of rows ``lo:hi`` joined by ", " — ``repr`` of their list, without the brackets."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = columns
        # repr() quotes a text holding ' with ", so a Joined text's repr is not its parts'
        # reprs run together: such rows are built and repr'd one by one (no id holds one).
        self.exact = not any(isinstance(part, Coded) and any("'" in value for value in part.values)
                             for column in columns if isinstance(column, Joined) for part in column.parts)
        self._segments = _folded(_segments(columns)) if self.exact else []
        self._arrays = [np.array(s.pieces, dtype=object) if isinstance(s, _Table) else None for s in self._segments]

    def __call__(self, lo: int, hi: int) -> bytes:
        if not self.exact:
            return ", ".join(map(repr, self.rows(lo, hi))).encode()
        grid = np.empty((hi - lo, len(self._segments)), dtype=object)
        for j, (segment, pieces) in enumerate(zip(self._segments, self._arrays, strict=True)):
            if isinstance(segment, bytes):
                grid[:, j] = segment
            elif isinstance(segment, _Table):
                grid[:, j] = pieces[segment.codes[lo:hi]]  # type: ignore[index]
            else:
                grid[:, j] = segment[lo:hi].astype("S")
        return b"".join(grid.ravel().tolist())[:-2]  # every row ends "), "; the last one without ", "

    def rows(self, lo: int, hi: int) -> list[tuple[Any, ...]]:
        """The rows themselves."""
        return list(zip(*(_values(column, lo, hi) for column in self.columns), strict=True))


def _segments(columns: Sequence[Column]) -> list[_Segment]:
    """A row as constant text and per-row pieces, in order."""
    out: list[_Segment] = [b"("]
    for j, column in enumerate(columns):
        if j:
            out.append(b", ")
        if isinstance(column, Coded):
            out.append(_Table(column.codes, [repr(value).encode() for value in column.values]))
        elif isinstance(column, Joined):
            out.append(b"'")
            for part in column.parts:
                out.append(_Table(part.codes, [_inner(value) for value in part.values])
                           if isinstance(part, Coded) else _inner(part))
            out.append(b"'")
        elif isinstance(column, np.ndarray):
            out.append(column)
        else:
            out.append(repr(column).encode())
    out.append(b"), ")
    return out


def _inner(text: str) -> bytes:
    """What repr() writes between the quotes of a text without a ' in it."""
    return repr(text)[1:-1].encode()


def _folded(segments: list[_Segment]) -> list[_Segment]:
    """Fewer pieces a row to join: constant text goes into a neighbouring table's pieces,
    and neighbouring tables of the same codes (a period's label, start and end) become one."""
    merged: list[_Segment] = []
    for segment in segments:
        if isinstance(segment, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += segment
        else:
            merged.append(segment)
    out: list[_Segment] = []
    for i, segment in enumerate(merged):
        after = merged[i + 1] if i + 1 < len(merged) else None
        last = out[-1] if out else None
        if isinstance(segment, bytes) and isinstance(after, _Table):
            after.pieces = [segment + piece for piece in after.pieces]
        elif isinstance(segment, bytes) and isinstance(last, _Table):
            last.pieces = [piece + segment for piece in last.pieces]
        elif isinstance(segment, _Table) and isinstance(last, _Table) and last.codes is segment.codes:
            last.pieces = [a + b for a, b in zip(last.pieces, segment.pieces, strict=True)]
        else:
            out.append(segment)
    return out


def _values(column: Column, lo: int, hi: int) -> list[Any]:
    if isinstance(column, Coded):
        return [column.values[k] for k in column.codes[lo:hi].tolist()]
    if isinstance(column, Joined):
        parts = [_values(p, lo, hi) if isinstance(p, Coded) else [p] * (hi - lo) for p in column.parts]
        return ["".join(texts) for texts in zip(*parts, strict=True)]
    if isinstance(column, np.ndarray):
        values: list[Any] = column[lo:hi].tolist()
        return values
    return [column] * (hi - lo)
