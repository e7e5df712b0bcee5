"""Aging benchmark: the whole estate aged as of a date, against the exact path and pandas.

    python bench/bench_aging.py [--workspace bench/out/workspace] [--as-of 2026-11-27] [--earlier 2025-06-15]

Uses the workspace that bench_import.py leaves in bench/out/workspace (run that
first, or pass --workspace). Each contender runs in its own process, timed by
wall clock, peak memory over the process and its workers:

- cuijiao, first run after an import (`cuijiao aging --format json` with the
  kept allocation cleared): allocates every unit's whole ledger in worker
  processes, keeps it in the workspace, ages from it;
- cuijiao, later runs (three, median): reads the kept allocation and ages it,
  on the as-of date and on an earlier date (where more units go through the
  exact path);
- the exact path alone (bench/exact_aging.py): every unit read and allocated
  afresh, as `cuijiao aging` did before; its report must equal cuijiao's;
- pandas: read_sql of both tables, then per unit a first-in-first-out
  allocation by cumulative sums and a groupby into the same buckets. It ignores
  designated payments and same-day pro rata, so it is a lower bound on what an
  exact pandas version would cost; its totals are printed beside cuijiao's.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
from pathlib import Path
from typing import Any

from measure import Measured, run_measured

OUT = Path(__file__).resolve().parent / "out"

PANDAS_AGING = r"""
import sqlite3, sys
import pandas as pd
db = sqlite3.connect(sys.argv[1])
as_of = pd.Timestamp(sys.argv[2])
charges = pd.read_sql(
    "SELECT id, unit_id, due_date, amount_fen, kind, adjusts_id, period_start FROM charges WHERE kind != 'deposit'", db)
payments = pd.read_sql("SELECT unit_id, paid_on, amount_fen FROM payments", db)
adjust = charges[charges.kind == "adjustment"].groupby("adjusts_id").amount_fen.sum()
charges = charges[charges.kind == "charge"].copy()
charges["amount_fen"] += charges.id.map(adjust).fillna(0).astype("int64")
charges["due_date"] = pd.to_datetime(charges.due_date)
charges = charges[(charges.due_date <= as_of) | (pd.to_datetime(charges.period_start) <= as_of)]
paid = payments[pd.to_datetime(payments.paid_on) <= as_of].groupby("unit_id").amount_fen.sum()
charges = charges.sort_values(["unit_id", "due_date", "id"])
running = charges.groupby("unit_id").amount_fen.cumsum()
charges["owed"] = (running - charges.unit_id.map(paid).fillna(0)).clip(lower=0).clip(upper=charges.amount_fen)
days = (as_of - charges.due_date).dt.days
overdue = charges[(days > 0) & (charges.owed > 0)]
buckets = pd.cut((as_of - overdue.due_date).dt.days, [0, 30, 90, 180, 365, 730, 1095, 10**6])
by_bucket = overdue.groupby(buckets, observed=False).owed.sum()
print(int(overdue.owed.sum()), len(overdue.unit_id.unique()))
"""


def cuijiao_aging(workspace: Path, as_of: str) -> tuple[float, float, dict[str, Any]]:
    ran = run_measured([sys.executable, "-m", "cuijiao", "-w", str(workspace), "aging", "--as-of", as_of,
                        "--format", "json"])
    return ran.seconds, ran.peak_mib, json.loads(ran.output)


def exact_aging(workspace: Path, as_of: str) -> Measured:
    return run_measured([sys.executable, str(Path(__file__).with_name("exact_aging.py")), str(workspace), as_of])


def forget_kept_allocation(db: Path) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM allocation_cache")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=OUT / "workspace")
    parser.add_argument("--as-of", default="2026-11-27")
    parser.add_argument("--earlier", default="2025-06-15")
    args = parser.parse_args()
    db = args.workspace / "cuijiao.db"
    if not db.exists():
        raise SystemExit(f"{db} not found: run bench/bench_import.py first")
    with sqlite3.connect(db) as connection:
        charges, payments = (connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                             for table in ("charges", "payments"))
    print(f"scale: {db.stat().st_size / 2**20:,.0f} MiB database, {charges:,} charge rows (adjustments and "
          f"deposits included), {payments:,} payments; aged as of {args.as_of}")

    forget_kept_allocation(db)
    cold_seconds, cold_peak, report = cuijiao_aging(args.workspace, args.as_of)
    totals = report["totals"]
    print(f"cuijiao aging, first run after an import: {cold_seconds:.1f} s, peak {cold_peak:,.0f} MiB, "
          f"{totals['units']:,} units in the report, overdue {totals['overdue_total']}")
    warm = [cuijiao_aging(args.workspace, args.as_of) for _ in range(3)]
    seconds = statistics.median(run[0] for run in warm)
    peak = max(run[1] for run in warm)
    assert all(run[2] == report for run in warm), "later runs must give the first run's report"
    print(f"cuijiao aging, later runs (median of 3): {seconds:.2f} s "
          f"({', '.join(f'{run[0]:.2f}' for run in warm)}), peak {peak:,.0f} MiB")
    earlier_seconds, earlier_peak, earlier_report = cuijiao_aging(args.workspace, args.earlier)
    print(f"cuijiao aging as of {args.earlier}, later run: {earlier_seconds:.2f} s, peak {earlier_peak:,.0f} MiB, "
          f"overdue {earlier_report['totals']['overdue_total']}")

    exact = exact_aging(args.workspace, args.as_of)
    same = json.loads(exact.output) == report
    print(f"exact path alone (every unit allocated afresh, 2 workers): {exact.seconds:.1f} s, "
          f"peak {exact.peak_mib:,.0f} MiB; same report as cuijiao: {'yes' if same else 'NO'}")
    same_earlier = json.loads(exact_aging(args.workspace, args.earlier).output) == earlier_report
    print(f"exact path as of {args.earlier}: same report as cuijiao: {'yes' if same_earlier else 'NO'}")

    pandas = run_measured([sys.executable, "-c", PANDAS_AGING, str(db), args.as_of])
    overdue_fen, units = map(int, pandas.output.split())
    print(f"pandas read_sql + groupby (FIFO only): {pandas.seconds:.1f} s, peak {pandas.peak_mib:,.0f} MiB, "
          f"overdue {overdue_fen / 100:.2f} over {units:,} units")

    print(f"ratio later run / pandas: time {seconds / pandas.seconds:.2f}x, memory {peak / pandas.peak_mib:.2f}x; "
          f"later run / exact path: time {seconds / exact.seconds:.2f}x")
    print(f"target <= 4 s: {'met' if seconds <= 4 else 'NOT met'} (later runs; first run {cold_seconds:.1f} s); "
          f"<= 1 GiB: {'met' if max(peak, cold_peak) < 1024 else 'NOT met'} (largest of all cuijiao runs)")
    if not (same and same_earlier):
        raise SystemExit("the kept allocation and the exact path disagree")


if __name__ == "__main__":
    main()
