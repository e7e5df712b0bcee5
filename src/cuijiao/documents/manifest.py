"""``manifest.csv``: every file of a run with its SHA-256, written last. Returns bytes.

A unit id is the ledger's text: a cell Excel would read as a formula is neutralised (``reports.cells``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from cuijiao.documents.output import Written
from cuijiao.money import format_yuan
from cuijiao.reports.cells import csv_row

# A clerk opens it in Excel: Chinese headers. Earlier manifests have the header
# file,unit_id,notice_no,stage,amount,sha256; listed_files skips whichever header a file has.
HEADER = ("文件", "房号", "通知编号", "级别", "金额", "SHA-256")


def manifest_csv(written: Sequence[Written]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for w in written:
        writer.writerow(csv_row([w.path.name, w.unit_id, w.notice_no, "" if w.stage is None else w.stage,
                                 "" if w.amount_fen is None else format_yuan(w.amount_fen), w.sha256]))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def listed_files(path: Path) -> set[str]:
    """The file names a manifest lists (empty when it is missing)."""
    if not path.is_file():
        return set()
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = csv.reader(stream)
        next(rows, None)  # the header, old or new
        return {row[0] for row in rows if row}
