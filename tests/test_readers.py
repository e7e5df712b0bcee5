from pathlib import Path

import openpyxl
import pytest

from conftest import UNIT_HEADER, UNITS, write_csv, write_xlsx
from cuijiao.errors import BadInput
from cuijiao.ingest.fields import SCHEMAS
from cuijiao.ingest.readers import detect_encoding, open_source
from cuijiao.ingest.table import locate_header


@pytest.mark.parametrize(("encoding", "detected"), [
    ("gb18030", "gb18030"), ("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"),
])
def test_encodings_clerks_send_are_detected(tmp_path: Path, encoding: str, detected: str) -> None:
    path = write_csv(tmp_path / "units.csv", [UNIT_HEADER, *UNITS], encoding)
    assert detect_encoding(path) == detected
    table = locate_header(open_source(path), SCHEMAS["units"], {})
    rows = [cells for _, cells in table.rows]
    assert rows[0][:3] == ["1-101", "1栋", "张三"]


def test_gbk_bytes_really_are_not_utf8(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u.csv", [UNIT_HEADER], "gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    assert detect_encoding(path) == "gb18030"


def test_undecodable_file_names_the_encoding_option(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("房号,业主\n".encode() + "1-101,Café,Zoë\n".encode("latin-1"))
    with pytest.raises(BadInput) as caught:
        open_source(path)
    assert str(caught.value) == (
        "latin.csv: 无法识别文件编码（已尝试 UTF-8、GB18030，第 2 行有无法解码的字节）。"
        "请用 --encoding 指定文件的编码，例如 --encoding big5"
    )


def test_explicit_encoding_that_does_not_fit(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u.csv", [UNIT_HEADER, *UNITS], "gb18030")
    with pytest.raises(BadInput, match=r"^u\.csv:1: 按 --encoding utf-8 无法解码"):
        open_source(path, encoding="utf-8")
    with pytest.raises(BadInput, match=r"^未知的编码 --encoding klingon$"):
        open_source(path, encoding="klingon")


def test_header_found_below_title_rows_in_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "u.xlsx", [UNIT_HEADER, *UNITS], title_rows=3, sheet="业主")
    table = locate_header(open_source(path), SCHEMAS["units"], {})
    assert (table.name, table.header_row) == ("u.xlsx[业主]", 4)
    line, cells = next(table.rows)
    assert (line, cells[0]) == (5, "1-101")


def test_sheet_by_name_or_number(tmp_path: Path) -> None:
    path = tmp_path / "two.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "说明"
    workbook.active.append(["本文件第二页是数据"])
    data = workbook.create_sheet("数据")
    for row in [UNIT_HEADER, *UNITS]:
        data.append(row)
    workbook.save(path)
    assert open_source(path, sheet="数据").name == "two.xlsx[数据]"
    assert open_source(path, sheet="2").name == "two.xlsx[数据]"
    with pytest.raises(BadInput, match=r"^two\.xlsx: 没有名为“明细”的工作表（有：说明、数据）$"):
        open_source(path, sheet="明细")


def test_not_a_table_at_all(tmp_path: Path) -> None:
    path = tmp_path / "scan.csv"
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00\x00<<>>")
    with pytest.raises(BadInput, match=r"^scan\.csv:3: 含有空字符（NUL），不是 CSV 或 Excel（\.xlsx）文件，无法导入$"):
        open_source(path)


def test_workbook_renamed_to_csv_still_reads(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "really.xlsx", [UNIT_HEADER, *UNITS])
    renamed = path.rename(tmp_path / "really.csv")
    assert open_source(renamed).sheet == "Sheet1"


def test_corrupt_workbook(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 10)
    with pytest.raises(BadInput, match=r"^broken\.xlsx: 不是可读取的 Excel 文件"):
        open_source(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(BadInput, match=r"^empty\.csv: 文件为空$"):
        open_source(path)
