"""sms.csv holds one mainland mobile number a row; a phone cell with none is listed for a call instead."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import docx
import pytest

from conftest import invoke_parts as _cli
from conftest import write_csv
from cuijiao.phones import mobile_numbers

AS_OF = "2026-11-25"
# Every unit owes one charge 20 days overdue: a stage-1 reminder, which sms.csv texts.
PHONES = {
    "1-101": "13800000006；13900000007",  # two numbers in one cell
    "1-102": "+8613800000004",
    "1-103": "0086 137-0000-0005",
    "1-104": "0571-88880000",  # a landline: no text
    "1-105": "",  # no phone: an absentee, written to by post
}
UNITS = [["房号", "楼栋", "业主姓名", "联系电话", "建筑面积", "标签", "通讯地址"],
         *([unit, "1栋", f"业主{unit}", phone, "80", "", "杭州市文三路1号"] for unit, phone in PHONES.items())]
CHARGES = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
           *([unit, "物业服务费", "2026-10", "2026-11-05", "325.04"] for unit in PHONES)]


@pytest.fixture
def root(workspace_dir: Path) -> Path:
    return workspace_dir  # a workspace with what every letter prints


def _sms_rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "sms.csv").open(encoding="utf-8-sig") as stream:
        return list(csv.DictReader(stream))


def _call_sheet_phones(folder: Path) -> dict[str, str]:
    tables = [docx.Document(str(path)).tables[0] for path in folder.glob("call_sheet_*.docx")]
    return {row.cells[1].text: row.cells[3].text for table in tables for row in table.rows[1:]}


@pytest.mark.parametrize(("cell", "numbers"), [
    ("13800000006；13900000007", ["13800000006", "13900000007"]),
    ("13800000006 13900000007", ["13800000006", "13900000007"]),
    ("13800000006,13900000007", ["13800000006", "13900000007"]),
    ("+8613800000004", ["13800000004"]),
    ("86 138 0000 0004", ["13800000004"]),
    ("0086-138-0000-0004", ["13800000004"]),
    ("139 0013 9000", ["13900139000"]),
    ("０５７１-88880000／１３９００１３９０００", ["13900139000"]),  # full-width, a landline first
    ("0571-88880000", []),
    ("12345678901", []),
    ("138001380001", []),
    ("", []),
])
def test_the_mobile_numbers_in_a_phone_cell(cell: str, numbers: list[str]) -> None:
    assert mobile_numbers(cell) == numbers


def test_issue_texts_the_first_mobile_number_and_lists_the_cells_without_one(root: Path, tmp_path: Path) -> None:
    for kind, rows in (("units", UNITS), ("charges", CHARGES)):
        code, out, err = _cli("-w", str(root), "import", kind, str(write_csv(tmp_path / f"{kind}.csv", rows)))
        assert code == 0, out + err
    code, out, err = _cli("-w", str(root), "notices", "issue", "--as-of", AS_OF)
    assert code == 0, out + err
    folder = next((root / "out").glob(f"{AS_OF}_*"))
    rows = _sms_rows(folder)
    assert [(row["手机号"], row["房号"]) for row in rows] == [
        ("13800000006", "1-101"), ("13800000004", "1-102"), ("13700000005", "1-103")]
    assert "短信清单未列入 2 户" in out and "1-104、1-105" in out
    # The caller sees the cell as imported (NFKC, a lone number's dashes dropped): both numbers, the landline.
    phones = _call_sheet_phones(folder)
    assert re.fullmatch(r"13800000006\s*[;；]\s*13900000007", phones["1-101"])
    assert re.sub(r"\D", "", phones["1-104"]) == "057188880000"

    code, out, _err = _cli("-w", str(root), "--json", "notices", "issue", "--as-of", AS_OF)
    assert code == 0 and json.loads(out)["no_mobile"] == []  # nothing new rendered, nothing to text


def test_the_run_lists_the_units_without_a_mobile_number(root: Path) -> None:
    write_csv(root / "inbox" / "units.csv", UNITS)
    write_csv(root / "inbox" / "charges.csv", CHARGES)
    code, out, err = _cli("-w", str(root), "run", "--as-of", AS_OF)
    assert code == 0, out + err
    rows = _sms_rows(root / "out" / AS_OF)
    assert [row["手机号"] for row in rows] == ["13800000006", "13800000004", "13700000005"]
    assert "短信清单未列入 2 户" in out and "1-104、1-105" in out
    assert "短信清单未列入 2 户（无有效手机号）" in out.strip().splitlines()[-1]
    log = next((root / "logs").glob("*.log")).read_text(encoding="utf-8")
    assert "短信清单未列入 2 户" in log and "1-104" not in log  # counts in the log, never who
