"""The one place documents reach the disk: safe names inside one folder, atomic writes."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cuijiao.errors import BadInput

_UNSAFE = re.compile(r"[^\w\-.]+")


def safe_part(text: str) -> str:
    """A unit id as part of a file name: no separators, no leading dots, nothing Windows refuses."""
    cleaned = _UNSAFE.sub("_", text).replace("..", "_").strip("._ ")
    return cleaned[:60] or "_"


def inside(folder: Path, name: str) -> Path:
    """``folder/name``, refusing any name that would land elsewhere.

    No lstat of the path: every file goes into the folder under a temp name created afresh (never through a
    link planted there, :func:`create_new`) and is renamed over the name, and a rename replaces a link at
    its destination instead of following it. (A month's batch writes tens of thousands of letters.)
    """
    if "/" in name or "\\" in name or name in ("", ".", ".."):
        raise BadInput(f"文件名“{name}”不安全，拒绝写入")
    return folder / name


def create_new(path: Path) -> int:
    """A descriptor of a new, empty file at ``path`` (0600), never of a file or link already there: a stale
    one (a temp name of a killed process with the same pid) is removed first."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL
    try:
        return os.open(path, flags, 0o600)
    except FileExistsError:
        path.unlink()
        return os.open(path, flags, 0o600)


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> str:
    """Write ``data`` to a temp file beside ``path``, then rename it over; returns its SHA-256.

    ``durable=False`` skips the per-file fsync: a batch writes many letters, then
    makes them durable at once with :func:`sync_files` before it records their hashes.
    """
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # one writer per name: the pid keeps them apart
    handle = create_new(temp)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
        _rename(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()


def publish(temp: Path, path: Path) -> str:
    """Make the finished file ``temp`` durable and rename it to ``path``; returns its SHA-256, read in blocks
    (a month's print file is over 100 MB: not held in memory to be written again)."""
    handle = os.open(temp, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
    _rename(temp, path)
    return file_sha256(path)


def _rename(temp: Path, path: Path) -> None:
    """``temp`` renamed over ``path``; a refusal (a folder at ``path``) names ``path``, the name the clerk knows,
    not the temp file the system names first."""
    try:
        temp.replace(path)
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None


def sync_files(paths: list[Path]) -> None:
    """Make written files (and their renames) durable: one sync(2) where there is one, else fsync each."""
    if hasattr(os, "sync"):
        os.sync()
        return
    for path in paths:
        handle = os.open(path, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


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
