"""What a long command holds between its steps: the kept allocation as the kept file's pages, let go.

`cuijiao run` ages, plans, writes letters and reports in one process; each step
must not leave behind memory the next does not need. These tests read the
kernel's own account (/proc/self/smaps: pages of the kept file resident in this
process) and check that the figures never change for it.
"""

from __future__ import annotations

import mmap
import subprocess
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


_REUSE_PROBE = """
import resource, sys
from cuijiao.memory import reuse_freed_memory  # first, as in the CLI: numpy's settings are cuijiao's
import numpy as np
if sys.argv[1] == "reuse":
    assert reuse_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(2):  # three 24 MiB columns (6 million int32s each), made and freed
    columns = [np.ones(3 << 20) for _ in range(3)]
    del columns
before = faults()
columns = [np.ones(3 << 20) for _ in range(3)]
print(faults() - before)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's mallopt and the kernel's fault count")
def test_a_freed_column_s_memory_is_reused_without_faulting_it_in_again() -> None:
    """Each process its own, as the CLI's: the heap setting lasts the process."""
    def faults(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", _REUSE_PROBE, mode], capture_output=True, text=True, check=True)
        return int(done.stdout)

    pages = 3 * (24 << 20) // 4096
    assert faults("default") > pages // 2  # a fresh mapping: every page faulted in again
    assert faults("reuse") < pages // 10  # the heap's space, faulted in by the first column
