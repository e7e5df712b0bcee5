"""``--format table|json|csv`` and ``-o FILE`` for every report command, in one place.

``--json`` (before the command) is the shorthand for ``--format json``; JSON is
the very object ``--json`` prints; CSV is UTF-8 with a BOM (Excel reads it as
Chinese), every cell through :mod:`cuijiao.reports.cells` (no formulas).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from cuijiao.cli.output import json_text, print_json
from cuijiao.errors import BadInput
from cuijiao.fileio import atomic_writer
from cuijiao.reports.cells import csv_row

REPORT_FORMATS = ("table", "json", "csv")

FormatOption = Annotated[str, typer.Option("--format", help="table、json 或 csv（--json 即 --format json）。")]
OutputFileOption = Annotated[
    Path | None, typer.Option("--output", "-o", metavar="FILE", help="写入文件（csv 必须指定）。")
]

# A CSV section: its headers and its rows; several are separated by an empty line.
Section = tuple[Sequence[str], Iterable[Sequence[Any]]]


def report_format(fmt: str, output: Path | None, *, as_json: bool,
                  formats: Sequence[str] = REPORT_FORMATS) -> str:
    """The format asked for (``--json`` wins), checked against ``output``; BadInput otherwise."""
    fmt = "json" if as_json else fmt.strip().lower()
    if fmt not in formats:
        raise BadInput(f"--format 只能是 {'、'.join(formats[:-1])} 或 {formats[-1]}，不是 {fmt}")
    if fmt in ("csv", "xlsx") and output is None:
        raise BadInput(f"--format {fmt} 需要用 -o 指定输出文件")
    if fmt == "table" and output is not None:
        files = "、".join(sorted((f for f in formats if f != "table"), key=("csv", "json", "xlsx").index))
        raise BadInput(f"-o 只用于 {files} 格式；表格请直接在终端查看，或改用 --format csv")
    return fmt


def write_json(output: Path | None, data: Any) -> None:
    """The object on stdout, or into ``output`` (then one line saying where)."""
    if output is None:
        print_json(data)
        return
    with atomic_writer(output) as stream:
        stream.write(json_text(data))
    typer.echo(f"已写入 {output}")


def write_csv_sections(output: Path, sections: Iterable[Section]) -> None:
    """UTF-8 with BOM, each cell neutralised; sections separated by an empty row."""
    with atomic_writer(output, encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        for index, (headers, rows) in enumerate(sections):
            if index:
                writer.writerow([])
            writer.writerow(csv_row(headers))
            writer.writerows(csv_row(row) for row in rows)
    typer.echo(f"已写入 {output}")


def emit_file(fmt: str, output: Path | None, data: Callable[[], Any],
              sections: Callable[[], Iterable[Section]]) -> bool:
    """Write ``json`` or ``csv``; False for ``table`` (the caller draws it)."""
    if fmt == "json":
        write_json(output, data())
        return True
    if fmt == "csv":
        assert output is not None
        write_csv_sections(output, sections())
        return True
    return False
