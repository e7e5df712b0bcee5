"""pandas' C tokenizer reads a chunk only where it reads as the csv module does.

Whatever bytes follow the header — quotes anywhere, CR and LF alone or together,
blank and ragged lines, a BOM or NUL in the middle, multi-line cells — the rows
(their lines and cells) read through csvchunks are the csv module's rows.
"""

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuijiao.ingest import csvchunks
from cuijiao.ingest.readers import csv_rows

WANTED = [0, 2, 3]
_PIECES = ["1-101", "物业费", "2025年1月", "¥1,216.00", "", " ", ",", '"', '""', "\r", "\n", "\r\n", "\t", "\ufeff",
           "合计", "x", "\u3000"]
lines = st.lists(st.lists(st.sampled_from(_PIECES), max_size=6).map("".join), max_size=40)


def _csv_rows_after_header(path: Path, encoding: str, delimiter: str) -> list[tuple[int, list[object]]]:
    rows = list(csv_rows(path, encoding, delimiter))
    return [row for row in rows if row[0] > 1]


def _fast_rows(path: Path, encoding: str, delimiter: str) -> list[tuple[int, list[object]]] | None:
    offset = csvchunks.data_offset(path, 1, delimiter)
    if offset is None:
        return None
    found: list[tuple[int, list[object]]] = []
    for block in csvchunks.read_blocks(path, encoding, delimiter, offset=offset, line=2, wanted=WANTED):
        if isinstance(block, csvchunks.Lines):
            for i in range(len(block)):
                cells = block.cells(i)
                # what pandas read is the csv module's cell, "" past a short row's end
                assert [block.columns[c][i] for c in WANTED] == [cells[c] if c < len(cells) else "" for c in WANTED]
                found.append((block.first_line + i, cells))
        else:
            found += list(block)
    return found


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8", "utf-8-sig"])
@settings(max_examples=150, deadline=None)
@given(body=lines, chunk=st.sampled_from([16, 64, 1 << 20]), delimiter=st.sampled_from([",", "\t"]))
def test_rows_are_the_csv_modules(tmp_path_factory: pytest.TempPathFactory, encoding: str, body: list[str],
                                  chunk: int, delimiter: str) -> None:
    path = tmp_path_factory.mktemp("chunks") / "c.csv"
    path.write_bytes(("房号,收费项目,所属期间,金额\r\n" + "\n".join(body)).encode(encoding))
    expected = _csv_rows_after_header(path, encoding, delimiter)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csvchunks, "CHUNK_BYTES", chunk)
        found = _fast_rows(path, encoding, delimiter)
    if found is not None:
        assert found == expected


_TEXT = st.text(st.sampled_from(["1", "-", "物", "费", " ", "\t", ",", "\ufeff", "\u3000", "\x1f", "'", "\\"]),
                max_size=5)
# Cells pandas may read: plain text, or quoted whole (quotes doubled inside) on one line.
_CELL = st.one_of(_TEXT.filter(lambda t: "," not in t and "\t" not in t),
                  _TEXT.map(lambda t: '"' + t.replace('"', '""') + '"'),
                  st.sampled_from(['"a""b"', '""', '"x,y"', '"1,216.00"']))
plain_lines = st.lists(st.tuples(st.lists(_CELL, max_size=6), st.sampled_from(["\n", "\r\n"])), max_size=40)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8", "utf-8-sig"])
@settings(max_examples=150, deadline=None)
@given(body=plain_lines, chunk=st.sampled_from([16, 64, 1 << 20]))
def test_quoted_and_ragged_rows_read_by_pandas_are_the_csv_modules(
        tmp_path_factory: pytest.TempPathFactory, encoding: str, body: list[tuple[list[str], str]], chunk: int) -> None:
    path = tmp_path_factory.mktemp("chunks") / "c.csv"
    text = "房号,收费项目,所属期间,金额\r\n" + "".join(",".join(cells) + end for cells, end in body)
    path.write_bytes(text.encode(encoding))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csvchunks, "CHUNK_BYTES", chunk)
        assert _fast_rows(path, encoding, ",") == _csv_rows_after_header(path, encoding, ",")


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8"])
def test_a_plain_export_is_read_by_pandas_to_its_last_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         encoding: str) -> None:
    monkeypatch.setattr(csvchunks, "CHUNK_BYTES", 256)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["房号", "收费项目", "所属期间", "应收金额"])
    writer.writerows([f"1-{n}", "物业费", "2025年1月", f"{n:,}.00"] for n in range(990, 1100))
    path = tmp_path / "c.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    offset = csvchunks.data_offset(path, 1, ",")
    assert offset is not None
    blocks = list(csvchunks.read_blocks(path, encoding, ",", offset=offset, line=2, wanted=WANTED))
    assert len(blocks) > 10
    assert all(isinstance(block, csvchunks.Lines) for block in blocks)  # quoted "1,000.00" included
    assert _fast_rows(path, encoding, ",") == _csv_rows_after_header(path, encoding, ",")


@pytest.mark.parametrize(("body", "why"), [
    ('1-101,"物业\n费",2025-01,1\n', "a cell across lines"),
    ('1-101,物业"费,2025-01,1\n', "a quote inside a cell"),
    ("1-101,物业费\r2025-01,1\n", "a lone CR"),
    ("1-101,物\x00业费,2025-01,1\n", "a NUL"),
])
def test_the_csv_module_reads_from_where_pandas_could_differ(tmp_path: Path, body: str, why: str) -> None:
    path = tmp_path / "c.csv"
    head = "房号,收费项目,所属期间,金额\n" + "1-100,物业费,2025-01,1\n" * 3
    path.write_bytes((head + body + "1-102,x,y,z\n").encode())
    blocks = list(csvchunks.read_blocks(path, "utf-8", ",", offset=csvchunks.data_offset(path, 1, ",") or 0,
                                        line=2, wanted=WANTED))
    assert not isinstance(blocks[-1], csvchunks.Lines), why
    assert _fast_rows(path, "utf-8", ",") == _csv_rows_after_header(path, "utf-8", ",")
