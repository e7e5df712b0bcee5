"""Build the shipped letter templates with python-docx, reproducibly.

    python -m cuijiao.documents.build_templates templates/notices

writes every template named in ``TEMPLATES``: A4, margins a printer keeps, 仿宋
body and 宋体 titles with the East Asian font set (``w:eastAsia``, without it
Word falls back to a Latin font for Chinese), the company as letterhead in
the header, the notice number and page in the footer, and a 送达回执 page at
the end. The zip members carry fixed timestamps, so the same code gives the
same bytes. The letters' words live in ``letter_texts``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from cuijiao.documents.docxzip import Package, read_members
from cuijiao.documents.letter_texts import LETTERS, Block

BODY_FONT, TITLE_FONT, LATIN_FONT = "仿宋", "宋体", "Times New Roman"
_FIXED_TIME = datetime(2026, 1, 1)

Document = Any  # python-docx has no type hints


def set_fonts(element: object, east_asia: str, size: float | None = None, *, bold: bool = False) -> None:
    """Set a style's or run's Latin and East Asian fonts (python-docx sets only the Latin one)."""
    font = element.font  # type: ignore[attr-defined]
    font.name = LATIN_FONT
    if size is not None:
        font.size = Pt(size)
    font.bold = bold or None
    r_pr = element.element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attribute), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asia)


def new_document(*, landscape: bool = False) -> Document:
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.top_margin, section.bottom_margin = Mm(25), Mm(22)
    section.left_margin, section.right_margin = Mm(26), Mm(24)
    section.header_distance, section.footer_distance = Mm(12), Mm(10)
    styles = document.styles
    set_fonts(styles["Normal"], BODY_FONT, 12)
    normal = styles["Normal"].paragraph_format
    normal.space_before, normal.space_after, normal.line_spacing = Pt(0), Pt(0), Pt(22)
    for name in ("Header", "Footer"):
        set_fonts(styles[name], BODY_FONT, 9)
    title = styles.add_style("信件标题", 1)
    title.base_style = styles["Normal"]
    set_fonts(title, TITLE_FONT, 20, bold=True)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_before, title.paragraph_format.space_after = Pt(6), Pt(12)
    cell = styles.add_style("表格文字", 1)
    cell.base_style = styles["Normal"]
    set_fonts(cell, BODY_FONT, 10.5)
    cell.paragraph_format.line_spacing = Pt(16)
    cell.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    body = styles.add_style("正文", 1)
    body.base_style = styles["Normal"]
    body.paragraph_format.first_line_indent = Pt(24)
    core = document.core_properties
    core.created = core.modified = _FIXED_TIME
    core.author = core.last_modified_by = "cuijiao"
    core.revision = 1
    return document


def add_field(paragraph: object, instruction: str) -> None:
    """A Word field (PAGE, SECTIONPAGES) that Word and LibreOffice fill in when laying out."""
    simple = OxmlElement("w:fldSimple")
    simple.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    simple.append(run)
    paragraph._p.append(simple)  # type: ignore[attr-defined]


def bottom_border(paragraph: object) -> None:
    p_pr = paragraph._p.get_or_add_pPr()  # type: ignore[attr-defined]
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "8"), ("w:space", "4"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    p_pr.append(borders)


COMPANY_HEAD = ("{{ company.name }}", "地址：{{ company.address }}　电话：{{ company.phone }}")
# the 律师函 is the law firm's letter: its letterhead, or blank lines for the firm's own, never the company's
LAWYER_HEAD = ("{% if lawyer.firm %}{{ lawyer.firm }}{% else %}______________________________{% endif %}",
               "{% if lawyer.phone %}电话：{{ lawyer.phone }}{% else %}______________________________{% endif %}")


def letterhead(document: Document, footer_text: str = "通知编号：{{ notice_no }}",
               lines: tuple[str, str] = COMPANY_HEAD) -> None:
    section = document.sections[0]
    head = section.header.paragraphs[0]
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_fonts(head.add_run(lines[0]), TITLE_FONT, 14, bold=True)
    line = section.header.add_paragraph()
    line.alignment = WD_ALIGN_PARAGRAPH.CENTER
    line.add_run(lines[1])
    bottom_border(line)
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    foot.add_run(footer_text + "　　第 ")
    add_field(foot, "PAGE")
    foot.add_run(" 页 共 ")
    add_field(foot, "NUMPAGES")  # print_all.docx makes it SECTIONPAGES: each letter counts its own pages
    foot.add_run(" 页")
    restart = OxmlElement("w:pgNumType")
    restart.set(qn("w:start"), "1")
    section._sectPr.append(restart)


def add_table(document: Document, rows: Sequence[Sequence[str]], widths: Sequence[float]) -> None:
    table = document.add_table(rows=len(rows), cols=len(widths))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Mm(width)  # the grid LibreOffice lays out by; cell widths are Word's
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            cell = table.cell(r, c)
            cell.width = Mm(widths[c])
            paragraph = cell.paragraphs[0]
            paragraph.style = document.styles["表格文字"]
            if r == 0 and not text.startswith("{%"):
                paragraph.add_run(text).bold = True
            else:
                paragraph.add_run(text)


def add_block(document: Document, block: Block) -> None:
    kind, payload = block
    if kind == "title":
        document.add_paragraph(str(payload), style="信件标题")
    elif kind == "right":
        document.add_paragraph(str(payload)).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif kind == "plain":
        document.add_paragraph(str(payload))
    elif kind == "text":
        document.add_paragraph(str(payload), style="正文")
    elif kind == "bold":
        paragraph = document.add_paragraph(style="正文")
        paragraph.add_run(str(payload)).bold = True
    elif kind == "table":
        widths, *rows = list(payload)  # type: ignore[call-overload]
        add_table(document, rows, widths)
    elif kind == "break":
        document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    elif kind == "gap":
        document.add_paragraph()
    else:
        raise ValueError(kind)


def build(name: str) -> bytes:
    document = new_document()
    letterhead(document, lines=LAWYER_HEAD if name == "stage4_lawyer" else COMPANY_HEAD)
    for block in LETTERS[name]:
        add_block(document, block)
    buffer = BytesIO()
    document.save(buffer)
    return reproducible(buffer.getvalue())


def reproducible(data: bytes) -> bytes:
    """The same package with fixed member timestamps (python-docx stamps the time of saving)."""
    return Package(read_members(data, "build")).build([])


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else Path("templates/notices")
    folder.mkdir(parents=True, exist_ok=True)
    for name in LETTERS:
        (folder / f"{name}.docx").write_bytes(build(name))
        print(f"{folder / name}.docx")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
