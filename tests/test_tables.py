"""Terminal tables a clerk reads at 80 columns: dates, numbers, ids and amounts are never split."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from conftest import Invoke, write_csv
from cuijiao.cli.output import new_table
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


def test_amounts_a_clerk_reads_have_thousands_separators(
        with_units: Invoke, workspace_dir: Path, tmp_path: Path) -> None:
    charges = write_csv(tmp_path / "c.csv", [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
                                             ["1-101", "物业费", "2023-01", "2023-01-10", "11401.40"],
                                             ["1-102", "物业费", "2019-01", "2019-01-10", "3000.00"]])
    header = ["收据号", "房号", "实收金额", "收款日期"]
    paid = write_csv(tmp_path / "p1.csv", [header, ["SJ9", "1-101", "1250.00", "2023-06-01"],
                                           ["SJ10", "1-102", "1250.00", "2023-06-01"]])  # after its limitation end
    assert with_units("import", "charges", str(charges)).exit_code == 0
    assert with_units("import", "payments", str(paid)).exit_code == 0
    conflict = with_units("import", "payments",
                          str(write_csv(tmp_path / "p2.csv", [header, ["SJ9", "1-101", "250.00", "2023-06-01"]])))
    assert "金额 1,250.00 → 250.00" in conflict.stderr
    unit = with_units("unit", "1-101", "--as-of", "2023-11-30")
    assert "逾期欠费 10,151.40 元" in unit.output
    assert " 11,401.40 " in unit.stdout and " 1,250.00 " in unit.stdout  # the statement's table too
    barred = with_units("limitation", "--as-of", "2023-11-30").stdout
    assert "付款 1,250.00 元" in barred and "余欠 1,750.00 元" in barred
    promise = with_units("record", "promise", "1-101", "--amount", "5000", "--by", "2023-12-15", "--on", "2023-11-20")
    assert "前缴纳 5,000.00 元" in promise.output
    assert with_units("run", "--as-of", "2023-11-30").exit_code == 0
    log = (workspace_dir / "logs" / "2023-11-30.log").read_text(encoding="utf-8")
    assert re.search(r"合计 \d{1,3}(,\d{3})+\.\d\d 元", log), log
    assert '"overdue": "10151.40"' in with_units("--json", "unit", "1-101", "--as-of", "2023-11-30").stdout


def _body(out: str) -> list[list[str]]:
    """The table rows printed (continuation lines of wrapped text left out)."""
    rows = [[cell.strip() for cell in line.strip("│").split("│")] for line in out.splitlines() if line.startswith("│")]
    return [row for row in rows if row[0]]


@pytest.mark.parametrize(("command", "amount_column"), [
    (["segment", "--as-of", AS_OF], None),
    (["notices", "plan", "--as-of", AS_OF], None),
    (["limitation", "--as-of", AS_OF, "--within", "3650"], 4),
])
def test_a_long_table_shows_the_largest_first_and_all_with_all(
        estate: Invoke, monkeypatch: pytest.MonkeyPatch, command: list[str], amount_column: int | None) -> None:
    owed = {row["unit_id"]: Decimal(row["overdue_total"])
            for row in json.loads(estate("--json", "segment", "--as-of", AS_OF).stdout)["rows"]}
    rows = json.loads(estate("--json", *command).stdout)["rows"]
    every = [owed.get(row["unit_id"], Decimal(0)) if amount_column is None else Decimal(row["owed"]) for row in rows]
    assert len(rows) > 3
    monkeypatch.setenv("LINES", "15")  # a screen with room for three rows
    short = estate(*command).stdout
    shown = [owed.get(row[0], Decimal(0)) if amount_column is None else Decimal(row[amount_column].replace(",", ""))
             for row in _body(short)]
    assert sorted(shown, reverse=True) == sorted(every, reverse=True)[:3]
    assert f"共 {len(rows)} 行，只显示欠费最多的 3 行" in short and "--all" in short and "--format csv" in short
    full = estate(*command, "--all").stdout
    assert "--all" not in full
    units = list(dict.fromkeys(row["unit_id"] for row in rows))  # natural order (test_natural_order)
    assert list(dict.fromkeys(row[0] for row in _body(full))) == units


def test_a_table_with_no_rows_is_one_line_not_empty_frames() -> None:
    recorder = Console(width=80, record=True, file=io.StringIO())
    recorder.print(new_table("诉讼时效（截至 2024-01-01）", ["房号", "收费项目", "尚欠", "最近一次中断"]))
    assert recorder.export_text().strip() == "诉讼时效（截至 2024-01-01）：无"
