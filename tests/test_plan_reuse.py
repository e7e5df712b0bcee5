"""Issuing takes up the plan just made (the monthly batch plans, then issues), only while the
database is as it was when the plan was made; otherwise it plans again, as it always did."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cuijiao.collection import _plan_to_issue, issue_notices, plan_estate
from cuijiao.errors import BadInput
from cuijiao.store.audit import recorded
from cuijiao.workspace import open_workspace
from test_documents import build_estate, run_cli

AS_OF = date(2026, 11, 25)


def test_the_plan_just_made_is_taken_up_and_issues_what_a_fresh_plan_issues(tmp_path: Path) -> None:
    root = build_estate(tmp_path / "a")
    workspace = open_workspace(root)
    try:
        with recorded(workspace.db, "run", []) as run:  # as `cuijiao run`: its run row, then the plan, then issue
            plans = plan_estate(workspace, AS_OF)
            assert _plan_to_issue(workspace, AS_OF, frozenset()) is plans
            assert workspace.last_plan is None  # taken up once
            plan_estate(workspace, AS_OF)
            reused = [n.unit_id for n in issue_notices(workspace, run, AS_OF)]
    finally:
        workspace.close()
    fresh_root = build_estate(tmp_path / "b")
    _code, output = run_cli("-w", str(fresh_root), "notices", "issue", "--as-of", AS_OF.isoformat())
    assert "已发出 4 份通知" in output, output  # exits with warnings: 2-201 has no address for a letter
    workspace = open_workspace(fresh_root)
    try:
        fresh = [unit for (unit,) in workspace.db.execute("SELECT unit_id FROM notices ORDER BY notice_no")]
    finally:
        workspace.close()
    assert reused == fresh and len(reused) == 4


def test_an_outcome_recorded_after_the_plan_by_another_process_is_seen_by_the_issue(tmp_path: Path) -> None:
    """A dispute recorded between plan and issue: the plan is made again, 1-101's notice is of the dispute segment."""
    root = build_estate(tmp_path)
    workspace = open_workspace(root)
    try:
        with recorded(workspace.db, "run", []) as run:
            plans = plan_estate(workspace, AS_OF)
            assert [p.plan.segment for p in plans if p.plan.unit_id == "1-101"] != ["dispute"]
            code, output = run_cli("-w", str(root), "record", "dispute", "1-101", "--reason", "漏水未修",
                                   "--on", "2026-11-20")
            assert code == 0, output
            issue_notices(workspace, run, AS_OF)
        segment = workspace.db.execute("SELECT segment FROM notices WHERE unit_id = '1-101'").fetchone()
        assert segment == ("dispute",)
        assert workspace.last_plan is None
    finally:
        workspace.close()


def test_a_plan_of_another_day_or_other_approvals_or_after_a_write_is_not_taken_up(tmp_path: Path) -> None:
    root = build_estate(tmp_path)
    workspace = open_workspace(root)
    try:
        plans = plan_estate(workspace, AS_OF)
        assert _plan_to_issue(workspace, date(2026, 11, 26), frozenset()) is not plans
        plan_estate(workspace, AS_OF)
        with pytest.raises(BadInput, match="1-101"):  # planned again: stage 2 needs no approval
            _plan_to_issue(workspace, AS_OF, frozenset({"1-101"}))
        plans = plan_estate(workspace, AS_OF)
        with workspace.db:  # a write through the same connection since the plan
            workspace.db.execute("DELETE FROM charges WHERE unit_id = '1-103'")
        again = _plan_to_issue(workspace, AS_OF, frozenset())
        assert again is not plans and "1-103" not in [p.plan.unit_id for p in again]
    finally:
        workspace.close()
