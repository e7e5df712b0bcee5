"""``<file>.rejected.csv``: the rows ``--skip-invalid`` left out, with reasons.

Written UTF-8 with BOM so Excel opens it with the Chinese intact, atomically
(a temp file renamed into place), beside the file it came from.
"""

from __future__ import annotations

import csv
from pathlib import Path

from cuijiao.errors import Problem
from cuijiao.fileio import atomic_writer
from cuijiao.ingest.fields import Schema
from cuijiao.ingest.readers import cell_text, open_source
from cuijiao.ingest.table import locate_header
from cuijiao.reports.cells import csv_row


def rejected_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.rejected.csv")


def write_rejected(path: Path, schema: Schema, sheet: str | None, encoding: str | None,
                   problems: list[Problem], synonyms: dict[str, tuple[str, ...]]) -> Path:
    """Re-read ``path`` and copy each rejected row with its reasons."""
    reasons: dict[int, list[str]] = {}
    for problem in problems:
        reasons.setdefault(problem.row, []).append(
            f"{problem.column}: {problem.message}" if problem.column else problem.message
        )
    table = locate_header(open_source(path, sheet=sheet, encoding=encoding), schema, synonyms)
    target = rejected_path(path)
    with atomic_writer(target, encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(csv_row(["原行号", "错误原因", *table.all_headers]))
        for line, cells in table.rows:
            if line in reasons:  # a rejected cell may be a formula: opened in Excel, it stays text
                writer.writerow(csv_row([line, "；".join(reasons[line]), *map(cell_text, cells)]))
    return target
