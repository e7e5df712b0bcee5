"""Memory and speed of importing a large payments workbook (.xlsx).

    python bench/bench_xlsx_import.py [--units 60000] [--months 36]

Generates an estate and writes its first million payment rows as a workbook
(about 50 MB), imports the units (CSV) and then the payments workbook, each as its own
`cuijiao import` process; peak memory is read from the kernel. For comparison
it also loads the same sheet with calamine alone, in its own process: what the
importer cost in memory before it streamed the sheet XML.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from cuijiao.sample import EstateSpec, write_estate
from measure import run_measured

OUT = Path(__file__).resolve().parent / "out"
TARGET_PEAK_MIB = 500
CALAMINE_LOAD = (
    "import sys; from python_calamine import CalamineWorkbook; "
    "book = CalamineWorkbook.from_path(sys.argv[1]); "
    "rows = sum(1 for _ in book.get_sheet_by_index(0).iter_rows()); print(rows)"
)


def write_workbook(source: Path, target: Path, max_rows: int) -> int:
    """The payments CSV as a workbook a billing system would export: text cells
    inline, amounts as numbers, dates as date-formatted serials, and the payment
    platform's 28-digit transaction number (交易流水号) on each row. At most
    ``max_rows`` rows (Excel holds 1,048,576). Written as a stream: openpyxl took
    most of an hour for this on the shared machine."""
    with source.open(encoding="gb18030", newline="") as stream, \
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in PARTS.items():
            book.writestr(name, text)
        rows, header_seen = 0, False
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_HEAD.encode())
            for number, row in enumerate(csv.reader(stream), start=1):
                if number > max_rows or row[:1] == ["合计"]:
                    break
                cells = row
                if header_seen:
                    cells = [*row, f"42000{number * 7919 % 10**9:09d}{number * 104729 % 10**14:014d}"]
                elif "收据号" in row:
                    header_seen, cells = True, [*row, "交易流水号"]
                sheet.write(_row_xml(number, cells).encode())
                rows += 1
            sheet.write(b"</sheetData></worksheet>")
    return rows


def _row_xml(number: int, cells: list[str]) -> str:
    parts = []
    for index, text in enumerate(cells):
        ref = f"{chr(65 + index)}{number}"
        if index == 5 and _NUMBER.fullmatch(text.replace(",", "")):
            parts.append(f'<c r="{ref}"><v>{text.replace(",", "")}</v></c>')
        elif index == 6 and _DAY.fullmatch(text):
            serial = (date.fromisoformat(text) - date(1899, 12, 30)).days
            parts.append(f'<c r="{ref}" s="1"><v>{serial}</v></c>')
        elif text:
            parts.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>')
    return f'<row r="{number}">{"".join(parts)}</row>'


_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET_HEAD = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}"><sheetData>'
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
        'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        f'2006/relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="实收明细" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        f'2006/relationships"><Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'),
    "xl/styles.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{_MAIN}"><fonts count="1"><font/></fonts>'
        '<fills count="1"><fill/></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf/>'
        '</cellStyleXfs><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs>'
        "</styleSheet>"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=60_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the workbook (Excel: 1,048,576)")
    args = parser.parse_args()

    folder = OUT / f"xlsx-estate-{args.units}x{args.months}"
    files = {"units": folder / "units.csv", "payments": folder / f"payments-{args.rows}.xlsx"}
    started = time.perf_counter()
    if not (folder / "payments.csv").exists():
        write_estate(folder, EstateSpec(units=args.units, months=args.months, extra_items=False),
                     formats=("csv", "csv", "csv"))
    if not files["payments"].exists():
        write_workbook(folder / "payments.csv", files["payments"], args.rows)
        print(f"generated {files['payments']} in {time.perf_counter() - started:.0f} s")
    size_mib = files["payments"].stat().st_size / 2**20
    workspace = OUT / "xlsx-workspace"
    shutil.rmtree(workspace, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "cuijiao", "init", str(workspace)], check=True, capture_output=True)

    def cuijiao(*words: str) -> tuple[float, float]:
        # Exit 3 (done with warnings) is a finished import: a payment may designate a period not billed.
        result = run_measured([sys.executable, "-m", "cuijiao", "-w", str(workspace), "-q", *words], accept=(0, 3))
        return result.seconds, result.peak_mib

    cuijiao("import", "units", str(files["units"]))
    cuijiao("import", "charges", str(folder / "charges.csv"))  # what the payments designate
    seconds, peak = cuijiao("import", "payments", str(files["payments"]))
    with sqlite3.connect(workspace / "cuijiao.db") as db:
        rows = int(db.execute("SELECT count(*) FROM payments").fetchone()[0])
    calamine = run_measured([sys.executable, "-c", CALAMINE_LOAD, str(files["payments"])])

    print(f"payments workbook: {size_mib:.1f} MiB, {rows:,} payment rows")
    print(f"{'step':<40}{'seconds':>10}{'rows/s':>12}{'peak MiB':>10}")
    print(f"{'cuijiao import payments (streamed)':<40}{seconds:>10.1f}{rows / seconds:>12,.0f}{peak:>10.0f}")
    print(f"{'calamine alone: load and iterate':<40}{calamine.seconds:>10.1f}{'':>12}{calamine.peak_mib:>10.0f}")
    verdict = "met" if peak < TARGET_PEAK_MIB else "NOT met"
    print(f"target peak < {TARGET_PEAK_MIB} MiB for a ~50 MB workbook: {verdict} ({peak:.0f} MiB)")


if __name__ == "__main__":
    main()
