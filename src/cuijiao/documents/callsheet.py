"""Call sheets (催费记录表) per segment: who to call, what they owe, and what to say. Returns bytes.

The phone is printed in full — the caller needs it — so every page carries a
内部资料 header, and the batch records each export in the audit trail.
"""

from __future__ import annotations

import itertools
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from xml.sax.saxutils import escape

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Mm

from cuijiao.documents.build_templates import add_field, new_document, set_fonts
from cuijiao.documents.context import SEGMENT_LABELS
from cuijiao.documents.docxzip import Member, Package, member_text, read_members
from cuijiao.documents.scripts import script, tone_for
from cuijiao.stages import STAGE_NAMES

HEADERS = ("序号", "房号", "业主", "电话", "欠费（元）", "逾期天数", "上次联系", "本次文书", "话术", "通话结果",
           "承诺日期", "备注")
WIDTHS = (10, 22, 20, 28, 22, 16, 30, 30, 12, 34, 22, 33)


@dataclass(frozen=True)
class CallRow:
    unit_id: str
    owner_name: str
    phone: str
    amount: str
    days_overdue: int
    last_contact: str
    stage: int
    notice_no: str
    deadline: str
    tags: tuple[str, ...] = field(default_factory=tuple)
    note: str = ""  # the 备注 column: why no letter went out (phoning is then the way left)


def _script_key(row: CallRow) -> tuple[int, str]:
    return row.stage, tone_for(row.tags)[0]


def rows_xml(rows: Iterable[Sequence[str]], widths_mm: Sequence[int], style_id: str) -> Iterator[str]:
    """Each of ``rows`` as a ``<w:tr>`` element's XML text, as python-docx's ``add_row`` and ``add_run`` would
    make it.

    python-docx spends milliseconds a row looking up styles and widths (a call sheet of 20,000
    owners took minutes), and as parsed elements those rows held a gigabyte. Every value is
    escaped, and characters XML cannot hold are dropped: data is text.
    """
    cells = [f'<w:tc><w:tcPr><w:tcW w:w="{Mm(width).twips}" w:type="dxa"/></w:tcPr>'
             f'<w:p><w:pPr><w:pStyle w:val="{escape(style_id)}"/></w:pPr>' for width in widths_mm]
    empty = [f"{cell}</w:p></w:tc>" for cell in cells]
    for values in rows:
        yield "<w:tr>" + "".join(
            f'{cells[index]}<w:r><w:t xml:space="preserve">{escape(_XML_UNSAFE.sub("", text))}</w:t></w:r>'
            "</w:p></w:tc>" if text else empty[index] for index, text in enumerate(values)) + "</w:tr>"


# A row python-docx keeps as it is and no text can make (an attribute, not a value): the body's rows go there
# as text once the document is saved.
_PLACE = '<w:tr w:rsidR="00CA11ED"/>'


def _with_rows(data: bytes, rows: Iterable[str]) -> bytes:
    """The saved call sheet with ``rows`` where its placeholder row stands, deflated as they come (the rows
    of a 20,000-owner sheet are never one string)."""
    members = read_members(data, "call sheet")
    for k, member in enumerate(members):
        if member.name == "word/document.xml":
            head, tail = member_text(member).split(_PLACE)  # exactly one place: python-docx kept the row
            packer, crc, size, raw = zlib.compressobj(1, zlib.DEFLATED, -15), 0, 0, []
            for text in itertools.chain([head], rows, [tail]):
                part = text.encode("utf-8")
                crc, size = zlib.crc32(part, crc), size + len(part)
                raw.append(packer.compress(part))
            raw.append(packer.flush())
            members[k] = Member(member.name, zipfile.ZIP_DEFLATED, crc, size, b"".join(raw))
    return Package(members).build([])


# Control characters no XML document may hold (python-docx would refuse the run).
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def call_sheet(segment: str, rows: Sequence[CallRow], company: str, date_text: str) -> bytes:
    """One segment's call sheet as .docx bytes."""
    document = new_document(landscape=True)
    section = document.sections[0]
    section.left_margin = section.right_margin = Mm(15)
    head = section.header.paragraphs[0]
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_fonts(head.add_run("内部资料　注意保密　仅供催费人员使用，不得外传"), "黑体", 11, bold=True)
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    foot.add_run("第 ")
    add_field(foot, "PAGE")
    foot.add_run(" 页")
    label = SEGMENT_LABELS.get(segment, segment)
    document.add_paragraph(f"催费记录表（{label}）", style="信件标题")
    document.add_paragraph(f"{company}　{date_text}　共 {len(rows)} 户").alignment = WD_ALIGN_PARAGRAPH.CENTER
    keys = sorted({_script_key(r) for r in rows})
    codes = {key: chr(ord("A") + i) if i < 26 else f"Z{i}" for i, key in enumerate(keys)}
    table = document.add_table(rows=1, cols=len(HEADERS))
    table.style = document.styles["Table Grid"]
    for cell, text, width in zip(table.rows[0].cells, HEADERS, WIDTHS, strict=True):
        cell.width = Mm(width)
        paragraph = cell.paragraphs[0]
        paragraph.style = document.styles["表格文字"]
        paragraph.add_run(text).bold = True
    body = [(str(number), row.unit_id, row.owner_name, row.phone, row.amount, str(row.days_overdue),
             row.last_contact, f"{row.notice_no} {STAGE_NAMES[row.stage]}", codes[_script_key(row)], "", "", row.note)
            for number, row in enumerate(rows, start=1)]
    table._tbl.append(parse_xml(_PLACE.replace("<w:tr ", f"<w:tr {nsdecls('w')} ")))
    document.add_paragraph()
    document.add_paragraph("话术", style="信件标题")
    generic = {"company": company, "contact": "", "unit": "您的房屋", "amount": "（表中金额）",
               "notice_no": "（表中编号）", "deadline": "（文书所写期限）", "stage_name": "催缴函"}
    for key in keys:
        stage, group = key
        sample = next(r for r in rows if _script_key(r) == key)
        title = f"话术 {codes[key]}：第 {stage} 级 {STAGE_NAMES[stage]}" + (f" · {group}" if group else "")
        document.add_paragraph().add_run(title).bold = True
        for line in script(segment, stage, sample.tags, generic):
            document.add_paragraph(line, style="正文")
    buffer = BytesIO()
    document.save(buffer)
    return _with_rows(buffer.getvalue(), rows_xml(body, WIDTHS, document.styles["表格文字"].style_id))
