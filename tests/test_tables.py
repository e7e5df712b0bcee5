"""Terminal tables a clerk reads at 80 columns: dates, numbers, ids and amounts are never split."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.cells import cell_len

from conftest import Invoke
from cuijiao.sample import EstateSpec, write_estate

AS_OF = "2026-11-25"
# A whole cell of a wide table that must stay whole at 80 columns: a date, a number, an id, an amount.
WHOLE = re.compile(r"[!-~]*[0-9][!-~]*(?: [!-~]+)?")


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_estate(tmp_path_factory.mktemp("export"), EstateSpec(units=60, months=40))


@pytest.fixture
def estate(cli: Invoke, exports: dict[str, Path]) -> Invoke:
    for kind in ("units", "charges", "payments"):
        result = cli("import", kind, str(exports[kind]))
        assert result.exit_code == 0, result.output
    assert cli("notices", "issue", "--as-of", AS_OF).exit_code == 0
    return cli


def _cells(out: str) -> set[str]:
    """The cells of every table row in a wide table's output that hold a figure, a date or an id."""
    cells = set()
    for line in out.splitlines():
        if line.startswith("│"):
            cells |= {cell.strip() for cell in line.strip("│").split("│") if WHOLE.fullmatch(cell.strip())}
    return cells


def _at(cli: Invoke, monkeypatch: pytest.MonkeyPatch, columns: int, *args: str) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def _unit_with_receipts(cli: Invoke) -> str:
    rows = json.loads(cli("--json", "aging", "--as-of", AS_OF).stdout)["rows"]
    for row in rows:
        data = json.loads(cli("--json", "unit", row["unit_id"], "--as-of", AS_OF).stdout)
        if any(p["receipt_no"] for p in data["payments"]):
            return str(row["unit_id"])
    raise AssertionError("no unit with a receipt")


@pytest.mark.parametrize("command", [
    ["unit", "UNIT", "--as-of", AS_OF],
    ["aging", "--as-of", AS_OF],
    ["aging", "--as-of", AS_OF, "--by", "building"],
    ["aging", "--as-of", AS_OF, "--by", "item"],
    ["segment", "--as-of", AS_OF],
    ["notices", "plan", "--as-of", AS_OF],
    ["limitation", "--as-of", AS_OF, "--within", "3650"],
    ["audit", "log", "-n", "200"],
    ["import", "charges", "CHARGES", "--dry-run"],
    ["templates", "list"],
])
def test_at_80_columns_no_date_number_id_or_amount_is_split(
        estate: Invoke, exports: dict[str, Path], monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    args = [_unit_with_receipts(estate) if a == "UNIT" else str(exports["charges"]) if a == "CHARGES" else a
            for a in command]
    wide = _at(estate, monkeypatch, 250, *args)
    narrow = _at(estate, monkeypatch, 80, *args)
    cells = _cells(wide)
    assert cells, wide
    assert max(cell_len(line) for line in narrow.splitlines() if line[:1] in "┏┃┡│├└") <= 80
    lines = narrow.splitlines()
    split = sorted(cell for cell in cells if not any(f" {cell} " in line for line in lines))
    assert not split, split
