"""The demo: a fresh workspace on the bundled sample estate, then the batch.

Until the monthly ``run`` exists, the batch is: import units, charges and
payments, and summarise what the workspace now holds.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from cuijiao.config import CONFIG_NAME
from cuijiao.errors import WorkspaceError
from cuijiao.ingest.importer import ImportOptions, import_files
from cuijiao.money import format_yuan
from cuijiao.sample import COMPANY_NAME, ESTATE_NAME
from cuijiao.store.audit import finish_run, start_run
from cuijiao.workspace import Workspace, init_workspace

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


def run_demo(directory: Path, *, force: bool = False) -> list[str]:
    workspace = _fresh_workspace(directory, force=force)
    try:
        copies = _copy_samples(workspace.root / "sample_data")
        lines = [f"演示工作区：{workspace.root.resolve()}"]
        for kind, path in copies.items():
            run = start_run(workspace.db, f"demo import {kind}", [str(path)])
            result = import_files(workspace, run, kind, [path], ImportOptions())
            finish_run(workspace.db, run)
            totals = result.totals()
            lines.append(f"导入 {path.name}：新增 {totals['inserted']} 行，跳过合计行 {totals['totals_rows']}")
        lines.append(_holdings(workspace))
        return lines
    finally:
        workspace.close()


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
    paid, payments = db.execute("SELECT coalesce(sum(amount_fen), 0), count(*) FROM payments").fetchone()
    return (f"{ESTATE_NAME}：{units} 户，应收 {charges} 笔共 ¥{format_yuan(charged, grouping=True)}，"
            f"实收 {payments} 笔共 ¥{format_yuan(paid, grouping=True)}，"
            f"差额 ¥{format_yuan(charged - paid, grouping=True)}")
