"""The README's cron line, run the way cron runs it: an empty environment, /bin/sh, absolute paths."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from cuijiao.demo import fresh_workspace
from cuijiao.sample import EstateSpec, write_estate

ROOT = Path(__file__).resolve().parent.parent
# The paths the README's line names, replaced here by this machine's.
README_CUIJIAO = "/opt/cuijiao/.venv/bin/cuijiao"
README_WORKSPACE = "/srv/cuijiao/cuihu"


def cron_line() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```sh\n# crontab -e\n", 1)[1].split("```", 1)[0]
    (line,) = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return line


def test_the_cron_line_runs_unattended_in_an_empty_environment(tmp_path: Path) -> None:
    line = cron_line()
    fields = line.split(None, 5)
    assert fields[:5] == ["0", "2", "1", "*", "*"]  # 02:00 on the 1st of every month
    command = fields[5]
    assert README_CUIJIAO in command and README_WORKSPACE in command  # absolute paths, the workspace named
    workspace = tmp_path / "cuihu"
    fresh_workspace(workspace, force=False).close()
    write_estate(workspace / "inbox", EstateSpec(units=6, months=14))
    cuijiao = shutil.which("cuijiao", path=str(Path(sys.executable).parent))
    assert cuijiao is not None
    command = command.replace(README_CUIJIAO, cuijiao).replace(README_WORKSPACE, str(workspace))
    done = subprocess.run(["env", "-i", "/bin/sh", "-c", command], capture_output=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert done.stdout == b"" and done.stderr == b""  # cron mails what a job prints: it prints nothing
    log = (workspace / "logs" / "cron.log").read_bytes().decode("utf-8")  # UTF-8 whatever the locale
    (summary,) = log.splitlines()
    assert summary.startswith("月度批处理 ") and "完成" in summary
    db = sqlite3.connect(workspace / "cuijiao.db")
    assert db.execute("SELECT count(*) FROM units").fetchone()[0] == 6
    again = subprocess.run(["env", "-i", "/bin/sh", "-c", command], capture_output=True, timeout=600, check=False)
    assert again.returncode == 0
    assert "发出通知 0 份" in (workspace / "logs" / "cron.log").read_text(encoding="utf-8").splitlines()[-1]
