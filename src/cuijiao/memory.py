"""Memory handed back between the steps of one long command (``cuijiao run``).

Each step of the monthly batch fits in memory on its own; run in one process,
what a step leaves behind adds to the next one's peak. Three things are left
that no Python reference holds: the pages of the kept allocation's file that the
step read (they stay resident in the process until it lets them go), SQLite's
page cache (up to 64 MiB per connection), and the C heap's free space, which
glibc keeps rather than returns after a step freed many small objects.
The CLI also keeps numpy's mid-sized temporaries in that heap (:func:`reuse_freed_memory`).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import sqlite3
from collections.abc import Callable
from typing import cast

from cuijiao.allocated import AllocatedEstate
from cuijiao.allocated_update import let_pages_go
from cuijiao.workspace import Workspace


def between_steps(workspace: Workspace) -> None:
    """Give back what the step before held and the next one does not need; nothing is recomputed for it
    (the kept pages fault back in from the page cache, SQLite rereads pages it needs)."""
    if workspace.kept_estate is not None:
        let_pages_go(cast(AllocatedEstate, workspace.kept_estate[1]))
    give_back(workspace.db)


def give_back(db: sqlite3.Connection) -> None:
    """SQLite's page cache and the C heap's free space, after reading many rows and before a pass that
    needs memory of its own (the allocation's update: a sixth less at its peak)."""
    db.execute("PRAGMA shrink_memory")
    _trim_heap()


def reuse_freed_memory() -> bool:
    """Arrays up to 32 MiB from the C heap, where the space of freed ones is reused, rather than each
    from a new mapping: glibc gives a block above its threshold (128 KiB, rising with use) a mapping
    of its own and unmaps it when freed, so each estate-sized temporary of numpy's costs a page fault
    per 4 KiB again (the first aging after a month's import at 100,000 units: 590,000 faults, 480,000
    with this; 4.0 → 3.7 s, median of four). The heap's free space goes back to the kernel in
    :func:`give_back` (malloc_trim), not at every free. For a process's start (the CLI); False where
    the C library has no mallopt."""
    mallopt = _c_function("mallopt")
    if mallopt is None:
        return False
    # glibc's largest threshold: bigger blocks (a few int64 columns) still go back to the kernel when freed,
    # as a heap of them was the monthly run's peak (+100 MiB, from space freed in pieces too small to reuse).
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 << 20) and mallopt(_M_TRIM_THRESHOLD, 1 << 30))


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h


def _trim_heap() -> None:
    """glibc's malloc_trim: free heap pages back to the kernel (a C library without it: no-op)."""
    trim = _c_function("malloc_trim")
    if trim is not None:
        trim(0)


@functools.cache
def _c_function(name: str) -> Callable[..., int] | None:
    """A function of the process's own C library (glibc), looked up once (not a library search per step);
    None for a C library without it."""
    with contextlib.suppress(OSError, AttributeError):
        return cast(Callable[..., int], getattr(ctypes.CDLL(None), name))
    return None
