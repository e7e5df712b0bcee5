"""How long creating a month's letter files takes right after as many files were deleted.

ext4 mounted without a journal (this machine's root) does not reuse an inode freed
in the last minute: on every new file it walks the group's free inodes and checks
each one's deletion time. Right after a month's letters were deleted, each new
letter's file walks past all of them. bench_month.py therefore removes its old
copies at its start, minutes before a step writes letters. Run:

    python bench/inode_reuse.py [files]

It prints the file system and whether it has a journal (Linux lists the
journaled ones in /proc/fs/jbd2), and three timings of creating the files as letters are
written (a temp name, then a rename): into a fresh folder, into another right
after the first folder's were deleted, and the same after a minute's wait.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRATCH = HERE / "out" / "inode-reuse"


def create(folder: Path, files: int) -> float:
    folder.mkdir(parents=True)
    started = time.perf_counter()
    for number in range(files):
        temp, final = folder / f".{number}.tmp", folder / f"{number}.docx"
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(handle, b"letter")
        os.close(handle)
        temp.replace(final)
    return time.perf_counter() - started


def file_system(path: Path) -> str:
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return "unknown"
    point, kind, device = "", "unknown", ""
    for line in mounts:
        mounted, at, fs_type, *_ = line.split()
        if str(path).startswith(at) and len(at) >= len(point):
            point, kind, device = at, fs_type, Path(mounted).name
    jbd2 = Path("/proc/fs/jbd2")
    journals = [entry.name for entry in jbd2.iterdir()] if jbd2.is_dir() else []
    journal = "with a journal" if any(name.startswith(f"{device}-") for name in journals) else "without a journal"
    return f"{kind} on {point} ({device}), {journal if kind.startswith('ext') else 'journal unknown'}"


def main() -> None:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 40_000
    shutil.rmtree(SCRATCH, ignore_errors=True)
    SCRATCH.mkdir(parents=True)
    print(f"file system: {file_system(SCRATCH)}")
    fresh = create(SCRATCH / "first", files)
    os.sync()
    shutil.rmtree(SCRATCH / "first")
    os.sync()
    after_delete = create(SCRATCH / "second", files)
    time.sleep(65)
    later = create(SCRATCH / "third", files)
    shutil.rmtree(SCRATCH)
    print(f"{files:,} files created (temp name, then rename): fresh {fresh:.2f} s; "
          f"right after {files:,} others were deleted {after_delete:.2f} s ({after_delete / fresh:.1f}×); "
          f"65 s after that {later:.2f} s")


if __name__ == "__main__":
    main()
