"""Consoles for terminal output: tables to stdout, messages to stderr."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Collection, Sequence
from typing import Any

from rich.console import Console, RenderableType
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


def plain(value: RenderableType | None) -> RenderableType | None:
    """A string as literal text (no markup, no emoji codes); anything else as it is."""
    return Text(value) if isinstance(value, str) else value


def new_table(title: str, headers: Sequence[str], *, right: Collection[str] = ()) -> Table:
    """A table whose cells fold rather than end in "…": no figure is ever cut off."""
    table = DataTable(title=Text(title))
    for header in headers:
        table.add_column(Text(header), justify="right" if header in right else "left", overflow="fold")
    return table
