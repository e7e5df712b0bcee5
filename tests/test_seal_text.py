"""A seal built from columns hashes the bytes the seal always hashed (store/seal.py).

The reference is the seal's algorithm as it was before rows could come from columns:
batches of 20,000 rows read back, each import's rows of a batch hashed as repr of
their list. Any text (quotes of both kinds, controls, CJK, astral characters)."""

import hashlib
from collections import defaultdict
from itertools import groupby
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cuijiao.store import seal
from cuijiao.store.seal_text import Coded, Joined, RowsText

texts = st.text(st.sampled_from(["1", "-", "物", "业", "'", '"', "\\", "\x1f", "\n", "\u202e", "\U0001f600", " "]),
                max_size=6)


def reference_digests(rows: list[tuple[Any, ...]], at: int, batch: int) -> dict[int, list[Any]]:
    counts: dict[int, int] = defaultdict(int)
    hashes: dict[int, Any] = defaultdict(hashlib.sha256)
    for start in range(0, len(rows), batch):
        groups: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in rows[start:start + batch]:
            groups[row[at]].append(row)
        for import_id, group in groups.items():
            counts[import_id] += len(group)
            hashes[import_id].update(repr(group).encode())
    return {i: [counts[i], hashes[i].hexdigest()] for i in counts}


@settings(max_examples=200, deadline=None)
@given(units=st.lists(texts, min_size=1, max_size=4), items=st.lists(texts, min_size=1, max_size=3),
       picks=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(-10**14, 10**14)), min_size=1,
                      max_size=30), data=st.data())
def test_rows_text_is_repr_of_the_rows(units: list[str], items: list[str], picks: list[tuple[int, int, int]],
                                      data: st.DataObject) -> None:
    n = len(picks)
    unit = Coded(np.array([p[0] % len(units) for p in picks], np.int32), units)
    item = Coded(np.array([p[1] % len(items) for p in picks], np.int32), items)
    amounts = np.array([p[2] for p in picks], np.int64)
    columns = [np.arange(7, 7 + n, dtype=np.int64), Joined(("c:", unit, "\x1f", item)), unit, item, amounts, None,
               "charge", 3]
    text = RowsText(columns)
    lo = data.draw(st.integers(0, n - 1))
    hi = data.draw(st.integers(lo + 1, n))
    rows = text.rows(lo, hi)
    assert rows[0] == (7 + lo, f"c:{units[picks[lo][0] % len(units)]}\x1f{items[picks[lo][1] % len(items)]}",
                       units[picks[lo][0] % len(units)], items[picks[lo][1] % len(items)], picks[lo][2], None,
                       "charge", 3)
    assert text(lo, hi) == repr(rows)[1:-1].encode()


@settings(max_examples=100, deadline=None)
@given(runs=st.lists(st.tuples(st.integers(1, 3), st.integers(1, 12)), min_size=1, max_size=8),
       split=st.integers(0, 40), batch=st.sampled_from([1, 4, 5, 7]))
def test_a_stream_of_text_and_read_back_rows_digests_as_the_seal_did(
        runs: list[tuple[int, int]], split: int, batch: int) -> None:
    """Rows of several imports interleaved, the first ``split`` given as text, the rest as rows."""
    rows = [(i, "物'\"", import_id) for i, import_id in enumerate(i for i, count in runs for _ in range(count))]
    split = min(split, len(rows))
    stream = seal.RowStream()
    with_batch = seal._BATCH
    seal._BATCH = batch
    try:
        head = rows[:split]
        for import_id, run in groupby(head, key=lambda row: row[2]):
            part = list(run)
            text = RowsText([np.array([r[0] for r in part], np.int64), "物'\"", import_id])
            stream.add_text(import_id, len(part), text)
        tail = rows[split:]
        for import_id, run in groupby(tail, key=lambda row: row[2]):
            part = list(run)
            stream.add_text(import_id, len(part), lambda lo, hi, part=part: ", ".join(map(repr, part[lo:hi])).encode())
        found = {i: digest.value() for i, digest in stream.finish().items()}
    finally:
        seal._BATCH = with_batch
    assert found == reference_digests(rows, 2, batch)
