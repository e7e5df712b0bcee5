"""Memory and speed of importing a large payments workbook (.xlsx).

    python bench/bench_xlsx_import.py [--units 60000] [--months 36]

Generates an estate whose payments are a workbook (about 50 MB at the default
scale), imports the units (CSV) and then the payments workbook, each as its own
`cuijiao import` process; peak memory is read from the kernel. For comparison
it also loads the same sheet with calamine alone, in its own process: what the
importer cost in memory before it streamed the sheet XML.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from cuijiao.sample import EstateSpec, write_estate
from measure import run_measured

OUT = Path(__file__).resolve().parent / "out"
TARGET_PEAK_MIB = 500
CALAMINE_LOAD = (
    "import sys; from python_calamine import CalamineWorkbook; "
    "book = CalamineWorkbook.from_path(sys.argv[1]); "
    "rows = sum(1 for _ in book.get_sheet_by_index(0).iter_rows()); print(rows)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=60_000)
    parser.add_argument("--months", type=int, default=36)
    args = parser.parse_args()

    folder = OUT / f"xlsx-estate-{args.units}x{args.months}"
    files = {"units": folder / "units.csv", "payments": folder / "payments.xlsx"}
    if not all(path.exists() for path in files.values()):
        started = time.perf_counter()
        write_estate(folder, EstateSpec(units=args.units, months=args.months, extra_items=False),
                     formats=("csv", "csv", "xlsx"))
        print(f"generated {folder} in {time.perf_counter() - started:.0f} s")
    size_mib = files["payments"].stat().st_size / 2**20
    workspace = OUT / "xlsx-workspace"
    shutil.rmtree(workspace, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "cuijiao", "init", str(workspace)], check=True, capture_output=True)

    def cuijiao(*words: str) -> tuple[float, float]:
        result = run_measured([sys.executable, "-m", "cuijiao", "-w", str(workspace), "-q", *words])
        return result.seconds, result.peak_mib

    cuijiao("import", "units", str(files["units"]))
    seconds, peak = cuijiao("import", "payments", str(files["payments"]))
    with sqlite3.connect(workspace / "cuijiao.db") as db:
        rows = int(db.execute("SELECT count(*) FROM payments").fetchone()[0])
    calamine = run_measured([sys.executable, "-c", CALAMINE_LOAD, str(files["payments"])])

    print(f"payments workbook: {size_mib:.1f} MiB, {rows:,} payment rows")
    print(f"{'step':<40}{'seconds':>10}{'rows/s':>12}{'peak MiB':>10}")
    print(f"{'cuijiao import payments (streamed)':<40}{seconds:>10.1f}{rows / seconds:>12,.0f}{peak:>10.0f}")
    print(f"{'calamine alone: load and iterate':<40}{calamine.seconds:>10.1f}{'':>12}{calamine.peak_mib:>10.0f}")
    verdict = "met" if peak < TARGET_PEAK_MIB else "NOT met"
    print(f"target peak < {TARGET_PEAK_MIB} MiB for a ~50 MB workbook: {verdict} ({peak:.0f} MiB)")


if __name__ == "__main__":
    main()
