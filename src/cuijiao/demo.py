"""The demo: a fresh workspace on the bundled sample estate, then the batch.

Until the monthly ``run`` exists, the batch is: import units, charges and
payments, age the arrears as of the sample's export date, write the aging
workbook to ``out/``, print the summary and the month's KPIs, then the segments
and the notices the plan would issue (the demo issues none).
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date
from importlib import resources
from pathlib import Path

from cuijiao.arrears import aging_report, segment_units
from cuijiao.collection import plan_estate
from cuijiao.config import CONFIG_NAME
from cuijiao.errors import WorkspaceError
from cuijiao.ingest.importer import ImportOptions, import_files
from cuijiao.money import format_yuan
from cuijiao.reports.aging_output import kpi_lines, write_xlsx
from cuijiao.sample import COMPANY_NAME, ESTATE_NAME, EstateSpec
from cuijiao.stages import STAGE_NAMES
from cuijiao.store.audit import recorded
from cuijiao.workspace import Workspace, init_workspace

# The sample estate was exported on this day; ageing it then keeps the demo's figures fixed.
SAMPLE_AS_OF = EstateSpec().export_date
SAMPLE_FILES = {"units": "units.xlsx", "charges": "charges.csv", "payments": "payments.xlsx"}

DEMO_SETTINGS = {
    "示例小区": ESTATE_NAME,
    "示例物业服务有限公司": COMPANY_NAME,
    'address = ""': 'address = "示范市翠湖路 88 号翠湖花园物业服务中心"',
    'phone = ""': 'phone = "0571-88886666"',
}


def sample_file(name: str) -> Path:
    """A bundled sample file, from the installed package."""
    return Path(str(resources.files("cuijiao") / "sample_data" / name))


def run_demo(directory: Path, *, force: bool = False, as_of: date = SAMPLE_AS_OF) -> list[str]:
    """Import the sample estate into a fresh workspace, then age it and write the workbook."""
    workspace = _fresh_workspace(directory, force=force)
    try:
        copies = _copy_samples(workspace.root / "sample_data")
        lines = [f"演示工作区：{workspace.root.resolve()}"]
        for kind, path in copies.items():
            with recorded(workspace.db, f"demo import {kind}", [str(path)]) as run:
                result = import_files(workspace, run, kind, [path], ImportOptions())
            totals = result.totals()
            lines.append(f"导入 {path.name}：新增 {totals['inserted']} 行，跳过合计行 {totals['totals_rows']}")
        lines.append(_holdings(workspace))
        lines += _aging(workspace, as_of)
        lines += _strategy(workspace, as_of)
        return lines
    finally:
        workspace.close()


def _aging(workspace: Workspace, as_of: date) -> list[str]:
    with recorded(workspace.db, "demo aging", [as_of.isoformat()]) as run:
        report = aging_report(workspace, as_of)
        book = workspace.out_dir / f"账龄-{as_of.isoformat()}.xlsx"
        write_xlsx(book, report)
        run.counts.update(overdue_fen=report.total.overdue_fen, units_in_report=len(report.units))
    total = report.total
    overdue_units = sum(1 for row in report.units if row.overdue_fen)
    buckets = "，".join(f"{label} 天 ¥{format_yuan(total.overdue[label], grouping=True)}"
                       for label in report.buckets.labels if total.overdue[label])
    return [f"截至 {as_of.isoformat()}：{overdue_units} 户欠费，合计 ¥{format_yuan(total.overdue_fen, grouping=True)}"
            f"（{buckets}）；预收余额 ¥{format_yuan(total.credit_fen, grouping=True)}",
            *kpi_lines(report), f"账龄报表：{book}"]


def _strategy(workspace: Workspace, as_of: date) -> list[str]:
    """Segments and the plan for this month: what the batch would issue (nothing is issued here)."""
    labels = {rule.name: rule.label for rule in workspace.settings.segment_rules}
    with recorded(workspace.db, "demo plan", [as_of.isoformat()]) as run:
        segments = Counter(row.verdict.segment for row in segment_units(workspace, as_of))
        due = Counter(p.plan.next_stage for p in plan_estate(workspace, as_of)
                      if p.plan.next_stage and p.plan.issue_now)
        run.counts.update(segments=dict(segments), notices_due={str(k): v for k, v in due.items()})
    stages = "，".join(f"第 {stage} 级{STAGE_NAMES[stage]} {count} 份" for stage, count in sorted(due.items()))
    return ["分群：" + "；".join(f"{labels.get(name, name)} {count} 户" for name, count in segments.most_common()),
            f"本月可发通知（cuijiao notices plan 查看原因，notices issue 发出）：{stages or '无'}"]


def _fresh_workspace(directory: Path, *, force: bool) -> Workspace:
    if directory.exists() and any(directory.iterdir()):
        if not force:
            raise WorkspaceError(f"{directory}: 目录已存在且不为空。请指定新目录，或加 --force 重建演示工作区")
        if not (directory / CONFIG_NAME).is_file():
            raise WorkspaceError(f"{directory}: 不是 cuijiao 工作区，--force 不会删除它")
        shutil.rmtree(directory)
    workspace = init_workspace(directory)
    config = workspace.root / CONFIG_NAME
    text = config.read_text(encoding="utf-8")
    for old, new in DEMO_SETTINGS.items():
        text = text.replace(old, new, 1)
    config.write_text(text, encoding="utf-8")
    return workspace


def _copy_samples(target: Path) -> dict[str, Path]:
    target.mkdir(exist_ok=True)
    copies = {}
    for kind, name in SAMPLE_FILES.items():
        copies[kind] = target / name
        shutil.copyfile(sample_file(name), copies[kind])
    return copies


def _holdings(workspace: Workspace) -> str:
    db = workspace.db
    units = db.execute("SELECT count(*) FROM units").fetchone()[0]
    charged, charges = db.execute(
        "SELECT coalesce(sum(amount_fen), 0), count(*) FROM charges WHERE kind != 'deposit'"
    ).fetchone()
    paid, payments = db.execute(
        "SELECT coalesce(sum(amount_fen), 0), count(*) FROM payments WHERE kind = 'payment'"
    ).fetchone()
    return (f"{ESTATE_NAME}：{units} 户，应收 {charges} 笔共 ¥{format_yuan(charged, grouping=True)}，"
            f"实收 {payments} 笔共 ¥{format_yuan(paid, grouping=True)}，"
            f"差额 ¥{format_yuan(charged - paid, grouping=True)}")
