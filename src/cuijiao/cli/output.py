"""Consoles for terminal output: tables to stdout, messages to stderr."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Collection, Sequence
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.table import Table
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
    """A table whose text cells are always text: escaped whatever console prints it."""

    def add_row(self, *renderables: RenderableType | None, **options: Any) -> None:
        super().add_row(*(plain(cell) for cell in renderables), **options)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Whole columns stay whole only when they fit: cropping a figure is worse than folding it."""
        whole = [c for c in self.columns if c.no_wrap]
        need = sum(max([_width(c.header), *(_width(cell) for cell in c.cells)]) for c in whole)
        need += 3 * len(self.columns) + 1 + 2 * (len(self.columns) - len(whole))
        if whole and need > options.max_width:
            for column in whole:
                column.no_wrap = False
        yield from super().__rich_console__(console, options)


def _width(cell: object) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(str(cell))


def plain(value: RenderableType | None) -> RenderableType | None:
    """A string as literal text (no markup, no emoji codes); anything else as it is."""
    return Text(value) if isinstance(value, str) else value


# Columns whose cells are never split over lines: a unit id or a figure read in two pieces is misread.
WHOLE_COLUMNS = frozenset({"房号", "序号"})


def new_table(title: str, headers: Sequence[str], *, right: Collection[str] = ()) -> Table:
    """A table for 80 columns: text cells wrap (folding, never "…"); figures (the right-aligned
    columns) and unit ids stay on one line, so they are never split."""
    table = DataTable(title=Text(title))
    for header in headers:
        whole = header in right or header in WHOLE_COLUMNS
        table.add_column(Text(header), justify="right" if header in right else "left", overflow="fold",
                         no_wrap=whole)
    return table
