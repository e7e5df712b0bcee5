"""Typed errors that the CLI turns into a message and an exit code."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_WARNINGS = 3


class CuijiaoError(Exception):
    """A failure the user can act on; ``str()`` is the Chinese message."""

    exit_code = EXIT_ERROR


class DatabaseBusy(CuijiaoError):
    """Another command held the workspace's write lock for longer than we wait."""


class Interrupted(CuijiaoError):
    """The command was stopped by a signal (SIGTERM, SIGINT); the open transaction rolled back."""


class BadInput(CuijiaoError):
    """Bad usage or bad input: nothing was changed."""

    exit_code = EXIT_BAD_INPUT


class WorkspaceError(BadInput):
    """The folder is not a usable workspace."""


class ConfigError(BadInput):
    """``cuijiao.toml`` is invalid."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem at a place in an input file: ``file:row:column: message``."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if not self.row and not self.column and self.message.startswith(self.file):
            return self.message  # a whole-file problem already names its file
        place = f"{self.file}:{self.row}" if self.row else self.file
        if self.column:
            place += f":{self.column}"
        return f"{place}: {self.message}"


class InputProblems(BadInput):
    """One or more input files have problems; every one is listed."""

    def __init__(self, problems: list[Problem], summary: str = "") -> None:
        self.problems = problems
        self.summary = summary or f"共 {len(problems)} 个错误，未导入任何数据"
        super().__init__("\n".join([*map(str, problems), self.summary]))
