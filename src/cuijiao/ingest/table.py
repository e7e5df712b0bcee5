"""Find the header row of a source and map its columns to fields."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cuijiao.errors import BadInput
from cuijiao.ingest.fields import FIELDS, SCHEMAS, Schema, normalize_header, synonym_table
from cuijiao.ingest.readers import Row, Source, cell_text, open_source, sheet_names
from cuijiao.privacy import mask_phone

# Exports put a title, the estate name and an export date above the header.
_HEADER_SEARCH_ROWS = 30
_SHOWN_COLUMNS = 30


@dataclass(frozen=True)
class Table:
    """A source whose header is known: field → column index, and the data rows."""

    name: str
    header_row: int
    columns: dict[str, int]
    headers: dict[str, str]  # field → the header text as written in the file
    rows: Iterator[Row]
    all_headers: tuple[str, ...]  # every header cell, blanks included, in column order


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how Excel names a column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def locate_header(source: Source, schema: Schema, extra: dict[str, tuple[str, ...]]) -> Table:
    """Find the header row (it may sit below title rows) and check the columns."""
    synonyms = synonym_table(schema, extra)
    head = list(itertools.islice(source.rows, _HEADER_SEARCH_ROWS))
    non_empty = [row for row in head if any(cell_text(c) for c in row[1])]
    if not non_empty:
        raise BadInput(f"{source.name}: 文件或工作表为空，没有表头和数据")
    best = max(non_empty, key=lambda row: _score(row[1], synonyms))
    if _score(best[1], synonyms) == 0:
        best = non_empty[0]
    line, cells = best
    columns, headers = _map_columns(source.name, line, cells, synonyms)
    _require(source, schema, line, cells, columns)
    remaining = itertools.chain((row for row in head if row[0] > line), source.rows)
    all_headers = tuple(cell_text(c) for c in cells)
    return Table(source.name, line, columns, headers, remaining, all_headers)


def _score(cells: list[object], synonyms: dict[str, str]) -> int:
    return len({synonyms[h] for h in map(normalize_header, cells) if h in synonyms})


def _map_columns(
    name: str, line: int, cells: list[object], synonyms: dict[str, str]
) -> tuple[dict[str, int], dict[str, str]]:
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    for index, cell in enumerate(cells):
        field = synonyms.get(normalize_header(cell))
        if field is None:
            continue
        if field in columns:
            first = columns[field]
            raise BadInput(
                f"{name}:{line}:{column_letter(index)}: 表头重复："
                f"第 {column_letter(first)} 列“{headers[field]}”和第 {column_letter(index)} 列"
                f"“{cell_text(cell)}”都表示{FIELDS[field].label}，请删除或改名其中一列"
            )
        columns[field] = index
        headers[field] = cell_text(cell)
    return columns, headers


def _require(source: Source, schema: Schema, line: int, cells: list[object], columns: dict[str, int]) -> None:
    missing = [FIELDS[f].label for f in schema.required if f not in columns]
    if not missing:
        return
    message = (
        f"{source.name}:{line}: {schema.label}文件缺少必需的列：{'、'.join(missing)}"
        f"（找到的列：{_shown_columns(cells)}）。可在 cuijiao.toml 的 [import] synonyms 中添加列名"
    )
    if not columns and source.encoding == "gb18030":
        message += "；如果列名是乱码，请用 --encoding 指定文件的编码"
    raise BadInput(message)


def _shown_columns(cells: list[object]) -> str:
    """The row taken for a header, each cell by its column letter; a word that is no
    known column name may be a name or a phone (a data row), so only its first
    character is shown."""
    known = {normalize_header(word) for f in FIELDS.values() for word in f.synonyms}
    known |= {normalize_header(word) for s in SCHEMAS.values() for _n, words in s.own_synonyms for word in words}
    shown = []
    for index, cell in enumerate(cells[:_SHOWN_COLUMNS]):
        text = cell_text(cell)
        if text:
            clear = normalize_header(text) in known
            shown.append(f"{column_letter(index)}“{text if clear else _masked(text)}”")
    if not shown:
        return "（无）"
    more = "……" if len(cells) > _SHOWN_COLUMNS else ""
    return "、".join(shown) + more + "；不认识的列名只显示首字"


def _masked(text: str) -> str:
    if sum(c.isdigit() for c in text) >= 7:
        return mask_phone(text)
    return text[:1] + "*" * min(len(text) - 1, 8) if len(text) > 1 else "*"


def cover_sheet_hint(path: Path, first: str, schema: Schema, extra: dict[str, tuple[str, ...]]) -> str | None:
    """When the first sheet of a workbook is a cover (说明), name the sheet that has the columns."""
    names = sheet_names(path)
    if len(names) < 2:
        return None
    found = None
    for name in names:
        if name == first:
            continue
        try:
            locate_header(open_source(path, sheet=name), schema, extra)
        except BadInput:
            continue
        found = name
        break
    listed = "、".join(names)
    message = f"{path.name}: 第一个工作表“{first}”中没有找到{schema.label}表头（工作表：{listed}）"
    if found is None:
        return message + "；请用 --sheet 指定数据所在的工作表"
    return message + f"；表头在工作表“{found}”中，请加 --sheet {found}"
