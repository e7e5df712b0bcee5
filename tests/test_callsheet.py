"""A call sheet holds every owner's row as written, whatever the values look like, opened with python-docx."""

from __future__ import annotations

from io import BytesIO

import docx

from cuijiao.documents.callsheet import HEADERS, CallRow, call_sheet


def _row(unit: str, owner: str, phone: str, *, tags: tuple[str, ...] = ()) -> CallRow:
    return CallRow(unit, owner, phone, "1,234.50", 40, "2026-10-01 电话", 2, f"CJ2026-{len(unit):06d}", "2026-12-01",
                   tags)


def test_every_row_is_a_table_row_with_its_values_as_text() -> None:
    rows = [_row(f"1-1-{n}", f"业主{n}", f"139{n:08d}") for n in range(1, 1001)]
    rows += [_row("[/x]<b>&amp;", '=HYPERLINK("http://x","点我")', "+86 139 0013 9000 ", tags=("老年业主",)),
             _row("2-1-101", "王\x07小明", "\x1b13900139000")]
    document = docx.Document(BytesIO(call_sheet("reminder", rows, "翠湖物业", "2026-11-27")))
    table = document.tables[0]
    assert [cell.text for cell in table.rows[0].cells] == list(HEADERS)
    assert len(table.rows) == len(rows) + 1
    for number, (row, cells) in enumerate(zip(rows, table.rows[1:], strict=True), start=1):
        texts = [cell.text for cell in cells.cells]
        assert texts[:4] == [str(number), row.unit_id, row.owner_name.replace("\x07", ""),
                             row.phone.replace("\x1b", "")]
        assert texts[4:8] == [row.amount, "40", row.last_contact, f"{row.notice_no} 催缴通知书"]
        assert cells.cells[1].paragraphs[0].style.name == "表格文字"
        assert round(cells.cells[1].width.mm) == 22
    assert table.rows[1001].cells[2].text == '=HYPERLINK("http://x","点我")'  # text, not a field or a link
    assert table.rows[1001].cells[3].text == "+86 139 0013 9000 "  # spaces kept
