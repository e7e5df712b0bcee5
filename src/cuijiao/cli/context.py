"""What every command shares: the global options, opening the workspace,
recording the run, and turning typed errors into a message and an exit code."""

from __future__ import annotations

import re
import signal
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from cuijiao.cli.output import print_json
from cuijiao.dates import parse_date
from cuijiao.errors import (
    EXIT_BAD_INPUT,
    EXIT_ERROR,
    BadInput,
    CuijiaoError,
    DatabaseBusy,
    InputProblems,
    Interrupted,
    Problem,
    WorkspaceError,
)
from cuijiao.store.audit import Run, finish_run, now_text, record_read_run, start_run
from cuijiao.store.db import busy_error, busy_seconds, is_busy
from cuijiao.store.lock import Holder, workspace_lock
from cuijiao.workspace import ENV_VAR, Workspace, open_workspace, resolve_root

# No ``envvar=`` here: Click would fill a command's own -w from the environment
# and so override a -w written before the command name. resolve_root() reads it last.
WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w",
        help=f"工作区目录（写在命令前后均可，优先于环境变量 {ENV_VAR}；都没有时用当前目录）。",
    ),
]

AsOfOption = Annotated[str | None, typer.Option("--as-of", help="截至日期，如 2026-11-27（默认今天）。")]
UnmaskOption = Annotated[bool, typer.Option("--unmask", help="显示完整的业主姓名。")]


def option_date(text: str | None, option: str) -> date:
    """A date option in any form a clerk writes; today when not given."""
    if text is None:
        return date.today()
    try:
        return parse_date(text)
    except ValueError as exc:
        raise BadInput(f"{option}：{exc}") from None


def as_of_date(text: str | None) -> date:
    return option_date(text, "--as-of")


# More than this many problems would scroll the first ones away.
_MAX_PROBLEMS_SHOWN = 200


@dataclass
class AppState:
    workspace: Path | None = None
    quiet: bool = False
    json: bool = False


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    return root.obj if isinstance(root.obj, AppState) else AppState()


def workspace_root(ctx: typer.Context, local: Path | None) -> Path:
    """-w after the command name, else -w before it, else the environment, else the current folder."""
    return resolve_root(local if local is not None else state(ctx).workspace)


def summary(ws: Workspace, text: str) -> None:
    """The command's last line, printed even under --quiet: what was done, and in which workspace."""
    typer.echo(f"{text}（工作区 {ws.root}）")


def typer_context() -> typer.Context | None:
    """The context of the command being run, if any (Click keeps it)."""
    from typer._click.globals import get_current_context  # noqa: PLC0415 - Typer's vendored Click

    found = get_current_context(silent=True)
    return found if isinstance(found, typer.Context) else None


def error(message: str) -> None:
    typer.echo(message, err=True)


def report_error(exc: CuijiaoError, *, as_json: bool | None = None, workspace: Path | None = None) -> None:
    """The error for a person on stderr, or under --json an object on stdout with every problem's place.

    ``workspace``: the workspace the command used, named on the last line (and under --json) like a summary.
    The exception's notes (``add_note``: what a failed ``run`` kept) follow the error, under --json as ``notes``.
    """
    if as_json is None:
        current = typer_context()
        as_json = current is not None and state(current).json
    where = f"（工作区 {workspace}）" if workspace is not None else ""
    notes = list(getattr(exc, "__notes__", ()))
    if as_json:
        problems = exc.problems if isinstance(exc, InputProblems) else []
        said: dict[str, object] = {"error": exc.summary if isinstance(exc, InputProblems) else str(exc),
                                   "problems": [problem_json(p) for p in problems]}
        if notes:
            said["notes"] = notes
        if workspace is not None:
            said["workspace"] = str(workspace)
        print_json(said)
        return
    if isinstance(exc, InputProblems) and len(exc.problems) > _MAX_PROBLEMS_SHOWN:
        for problem in exc.problems[:_MAX_PROBLEMS_SHOWN]:
            error(str(problem))
        hidden = len(exc.problems) - _MAX_PROBLEMS_SHOWN
        error(f"……另有 {hidden} 个错误未显示（加 --skip-invalid 可把全部错误行写入 .rejected.csv）")
        lines = [exc.summary, *notes]
    else:
        lines = [str(exc), *notes]
    for line in lines[:-1]:
        error(line)
    error(lines[-1] + where)


def _named(exc: CuijiaoError, root: Path) -> Path | None:
    """The workspace to name after an error opening it: none when the message is already about that folder."""
    return None if isinstance(exc, WorkspaceError) else root


def problem_json(problem: Problem) -> dict[str, object]:
    """A problem for programs: its row as a number, or null for a whole-file problem with no line.

    A whole-file problem (row 0) whose message starts ``file:LINE:`` (a mixed encoding) is at that line.
    """
    row: int | None = problem.row or None
    if row is None:
        found = re.match(re.escape(problem.file) + r":(\d+):", problem.message)
        row = int(found.group(1)) if found else None
    return {"file": problem.file, "row": row, "column": problem.column, "message": problem.message}


def recorded_run(ctx: typer.Context, local: Path | None, command: str, *, reads_only: bool = False,
                 wait_seconds: float | None = None) -> AbstractContextManager[tuple[Workspace, Run]]:
    """Open the workspace and record this command as a run, whatever its outcome.

    SIGTERM and SIGINT end the command cleanly: an open transaction rolls back,
    the run is closed as interrupted and the clerk is told what was kept.

    ``reads_only``: the command writes nothing of its own (a report, a plan), so
    it reads and answers first and records its run afterwards (see :func:`_read_run`).
    A command that writes holds the workspace lock throughout, waiting for it up to
    ``wait_seconds`` (default: the busy timeout): while ``run`` or ``notices issue``
    works, an import or a record waits or is refused instead of changing the ledger
    under the month's letters and reports.
    """
    if reads_only:
        return _read_run(ctx, local, command)
    return _write_run(ctx, local, command, busy_seconds() if wait_seconds is None else wait_seconds)


@contextmanager
def _write_run(ctx: typer.Context, local: Path | None, command: str,
               wait_seconds: float) -> Iterator[tuple[Workspace, Run]]:
    """The run recorded before the command's work, which may write (see :func:`recorded_run`)."""
    root = workspace_root(ctx, local)
    with ExitStack() as held:
        try:
            workspace = open_workspace(root)
            held.callback(workspace.close)
            lock = held.enter_context(workspace_lock(root, command, wait_seconds=wait_seconds,
                                                     on_wait=partial(_say_waiting, seconds=wait_seconds)))
            run = start_run(workspace.db, command, sys.argv[1:])
            note = lock.takeover_note()
            if note:  # a command killed mid-write: its run is closed as interrupted, and the clerk told
                error(f"注意：{note}")
                run.counts["lock_taken_over"] = note
        except CuijiaoError as exc:
            report_error(exc, workspace=_named(exc, root))
            raise typer.Exit(exc.exit_code) from None
        yield from _as_run(workspace, run)


def _say_waiting(holder: Holder | None, *, seconds: float) -> None:
    who = f"（{holder.describe()}）" if holder else ""
    sys.stderr.write(f"正在等待另一个 cuijiao 命令完成{who}，最多等待 {seconds:g} 秒…\n")
    sys.stderr.flush()


def _as_run(workspace: Workspace, run: Run) -> Iterator[tuple[Workspace, Run]]:
    previous = _catch_signals(workspace)
    try:
        yield workspace, run
    except Interrupted as exc:
        run.outcome = "interrupted"
        _close(workspace, run)
        error(str(exc))
        raise typer.Exit(EXIT_ERROR) from None
    except (DatabaseBusy, sqlite3.OperationalError) as exc:
        if not isinstance(exc, DatabaseBusy) and not is_busy(exc):
            run.outcome = "error"
            _close(workspace, run)
            raise
        # Closing the run would wait for the same lock again; the next command
        # finds this run's process gone and closes it as interrupted.
        run.outcome = "error"
        _close(workspace, run, wait=False)
        error(str(exc) if isinstance(exc, DatabaseBusy) else str(busy_error()))
        raise typer.Exit(EXIT_ERROR) from None
    except CuijiaoError as exc:
        run.outcome = "bad_input" if exc.exit_code == EXIT_BAD_INPUT else "error"
        run.counts["error"] = str(exc)[:2000]
        _close(workspace, run)
        report_error(exc, workspace=workspace.root)
        raise typer.Exit(exc.exit_code) from None
    except typer.Exit as done:
        run.outcome = {0: "ok", 3: "warnings"}.get(done.exit_code, "error")
        _close(workspace, run)
        raise
    except KeyboardInterrupt:
        run.outcome = "interrupted"
        _close(workspace, run)
        raise
    except Exception:
        run.outcome = "error"
        _close(workspace, run)
        raise
    else:
        _close(workspace, run)
    finally:
        _restore_signals(previous)


@contextmanager
def _read_run(ctx: typer.Context, local: Path | None, command: str) -> Iterator[tuple[Workspace, Run]]:
    """A command that only reads: it answers from the database as last committed (WAL),
    never waiting for another command's write lock, and records its run afterwards.

    Recording needs the write lock: if another command holds it, the clerk
    already has the answer and is told why the command has not ended yet.
    """
    started = now_text()
    root = workspace_root(ctx, local)
    try:
        workspace = open_workspace(root)
        workspace.db  # noqa: B018 - opened now, so a bad database is reported like any error
    except CuijiaoError as exc:
        report_error(exc, workspace=_named(exc, root))
        raise typer.Exit(exc.exit_code) from None
    run = Run(0, command, {})
    previous = _catch_signals(workspace)
    pending: BaseException | None = None
    try:
        try:
            yield workspace, run
        except Interrupted as exc:
            run.outcome = "interrupted"
            error(str(exc))
            pending = typer.Exit(EXIT_ERROR)
        except (DatabaseBusy, sqlite3.OperationalError) as exc:
            run.outcome = "error"
            if isinstance(exc, DatabaseBusy) or is_busy(exc):
                error(str(exc) if isinstance(exc, DatabaseBusy) else str(busy_error()))
                pending = typer.Exit(EXIT_ERROR)
            else:
                pending = exc
        except CuijiaoError as exc:
            run.outcome = "bad_input" if exc.exit_code == EXIT_BAD_INPUT else "error"
            run.counts["error"] = str(exc)[:2000]
            report_error(exc, workspace=workspace.root)
            pending = typer.Exit(exc.exit_code)
        except typer.Exit as done:
            run.outcome = {0: "ok", 3: "warnings"}.get(done.exit_code, "error")
            pending = done
        except KeyboardInterrupt as exc:
            run.outcome = "interrupted"
            pending = exc
        except Exception as exc:  # recorded as an error, then raised again below
            run.outcome = "error"
            pending = exc
        _record_read(workspace, command, started, run)
    finally:
        _restore_signals(previous)
    if pending is not None:
        raise pending


def _record_read(workspace: Workspace, command: str, started: str, run: Run) -> None:
    try:
        workspace.finish_keeping()  # the allocation it computed is named before the run that made it is recorded
        record_read_run(workspace.db, command, sys.argv[1:], started, run)
    except Interrupted as exc:
        error(str(exc))
        raise typer.Exit(EXIT_ERROR) from None
    except (DatabaseBusy, sqlite3.OperationalError) as exc:
        if not isinstance(exc, DatabaseBusy) and not is_busy(exc):
            raise
        error(f"结果已在上方给出，但数据库正被另一个 cuijiao 命令使用，已等待 {busy_seconds():g} 秒仍未释放，"
              "本次查询未能记入审计记录。请等那个命令结束后再运行一次本命令")
        raise typer.Exit(EXIT_ERROR) from None
    finally:
        workspace.close()


_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _catch_signals(workspace: Workspace) -> dict[int, object]:
    """Turn SIGTERM/SIGINT into :class:`Interrupted`, raised where the command is."""
    if not _main_thread():
        return {}

    def interrupted(signum: int, _frame: object) -> None:
        if workspace.closing:  # the command is done and its run recorded: only the connection is closing
            return
        for number in _SIGNALS:  # a second signal must not interrupt the clean-up
            signal.signal(number, signal.SIG_IGN)
        name = signal.Signals(signum).name
        db = workspace._db  # only whether a transaction is open: never opens one
        if db is not None and db.in_transaction:
            raise Interrupted(f"已中断（收到 {name}）：正在进行的写入已全部撤销，数据库保持本命令开始写入前的状态")
        raise Interrupted(f"已中断（收到 {name}）：已完成的写入均已保存（见 cuijiao audit log），其余未执行")

    previous: dict[int, object] = {number: signal.getsignal(number) for number in _SIGNALS}
    for number in _SIGNALS:
        signal.signal(number, interrupted)
    return previous


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


_AFTER_RUN: list[object] = []  # the handler once a run is recorded; empty: the one before it


def ignore_signals_after_run() -> None:
    """The CLI process: once its run is recorded as finished, a SIGTERM or Ctrl-C in the moment
    before exit is ignored, so it cannot kill a command whose work is saved before it says so."""
    _AFTER_RUN[:] = [signal.SIG_IGN]


def _restore_signals(previous: dict[int, object]) -> None:
    for number, handler in previous.items():
        signal.signal(number, _AFTER_RUN[0] if _AFTER_RUN else handler)  # type: ignore[arg-type]


def _close(workspace: Workspace, run: Run, *, wait: bool = True) -> None:
    try:
        workspace.finish_keeping()
        finish_run(workspace.db, run, wait=wait)
    except (DatabaseBusy, sqlite3.OperationalError):
        if wait:
            raise
    finally:
        workspace.close()


def fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    error(message)
    return typer.Exit(code)
