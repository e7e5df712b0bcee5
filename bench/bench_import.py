"""Import benchmark: a generated estate through `cuijiao import`, against two anchors.

    python bench/bench_import.py [--units 100000] [--months 36] [--naive-rows 500000]

Each import runs as its own process (as a clerk or cron would run it), timed by
wall clock, its peak memory read from the kernel (wait4 → ru_maxrss). Anchors in
the same run, on the same charges file: pandas' read_csv(dtype=str) + to_sql into
SQLite, its own process too (no validation, no identities, no audit); and the naive
importer, on the first rows: csv.DictReader, the same cell parsers, sqlite-utils'
insert_all with a dict per row. Generated files are kept under bench/out/.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

import sqlite_utils

from cuijiao.dates import parse_date, parse_period
from cuijiao.money import parse_amount
from cuijiao.sample import EstateSpec, write_estate
from measure import Measured, run_measured

OUT = Path(__file__).resolve().parent / "out"
TARGET_ROWS_PER_SECOND = 250_000
TARGET_PEAK_MIB = 1024


def generate(spec: EstateSpec) -> dict[str, Path]:
    folder = OUT / f"estate-{spec.units}x{spec.months}"
    files = {kind: folder / f"{kind}.csv" for kind in ("units", "charges", "payments")}
    if not all(path.exists() for path in files.values()):
        started = time.perf_counter()
        write_estate(folder, spec, formats=("csv", "csv", "csv"))
        print(f"generated {folder} in {time.perf_counter() - started:.0f} s")
    return files


def run_cuijiao(workspace: Path, *args: str) -> Measured:
    return run_measured([sys.executable, "-m", "cuijiao", "-w", str(workspace), "-q", *args])


def count_rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def naive_import(charges: Path, rows: int) -> float:
    """rows/s of the obvious importer on the first ``rows`` data rows."""
    path = OUT / "naive.db"
    path.unlink(missing_ok=True)
    db = sqlite_utils.Database(path)
    started = time.perf_counter()
    with charges.open(encoding="gb18030", newline="") as stream:
        next(stream), next(stream)  # title line and blank line above the header
        records = []
        for row in islice(csv.DictReader(stream), rows):
            period = parse_period(row["所属期间"])
            records.append({
                "unit_id": row["房号"].strip(), "item": row["收费项目"].strip(), "period": period.label,
                "period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
                "due_date": parse_date(row["应缴日期"]).isoformat(), "amount_fen": parse_amount(row["应收金额"]),
            })
        db["charges"].insert_all(records, batch_size=10_000)
    seconds = time.perf_counter() - started
    db.close()
    return len(records) / seconds


def pandas_import(charges: Path, database: Path) -> None:
    """The pandas anchor: every row of the charges file read as text and written with to_sql."""
    import pandas as pd  # noqa: PLC0415 - only the anchor's own process pays for it

    database.unlink(missing_ok=True)
    with sqlite3.connect(database) as db:
        for chunk in pd.read_csv(charges, encoding="gb18030", skiprows=2, dtype=str, keep_default_na=False,
                                 chunksize=500_000):
            chunk.to_sql("charges", db, if_exists="append", index=False)


def run_pandas_anchor(charges: Path) -> tuple[Measured, int]:
    database = OUT / "pandas.db"
    measured = run_measured([sys.executable, __file__, "--pandas-anchor", str(charges), str(database)])
    return measured, count_rows(database, "charges")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--naive-rows", type=int, default=500_000)
    parser.add_argument("--pandas-anchor", nargs=2, type=Path, help=argparse.SUPPRESS)  # the anchor's process
    args = parser.parse_args()
    if args.pandas_anchor:
        pandas_import(*args.pandas_anchor)
        return

    spec = EstateSpec(units=args.units, months=args.months, extra_items=False)
    files = generate(spec)
    workspace = OUT / "workspace"
    shutil.rmtree(workspace, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "cuijiao", "init", str(workspace)], check=True, capture_output=True)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"scale: {args.units:,} units x {args.months} months (monthly property fee), GB18030 CSV, "
          f"charges {files['charges'].stat().st_size / 2**20:.0f} MiB, payments "
          f"{files['payments'].stat().st_size / 2**20:.0f} MiB")
    measured = {kind: run_cuijiao(workspace, "import", kind, str(files[kind]))
                for kind in ("units", "charges", "payments")}
    again = run_cuijiao(workspace, "import", "charges", str(files["charges"]))
    db = workspace / "cuijiao.db"
    counts = {"units": count_rows(db, "units"), "charges": count_rows(db, "charges"),
              "payments": count_rows(db, "payments")}

    print(f"{'import':<22}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'peak MiB':>10}")
    for kind, result in measured.items():
        rate = counts[kind] / result.seconds
        print(f"{kind + ' (new)':<22}{counts[kind]:>12,}{result.seconds:>10.1f}{rate:>12,.0f}{result.peak_mib:>10.0f}")
    rate_again = counts["charges"] / again.seconds
    print(f"{'charges (re-import)':<22}{counts['charges']:>12,}{again.seconds:>10.1f}{rate_again:>12,.0f}"
          f"{again.peak_mib:>10.0f}")

    pandas, pandas_rows = run_pandas_anchor(files["charges"])
    pandas_rate = pandas_rows / pandas.seconds
    naive_rate = naive_import(files["charges"], args.naive_rows)
    charges_rate = counts["charges"] / measured["charges"].seconds
    print(f"{'pandas read_csv+to_sql':<22}{pandas_rows:>12,}{pandas.seconds:>10.1f}{pandas_rate:>12,.0f}"
          f"{pandas.peak_mib:>10.0f}   (anchor: dtype=str, every row incl. 合计, no checks)")
    print(f"naive (DictReader + sqlite-utils insert_all, first {args.naive_rows:,} rows): {naive_rate:,.0f} rows/s")
    print(f"ratio cuijiao / pandas: new {charges_rate / pandas_rate:.2f}x, re-import {rate_again / pandas_rate:.2f}x; "
          f"cuijiao / naive: new {charges_rate / naive_rate:.1f}x, re-import {rate_again / naive_rate:.1f}x")
    peak = max(result.peak_mib for result in (*measured.values(), again))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"target >= {TARGET_ROWS_PER_SECOND:,} charge rows/s: "
          f"{'met' if charges_rate >= TARGET_ROWS_PER_SECOND else 'NOT met'} ({charges_rate:,.0f}); "
          f"peak < {TARGET_PEAK_MIB} MiB: {'met' if peak < TARGET_PEAK_MIB else 'NOT met'} ({peak:.0f} MiB)")


if __name__ == "__main__":
    main()
