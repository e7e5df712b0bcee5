"""What every command pays before it starts: the letters' modules only for the commands that write letters."""

from __future__ import annotations

import subprocess
import sys


def test_commands_start_without_the_letters_and_the_monthly_batch() -> None:
    """python-docx, the documents package and the monthly batch took ~0.1 s of every command's start-up."""
    heavy = ("docx", "cuijiao.documents", "cuijiao.monthly", "cuijiao.month_files")
    code = f"import sys, cuijiao.cli; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
