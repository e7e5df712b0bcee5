"""The one place documents reach the disk: safe names inside one folder, atomic writes."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cuijiao.errors import BadInput

_UNSAFE = re.compile(r"[^\w\-.]+")


def safe_part(text: str) -> str:
    """A unit id as part of a file name: no separators, no leading dots, nothing Windows refuses."""
    cleaned = _UNSAFE.sub("_", text).replace("..", "_").strip("._ ")
    return cleaned[:60] or "_"


def inside(folder: Path, name: str) -> Path:
    """``folder/name``, refusing any name that would land elsewhere."""
    path = folder / name
    if path.resolve().parent != folder.resolve() or "/" in name or "\\" in name:
        raise BadInput(f"文件名“{name}”不安全，拒绝写入")
    return path


def write_atomic(path: Path, data: bytes) -> str:
    """Write ``data`` to a temp file beside ``path``, then rename it over; returns its SHA-256."""
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Written:
    """One file of a run, as the manifest lists it."""

    path: Path
    sha256: str
    unit_id: str = ""
    notice_no: str = ""
    stage: int | None = None
    amount_fen: int | None = None
