"""What every command pays before it starts: the letters' modules only for the commands that write letters."""

from __future__ import annotations

import os
import subprocess
import sys


def test_commands_start_without_the_letters_and_the_monthly_batch() -> None:
    """python-docx, the documents package and the monthly batch took ~0.1 s of every command's start-up."""
    heavy = ("docx", "cuijiao.documents", "cuijiao.monthly", "cuijiao.month_files")
    code = f"import sys, cuijiao.cli; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_numpy_asks_for_no_huge_pages_unless_the_environment_says_so() -> None:
    code = "import cuijiao, numpy; print(numpy._core.multiarray._get_madvise_hugepage())"
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    asked = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert asked.strip() == "False"
    env["NUMPY_MADVISE_HUGEPAGE"] = "1"
    asked = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert asked.strip() == "True"
