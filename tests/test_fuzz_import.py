"""Fuzzing the importer with generated malformed files (issue #12 item 5).

Every file must end in exit 0, 2 or 3, never a traceback; a refusal (2) names
the file in its first line and leaves the ledger exactly as it was. The budget
is fixed for ``make test``; raise it with CUIJIAO_FUZZ_FILES (a count) and
CUIJIAO_FUZZ_SEED, e.g. ``CUIJIAO_FUZZ_FILES=1200 pytest tests/test_fuzz_import.py -s``.
"""

import hashlib
import os
import random
import sqlite3
import time
import traceback
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from conftest import UNIT_HEADER, write_csv
from cuijiao.cli import app
from fuzzcases import make_case

FILES = int(os.environ.get("CUIJIAO_FUZZ_FILES", "120"))
SEED = int(os.environ.get("CUIJIAO_FUZZ_SEED", "20261128"))
LEDGER = ("units", "charges", "payments", "imports")


def ledger_digest(db: Path) -> str:
    digest = hashlib.sha256()
    with sqlite3.connect(db) as connection:
        for table in LEDGER:
            for row in connection.execute(f"SELECT * FROM {table} ORDER BY 1"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def test_malformed_files_never_crash_and_refusals_change_nothing(workspace_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    units = write_csv(tmp_path / "units.csv", [
        UNIT_HEADER, ["1-101", "1栋", "张三", "", "89.5", ""], ["1-102", "1栋", "李四", "", "120", ""],
        ["2-201", "2栋", "王五", "", "75", ""],
    ])
    assert runner.invoke(app, ["-w", str(workspace_dir), "import", "units", str(units)]).exit_code == 0
    db = workspace_dir / "cuijiao.db"
    rng = random.Random(SEED)
    folder = tmp_path / "fuzz"
    folder.mkdir()
    exits: Counter[int] = Counter()
    failures: list[str] = []
    started = time.perf_counter()
    for index in range(FILES):
        kind, path, what = make_case(rng, folder, index)
        before = ledger_digest(db)
        result = runner.invoke(app, ["-w", str(workspace_dir), "import", kind, str(path)])
        exits[result.exit_code] += 1
        place = f"{path.name} ({kind}, {what})"
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            trace = "".join(traceback.format_exception(result.exception))
            failures.append(f"{place}: traceback\n{trace}")
        elif result.exit_code not in (0, 2, 3) or "Traceback" in result.output:
            failures.append(f"{place}: exit {result.exit_code}: {result.output[-500:]}")
        elif result.exit_code == 2:
            first = result.stderr.splitlines()[0] if result.stderr else ""
            if not first.startswith(path.name):
                failures.append(f"{place}: message not located: {first!r}")
            if ledger_digest(db) != before:
                failures.append(f"{place}: refused but the ledger changed")
    seconds = time.perf_counter() - started
    print(f"\nfuzz: {FILES} files, seed {SEED}, {seconds:.1f} s, exits {dict(sorted(exits.items()))}, "
          f"{len(failures)} failures")
    assert not failures, "\n".join(failures[:5])
