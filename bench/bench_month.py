"""The monthly batch at scale: month 36 on a workspace holding 35 months, step by step.

    python bench/bench_month.py [--units 100000] [--as-of 2026-11-27] [--skip-run]

Builds once and caches under bench/out/month-<units>/: `cuijiao sample` writes a
36-month estate (CSV, GB18030); its rows are split at the first day of the last
month into the history (35 months) and the month's new charges and payments;
the history is imported into a base workspace and last month's batch is run on
it (`cuijiao run` as of the same day a month earlier), so the base holds what a
real workspace holds when the month's files arrive: the kept allocation, open
cases and their notices.

Then, on a fresh copy of the base, each step of the month runs as its own
process (as a clerk or cron runs it), timed by wall clock, peak memory over the
process and its workers (/proc, and wait4's ru_maxrss): import the month's
charges, then its payments; `aging` (the first run after the import, then a
later one); `segment`; `notices plan`; `limitation`; `notices issue`; the
manager's report (bench/manager_report.py: the aging workbook and the report,
as `cuijiao run` writes them). On a second fresh copy, `cuijiao run` does the
whole month in one process, the month's files in its inbox.

Anchors in the same run: pandas `read_csv` + `to_sql` of the month's charges
file, and the exact path's aging (bench/exact_aging.py: every unit read and
allocated afresh). Exactness: the report of `aging` must equal the exact path's,
and `segment`, `notices plan` and `limitation` must equal what the exact path
gives (bench/exact_month.py); the benchmark fails otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from cuijiao.money import format_yuan, parse_amount
from measure import Measured, run_measured

OUT = Path(__file__).resolve().parent / "out"
HERE = Path(__file__).resolve().parent
ENCODING = "gb18030"
TARGET_MONTH_SECONDS = 60
TARGET_STEP_SECONDS = 5
TARGET_PEAK_MIB = 1024

PANDAS_TO_SQL = r"""
import sqlite3, sys
import pandas as pd
frame = pd.read_csv(sys.argv[1], encoding="gb18030", skiprows=2, dtype=str)
with sqlite3.connect(sys.argv[2]) as db:
    frame.to_sql("charges", db, if_exists="replace", index=False)
print(len(frame))
"""


def month_start(as_of: date) -> date:
    return as_of.replace(day=1)


def previous_month(as_of: date) -> date:
    first = month_start(as_of)
    before = date.fromordinal(first.toordinal() - 1)
    return before.replace(day=min(as_of.day, 28))


def cuijiao(workspace: Path, *args: str) -> Measured:
    return run_measured([sys.executable, "-m", "cuijiao", "-w", str(workspace), "-q", *args])


def split_file(source: Path, history: Path, month: Path, date_column: str, amount_column: str, cut: date) -> int:
    """Rows dated before ``cut`` to ``history``, the rest to ``month``; each with its own 合计 row."""
    with source.open(encoding=ENCODING, newline="") as stream:
        rows = list(csv.reader(stream))
    title, headers = rows[0], rows[2]
    body = [row for row in rows[3:] if row and row[0] != "合计"]
    when, amount = headers.index(date_column), headers.index(amount_column)
    parts: dict[Path, list[list[str]]] = {history: [], month: []}
    for row in body:
        year, mon, day = map(int, row[when].split("/"))
        parts[history if date(year, mon, day) < cut else month].append(row)
    for path, part in parts.items():
        total = sum(parse_amount(row[amount]) for row in part)
        with path.open("w", encoding=ENCODING, newline="") as stream:
            writer = csv.writer(stream)
            writer.writerows([title, [], headers, *part,
                              ["合计", *[""] * (amount - 1), format_yuan(total, grouping=True)]])
    return len(parts[month])


def build(units: int, as_of: date) -> Path:
    """The cached folder: estate files, month files and the base workspace after last month's batch."""
    folder = OUT / f"month-{units}"
    base = folder / "base"
    if (base / "built").exists():
        return folder
    started = time.perf_counter()
    estate = folder / "estate"
    if not (estate / "payments.csv").exists():
        subprocess.run([sys.executable, "-m", "cuijiao", "sample", str(estate), "--units", str(units),
                        "--format", "csv"], check=True, capture_output=True)
    cut = month_start(as_of)
    split_file(estate / "charges.csv", folder / "history-charges.csv", folder / "month-charges.csv",
               "应缴日期", "应收金额", cut)
    split_file(estate / "payments.csv", folder / "history-payments.csv", folder / "month-payments.csv",
               "收款日期", "实收金额", cut)
    shutil.rmtree(base, ignore_errors=True)
    print(f"split the estate at {cut.isoformat()} ({time.perf_counter() - started:.0f} s)", flush=True)
    subprocess.run([sys.executable, "-m", "cuijiao", "init", str(base), "--company-name", "翠湖物业服务有限公司",
                    "--estate-name", "翠湖花园", "--company-address", "翠湖路1号",
                    "--company-phone", "0571-88880000"], check=True, capture_output=True)
    for kind, path in (("units", estate / "units.csv"), ("charges", folder / "history-charges.csv"),
                       ("payments", folder / "history-payments.csv")):
        print(f"import {kind}: {cuijiao(base, 'import', kind, str(path)).seconds:.0f} s", flush=True)
    empty = folder / "empty-inbox"
    empty.mkdir(exist_ok=True)
    last_month = cuijiao(base, "run", "--as-of", previous_month(as_of).isoformat(), "--inbox", str(empty))
    print(f"last month's run: {last_month.seconds:.0f} s", flush=True)
    (base / "built").write_text(as_of.isoformat())
    print(f"built {folder} in {time.perf_counter() - started:.0f} s")
    return folder


SCRATCH = ("steps", "run")  # the copies the steps run in


def clear_scratch(folder: Path) -> None:
    """The copies an earlier benchmark left, removed now, minutes before any step writes a letter: this
    machine's ext4 has no journal, and then it checks each inode freed in the last minute before it reuses
    one, for every new file (bench/inode_reuse.py: 40,000 files took 1.8 s to create, 21 s right after
    40,000 others were deleted). Removed just before the month's `run`, the last copy's letters cost the
    run that much kernel time; a clerk's batch does not follow the deletion of a month's letters."""
    for name in SCRATCH:
        shutil.rmtree(folder / name, ignore_errors=True)
    os.sync()


def fresh_copy(folder: Path, name: str) -> Path:
    target = folder / name
    shutil.copytree(folder / "base", target)
    os.sync()  # the copy's gigabytes written back now, not during the steps timed next (their fsyncs wait on it)
    return target


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


class Steps:
    """Each step's measurement, printed as it finishes."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, Measured]] = []

    def add(self, name: str, measured: Measured) -> Measured:
        self.rows.append((name, measured))
        print(f"  {name:<44}{measured.seconds:>8.1f}{measured.peak_mib:>10.0f}", flush=True)
        return measured

    @property
    def seconds(self) -> float:
        return sum(m.seconds for _name, m in self.rows)

    @property
    def peak_mib(self) -> float:
        return max(m.peak_mib for _name, m in self.rows)


def steps_of_the_month(workspace: Path, folder: Path, day: str, steps: Steps) -> dict[str, Any]:
    """Time each step up to the plan as its own process; returns the JSON reports to compare."""
    steps.add("import month's charges", cuijiao(workspace, "import", "charges", str(folder / "month-charges.csv")))
    steps.add("import month's payments", cuijiao(workspace, "import", "payments", str(folder / "month-payments.csv")))
    first = steps.add("aging", cuijiao(workspace, "aging", "--as-of", day, "--format", "json"))
    reports = {"aging": json.loads(first.output)}
    for name, args in REPORTS.items():
        reports[name] = json.loads(steps.add(name, cuijiao(workspace, "--json", *args, "--as-of", day)).output)
    return reports


REPORTS = {"segment": ("segment",), "notices plan": ("notices", "plan"), "limitation": ("limitation",)}


def issue_and_report(workspace: Path, day: str, steps: Steps) -> None:
    steps.add("notices issue", cuijiao(workspace, "notices", "issue", "--as-of", day))
    steps.add("manager's report (aging workbook + report)",
              run_measured([sys.executable, str(HERE / "manager_report.py"), str(workspace), day]))


def later_runs(workspace: Path, day: str) -> dict[str, float]:
    """The same reports again, the kept allocation now current: what a later run costs."""
    later = {"aging": cuijiao(workspace, "aging", "--as-of", day, "--format", "json").seconds}
    for name, args in REPORTS.items():
        later[name] = cuijiao(workspace, "--json", *args, "--as-of", day).seconds
    return later


def describe(folder: Path, units: int, day: str) -> None:
    # Closed here, not when collected: its WAL file goes when it closes, and fresh_copy copies the folder.
    with contextlib.closing(sqlite3.connect(folder / "base" / "cuijiao.db")) as db:
        charges, payments = [db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                             for table in ("charges", "payments")]
    month_rows = sum(1 for _ in (folder / "month-charges.csv").open(encoding=ENCODING)) - 4
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}; load average before: {load_average()}")
    print(f"scale: {units:,} units; history {charges:,} charge rows and {payments:,} payments "
          f"(35 months, last month's batch run); month 36: {month_rows:,} charge rows; as of {day}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--as-of", default="2026-11-27")
    parser.add_argument("--skip-run", action="store_true", help="leave out the whole-month `cuijiao run`")
    parser.add_argument("--build-only", action="store_true", help="build and cache the base workspace, time nothing")
    args = parser.parse_args()
    as_of = date.fromisoformat(args.as_of)
    day = as_of.isoformat()
    folder = build(args.units, as_of)
    if args.build_only:
        return
    clear_scratch(folder)
    describe(folder, args.units, day)
    print(f"  {'step (each its own process)':<44}{'seconds':>8}{'peak MiB':>10}")
    steps = Steps()
    workspace = fresh_copy(folder, "steps")
    reports = steps_of_the_month(workspace, folder, day, steps)
    # Compared before issuing: issuing changes what the next plan says.
    checked = run_measured([sys.executable, str(HERE / "exact_month.py"), str(workspace), day])
    later = later_runs(workspace, day)
    issue_and_report(workspace, day, steps)
    print(f"  {'total':<44}{steps.seconds:>8.1f}{steps.peak_mib:>10.0f}")
    print("later runs, before issuing (seconds): "
          + ", ".join(f"{name} {seconds:.1f}" for name, seconds in later.items()))

    whole: Measured | None = None
    if not args.skip_run:
        inbox = folder / "inbox"
        shutil.rmtree(inbox, ignore_errors=True)
        inbox.mkdir()
        for name in ("month-charges.csv", "month-payments.csv"):
            shutil.copy(folder / name, inbox / name)
        whole = cuijiao(fresh_copy(folder, "run"), "run", "--as-of", day, "--inbox", str(inbox))
        print(f"cuijiao run (the whole month, one process): {whole.seconds:.1f} s, peak {whole.peak_mib:,.0f} MiB")

    reference = folder / "reference.db"
    reference.unlink(missing_ok=True)
    pandas = run_measured([sys.executable, "-c", PANDAS_TO_SQL, str(folder / "month-charges.csv"), str(reference)])
    print(f"anchor: pandas read_csv + to_sql of the month's charges: {pandas.seconds:.1f} s, "
          f"peak {pandas.peak_mib:,.0f} MiB (cuijiao's import: {steps.rows[0][1].seconds:.1f} s)")
    exact = run_measured([sys.executable, str(HERE / "exact_aging.py"), str(workspace), day])
    same_aging = json.loads(exact.output) == reports["aging"]
    print(f"anchor: exact path's aging (every unit allocated afresh): {exact.seconds:.1f} s, "
          f"peak {exact.peak_mib:,.0f} MiB; same report as cuijiao's: {'yes' if same_aging else 'NO'}")
    exact_reports = json.loads(checked.output)
    differing = [name for name, report in exact_reports.items() if reports.get(name) != report]
    print(f"exact path's segment, plan and limitation: {checked.seconds:.1f} s; "
          f"same as cuijiao's: {'yes' if not differing else 'NO: ' + ', '.join(differing)}")
    print(f"load average after: {load_average()}")

    total = whole.seconds if whole else steps.seconds
    peak = max(steps.peak_mib, whole.peak_mib if whole else 0)  # the month as it runs: its one process too
    firsts = {name: m.seconds for name, m in steps.rows if name in later}
    slow = {name for name in later if max(firsts[name], later[name]) > TARGET_STEP_SECONDS}
    print(f"target month <= {TARGET_MONTH_SECONDS} s: {'met' if total <= TARGET_MONTH_SECONDS else 'NOT met'} "
          f"({total:.1f} s); <= 1 GiB: {'met' if peak < TARGET_PEAK_MIB else 'NOT met'} ({peak:,.0f} MiB); "
          f"aging/segment/plan/limitation <= {TARGET_STEP_SECONDS} s first and later: "
          f"{'met' if not slow else 'NOT met (' + ', '.join(sorted(slow)) + ')'}")
    if not same_aging or differing:
        raise SystemExit("the kept allocation and the exact path disagree")


if __name__ == "__main__":
    main()
