"""A seeded generator of malformed ledger files, every kind a broken export takes.

``make_case(rng, folder, index)`` writes one file and returns (kind, path,
what): random bytes, truncated or corrupted workbooks, wrong encodings,
NULs, huge cells, odd amounts and dates, control characters, merged cells,
cover sheets, mixed encodings, ragged and badly quoted CSV.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

HEADERS = {
    "units": ["房号", "楼栋", "业主姓名", "联系电话", "建筑面积", "标签"],
    "charges": ["房号", "收费项目", "所属期间", "应缴日期", "应收金额"],
    "payments": ["收据号", "房号", "实收金额", "收款日期", "收费项目", "所属期间"],
}
UNITS = ["1-101", "1-102", "2-201"]
ODD_AMOUNTS = ["1e309", "NaN", "inf", "-0", "1,2,3", "¥¥", "1e5", "9" * 40, "0.001", "(12)", "１２３", "-", "",
               "1,000,000,000,000,000.00", "12.3.4", " ", "元", "--5", 1e300, -1e300, 1e13, 0.1 + 0.2]
ODD_DATES = ["0000-00-00", "9999-12-31", "2025-13-01", "2025-02-30", "1900-01-01", "2101-01-01", "昨天",
             "2025/1/1 25:00", "20250101", "1e20", 1e20, -5, 0, 2958466, "2025年13月1日", ""]
ODD_PERIODS = ["2025-00", "9999-99", "上月", "2025Q5", "2025-01—2024-01", "1900-01", "2025年1月-2025年13月", ""]
CONTROL = ["\x00", "\x1b[31m", "\u202e", "\u200b", "\ufeff", "\x85", "\x07", "\r", "\u2028"]


def _row(rng: random.Random, kind: str) -> list[object]:
    unit = rng.choice(UNITS)
    if kind == "units":
        return [unit, "1栋", rng.choice(["张三", "李四", "欧阳娜娜"]), "13800138000", rng.choice(["89.5", "120"]), ""]
    if kind == "charges":
        return [unit, "物业费", f"2025-{rng.randint(1, 12):02d}", "2025-01-10", rng.choice(["161.10", "-20", "88"])]
    return [f"SJ{rng.randint(1, 999)}", unit, rng.choice(["100", "50.5"]), "2025-03-01", "物业费", "2025-01"]


def _rows(rng: random.Random, kind: str, count: int) -> list[list[object]]:
    return [list(HEADERS[kind]), *(_row(rng, kind) for _ in range(count))]


def _oddify(rng: random.Random, kind: str, rows: list[list[object]]) -> None:
    """Put odd values, control characters and huge cells into random cells."""
    for _ in range(rng.randint(1, 4)):
        row = rng.choice(rows[1:]) if len(rows) > 1 else rows[0]
        column = rng.randrange(len(row))
        header = HEADERS[kind][column] if column < len(HEADERS[kind]) else ""
        choice = rng.random()
        if choice < 0.3:
            row[column] = rng.choice(ODD_AMOUNTS if "金额" in header or "面积" in header else ODD_DATES)
        elif choice < 0.45:
            row[column] = rng.choice(ODD_PERIODS)
        elif choice < 0.7:
            row[column] = f"{row[column]}{rng.choice(CONTROL)}"
        elif choice < 0.85:
            row[column] = rng.choice(["张", "1", "\"", ","]) * rng.choice([65, 201, 2001, 40_000])
        else:
            row[column] = rng.choice(["合计", "1栋小计", "制表人：王", "打印日期", "=HYPERLINK(\"x\")", "@x", ""])


def _csv_text(rows: list[list[object]], delimiter: str = ",") -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue()


def _xlsx_bytes(rng: random.Random, kind: str, rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if rng.random() < 0.3:  # a cover sheet first
        sheet.title = "说明"
        sheet.append(["本表由收费系统导出"])
        sheet = workbook.create_sheet("明细")
    for row in rows:
        sheet.append([_excel_text(value) if isinstance(value, str) else value for value in row])
    for _ in range(rng.choice([0, 0, 1, 3])):  # merged cells, some over the header
        top = rng.randint(1, max(len(rows), 1))
        column = rng.randint(1, 6)
        sheet.merge_cells(start_row=top, start_column=column, end_row=top + rng.randint(0, 3),
                          end_column=column + rng.randint(0, 2))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _excel_text(value: str) -> str:
    """Control characters as Excel stores them (``_x001B_``); openpyxl refuses them raw."""
    return ILLEGAL_CHARACTERS_RE.sub(lambda match: f"_x{ord(match.group()):04X}_", value[:32_000])


def _mutate_zip(rng: random.Random, data: bytes) -> bytes:
    """Corrupt a workbook's sheet XML the ways broken exporters do."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    sheets = [name for name in parts if name.startswith("xl/worksheets/")]
    name = rng.choice(sheets or list(parts))
    xml = parts[name]
    mutation = rng.randrange(7)
    if mutation == 0:
        xml = xml.replace(b'r="B2"', b'r="ZZZZZZZ2"', 1)
    elif mutation == 1:
        xml = xml.replace(b"<dimension ref=\"", b"<dimension ref=\"A1:XFD1048576\" x=\"", 1)
    elif mutation == 2 and len(xml) > 10:
        at = rng.randrange(len(xml))
        xml = xml[:at] + bytes([rng.randrange(256)]) + xml[at + 1:]
    elif mutation == 3:
        xml = xml.replace(b"<v>", b"<v>99999", 1)  # a shared string index that is not there
    elif mutation == 4:
        xml = xml.replace(b'r="2"', b'r="99999999"', 1)
    elif mutation == 5:
        xml = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>' + xml
    if mutation == 6:
        parts.pop(rng.choice(list(parts)))  # a part missing altogether
    else:
        parts[name] = xml
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for part, content in parts.items():
            target.writestr(part, content)
    return buffer.getvalue()


Maker = Callable[[random.Random, str], tuple[bytes, str, str]]


def _random_bytes(rng: random.Random, _kind: str) -> tuple[bytes, str, str]:
    prefix = rng.choice([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\xef\xbb\xbf", b"\xff\xfe"])
    return prefix + rng.randbytes(rng.randint(1, 5000)), rng.choice(["csv", "xlsx"]), "random bytes"


def _truncated_zip(rng: random.Random, kind: str) -> tuple[bytes, str, str]:
    data = _xlsx_bytes(rng, kind, _rows(rng, kind, 5))
    return data[: rng.randint(4, len(data) - 1)], "xlsx", "truncated workbook"


def _corrupt_xlsx(rng: random.Random, kind: str) -> tuple[bytes, str, str]:
    return _mutate_zip(rng, _xlsx_bytes(rng, kind, _rows(rng, kind, 5))), "xlsx", "corrupted workbook XML"


def _odd_xlsx(rng: random.Random, kind: str) -> tuple[bytes, str, str]:
    rows = _rows(rng, kind, rng.randint(0, 8))
    _oddify(rng, kind, rows)
    return _xlsx_bytes(rng, kind, rows), "xlsx", "odd cells, merges, cover sheets"


def _odd_csv(rng: random.Random, kind: str) -> tuple[bytes, str, str]:
    rows = _rows(rng, kind, rng.randint(0, 8))
    _oddify(rng, kind, rows)
    text = _csv_text(rows, rng.choice([",", ",", "\t"]))
    encoding = rng.choice(["gb18030", "utf-8", "utf-8-sig", "utf-16"])
    return text.encode(encoding, errors="replace"), "csv", f"odd cells ({encoding})"


def _wrong_encoding(rng: random.Random, kind: str) -> tuple[bytes, str, str]:
    text = _csv_text(_rows(rng, kind, 4))
    encoding = rng.choice(["big5", "shift_jis", "utf-16-le", "utf-32", "latin-1", "cp1252", "euc-kr"])
    return text.encode(encoding, errors="replace"), "csv", f"wrong encoding {encoding}"


def _mixed_encoding(rng: random.Random, kind: str) -> tuple[bytes, str, str]:
    lines = _csv_text(_rows(rng, kind, 6)).splitlines(keepends=True)
    first, second = rng.sample(["gb18030", "utf-8"], 2)
    cut = rng.randint(1, len(lines))
    return "".join(lines[:cut]).encode(first) + "".join(lines[cut:]).encode(second), "csv", "mixed encodings"


def _nuls(rng: random.Random, kind: str) -> tuple[bytes, str, str]:
    data = bytearray(_csv_text(_rows(rng, kind, 5)).encode("gb18030"))
    for _ in range(rng.randint(1, 3)):
        data.insert(rng.randrange(len(data) + 1), 0)
    return bytes(data), "csv", "NULs"


def _broken_csv(rng: random.Random, kind: str) -> tuple[bytes, str, str]:
    text = _csv_text(_rows(rng, kind, 5))
    choice = rng.randrange(4)
    if choice == 0:
        text = text.replace(",", ',"', 1)  # a quote that never closes
    elif choice == 1:
        text = "\n".join(line + "," * rng.randint(0, 30) for line in text.splitlines())  # ragged
    elif choice == 2:
        text = text.splitlines()[0] + "\n"  # header only
    else:
        text = "\"" + "x" * 140_000 + "\"\n" + text  # a field past csv's limit
    return text.encode("gb18030"), "csv", "broken CSV"


MAKERS: tuple[Maker, ...] = (_random_bytes, _truncated_zip, _corrupt_xlsx, _odd_xlsx, _odd_xlsx, _odd_csv, _odd_csv,
                             _wrong_encoding, _mixed_encoding, _nuls, _broken_csv)


def make_case(rng: random.Random, folder: Path, index: int) -> tuple[str, Path, str]:
    kind = rng.choice(list(HEADERS))
    data, suffix, what = rng.choice(MAKERS)(rng, kind)
    path = folder / f"fuzz{index:05d}.{suffix}"
    path.write_bytes(data)
    return kind, path, what
