"""The demo: a year of collection on the bundled sample estate, in one command.

A fresh workspace (marked as the demo's, so ``--force`` may replace it and
nothing else) gets the sample's three exports in its inbox; then the monthly
``run`` goes through each of the last twelve month-ends before the sample's
export date, with the outcomes of each month (deliveries, calls, promises,
a dispute, an instalment plan, approvals, a legal step) recorded between runs
by :mod:`cuijiao.demo_story`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

from cuijiao.config import CONFIG_NAME
from cuijiao.dates import add_months, month_end
from cuijiao.demo_story import APPROVALS_PER_MONTH, Story, between_months
from cuijiao.errors import WorkspaceError
from cuijiao.fileio import write_private_text
from cuijiao.ingest.importer import ImportOptions, import_files
from cuijiao.monthly import RunOptions, RunResult, run_month
from cuijiao.sample import COMPANY_NAME, ESTATE_NAME, EstateSpec
from cuijiao.store.audit import now_text, recorded
from cuijiao.workspace import Workspace, init_workspace, open_workspace

# The sample estate was exported on this day; the demo's year ends before it.
SAMPLE_AS_OF = EstateSpec().export_date
SAMPLE_FILES = {"units": "units.xlsx", "charges": "charges.csv", "payments": "payments.xlsx"}
DEMO_MONTHS = 12
MARKER = ".cuijiao-demo"

DEMO_SETTINGS = {
    "示例小区": ESTATE_NAME,
    "示例物业服务有限公司": COMPANY_NAME,
    'address = ""': 'address = "示范市翠湖路 88 号翠湖花园物业服务中心"',
    'phone = ""': 'phone = "0571-88886666"',
}


def sample_file(name: str) -> Path:
    """A bundled sample file, from the installed package (the repository's top-level sample_data/)."""
    return Path(str(resources.files("cuijiao.sample_data") / name))


def demo_month_ends(export_date: date = SAMPLE_AS_OF, months: int = DEMO_MONTHS) -> list[date]:
    """The last ``months`` month-ends before the export date, oldest first."""
    first = date(export_date.year, export_date.month, 1)
    return [month_end(d.year, d.month) for d in (add_months(first, -back) for back in range(months, 0, -1))]


@dataclass
class DemoResult:
    root: Path
    runs: list[RunResult] = field(default_factory=list)
    story: Story = field(default_factory=Story)

    def lines(self) -> list[str]:
        return [*(run.summary() for run in self.runs), *where_to_look(self)]


def run_demo(directory: Path, *, force: bool = False, months: int = DEMO_MONTHS,
             on_month: Callable[[RunResult], None] | None = None) -> DemoResult:
    """Build the demo workspace in ``directory`` and run its year; ``on_month`` hears each run as it ends."""
    workspace = fresh_workspace(directory, force=force)
    workspace.close()
    for name in SAMPLE_FILES.values():
        shutil.copyfile(sample_file(name), directory / "inbox" / name)
    result = DemoResult(directory)
    for month, day in enumerate(demo_month_ends(months=months)):
        arguments = ("demo", "run", "--as-of", day.isoformat())
        run = run_month(directory, RunOptions(day, approve_first=APPROVALS_PER_MONTH, arguments=arguments))
        result.runs.append(run)
        if on_month is not None:
            on_month(run)
        workspace = open_workspace(directory)
        try:
            between_months(workspace, result.story, month, day, run.issued)
        finally:
            workspace.close()
    return result


def where_to_look(result: DemoResult) -> list[str]:
    root, last = result.root, result.runs[-1]
    first = result.runs[0]
    out = last.out_dir
    return [
        f"演示完成：{root.resolve()}（{ESTATE_NAME}，虚构数据，{len(result.runs)} 个月的月度批处理）",
        *ledger_reconciliation(root),
        f"  月报：{out / f'月报_{last.as_of:%Y-%m}.docx'}（经理看的月报；同样的数字在 .xlsx 中）",
        f"  账龄报表：{last.files.get('aging_xlsx', out)}（按楼栋、房屋、项目的欠费账龄）",
        f"  每月的输出：{root / 'out'}/<截至日期>/：每份通知一个 Word 文件（编号_房号.docx），"
        "print_all.docx（全部信件合并，一次打印），call_sheet_<分群>.docx（电话催缴记录表，含完整电话，内部资料），"
        "sms.csv（缴费提醒短信），manifest.csv（每个文件的 SHA-256），以及月报和账龄报表",
        f"  导入过的台账：{first.root / 'inbox' / 'done' / first.label}/",
        f"  运行日志：{root / 'logs'}/（不含个人信息）",
        f"  试一试：cuijiao -w {root} notices plan --as-of {last.as_of.isoformat()}；"
        f"cuijiao -w {root} audit log；cuijiao -w {root} audit verify",
    ]


def ledger_reconciliation(root: Path) -> list[str]:
    """What the imported files held against what the workspace stores, so a clerk can tie them out.

    Read back from the workspace (the imports table and the ledger), not from the run's own
    counts: the lines check the store, not the importer's memory of what it did.
    """
    workspace = open_workspace(root)
    try:
        db = workspace.db
        files = db.execute(
            "SELECT file_name, rows_read, inserted, unchanged, replaced, rejected, skipped FROM imports ORDER BY id"
        ).fetchall()
        charges = dict(db.execute("SELECT kind, count(*) FROM charges GROUP BY kind").fetchall())
        payments = dict(db.execute("SELECT kind, count(*) FROM payments GROUP BY kind").fetchall())
        units = db.execute("SELECT count(*) FROM units").fetchone()[0]
    finally:
        workspace.close()
    lines = ["  台账核对（每个文件：数据行 = 新入库 + 未变 + 替换 + 拒绝；合计、空白和表尾行不入库）："]
    for name, read, inserted, unchanged, replaced, rejected, skipped in files:
        extra = "".join(f"，{label} {count:,}" for label, count in
                        (("替换", replaced), ("拒绝", rejected), ("跳过的合计/空白/表尾行", skipped)) if count)
        lines.append(f"    {name}：数据行 {read:,}，新入库 {inserted:,}，未变 {unchanged:,}{extra}")
    stored_charges = sum(charges.values())
    lines.append(f"    库中房屋 {units:,} 户；应收 {stored_charges:,} 笔 = 费用 {charges.get('charge', 0):,}"
                 f" + 押金 {charges.get('deposit', 0):,}（押金单列，不计入欠费）"
                 f" + 减免/红冲 {charges.get('adjustment', 0):,}；"
                 f"实收 {sum(payments.values()):,} 笔（其中押金收款 {payments.get('deposit', 0):,}，不冲抵费用）")
    return lines


def fresh_workspace(directory: Path, *, force: bool) -> Workspace:
    """A new workspace marked as the demo's; ``force`` replaces only a folder the demo made."""
    if directory.exists() and not directory.is_dir():
        raise WorkspaceError(f"{directory}: 已存在同名文件，不是目录")
    if directory.exists() and any(directory.iterdir()):
        if not force:
            raise WorkspaceError(f"{directory}: 目录已存在且不为空。请指定新目录，或加 --force 替换以前的演示工作区")
        if not (directory / MARKER).is_file():
            raise WorkspaceError(f"{directory}: 不是 cuijiao demo 创建的目录（没有 {MARKER} 标记），"
                                 "--force 只替换演示工作区，不会删除它")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text(f"cuijiao demo 于 {now_text()} 创建此目录；cuijiao demo --force 可删除重建它。\n",
                                    encoding="utf-8")
    workspace = init_workspace(directory)
    config = workspace.root / CONFIG_NAME
    text = config.read_text(encoding="utf-8")
    for old, new in DEMO_SETTINGS.items():
        text = text.replace(old, new, 1)
    write_private_text(config, text)
    return open_workspace(directory)


def sample_workspace(directory: Path) -> Path:
    """A workspace holding the sample estate's ledgers and nothing else (for tests and trials)."""
    workspace = fresh_workspace(directory, force=False)
    try:
        for kind, name in SAMPLE_FILES.items():
            with recorded(workspace.db, f"import {kind}", [name]) as run:
                import_files(workspace, run, kind, [sample_file(name)], ImportOptions())
    finally:
        workspace.close()
    return directory
