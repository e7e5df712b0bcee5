"""Consoles for terminal output: tables to stdout, messages to stderr."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Collection, Sequence
from typing import Annotated, Any, TypeVar

import typer
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.table import Column, Table
from rich.text import Text


def console(*, quiet: bool = False) -> Console:
    """A fresh console: it reads the terminal width (or $COLUMNS) at each use.

    Redirected to a file or a pipe, tables are drawn wide rather than cut to 80
    columns, so a saved report keeps every figure whole. Markup and emoji codes
    are off: every string printed is data (a unit id ``[/x]`` or a note
    ``:warning:`` is shown as written, never interpreted).
    """
    wide = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 250
    return Console(highlight=False, soft_wrap=False, width=wide, quiet=quiet, markup=False, emoji=False)


def screenful_rows() -> int:
    """Table rows that fit on the clerk's screen beside the title, header, totals and the lines after.

    Not a terminal (a pipe, a file, cron): 50 rows, or what $LINES leaves when set.
    """
    on_screen = sys.stdout.isatty() or os.environ.get("LINES")
    lines = shutil.get_terminal_size(fallback=(80, 62)).lines if on_screen else 62
    return max(lines - _LINES_AROUND_ROWS, 1)


_LINES_AROUND_ROWS = 12  # title, rules, header, totals row, the "only the largest" line, KPI lines

AllOption = Annotated[bool, typer.Option("--all", help="终端表格显示全部行（默认超过一屏时只显示欠费最多的）。")]

Row = TypeVar("Row")


def largest_first(rows: Sequence[Row], amounts: Sequence[int], *, show_all: bool) -> tuple[list[Row], int]:
    """The rows a terminal table shows, and how many it leaves out.

    More rows than a screenful, and not ``--all``: one screenful, the largest ``amounts``
    first (equal amounts keep their natural unit order). Otherwise every row, in order.
    """
    screenful = screenful_rows()
    if show_all or len(rows) <= screenful:
        return list(rows), 0
    order = sorted(range(len(rows)), key=lambda i: -amounts[i])
    return [rows[i] for i in order[:screenful]], len(rows) - screenful


def cut_note(shown: int, hidden: int, *, totals: bool = False) -> str:
    """The line under a cut table: how many rows there are and how to see or export them all."""
    return (f"共 {shown + hidden} 行，只显示欠费最多的 {shown} 行{'（合计为全部）' if totals else ''}；"
            "显示全部请加 --all，或用 --format csv -o 文件 导出")


def json_text(value: Any) -> str:
    """JSON laid out for people and programs alike: objects over several lines, each list element on one.

    A report of 50,000 units is then one unit per line (greppable, diffable),
    and each line comes from the C encoder; ``indent=`` would send the whole
    document through the pure-Python one, five times slower.
    """
    return _layout(value, "") + "\n"


_compact = json.JSONEncoder(ensure_ascii=False).encode


def _layout(value: Any, indent: str) -> str:
    inner = indent + "  "
    if isinstance(value, dict) and value:
        members = ",\n".join(f"{inner}{_compact(str(key))}: {_layout(item, inner)}" for key, item in value.items())
        return f"{{\n{members}\n{indent}}}"
    if isinstance(value, list) and value:
        elements = ",\n".join(inner + _compact(item) for item in value)
        return f"[\n{elements}\n{indent}]"
    return _compact(value)


def print_json(value: Any) -> None:
    """Machine-readable output: plain UTF-8 JSON on stdout, never Rich-wrapped."""
    sys.stdout.write(json_text(value))


class DataTable(Table):
    """A table whose text cells are always text: escaped whatever console prints it.

    ``text_headers``: columns of free text (file names …) that wrap even when they look like figures.
    """

    text_headers: frozenset[str] = frozenset()

    def add_row(self, *renderables: RenderableType | None, **options: Any) -> None:
        super().add_row(*(plain(cell) for cell in renderables), **options)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Figures and unit ids are never split: a table too wide for the terminal is printed in
        parts, each repeating the key columns (房号 …), rather than folding a number in two. A table
        with no rows is one line saying so, not empty frames."""
        if not self.rows:
            title = self.title.plain if isinstance(self.title, Text) else str(self.title or "")
            yield Text(f"{title}：无" if title else "（无）")
            return
        for column in self.columns:
            column.no_wrap = column.no_wrap or (_plain(column.header) not in self.text_headers
                                                and _whole_column(column))
        groups = _column_groups(self.columns, options.max_width)
        if len(groups) == 1:
            yield from super().__rich_console__(console, options)
            return
        for number, group in enumerate(groups, start=1):
            yield self._part(group, number, len(groups))

    def _part(self, group: list[int], number: int, parts: int) -> Table:
        title = self.title.plain if isinstance(self.title, Text) else str(self.title or "")
        part = Table(title=Text(f"{title}（第 {number}/{parts} 部分）"), show_lines=self.show_lines)
        columns = [self.columns[i] for i in group]
        for column in columns:
            part.add_column(column.header, justify=column.justify, overflow=column.overflow,
                            no_wrap=column.no_wrap)
        cells = [list(column.cells) for column in columns]
        for row_index, row in enumerate(self.rows):
            part.add_row(*(column[row_index] for column in cells), end_section=row.end_section)
        return part


def _column_groups(columns: list[Column], width: int) -> list[list[int]]:
    """Column indexes per printed part: all in one when the whole columns fit, else the leading
    key columns (unit id, number, building …) plus as many others as fit, part after part."""
    needs = [_column_need(column) for column in columns]
    if sum(needs) + 1 <= width or not any(c.no_wrap for c in columns):
        return [list(range(len(columns)))]
    keys = [0, *(i for i, c in enumerate(columns) if i and _plain(c.header) in WHOLE_COLUMNS)]
    base = sum(needs[i] for i in keys) + 1
    groups: list[list[int]] = []
    current: list[int] = []
    used = base
    for index in (i for i in range(len(columns)) if i not in keys):
        if current and used + needs[index] > width:
            groups.append(current)
            current, used = [], base
        current.append(index)
        used += needs[index]
    groups.append(current)
    if any(base + sum(needs[i] for i in group) > width for group in groups):
        for column in columns:  # even one column beside the keys does not fit: fold rather than crop
            column.no_wrap = False
        return [list(range(len(columns)))]
    return [sorted([*keys, *group]) for group in groups]


# A date, a receipt or notice number, a unit id, a period, an amount or a count: read wrong when split.
_TOKEN = re.compile(r"[!-~]{1,24}(?: [!-~]{1,12})?")  # ASCII, no space; "2026-11-25 09:30:00" too
_SHORT = 6  # cells as wide as "（无）" or "未指定" beside the figures do not make a column text


def _whole_column(column: Column) -> bool:
    """Whether every cell of the column is a figure, a date or an id (never split), not free text."""
    tokens = 0
    for cell in column.cells:
        text = cell.plain if isinstance(cell, Text) else str(cell)
        if _TOKEN.fullmatch(text):
            tokens += 1
        elif text and cell_len(text) > _SHORT:
            return False
    return tokens > 0


def _column_need(column: Column) -> int:
    """Cells plus padding and rule: a whole column's widest cell, a text column's header or 8."""
    widest = max([_width(column.header), *(_width(cell) for cell in column.cells)])
    return (widest if column.no_wrap else min(widest, max(_width(column.header), 8))) + 3


def _plain(header: object) -> str:
    return header.plain if isinstance(header, Text) else str(header)


def _width(cell: object) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(str(cell))


def plain(value: RenderableType | None) -> RenderableType | None:
    """A string as literal text (no markup, no emoji codes); anything else as it is."""
    return Text(value) if isinstance(value, str) else value


# Columns whose cells are never split over lines: a unit id or a figure read in two pieces is misread.
WHOLE_COLUMNS = frozenset({"房号", "序号"})


def new_table(title: str, headers: Sequence[str], *, right: Collection[str] = (),
              text: Collection[str] = ()) -> Table:
    """A table for 80 columns: text cells wrap (folding, never "…"); figures (the right-aligned
    columns), unit ids and every column of dates, numbers or ids stay on one line, so they are
    never split. ``text``: columns that wrap whatever they hold (a file name)."""
    table = DataTable(title=Text(title))
    table.text_headers = frozenset(text)
    for header in headers:
        whole = header in right or header in WHOLE_COLUMNS
        table.add_column(Text(header), justify="right" if header in right else "left", overflow="fold",
                         no_wrap=whole)
    return table
