"""The manager's report step of the monthly batch, as its own process.

    python bench/manager_report.py WORKSPACE AS_OF

Writes what `cuijiao run` writes after issuing: the aging workbook and the
manager's report (.docx and .xlsx), into a scratch folder of the workspace.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from cuijiao.arrears import aging_report
from cuijiao.reports.aging_output import write_xlsx
from cuijiao.reports.monthly_report import write_monthly_report
from cuijiao.workspace import open_workspace

if __name__ == "__main__":
    workspace = open_workspace(Path(sys.argv[1]))
    day = date.fromisoformat(sys.argv[2])
    out = workspace.root / "out" / "bench-report"
    out.mkdir(parents=True, exist_ok=True)
    report = aging_report(workspace, day)
    write_xlsx(out / f"账龄_{day.isoformat()}.xlsx", report)
    write_monthly_report(workspace, day, report, out, waiting_approval=[])
    workspace.close()
