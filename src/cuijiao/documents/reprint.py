"""``notices reprint``: a notice's letter again, from what was recorded, and whether it matches."""

from __future__ import annotations

import glob
import json
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from cuijiao.documents.batch import context_hash, prepare, unmailable
from cuijiao.documents.context import letter_context
from cuijiao.documents.facts import one_notice
from cuijiao.documents.output import file_sha256, inside, safe_part, write_atomic
from cuijiao.documents.templates import template_name
from cuijiao.errors import BadInput
from cuijiao.fileio import private_dir
from cuijiao.store.audit import Run, append_event
from cuijiao.store.db import transaction
from cuijiao.workspace import Workspace


@dataclass(frozen=True)
class Reprint:
    path: Path
    sha256: str
    original: dict[str, str] | None  # the first render's event payload
    template_changed: bool
    data_changed: bool
    same_content: bool = False  # the original file, unchanged in out/, holds the same parts byte for byte

    @property
    def same(self) -> bool:
        return self.original is not None and self.original.get("sha256") == self.sha256

    @property
    def verdict(self) -> str:
        if self.original is None:
            # Not "the first": a batch killed after writing a letter and before recording it leaves one on disk.
            return ("此前没有记录过该通知的信件"
                    "（发出它的批处理若曾中断，再次运行 notices issue 或 run 即补齐并记录原件）")
        if self.same:
            return "与原件完全一致（SHA-256 相同）"
        if self.same_content:
            return ("与原件内容完全一致（文字、格式和各部件逐字节相同）；"
                    "原件由较早版本的 cuijiao 生成，压缩方式不同，所以文件的 SHA-256 不同")
        reasons = [why for changed, why in ((self.template_changed, "模板已修改"),
                                             (self.data_changed, "账目数据已变化")) if changed]
        return "与原件不同：" + ("、".join(reasons) or "生成方式已变化")


def _original(workspace: Workspace, notice_no: str) -> dict[str, str] | None:
    row = workspace.db.execute("SELECT payload FROM events WHERE kind = 'notice.render'"
                               " AND json_extract(payload, '$.notice_no') = ? ORDER BY id LIMIT 1",
                               (notice_no,)).fetchone()
    return dict(json.loads(row[0])) if row else None


def reprint_notice(workspace: Workspace, run: Run, notice_no: str, *, out_dir: Path | None = None) -> Reprint:
    facts = one_notice(workspace, notice_no)
    if facts is None:
        raise BadInput(f"没有编号为 {notice_no} 的通知（cuijiao audit log 可查已发出的通知）")
    library, company = prepare(workspace)
    notice = facts.notice
    name = template_name(notice.stage, notice.purpose, facts.segment)
    if unmailable(facts, name):
        raise BadInput(f"{notice_no} 房号 {notice.unit_id}：空置/外地户没有通讯地址，不能生成信件"
                       "（补录通讯地址后再次运行 notices issue 即生成原件）")
    template = library.get(name)
    context = letter_context(facts, company)
    folder = out_dir if out_dir is not None else workspace.out_dir / f"reprint_{run.id}"
    private_dir(folder)  # owners' names, phones and debts: 0700
    path = inside(folder, f"{notice.notice_no}_{safe_part(notice.unit_id)}.docx")
    sha = write_atomic(path, template.render(context))
    original = _original(workspace, notice_no)
    result = Reprint(path, sha, original,
                     original is not None and original.get("template_sha256") != template.sha256,
                     original is not None and original.get("context_sha256") != context_hash(context))
    if original is not None and not result.same and not (result.template_changed or result.data_changed):
        result = replace(result, same_content=_same_content(workspace, original, path))
    with transaction(workspace.db):
        append_event(workspace.db, run.id, "notice.reprint",
                     {"notice_no": notice_no, "file": str(path), "sha256": sha, "same_as_original": result.same,
                      "same_content": result.same_content}, unit_id=notice.unit_id)
    return result


def _same_content(workspace: Workspace, original: dict[str, str], reprinted: Path) -> bool:
    """Whether the original letter, found in out/ with the hash recorded for it, holds the same members as the
    reprint, inflated: a letter that an earlier cuijiao compressed differently reads the same."""
    name = original.get("file")
    if not name:
        return False
    for path in workspace.out_dir.glob(f"*/{glob.escape(name)}"):
        if path.is_file() and file_sha256(path) == original.get("sha256"):
            return _members(path) == _members(reprinted)
    return False


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {info.filename: package.read(info) for info in package.infolist()}
