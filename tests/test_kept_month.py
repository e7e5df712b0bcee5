"""Segment, plan and limitation read from the kept allocation equal the exact path, to the fen.

Real workspaces: a generated estate imported through the CLI, notices issued a
month earlier, outcomes recorded (promises, disputes, holds, deliveries, legal
steps), a back-dated payment imported after the allocation was kept. The exact
path (every unit read and allocated afresh) is the reference.
"""

from __future__ import annotations

import csv
import json
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import write_csv
from cuijiao.allocated import join
from cuijiao.arrears import _allocate_part, allocated_estate, limitation_report, over_units, segment_units
from cuijiao.cli import app
from cuijiao.collection import plan_estate
from cuijiao.store.reading import designations_up_to, unit_ids
from cuijiao.workspace import open_workspace
from test_allocated_update import decoded


def cuijiao(root: Path, *args: str, refusable: bool = False) -> int:
    """Run a command; ``refusable``: a record the CLI may refuse for the unit picked (exit 2, nothing changed)."""
    result = CliRunner().invoke(app, ["-w", str(root), "-q", *args])
    assert result.exit_code in ((0, 2, 3) if refusable else (0, 3)), result.output
    return result.exit_code


def estate(folder: Path, units: int, seed: int) -> Path:
    """A sampled estate of 40 months imported into a new workspace."""
    files = folder / "files"
    assert CliRunner().invoke(app, ["sample", str(files), "--units", str(units), "--months", "40", "--seed",
                                    str(seed), "--format", "csv"]).exit_code == 0
    root = folder / "ws"
    assert CliRunner().invoke(app, ["init", str(root), "--company-name", "翠湖物业服务有限公司",
                                    "--estate-name", "翠湖花园", "--company-address", "翠湖路1号",
                                    "--company-phone", "0571-88880000"]).exit_code == 0
    for kind in ("units", "charges", "payments"):
        cuijiao(root, "import", kind, str(files / f"{kind}.csv"))
    return root


def issued_notices(root: Path) -> list[tuple[str, str]]:
    workspace = open_workspace(root)
    try:
        return [(row[0], row[1]) for row in workspace.db.execute("SELECT notice_no, unit_id FROM notices ORDER BY 1")]
    finally:
        workspace.close()


def record_outcomes(root: Path, picks: list[int], on: str) -> None:
    """A promise, a dispute, a hold, a legal step and deliveries, on units the picks choose."""
    workspace = open_workspace(root)
    try:
        units = unit_ids(workspace.db)
    finally:
        workspace.close()
    pick = [units[k % len(units)] for k in picks]
    records = [("promise", pick[0], "--amount", "300.00", "--by", "2026-08-20"),
               ("dispute", pick[1], "--reason", "漏水未修"),
               ("hold", pick[2], "--until", "2026-09-30", "--reason", "业主住院"),
               ("legal", pick[3], "--step", "支付令申请", "--evidence", "(2026)浙0102民督1号"),
               *(("delivered", notice_no, "--method", "EMS", "--evidence", "EMS1234")
                 for notice_no, _unit in issued_notices(root)[: picks[4] % 5 + 1])]
    for kind, *args in records:
        cuijiao(root, "record", kind, *args, "--on", on, refusable=True)


def two_months_of_notices(folder: Path, seed: int, picks: list[int]) -> Path:
    """A sampled estate with notices issued in July, outcomes recorded, and August's notices issued."""
    root = estate(folder, 24, seed)
    cuijiao(root, "notices", "issue", "--as-of", "2026-07-27")
    record_outcomes(root, picks, "2026-08-03")
    cuijiao(root, "notices", "issue", "--as-of", "2026-08-27")
    return root


def back_dated_payment(root: Path, folder: Path, unit: str, paid_on: str) -> None:
    rows = [["收据号", "房号", "实收金额", "收款日期"], ["SJ-BACK-1", unit, "123.45", paid_on]]
    cuijiao(root, "import", "payments", str(write_csv(folder / "back.csv", rows)))


def assert_kept_is_the_whole(root: Path) -> None:
    """The kept allocation, extended after an import, is the whole ledger allocated afresh, column for column."""
    workspace = open_workspace(root)
    try:
        kept = allocated_estate(workspace)
        whole = join(over_units(workspace, _allocate_part, workers=1))
        assert decoded(kept) == decoded(whole)
    finally:
        workspace.close()


def reallocated(root: Path) -> dict[str, str]:
    """The units the latest update of the kept allocation allocated afresh, and why (from the audit trail)."""
    workspace = open_workspace(root)
    try:
        row = workspace.db.execute("SELECT payload FROM events WHERE kind = 'allocation.update' ORDER BY id DESC"
                                   " LIMIT 1").fetchone()
        assert row is not None, "an extended allocation is named in the audit trail"
        return dict(json.loads(row[0])["allocated_afresh"])
    finally:
        workspace.close()


def assert_same(root: Path, as_of: date) -> None:
    workspace = open_workspace(root)
    try:
        assert segment_units(workspace, as_of) == segment_units(workspace, as_of, exact=True)
        assert plan_estate(workspace, as_of) == plan_estate(workspace, as_of, exact=True)
        for window in (0, 90, 400):
            assert (limitation_report(workspace, as_of, warn_days=window)
                    == limitation_report(workspace, as_of, warn_days=window, exact=True))
    finally:
        workspace.close()


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.generate])  # each example builds a workspace: no shrinking
@given(st.integers(0, 10**6), st.lists(st.integers(0, 10**4), min_size=5, max_size=5),
       st.sampled_from(["2026-09-27", "2026-10-05", "2026-11-27"]), st.sampled_from(["2024-03-15", "2026-07-01"]))
def test_fast_and_exact_agree_on_a_real_workspace(seed: int, picks: list[int], as_of: str, back_dated: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        root = two_months_of_notices(folder, seed, picks)
        assert_same(root, date.fromisoformat(as_of))
        workspace = open_workspace(root)
        try:
            allocated_estate(workspace)  # kept, then made stale by a payment that may reach back in time
            unit = unit_ids(workspace.db)[picks[0] % 24]
            last = workspace.db.execute("SELECT max(paid_on) FROM payments WHERE unit_id = ? AND kind = 'payment'",
                                        (unit,)).fetchone()[0]
        finally:
            workspace.close()
        back_dated_payment(root, folder, unit, back_dated)
        assert_kept_is_the_whole(root)
        # Only the unit's own payments order its allocation: a payment after all of them only extends it.
        reaches_back = last is not None and back_dated <= last
        assert reallocated(root) == ({unit: "payment_not_after_kept"} if reaches_back else {})
        assert_same(root, date.fromisoformat(as_of))
        assert_same(root, date(2025, 2, 14))


def split_month(source: Path, history: Path, month: Path, column: str, cut: date) -> None:
    """The rows dated before ``cut`` to ``history``, the others to ``month`` (as bench_month splits)."""
    with source.open(encoding="gb18030", newline="") as stream:
        rows = list(csv.reader(stream))
    header = rows[2]
    at = header.index(column)
    body = [row for row in rows[3:] if row and row[0] != "合计"]
    early = [row for row in body if date(*map(int, row[at].split("/"))) < cut]
    late = [row for row in body if date(*map(int, row[at].split("/"))) >= cut]
    write_csv(history, [header, *early])
    write_csv(month, [header, *late])


def test_a_later_month_extends_the_kept_allocation(tmp_path: Path) -> None:
    """Month 40 after 39 kept: units only extend, none is allocated afresh, and all equals the exact path."""
    files = tmp_path / "files"
    assert CliRunner().invoke(app, ["sample", str(files), "--units", "30", "--months", "40", "--seed", "5",
                                    "--format", "csv"]).exit_code == 0
    root = tmp_path / "ws"
    assert CliRunner().invoke(app, ["init", str(root), "--company-name", "翠湖物业服务有限公司",
                                    "--estate-name", "翠湖花园", "--company-address", "翠湖路1号",
                                    "--company-phone", "0571-88880000"]).exit_code == 0
    cuijiao(root, "import", "units", str(files / "units.csv"))
    cut = date(2026, 11, 1)
    split_month(files / "charges.csv", tmp_path / "c-old.csv", tmp_path / "c-new.csv", "应缴日期", cut)
    split_month(files / "payments.csv", tmp_path / "p-old.csv", tmp_path / "p-new.csv", "收款日期", cut)
    cuijiao(root, "import", "charges", str(tmp_path / "c-old.csv"))
    cuijiao(root, "import", "payments", str(tmp_path / "p-old.csv"))
    (tmp_path / "empty").mkdir()  # an --inbox that does not exist is refused
    cuijiao(root, "run", "--as-of", "2026-10-27", "--inbox", str(tmp_path / "empty"))
    cuijiao(root, "import", "charges", str(tmp_path / "c-new.csv"))
    cuijiao(root, "import", "payments", str(tmp_path / "p-new.csv"))
    assert_kept_is_the_whole(root)
    assert set(reallocated(root).values()) <= {"designation_names_new_charge"}
    assert_same(root, date(2026, 11, 27))


def test_kept_designations_that_name_the_months_charges_are_found_and_no_others(tmp_path: Path) -> None:
    """Prepayments naming November (alone, in a range, by item only) reallocate their units; one naming
    an old month does not: the index walk reads only designations that could reach the new charges."""
    root = tmp_path / "ws"
    assert CliRunner().invoke(app, ["init", str(root), "--company-name", "翠湖物业服务有限公司",
                                    "--estate-name", "翠湖花园", "--company-address", "翠湖路1号",
                                    "--company-phone", "0571-88880000"]).exit_code == 0
    units = [f"1-{n}01" for n in range(1, 6)]
    cuijiao(root, "import", "units", str(write_csv(tmp_path / "units.csv", [
        ["房号", "楼栋", "业主姓名", "联系电话", "建筑面积"],
        *[[u, "1栋", "张三", "13800138000", "88.5"] for u in units]])))
    old = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]] + [
        [u, "物业费", f"2026-{m:02d}", f"2026-{m:02d}-10", "100.00"] for u in units for m in (9, 10)]
    cuijiao(root, "import", "charges", str(write_csv(tmp_path / "old.csv", old)))
    designated = {units[0]: ("物业费", "2026-11"), units[1]: ("", "2026-10~2026-12"), units[2]: ("物业费", ""),
                  units[3]: ("物业费", "2026-09"), units[4]: ("", "")}
    cuijiao(root, "import", "payments", str(write_csv(tmp_path / "paid.csv", [
        ["收据号", "房号", "实收金额", "收款日期", "收费项目", "所属期间"],
        *[[f"SJ-{n}", u, "250.00", "2026-10-20", *designated[u]] for n, u in enumerate(units)]])))
    workspace = open_workspace(root)
    try:
        allocated_estate(workspace)  # kept as of September and October
    finally:
        workspace.close()
    cuijiao(root, "import", "charges", str(write_csv(tmp_path / "new.csv", [
        ["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
        *[[u, "物业费", "2026-11", "2026-11-10", "100.00"] for u in units]])))
    workspace = open_workspace(root)
    try:
        everything = designations_up_to(workspace.db, 10**9)
        reaching = designations_up_to(workspace.db, 10**9, date(2026, 11, 1))
    finally:
        workspace.close()
    assert set(everything) == set(units[:4])  # the fifth payment names nothing
    assert reaching == {u: everything[u] for u in units[:3]}  # September ended before November
    assert_kept_is_the_whole(root)
    assert reallocated(root) == dict.fromkeys(units[:3], "designation_names_new_charge")
