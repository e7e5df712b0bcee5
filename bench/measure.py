"""Run a command as its own process and measure it: wall clock and peak memory."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mib: float
    output: str


def run_measured(command: list[str]) -> Measured:
    """Wall-clock seconds, peak resident memory (wait4 → ru_maxrss) and stdout.

    Output goes to a temporary file: a pipe read only at the end would fill and
    stall a child that prints much (a JSON report of 100,000 units).
    """
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command[:6])} failed:\n{err.read()}")
        return Measured(seconds, usage.ru_maxrss / 1024, out.read())
