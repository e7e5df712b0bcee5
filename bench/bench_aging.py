"""Aging benchmark: the whole estate aged as of a date, against pandas read_sql + groupby.

    python bench/bench_aging.py [--workspace bench/out/workspace] [--as-of 2026-11-27]

Uses the workspace that bench_import.py leaves in bench/out/workspace (run that
first, or pass --workspace). Each contender runs in its own process, timed by
wall clock, peak memory from wait4:

- cuijiao: `cuijiao aging --format json` (streams units from SQLite, allocates
  every payment by the legal rules, ages, computes the KPIs);
- pandas: read_sql of both tables, then per unit a first-in-first-out
  allocation by cumulative sums and a groupby into the same buckets. It ignores
  designated payments and same-day pro rata, so it is a lower bound on what an
  exact pandas version would cost; its totals are printed beside cuijiao's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from measure import run_measured

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=OUT / "workspace")
    parser.add_argument("--as-of", default="2026-11-27")
    args = parser.parse_args()
    db = args.workspace / "cuijiao.db"
    if not db.exists():
        raise SystemExit(f"{db} not found: run bench/bench_import.py first")

    ours = run_measured([sys.executable, "-m", "cuijiao", "-w", str(args.workspace), "aging",
                         "--as-of", args.as_of, "--format", "json"])
    seconds, peak = ours.seconds, ours.peak_mib
    totals = json.loads(ours.output)["totals"]
    print(f"scale: {db.stat().st_size / 2**20:.0f} MiB database, {totals['units']:,} units in the report")
    print(f"cuijiao aging: {seconds:.1f} s, peak {peak:.0f} MiB, overdue {totals['overdue_total']}")
    pandas = run_measured([sys.executable, "-c", PANDAS_AGING, str(db), args.as_of])
    pandas_seconds, pandas_peak = pandas.seconds, pandas.peak_mib
    overdue_fen, units = map(int, pandas.output.split())
    print(f"pandas read_sql + groupby (FIFO only): {pandas_seconds:.1f} s, peak {pandas_peak:.0f} MiB, "
          f"overdue {overdue_fen / 100:.2f} over {units:,} units")
    print(f"ratio cuijiao / pandas: time {seconds / pandas_seconds:.2f}x, memory {peak / pandas_peak:.2f}x")
    print(f"target <= 4 s: {'met' if seconds <= 4 else 'NOT met'}; <= 1 GiB: {'met' if peak < 1024 else 'NOT met'}")


if __name__ == "__main__":
    main()
