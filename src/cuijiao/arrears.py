"""The arrears engine for commands: read the workspace, run the pure core.

Commands, the monthly batch and tests all come through here, so they share
one path from the database to the numbers.
"""

from __future__ import annotations

import difflib
from datetime import date

from cuijiao.aging import AgingReport, Buckets, UnitPosition, build_report, natural_key, position
from cuijiao.errors import BadInput
from cuijiao.store.reading import stored_counts, unit_ids, unit_ledgers
from cuijiao.workspace import Workspace


def require_data(workspace: Workspace) -> None:
    """A clear next step when there is nothing to compute on yet."""
    counts = stored_counts(workspace.db)
    if not counts["units"]:
        raise BadInput("工作区还没有数据：请先导入房屋业主（cuijiao import units），再导入应收和实收")
    if not counts["charges"]:
        raise BadInput("工作区还没有应收数据：请先导入应收（cuijiao import charges），再导入实收")


def aging_report(workspace: Workspace, as_of: date) -> AgingReport:
    require_data(workspace)
    buckets = Buckets(workspace.settings.aging_buckets)
    return build_report(unit_ledgers(workspace.db), as_of, buckets)


def unit_position(workspace: Workspace, unit_id: str, as_of: date) -> UnitPosition:
    require_data(workspace)
    ledger = next(unit_ledgers(workspace.db, unit_id), None)
    if ledger is None:
        close = sorted(difflib.get_close_matches(unit_id, unit_ids(workspace.db), n=3, cutoff=0.6), key=natural_key)
        hint = f"。是否是：{'、'.join(close)}？" if close else "。请检查房号，或先导入房屋业主文件"
        raise BadInput(f"没有房号“{unit_id}”{hint}")
    return position(ledger, as_of, Buckets(workspace.settings.aging_buckets))
