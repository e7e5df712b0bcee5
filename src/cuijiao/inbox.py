"""The inbox of the monthly run: files that arrived, told apart by their columns.

Each new file in ``inbox/`` is recognised as units, charges or payments by the
columns it carries (the header a billing system wrote), not by its name; the
name only breaks a tie. Files are imported one at a time, units first, then
charges, then payments, each in its own transaction, and then moved to
``inbox/done/<run>/`` or, with a report of what was wrong, to
``inbox/failed/<run>/``. A file that fails does not stop the others.

Killed between an import's commit and the move, the next run imports the
same file again, which changes nothing (imports are idempotent), and moves it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cuijiao.errors import BadInput, CuijiaoError
from cuijiao.fileio import atomic_writer
from cuijiao.ingest.fields import SCHEMAS
from cuijiao.ingest.importer import ImportOptions, import_files
from cuijiao.ingest.readers import open_source, sheet_names
from cuijiao.ingest.table import locate_header
from cuijiao.store.audit import Run
from cuijiao.workspace import Workspace

ORDER = ("units", "charges", "payments")
DONE, FAILED = "done", "failed"
# Words in a file name that say its kind, used only when the columns fit two kinds.
_NAME_HINTS = {"units": ("unit", "房屋", "业主", "房产"), "charges": ("charge", "应收", "账单"),
               "payments": ("payment", "实收", "收款", "缴费")}
ERROR_SUFFIX = ".错误.txt"


@dataclass(frozen=True)
class InboxFile:
    """What happened to one inbox file."""

    name: str
    kind: str | None
    moved_to: Path
    inserted: int = 0
    unchanged: int = 0
    error: str = ""
    sheet: str | None = None  # the sheet read, when not a workbook's first
    notes: tuple[str, ...] = ()  # rows skipped and warnings, each naming file, row and column

    @property
    def ok(self) -> bool:
        return not self.error


def pending_files(inbox: Path) -> list[Path]:
    """Files waiting in the inbox (not its done/failed folders, not Excel's ~$ lock files)."""
    if not inbox.is_dir():
        return []
    return sorted(p for p in inbox.iterdir()
                  if p.is_file() and not p.name.startswith((".", "~$")) and not p.name.endswith(ERROR_SUFFIX))


def recognise(workspace: Workspace, path: Path) -> tuple[str, str | None]:
    """The kind of ``path`` by its columns, and the sheet that has them (None: a CSV or the first
    sheet); :class:`BadInput` saying why when none fits. A workbook whose first sheet is a cover
    (说明) is read from the one other sheet that has a kind's columns: a run cannot ask for --sheet."""
    try:
        return _kind(workspace, path, None), None
    except BadInput as first:
        names = sheet_names(path)
        if len(names) < 2:
            raise
        found = []
        for name in names[1:]:
            try:
                found.append((_kind(workspace, path, name), name))
            except BadInput:
                continue
        if len(found) == 1:
            return found[0]
        listed = "、".join(names)
        if found:
            sheets = "、".join(f"“{name}”" for _kind_found, name in found)
            raise BadInput(f"{path.name}: 第一个工作表“{names[0]}”不是数据表，而工作表 {sheets} 都像数据表"
                           f"（工作表：{listed}）；请每个文件只留一个数据表，"
                           "或用 cuijiao import --sheet 导入") from None
        raise BadInput(f"{first}\n工作簿的各个工作表（{listed}）都没有找到表头；"
                       "请把数据放在第一个工作表，或用 cuijiao import --sheet 导入") from None


def _kind(workspace: Workspace, path: Path, sheet: str | None) -> str:
    fits: list[str] = []
    reasons: list[str] = []
    for kind in ORDER:
        source = open_source(path, sheet=sheet)  # a file no kind could read (encoding, not a table) fails here
        try:
            locate_header(source, SCHEMAS[kind], workspace.settings.header_synonyms)
        except BadInput as exc:
            reasons.append(str(exc))
            continue
        fits.append(kind)
    if len(fits) == 1:
        return fits[0]
    if fits:
        hinted = [kind for kind in fits if any(word in path.name.lower() for word in _NAME_HINTS[kind])]
        if len(hinted) == 1:
            return hinted[0]
        raise BadInput(f"{path.name}: 列同时符合{'、'.join(SCHEMAS[k].label for k in fits)}文件，无法判断类型；"
                       "请在文件名中注明（如“应收”“实收”），或用 cuijiao import 导入")
    if len(set(reasons)) == 1:
        raise BadInput(reasons[0])  # the same for every kind (an empty file, a sheet without rows)
    lines = [f"按{SCHEMAS[kind].label}文件：{why}" for kind, why in zip(ORDER, reasons, strict=True)]
    raise BadInput(f"{path.name}: 无法识别文件类型（房屋业主、应收或实收），列不符合任何一种：\n" + "\n".join(lines))


def import_inbox(workspace: Workspace, run: Run, inbox: Path, label: str) -> Iterator[InboxFile]:
    """Import every pending file in order, moving each to done/ or failed/ as it goes."""
    kinds: list[tuple[int, str, Path, str, str | None]] = []
    failed: list[InboxFile] = []
    for path in pending_files(inbox):
        try:
            kind, sheet = recognise(workspace, path)
        except CuijiaoError as exc:
            failed.append(_fail(inbox, label, path, None, str(exc)))
            continue
        kinds.append((ORDER.index(kind), path.name, path, kind, sheet))
    yield from failed
    for _rank, _name, path, kind, sheet in sorted(kinds, key=lambda found: found[:2]):
        try:
            result = import_files(workspace, run, kind, [path], ImportOptions(sheet=sheet))
        except CuijiaoError as exc:
            yield _fail(inbox, label, path, kind, str(exc))
            continue
        totals = result.totals()
        notes = tuple([f"已跳过 {problem}" for report in result.files for problem in report.rejected]
                      + [f"提醒 {warning}" for report in result.files for warning in report.warnings])
        yield InboxFile(path.name, kind, _move(path, inbox / DONE / label),
                        inserted=totals["inserted"], unchanged=totals["unchanged"], sheet=sheet, notes=notes)


def _fail(inbox: Path, label: str, path: Path, kind: str | None, reason: str) -> InboxFile:
    target = inbox / FAILED / label
    target.mkdir(parents=True, exist_ok=True)
    # The report first: a kill between the two leaves the file in the inbox, to be tried again.
    with atomic_writer(target / f"{path.name}{ERROR_SUFFIX}") as stream:
        stream.write(f"{path.name}: 未导入。\n{reason}\n")
    return InboxFile(path.name, kind, _move(path, target), error=reason)


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    path.replace(target)  # one rename on one file system: the file is in one place or the other
    return target
