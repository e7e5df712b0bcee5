"""Memory handed back between the steps of one long command (``cuijiao run``).

Each step of the monthly batch fits in memory on its own; run in one process,
what a step leaves behind adds to the next one's peak. Three things are left
that no Python reference holds: the pages of the kept allocation's file that the
step read (they stay resident in the process until it lets them go), SQLite's
page cache (up to 64 MiB per connection), and the C heap's free space, which
glibc keeps rather than returns after a step freed many small objects.
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


def _trim_heap() -> None:
    """glibc's malloc_trim: free heap pages back to the kernel (a C library without it: no-op)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """The process's own C library's malloc_trim, looked up once (not a library search per step)."""
    with contextlib.suppress(OSError, AttributeError):
        return cast(Callable[[int], int], ctypes.CDLL(None).malloc_trim)
    return None
