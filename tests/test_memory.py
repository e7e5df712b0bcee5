"""What a long command holds between its steps: the kept allocation as the kept file's pages, let go.

`cuijiao run` ages, plans, writes letters and reports in one process; each step
must not leave behind memory the next does not need. These tests read the
kernel's own account (/proc/self/smaps: pages of the kept file resident in this
process) and check that the figures never change for it.
"""

from __future__ import annotations

import mmap
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import Invoke
from cuijiao.allocated import AllocatedEstate, join
from cuijiao.arrears import _allocate_part, aging_report, allocated_estate, over_units
from cuijiao.documents.facts import LetterReader
from cuijiao.memory import between_steps
from cuijiao.store import allocation_cache
from cuijiao.store.notices import stored_notices
from cuijiao.workspace import open_workspace
from test_allocated_update import decoded
from test_allocation_cache import AS_OF, CHARGES, LATER_CHARGES, PAYMENTS, _import
from test_kept_month import cuijiao, estate

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not hasattr(mmap, "MADV_DONTNEED"),
                                reason="reads /proc/self/smaps; pages are let go with MADV_DONTNEED")


def kept_file_resident_kib() -> int:
    """Pages of any kept allocation file resident in this process, as the kernel counts them."""
    total, ours = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and not fields[0].endswith(":"):
            ours = len(fields) > 5 and "/cache/allocation-" in fields[5]
        elif ours and fields[0] == "Rss:":
            total += int(fields[1])
    return total


def mapped(column: np.ndarray) -> bool:
    base = column.base
    while isinstance(base, np.ndarray | memoryview):
        base = base.obj if isinstance(base, memoryview) else base.base
    return isinstance(base, mmap.mmap)


def touch(estate: AllocatedEstate) -> int:
    """Read every column, as a step's passes do."""
    return sum(int(getattr(estate, name).sum()) for name in AllocatedEstate.array_names())


def test_a_computed_allocation_is_held_as_its_kept_file_and_let_go_between_steps(
        with_units: Invoke, workspace_dir: Path, tmp_path: Path) -> None:
    """Computed afresh, then extended by a month: once kept, the process holds the kept file's pages
    (which the kernel can take back), not the arrays it computed; they equal the whole ledger allocated
    afresh, and letting them go between steps changes no figure."""
    _import(with_units, tmp_path, "charges", CHARGES, "c.csv")
    _import(with_units, tmp_path, "payments", PAYMENTS, "p.csv")
    workspace = open_workspace(workspace_dir)
    try:
        for month in ("first", "extended"):
            if month == "extended":
                _import(with_units, tmp_path, "charges", LATER_CHARGES, "c2.csv")
            report = aging_report(workspace, AS_OF)
            held = allocated_estate(workspace)
            assert all(mapped(getattr(held, name)) for name in AllocatedEstate.array_names()), month
            assert decoded(held) == decoded(join(over_units(workspace, _allocate_part, workers=1))), month
            touch(held)
            assert kept_file_resident_kib() > 0, month  # the pages are the kept file's
            between_steps(workspace)
            assert kept_file_resident_kib() == 0, month
            assert aging_report(workspace, AS_OF) == report, month  # read back in from the page cache
            # Only the file this process wrote is taken unchecked: one another process named since is not.
            state = allocation_cache.ledger_state(workspace.db)
            token = bytes(workspace.db.execute("SELECT data FROM allocation_cache WHERE name = 'file'")
                          .fetchone()[0]).decode()
            assert allocation_cache.mapped(workspace.db, state, token) is not None
            assert allocation_cache.mapped(workspace.db, state, "0" * len(token)) is None
            kept_file = workspace_dir / "cache" / f"allocation-{token}.bin"
            assert kept_file.stat().st_mode & 0o777 == 0o400  # nobody's writes in place, not even ours
    finally:
        workspace.close()


def test_the_letters_facts_let_the_kept_pages_go_after_each_chunk(tmp_path: Path) -> None:
    """A batch's letters read their units' rows of the kept columns chunk by chunk: held to the end, the
    pages of every letter's unit added up to a quarter of the month's peak memory."""
    root = estate(tmp_path, 120, 7)
    cuijiao(root, "notices", "issue", "--as-of", "2026-07-27")
    workspace = open_workspace(root)
    try:
        notices = stored_notices(workspace.db)
        assert notices
        reader = LetterReader(workspace)
        touch(allocated_estate(workspace))
        assert kept_file_resident_kib() > 0
        facts = list(reader.facts(notices))
        assert any(f.lines for f in facts)  # the kept columns were read for them
        assert kept_file_resident_kib() == 0
    finally:
        workspace.close()
