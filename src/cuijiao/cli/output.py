"""Consoles for terminal output: tables to stdout, messages to stderr."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console


def console() -> Console:
    """A fresh console: it reads the terminal width (or $COLUMNS) at each use."""
    return Console(highlight=False, soft_wrap=False)


def print_json(value: Any) -> None:
    """Machine-readable output: plain UTF-8 JSON on stdout, never Rich-wrapped."""
    print(json.dumps(value, ensure_ascii=False, indent=2))
