"""Files cuijiao writes: atomic, private, and only where they were asked for.

A crash leaves the old file or the new one, never half: each file is written
to a temp file beside it (named with the writer's process id) and renamed
over it. A killed writer's temp file is removed by the next write of the same
file. Files are created 0600 and folders 0700, since most of them name owners.
An output path that is missing its folder, is a folder, a device or other
special file, or a symbolic link is refused before anything is written.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from cuijiao.errors import BadInput

_TEMP_MARK = ".cuijiao-"

# Why the system refused a path, as a clerk can act on it.
_OS_REASONS = {
    errno.ENOENT: "不存在，也无法在该处新建（上级文件夹不存在或不允许新建）",
    errno.ENOTDIR: "路径中有一段是文件，不是文件夹",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EROFS: "所在的磁盘是只读的",
    errno.ENOSPC: "磁盘空间已满",
    errno.EDQUOT: "超出磁盘配额",
    errno.EEXIST: "同名的文件已存在",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENAMETOOLONG: "路径太长",
    errno.ELOOP: "符号链接过多",
}


def os_reason(exc: OSError) -> str:
    """The system's refusal in Chinese: ``路径中有一段是文件，不是文件夹``."""
    return _OS_REASONS.get(exc.errno or 0, f"系统错误（错误号 {exc.errno}）")


def os_problem(exc: OSError, path: Path | str | None = None) -> str:
    """``无法使用 afile/sub：路径中有一段是文件，不是文件夹`` — the path the system named, else ``path``."""
    where = exc.filename if exc.filename is not None else path
    return f"无法使用 {where}：{os_reason(exc)}" if where is not None else f"文件操作失败：{os_reason(exc)}"


def check_output_path(path: Path) -> None:
    """Refuse (exit 2) an output path cuijiao must not write through."""
    if path.is_symlink():
        raise BadInput(f"输出路径 {path} 是符号链接，为免写到别处，未写入。请指定一个普通文件路径")
    if not path.parent.is_dir():
        raise BadInput(f"输出目录 {path.parent} 不存在，未写入。请先创建该目录，或换一个路径")
    if path.is_dir():
        raise BadInput(f"输出路径 {path} 是一个目录，未写入。请在目录后加上文件名，如 {path / '报表.xlsx'}")
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        raise BadInput(f"输出路径 {path} 不是普通文件（设备、管道等），未写入。请换一个文件路径")


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (a zombie awaiting its parent counts as ended)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another account's process
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def clean_stale_temps(path: Path) -> list[Path]:
    """Remove temp files a killed writer of ``path`` left beside it; returns them."""
    removed = []
    for temp in path.parent.glob(f".{_glob_escape(path.name)}{_TEMP_MARK}*.tmp"):
        pid = temp.name.removeprefix(f".{path.name}{_TEMP_MARK}").split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            temp.unlink(missing_ok=True)
            removed.append(temp)
    return removed


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A private (0600) temp path beside ``path`` to write to; renamed over ``path`` when the block ends."""
    check_output_path(path)
    temp = path.with_name(f".{path.name}{_TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        clean_stale_temps(path)
        os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as exc:  # a read-only disk, no permission: said of the file asked for, not the temp
        raise BadInput(f"无法写入 {path}：{os_reason(exc)}，未写入。请换一个文件路径") from None
    try:
        yield temp
        with temp.open("rb+") as written:
            os.fsync(written.fileno())
        temp.chmod(0o600)  # a writer that re-created the file got the umask's mode
        temp.replace(path)
    except OSError as exc:  # a full disk while writing: the old file (if any) is kept whole
        temp.unlink(missing_ok=True)
        raise BadInput(f"无法写入 {path}：{os_reason(exc)}，未写入（原有文件未改动）") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_writer(path: Path, *, encoding: str = "utf-8", newline: str | None = None) -> Iterator[IO[str]]:
    """Write text to a temp file beside ``path``, then rename it over ``path``."""
    with atomic_path(path) as temp, temp.open("w", encoding=encoding, newline=newline) as stream:
        yield stream


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file and a rename."""
    with atomic_path(path) as temp:
        temp.write_bytes(data)


def write_private_text(path: Path, text: str, *, append: bool = False) -> None:
    """Write (or append) ``text`` as UTF-8 to ``path``, a file only its owner can read (0600)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    handle = os.open(path, flags, 0o600)
    os.fchmod(handle, 0o600)  # a file made before this rule keeps no wider mode
    with os.fdopen(handle, "a" if append else "w", encoding="utf-8") as stream:
        stream.write(text)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700; an existing folder is left as it is."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
