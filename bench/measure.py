"""Run a command as its own process and measure it: wall clock and peak memory.

Peak memory is the largest sum of memory over the command and every process it
starts (the aging report ages a large estate in worker processes), sampled from
/proc ten times a second, and never less than the kernel's own peak for the
command itself (wait4 → ru_maxrss). Each process counts its proportional set
size (Pss, /proc/PID/smaps_rollup): pages a forked worker still shares with its
parent are counted once between them, as the machine holds them once, where a
sum of resident sizes would count them in every process (falls back to VmRSS
where smaps_rollup is missing).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mib: float
    output: str


def _tree_rss_kib(root: int) -> int:
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    return sum(_memory_kib(pid) for pid in tree)


def _memory_kib(pid: int) -> int:
    """Pss of the process (shared pages divided among their sharers), else its resident size."""
    for name, field in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            text = (PROC / str(pid) / name).read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def run_measured(command: list[str], accept: tuple[int, ...] = (0,)) -> Measured:
    """Wall-clock seconds, peak memory of the process tree and stdout.

    Output goes to a temporary file: a pipe read only at the end would fill and
    stall a child that prints much (a JSON report of 100,000 units).
    """
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.1):
                peak[0] = max(peak[0], _tree_rss_kib(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) not in accept:
            raise SystemExit(f"{' '.join(command[:6])} failed:\n{err.read()}")
        return Measured(seconds, max(peak[0], usage.ru_maxrss) / 1024, out.read())
