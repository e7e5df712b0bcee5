"""The exact path for segment, notices plan and limitation, for comparison.

    python bench/exact_month.py WORKSPACE AS_OF

Every unit read and allocated afresh (no kept allocation, ``exact=True``), each report printed
as its command's --json prints it, all three in one JSON object on one line.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path

from cuijiao.aging import natural_key
from cuijiao.arrears import limitation_report, segment_units
from cuijiao.cli.limitation_cmd import clock_json
from cuijiao.cli.notices_cmd import plan_json
from cuijiao.cli.segment_cmd import segment_row_json
from cuijiao.collection import plan_estate
from cuijiao.workspace import open_workspace

if __name__ == "__main__":
    workspace = open_workspace(Path(sys.argv[1]))
    day = date.fromisoformat(sys.argv[2])
    as_of = day.isoformat()
    # Sorted as the commands sort what they print: natural unit order.
    segmented = sorted(segment_units(workspace, day, exact=True), key=lambda row: natural_key(row.owner.unit_id))
    plans = sorted(plan_estate(workspace, day, exact=True), key=lambda p: natural_key(p.plan.unit_id))
    clocks = sorted(limitation_report(workspace, day, exact=True), key=lambda c: natural_key(c.unit_id))
    print(json.dumps({
        "segment": {"as_of": as_of, "counts": dict(Counter(row.verdict.segment for row in segmented)),
                    "rows": [segment_row_json(row, unmask=False) for row in segmented]},
        "notices plan": {"as_of": as_of, "rows": [plan_json(p) for p in plans]},
        "limitation": {"as_of": as_of, "rows": [clock_json(c) for c in clocks]},
    }, ensure_ascii=False))
    workspace.close()
