"""The exact path alone, for comparison: every unit's ledger read and allocated afresh.

    python bench/exact_aging.py WORKSPACE AS_OF

This is how `cuijiao aging` worked before it kept the allocation, and how it
still ages the few units the kept allocation cannot answer for a date. Prints
the report as `cuijiao aging --format json` would, on one line.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from functools import partial
from pathlib import Path

from cuijiao.aging import AgingReport, Buckets, build_report, merge_reports
from cuijiao.arrears import over_units
from cuijiao.reports.aging_output import GroupBy, report_json
from cuijiao.store.reading import UnitRange, unit_ledgers
from cuijiao.workspace import Workspace, open_workspace


def part(workspace: Workspace, units: UnitRange, *, as_of: date) -> list[AgingReport]:
    return [build_report(unit_ledgers(workspace.db, units), as_of, Buckets(workspace.settings.aging_buckets))]


if __name__ == "__main__":
    workspace = open_workspace(Path(sys.argv[1]))
    day = date.fromisoformat(sys.argv[2])
    report = merge_reports(over_units(workspace, partial(part, as_of=day)))
    print(json.dumps(report_json(report, GroupBy.UNIT), ensure_ascii=False))
