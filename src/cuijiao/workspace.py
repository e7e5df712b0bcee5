"""A workspace: one folder per estate with its settings, database and outputs."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cuijiao.config import CONFIG_NAME, DEFAULT_CONFIG, Settings, load_settings, with_company, with_estate
from cuijiao.errors import WorkspaceError
from cuijiao.fileio import private_dir, write_private_text
from cuijiao.store.db import DB_NAME, connect, connect_readonly

ENV_VAR = "CUIJIAO_WORKSPACE"


@dataclass
class Workspace:
    root: Path
    settings: Settings
    _db: sqlite3.Connection | None = field(default=None, repr=False)
    # The kept allocation read or made by this process, with the ledger state it is of (cuijiao.arrears):
    # the monthly batch asks for it at every step, and reading it costs a second at 100,000 units.
    kept_estate: tuple[str, Any] | None = field(default=None, repr=False, compare=False)
    # The last estate plan made through this connection, for issuing to take up if nothing was written
    # since (cuijiao.collection): the monthly batch plans, then issues what the plan says.
    last_plan: Any = field(default=None, repr=False, compare=False)
    kept_facts: Any = field(default=None, repr=False, compare=False)  # the per-unit facts of kept_estate, one day
    # A computed allocation whose file a thread is still writing: naming it in the database waits for the
    # write, so a report answers first and the command names it on its way out (finish_keeping).
    _keeping: Callable[[], object] | None = field(default=None, repr=False, compare=False)
    # Set while and once the connection closes (the command's run is recorded): a signal then has
    # nothing left to interrupt (cuijiao.cli.context), and must not touch the closing connection.
    closing: bool = field(default=False, repr=False, compare=False)

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @property
    def out_dir(self) -> Path:
        return self.root / "out"

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = connect(self.db_path)
            self.closing = False
        return self._db

    @classmethod
    def read_only(cls, root: Path, settings: Settings) -> Workspace:
        """The workspace through a read-only connection (for worker processes)."""
        return cls(root, settings, connect_readonly(root / DB_NAME))

    def keep_later(self, finish: Callable[[], object]) -> None:
        """Call ``finish`` at :meth:`finish_keeping` (at the latest when the workspace closes)."""
        self.finish_keeping()
        self._keeping = finish

    def finish_keeping(self) -> bool:
        """Wait for the allocation file being written, and name it in the workspace; False: none was."""
        finish, self._keeping = self._keeping, None
        if finish is not None:
            finish()
        return finish is not None

    def close(self) -> None:
        """Name the allocation file being written, then close the database connection, if one was opened."""
        try:
            self.finish_keeping()
        finally:
            self.closing = True
            if self._db is not None:
                self._db.close()
                self._db = None
            self.kept_estate = self.last_plan = self.kept_facts = None


def resolve_root(explicit: Path | None) -> Path:
    """``--workspace``, else ``$CUIJIAO_WORKSPACE``, else the current folder."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(ENV_VAR)
    return Path(from_env) if from_env else Path.cwd()


def check_init_target(root: Path) -> None:
    """Refuse a folder ``init`` must not fill: a file, or a folder holding things that are not a workspace."""
    if root.exists() and not root.is_dir():
        raise WorkspaceError(f"{root} 是一个文件，不是文件夹：请换一个新的文件夹名，未做任何改动")
    if (root / CONFIG_NAME).exists():
        raise WorkspaceError(f"{root}: 已经是 cuijiao 工作区（{CONFIG_NAME} 已存在），未做任何改动")
    if root.is_dir() and any(not entry.name.startswith(".") for entry in root.iterdir()):
        raise WorkspaceError(f"{root} 不是空文件夹，也不是 cuijiao 工作区：请指定一个新的或空的文件夹，未做任何改动")


def init_workspace(root: Path, company: Mapping[str, str] | None = None, *, estate: str | None = None) -> Workspace:
    """Create the folders, a commented ``cuijiao.toml`` (``company``'s keys, the estate's name) and the database."""
    if (root / CONFIG_NAME).exists():
        raise WorkspaceError(f"{root}: 已经是 cuijiao 工作区（{CONFIG_NAME} 已存在），未做任何改动")
    private_dir(root)  # owners' names and phones live here: 0700
    for sub in ("templates", "out", "logs", "inbox"):
        private_dir(root / sub)
    # The settings name the company and may hold its contacts: 0600, like the database.
    write_private_text(root / CONFIG_NAME, with_estate(with_company(DEFAULT_CONFIG, company or {}), estate))
    workspace = Workspace(root, load_settings(root / CONFIG_NAME))
    workspace.db  # noqa: B018 - creates the database (mode 0600) and its schema now
    return workspace


def open_workspace(root: Path) -> Workspace:
    """Open an existing workspace; a folder without ``cuijiao.toml`` is not one."""
    if not (root / CONFIG_NAME).is_file():
        raise WorkspaceError(
            f"{root}: 不是 cuijiao 工作区（没有 {CONFIG_NAME}）。"
            "请先运行 cuijiao init，或用 --workspace 指定工作区"
        )
    return Workspace(root, load_settings(root / CONFIG_NAME))
