"""Worker processes that never outlive the command that started them.

Both pools (allocation and letters) are spawned, not forked: a forked worker
inherits the workspace lock's file descriptor, and with it the flock, so a
killed command's workers would keep the workspace locked. A spawned worker
still holds both ends of its task queue (multiprocessing pickles the whole
queue), so it never sees the parent go; each worker therefore watches its
parent and exits when it is gone (killed, OOM, power loss of that process).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import resource_tracker
from typing import Any

from cuijiao.memory import reuse_freed_memory

PARENT_CHECK_SECONDS = 0.5


def worker_pool(workers: int, initializer: Callable[..., None] | None = None,
                initargs: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    """A spawned pool whose workers exit soon after their parent dies."""
    _start_quiet_tracker()
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start, initargs=(os.getpid(), initializer, initargs))


def _start(parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()
    reuse_freed_memory()
    if initializer is not None:
        initializer(*initargs)


def _exit_with_parent(parent: int) -> None:
    stopped = threading.Event()
    while not stopped.wait(PARENT_CHECK_SECONDS):
        if os.getppid() != parent:  # reparented: the parent is gone
            os._exit(1)


# The resource tracker's warning after a SIGKILL, which it prints in English to the killed command's
# stderr (cron's log): the pool's semaphores it then removes are its own business, not the clerk's.
_TRACKER_QUIET = "ignore::UserWarning:multiprocessing.resource_tracker"


def _start_quiet_tracker() -> None:
    """Start multiprocessing's resource tracker (once per process) with its leak warning filtered out: it
    inherits the environment it starts with, and the pools would otherwise start it as they are."""
    saved = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = f"{saved},{_TRACKER_QUIET}" if saved else _TRACKER_QUIET
    try:
        resource_tracker.ensure_running()
    finally:
        if saved is None:
            del os.environ["PYTHONWARNINGS"]
        else:
            os.environ["PYTHONWARNINGS"] = saved
