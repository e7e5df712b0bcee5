"""Letters per second: cuijiao's renderer against docxtpl on the same template, in one run.

    python bench/bench_letters.py [--letters 20000] [--docxtpl 200] [--workers 2]

Both render the shipped 催缴函 (stage3_demand.docx: letterhead, an itemised table of
12 owed months, a receipt page) with the same contexts and write each letter to disk.
cuijiao renders Jinja on the parts with tags and copies every other zip member as
the compressed bytes the template holds (``cuijiao.documents.docxzip``), in worker
processes fed in bounded chunks, as ``notices issue`` does. Each side runs as its own
process (``measure.run_measured``): wall clock, peak memory of the process tree.
Memory is measured at two sizes to show it stays flat in the number of letters.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from cuijiao.documents.batch import render_one
from cuijiao.documents.context import example_company, example_facts, letter_context
from cuijiao.documents.facts import Line
from cuijiao.documents.output import sync_files
from cuijiao.documents.templates import Library, shipped_files
from cuijiao.money import parse_amount
from measure import run_measured

TEMPLATE = "stage3_demand"
CHUNK = 500


def context(index: int) -> dict[str, Any]:
    facts = example_facts()
    lines = tuple(Line("物业服务费", f"2025-{m:02d}", date(2025, m, 28), parse_amount("704.75") + index % 97)
                  for m in range(1, 13))
    notice = facts.notice.__class__(f"CJ2026-{index + 1:06d}", 1, f"{index // 400 + 1}-{index % 400 + 101}", 3,
                                    date(2026, 11, 28), date(2026, 11, 28) + timedelta(days=15),
                                    sum(line.owed_fen for line in lines), (), facts.notice.purpose)
    owner = facts.owner.__class__(notice.unit_id, "1栋", f"业主{index}", "13800138000", "杭州市文三路 100 号", ())
    return letter_context(facts.__class__(notice, "reminder", None, owner, lines, facts.history), example_company())


_LIBRARY: Library | None = None


def _start() -> None:
    global _LIBRARY  # noqa: PLW0603 - one library per worker
    _LIBRARY = Library(None)


def _render(job: tuple[int, str]) -> str:
    index, folder = job
    assert _LIBRARY is not None
    return render_one(_LIBRARY, TEMPLATE, f"{folder}/{index:06d}.docx", context(index))


def run_cuijiao(count: int, folder: Path, workers: int) -> None:
    jobs = ((i, str(folder)) for i in range(count))
    if workers <= 1:
        _start()
        while chunk := list(islice(jobs, CHUNK)):
            for job in chunk:
                _render(job)
            sync_files([])  # durable per chunk, as the batch does before recording hashes
        return
    with ProcessPoolExecutor(workers, initializer=_start) as pool:
        while chunk := list(islice(jobs, CHUNK)):  # bounded: memory does not grow with the batch
            list(pool.map(_render, chunk, chunksize=25))
            sync_files([])


def run_docxtpl(count: int, folder: Path) -> None:
    from docxtpl import DocxTemplate  # noqa: PLC0415 - imported before the clock starts (see part)

    source = folder / "template.docx"
    source.write_bytes(shipped_files()[TEMPLATE])
    for index in range(count):
        document = DocxTemplate(str(source))
        document.render(context(index), autoescape=True)
        document.save(str(folder / f"{index:06d}.docx"))


def part(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="letters-", dir=args.tmp))
    if args.part == "docxtpl":
        import docxtpl  # noqa: F401, PLC0415 - its import is not part of its letters' time
    try:
        start = time.perf_counter()
        if args.part == "docxtpl":
            run_docxtpl(args.count, folder)
        else:
            run_cuijiao(args.count, folder, args.workers)
        seconds = time.perf_counter() - start
        written = sum(1 for p in folder.glob("0*.docx"))
        print(json.dumps({"seconds": seconds, "letters": written}))
    finally:
        shutil.rmtree(folder)


def measure(name: str, count: int, workers: int, tmp: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--part", name, "--count", str(count), "--workers", str(workers),
               "--tmp", tmp]
    measured = run_measured(command)
    inner = json.loads(measured.output.strip().splitlines()[-1])
    assert inner["letters"] == count, inner
    return {"letters": count, "seconds": inner["seconds"], "per_second": count / inner["seconds"],
            "peak_mib": measured.peak_mib}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--letters", type=int, default=20000)
    parser.add_argument("--docxtpl", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--part", choices=("cuijiao", "docxtpl"))
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--tmp", default=None)
    args = parser.parse_args()
    if args.part:
        part(args)
        return
    tmp = args.tmp or tempfile.gettempdir()
    rows = {
        "docxtpl": measure("docxtpl", args.docxtpl, 1, tmp),
        "cuijiao, 1 process": measure("cuijiao", min(args.letters, 2000), 1, tmp),
        f"cuijiao, {args.workers} workers, {args.letters // 10:,} letters": measure(
            "cuijiao", args.letters // 10, args.workers, tmp),
        f"cuijiao, {args.workers} workers": measure("cuijiao", args.letters, args.workers, tmp),
    }
    print(f"{'':38} {'letters':>8} {'seconds':>8} {'letters/s':>10} {'peak MiB':>9}")
    for name, row in rows.items():
        print(f"{name:38} {row['letters']:>8,} {row['seconds']:>8.1f} {row['per_second']:>10,.0f}"
              f" {row['peak_mib']:>9.0f}")
    base = rows["docxtpl"]["per_second"]
    best = rows[f"cuijiao, {args.workers} workers"]["per_second"]
    print(f"ratio: cuijiao {best / base:.0f}× docxtpl's letters/s (target ≥ 50×)")


if __name__ == "__main__":
    main()
