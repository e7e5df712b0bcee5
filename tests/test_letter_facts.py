"""A letter's facts read from the kept allocation equal those read from each unit's ledger, to the fen.

Real workspaces as in tests/test_kept_month.py: a sampled estate, notices issued
over two months, outcomes recorded, a payment imported that may reach back in
time; every recorded notice's facts (owed lines, each line's limitation date,
the developer's other units, history, dispute) are read both ways.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cuijiao.documents.facts import letter_facts
from cuijiao.store.notices import stored_notices
from cuijiao.store.reading import unit_ids
from cuijiao.workspace import open_workspace
from test_kept_month import back_dated_payment, cuijiao, estate, two_months_of_notices


def assert_same_facts(root: Path) -> int:
    workspace = open_workspace(root)
    try:
        notices = stored_notices(workspace.db)
        kept = list(letter_facts(workspace, notices))
        exact = list(letter_facts(workspace, notices, kept=False))
        assert kept == exact
        return sum(len(facts.lines) for facts in kept)
    finally:
        workspace.close()


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.generate])  # each example builds a workspace: no shrinking
@given(st.integers(0, 10**6), st.lists(st.integers(0, 10**4), min_size=5, max_size=5),
       st.sampled_from(["2024-03-15", "2026-07-01", "2026-08-20"]))
def test_kept_and_exact_letter_facts_agree(seed: int, picks: list[int], back_dated: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        root = two_months_of_notices(folder, seed, picks)
        assert assert_same_facts(root) > 0  # lines were compared, not two empty lists
        workspace = open_workspace(root)
        try:
            unit = unit_ids(workspace.db)[picks[0] % 24]
        finally:
            workspace.close()
        back_dated_payment(root, folder, unit, back_dated)
        assert_same_facts(root)


def test_a_developers_letters_list_its_units_with_arrears_both_ways(tmp_path: Path) -> None:
    """The sample's developer holds unsold units: each of its letters lists them with their arrears, the
    same from the kept allocation as from the ledgers, and the same list on every letter of the day."""
    root = estate(tmp_path, 120, 7)
    cuijiao(root, "notices", "issue", "--as-of", "2026-07-27")
    cuijiao(root, "notices", "issue", "--as-of", "2026-08-27")
    assert_same_facts(root)
    workspace = open_workspace(root)
    try:
        facts = [f for f in letter_facts(workspace, stored_notices(workspace.db)) if f.sibling_units]
    finally:
        workspace.close()
    assert len(facts) >= 2, "the estate has a developer with letters"
    by_day = {}
    for found in facts:
        assert found.owner.unit_id in {unit for unit, _fen in found.sibling_units}
        by_day.setdefault(found.notice.issued_on, set()).add(found.sibling_units)
    assert all(len(lists) == 1 for lists in by_day.values())
