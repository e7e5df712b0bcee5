"""What an import did, file by file: the summary, the JSON and the audit payload."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cuijiao.errors import EXIT_OK, EXIT_WARNINGS, Problem

ENCODING_LABELS = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "gb18030": "GB18030", "utf-16": "UTF-16"}


@dataclass
class FileReport:
    """What one file did to the workspace."""

    path: Path
    name: str = ""
    sha256: str = ""
    size_bytes: int = 0
    encoding: str | None = None
    sheet: str | None = None
    rows_read: int = 0
    inserted: int = 0
    unchanged: int = 0
    replaced: int = 0
    blank_rows: int = 0
    totals_rows: list[int] = field(default_factory=list)
    footer_rows: list[int] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    rejected_file: Path | None = None
    warnings: list[Problem] = field(default_factory=list)  # stored, but a clerk should look (payment_checks)

    @property
    def rejected_rows(self) -> int:
        return len({problem.row for problem in self.rejected})

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.name, "sha256": self.sha256, "rows_read": self.rows_read,
            "inserted": self.inserted, "unchanged": self.unchanged, "replaced": self.replaced,
            "rejected": self.rejected_rows, "blank_rows": self.blank_rows,
            "totals_rows": self.totals_rows, "footer_rows": self.footer_rows,
            "encoding": ENCODING_LABELS.get(self.encoding or "", self.encoding),
            "rejected_file": str(self.rejected_file) if self.rejected_file else None,
            "problems": [str(problem) for problem in self.rejected],
            "warnings": [str(warning) for warning in self.warnings],
        }


@dataclass
class ImportResult:
    kind: str
    files: list[FileReport]
    dry_run: bool

    @property
    def exit_code(self) -> int:
        return EXIT_WARNINGS if any(f.rejected or f.warnings for f in self.files) else EXIT_OK

    def totals(self) -> dict[str, int]:
        keys = ("rows_read", "inserted", "unchanged", "replaced")
        totals = {key: sum(getattr(f, key) for f in self.files) for key in keys}
        totals["rejected"] = sum(f.rejected_rows for f in self.files)
        totals["totals_rows"] = sum(len(f.totals_rows) for f in self.files)
        totals["footer_rows"] = sum(len(f.footer_rows) for f in self.files)
        return totals

    @property
    def encodings(self) -> list[str]:
        """The encodings detected in the text files, as a clerk knows them (GB18030, UTF-8)."""
        found = (ENCODING_LABELS.get(f.encoding, f.encoding.upper()) for f in self.files if f.encoding)
        return list(dict.fromkeys(found))
