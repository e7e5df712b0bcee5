"""Letters end to end: a real workspace, real .docx files read back with python-docx."""

from __future__ import annotations

import csv
import hashlib
import multiprocessing
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from functools import partialmethod
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from typer.testing import CliRunner

from conftest import write_csv
from cuijiao.cli import app
from cuijiao.collection import issue_notices
from cuijiao.documents import batch, issue_and_render
from cuijiao.documents.merge import merge_letters
from cuijiao.documents.output import inside, safe_part, write_atomic
from cuijiao.documents.templates import Template
from cuijiao.errors import BadInput
from cuijiao.fileio import os_problem
from cuijiao.store.audit import recorded
from cuijiao.workspace import init_workspace, open_workspace

AS_OF = "2026-11-25"
UNITS = [
    ["房号", "楼栋", "业主姓名", "联系电话", "建筑面积", "标签", "通讯地址"],
    ["1-101", "1栋", '李<四>&"五"', "13800138000", "89.50", "", "杭州市文三路1号"],
    ["1-102", "1栋", "王小明", "13900139000", "120", "出租;老年业主", "杭州市文三路2号"],
    ["1-103", "1栋", "赵六", "13700137000", "80", "", ""],
    ["2-201", "2栋", "孙七", "", "75", "空置", ""],
]
CHARGES = [["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]]
for month, due in ((7, "2026-07-31"), (8, "2026-08-31"), (9, "2026-09-30")):
    CHARGES.append(["1-101", "物业服务费", f"2026-{month:02d}", due, "704.75"])
    CHARGES.append(["1-102", "物业服务费", f"2026-{month:02d}", due, "560.11"])
    CHARGES.append(["2-201", "物业服务费", f"2026-{month:02d}", due, "300.00"])
CHARGES.append(["1-103", "物业服务费", "2026-10", "2026-11-05", "325.04"])  # 20 days: a reminder (stage 1)


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output + (result.stderr or "")


def build_estate(tmp_path: Path) -> Path:
    """A workspace with the company settings letters need, its units and charges imported."""
    root = tmp_path / "ws"
    init_workspace(root, {"name": "翠湖物业服务有限公司", "address": "杭州市西湖区翠湖路1号",
                          "phone": "0571-88880000"}, estate="翠湖花园").close()
    for kind, rows in (("units", UNITS), ("charges", CHARGES)):
        code, output = run_cli("-w", str(root), "import", kind, str(write_csv(tmp_path / f"{kind}.csv", rows)))
        assert code == 0, output
    return root


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    return build_estate(tmp_path)


def letters_of(folder: Path) -> list[Path]:
    return sorted(folder.glob("CJ*.docx"))


def all_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def footer_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as package:
        return "".join(package.read(n).decode() for n in package.namelist() if n.startswith("word/footer"))


def test_issue_writes_each_letter_with_its_figures_and_the_run_files(estate: Path) -> None:
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert code == 3, output  # 2-201 is absentee with no mailing address: listed, the rest go out
    assert "2-201" in output and "没有通讯地址" in output
    folder = next((estate / "out").glob(f"{AS_OF}_*"))
    letters = letters_of(folder)
    assert [p.name.split("_", 1)[1] for p in letters] == ["1-101.docx", "1-102.docx", "1-103.docx"]
    first = all_text(letters[0])
    assert '李<四>&"五"（翠湖花园 1-101 业主）' in first  # the name renders literally, not as markup
    assert "2,114.25" in first and "人民币贰仟壹佰壹拾肆元贰角伍分" in first
    assert "704.75" in first and "2026-07-31" in first and "117" in first  # owed, due date, days overdue
    assert "2026年12月10日" in first and "第九百四十四条" in first and "送 达 回 执" in first
    assert "CJ2026-000001" in footer_xml(letters[0])
    tenant = all_text(letters[1])
    assert "第四十一条" in tenant and "1,680.33" in tenant
    reminder = all_text(letters[2])
    assert "缴费提醒" in reminder and "叁佰贰拾伍元零肆分" in reminder
    names = {p.name for p in folder.iterdir()}
    assert {"print_all.docx", "manifest.csv", "sms.csv", "call_sheet_reminder.docx",
            "call_sheet_tenant.docx"} <= names


def call_rows(path: Path) -> dict[str, list[str]]:
    """A call sheet's rows by unit: every cell's text."""
    table = docx.Document(str(path)).tables[0]
    return {row.cells[1].text: [cell.text for cell in row.cells] for row in table.rows[1:]}


def test_an_absentee_left_without_a_letter_is_still_on_the_call_sheet_saying_why(estate: Path) -> None:
    """2-201 has no mailing address: no letter can go, so the phone is the way left. The call sheet lists
    the owner with why in 备注, as the folder's files rebuilt after a kill list it too."""
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert code == 3, output
    folder = next((estate / "out").glob(f"{AS_OF}_*"))
    assert not list(folder.glob("*2-201*"))  # no letter
    rows = call_rows(folder / "call_sheet_absentee.docx")
    assert list(rows) == ["2-201"] and rows["2-201"][-1] == "无通讯地址，未寄信"
    assert "共 1 户" in all_text(folder / "call_sheet_absentee.docx")
    assert all(row[-1] == "" for row in call_rows(folder / "call_sheet_tenant.docx").values())  # letters sent
    before = all_text(folder / "call_sheet_absentee.docx")
    (folder / "manifest.csv").unlink()  # as a kill before the folder's files leaves it: rebuilt by the next issue
    (folder / "call_sheet_absentee.docx").unlink()
    run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert call_rows(folder / "call_sheet_absentee.docx") == rows
    assert all_text(folder / "call_sheet_absentee.docx") == before


def test_fonts_are_set_for_chinese_and_the_page_is_a4(estate: Path) -> None:
    run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    letter = letters_of(next((estate / "out").glob("*_*")))[0]
    document = docx.Document(str(letter))
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "仿宋"
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert section.left_margin.mm >= 20 and section.bottom_margin.mm >= 20


def test_print_file_manifest_and_call_sheet(estate: Path) -> None:
    run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    folder = next((estate / "out").glob("*_*"))
    merged = docx.Document(str(folder / "print_all.docx"))
    assert len(merged.sections) == 3  # one section per letter, each with its own footer
    text = "\n".join(p.text for p in merged.paragraphs)
    assert text.count("送 达 回 执") == 3
    footers = footer_xml(folder / "print_all.docx")
    assert all(f"CJ2026-00000{k}" in footers for k in (1, 2, 3))
    with (folder / "manifest.csv").open(encoding="utf-8-sig") as stream:
        rows = list(csv.DictReader(stream))
    assert {r["文件"] for r in rows} >= {p.name for p in letters_of(folder)} | {"print_all.docx", "sms.csv"}
    for row in rows:
        assert hashlib.sha256((folder / row["文件"]).read_bytes()).hexdigest() == row["SHA-256"]
    sheet = all_text(folder / "call_sheet_tenant.docx")
    assert "13900139000" in sheet and "王小明" in sheet and "老年业主" in sheet  # phone in full; the tone's group
    header = docx.Document(str(folder / "call_sheet_tenant.docx")).sections[0].header.paragraphs[0].text
    assert "内部资料" in header
    with (folder / "sms.csv").open(encoding="utf-8-sig") as stream:
        texts = list(csv.DictReader(stream))
    assert [t["房号"] for t in texts] == ["1-103"] and int(texts[0]["字数"]) == len(texts[0]["短信内容"])


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


@pytest.mark.parametrize("parallel", [False, True])
def test_the_print_file_made_while_rendering_is_the_one_merged_from_the_letters(
        estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool) -> None:
    """A batch builds print_all.docx from what its renderers (worker processes at scale) hand back, in
    chunks; merged afresh from the letter files it has the same parts, byte for byte, and no temp file
    is left."""
    monkeypatch.setattr(batch, "CHUNK", 2)  # letters cross chunks: ids and part names keep their places
    if parallel:
        monkeypatch.setattr(batch, "PARALLEL_FROM", 1)
    run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert not multiprocessing.active_children()  # the renderers are gone once the letters are written
    folder = next((estate / "out").glob("*_*"))
    merge_letters(letters_of(folder), tmp_path / "again.docx")
    assert members(folder / "print_all.docx") == members(tmp_path / "again.docx")
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []
    assert len(docx.Document(str(folder / "print_all.docx")).sections) == 3


def tiny_png() -> bytes:
    """A 1×1 PNG, made here (python-docx reads its header; no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def test_a_letter_with_a_picture_in_its_body_prints_it_under_its_own_id(estate: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A clerk's template with a seal or logo in the body: the print file renames its picture's id for each
    letter, so that letter's body there is not its own bytes; it is still the merge of the letter files."""
    monkeypatch.setattr(batch, "CHUNK", 2)
    run_cli("-w", str(estate), "templates", "export", str(tmp_path / "t"))
    override = estate / "templates" / "notices"
    override.mkdir(parents=True)
    (tmp_path / "seal.png").write_bytes(tiny_png())
    for template in (tmp_path / "t").glob("*.docx"):
        document = docx.Document(str(template))
        document.add_picture(str(tmp_path / "seal.png"))
        document.save(str(override / template.name))
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert code == 3, output
    folder = next((estate / "out").glob("*_*"))
    letters = letters_of(folder)
    merge_letters(letters, tmp_path / "again.docx")
    assert members(folder / "print_all.docx") == members(tmp_path / "again.docx")
    body = members(folder / "print_all.docx")["word/document.xml"].decode()
    embeds = re.findall(r'r:embed="([^"]+)"', body)
    assert len(embeds) == len(letters) == len(set(embeds)) and all(e.startswith("rL") for e in embeds)
    printed = docx.Document(str(folder / "print_all.docx"))
    assert len(printed.inline_shapes) == len(letters)
    for letter in letters:
        assert len(docx.Document(str(letter)).inline_shapes) == 1


def test_a_template_with_a_tracked_page_setup_change_prints_whole(estate: Path, tmp_path: Path) -> None:
    """Word with track changes on keeps the old page setup inside the section's properties
    (<w:sectPrChange><w:sectPr/></w:sectPrChange>): the print file cuts each letter at its own section,
    not at the tracked one, and stays valid XML."""
    run_cli("-w", str(estate), "templates", "export", str(tmp_path / "t"))
    override = estate / "templates" / "notices"
    override.mkdir(parents=True)
    tracked = (b'<w:sectPrChange w:id="91" w:author="&#25991;&#21592;" w:date="2026-01-01T00:00:00Z">'
               b"<w:sectPr/></w:sectPrChange></w:sectPr></w:body>")
    for template in (tmp_path / "t").glob("*.docx"):
        with zipfile.ZipFile(template) as source, zipfile.ZipFile(override / template.name, "w") as target:
            for info in source.infolist():
                data = source.read(info)
                if info.filename == "word/document.xml":
                    assert data.count(b"</w:sectPr></w:body>") == 1
                    data = data.replace(b"</w:sectPr></w:body>", tracked)
                target.writestr(info, data)
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert code == 3, output
    folder = next((estate / "out").glob("*_*"))
    letters = letters_of(folder)
    printed = docx.Document(str(folder / "print_all.docx"))  # parses: the XML is whole
    assert len(printed.sections) == len(letters) == 3
    merge_letters(letters, tmp_path / "again.docx")
    assert members(folder / "print_all.docx") == members(tmp_path / "again.docx")
    body = members(folder / "print_all.docx")["word/document.xml"]
    assert body.count(b"<w:sectPrChange ") == len(letters)


def test_a_print_file_that_cannot_spool_leaves_no_half_made_file(estate: Path, tmp_path: Path) -> None:
    """A folder where the bodies are spooled: the print file's temp, already created, is removed (its
    descriptor closed), not left for the next run's sweep."""
    run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    letters = letters_of(next((estate / "out").glob("*_*")))
    (tmp_path / ".print.docx.body.tmp").mkdir()
    with pytest.raises(IsADirectoryError):
        merge_letters(letters, tmp_path / ".print.docx.tmp")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [".print.docx.body.tmp"]


def test_a_second_run_writes_nothing_and_a_killed_run_is_rendered_next_time(estate: Path) -> None:
    workspace = open_workspace(estate)
    with recorded(workspace.db, "notices issue", []) as run:  # recorded, then killed before rendering
        issued = issue_notices(workspace, run, date(2026, 11, 25))
    assert len(issued) == 4 and not list((estate / "out").iterdir())
    with recorded(workspace.db, "notices issue", []) as run:
        result = issue_and_render(workspace, run, date(2026, 11, 25))
    assert result.issued == [] and len(result.letters) == 3
    with recorded(workspace.db, "notices issue", []) as run:
        again = issue_and_render(workspace, run, date(2026, 11, 25))
    assert again.issued == [] and again.letters == [] and again.out_dir is None and "2-201" in again.problems[0]
    workspace.close()


def test_an_issue_killed_while_rendering_is_finished_in_its_own_folder(estate: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed with one letter recorded and the next written but not recorded: the next issue writes the rest
    into the same folder, and that folder's manifest and print file hold each letter once (a second folder
    had the unrecorded letter again, printed and texted twice); the kill's temp files are gone."""
    monkeypatch.setattr(batch, "CHUNK", 1)
    finish = batch._Batch._finish
    calls = []

    def killed(self: batch._Batch, rendering: batch._Rendering) -> None:
        calls.append(1)
        if len(calls) == 2:
            list(rendering.done)  # the letter is on disk; the process dies before recording it
            raise KeyboardInterrupt
        finish(self, rendering)

    monkeypatch.setattr(batch._Batch, "_finish", killed)
    code, _output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert code != 0 and len(calls) == 2
    monkeypatch.setattr(batch._Batch, "_finish", finish)
    killed_folder = next((estate / "out").iterdir())
    # The written but unrecorded letter: a reprint meanwhile must not call itself the first one.
    code, output = run_cli("-w", str(estate), "notices", "reprint", "CJ2026-000002", "-o", str(tmp_path / "r"))
    assert code == 0 and "此前没有记录过" in output and "第一份" not in output, output
    (killed_folder / ".call_sheet_tenant.docx.4242.tmp").write_bytes(b"half")  # as a kill leaves one
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert code == 3, output  # the absentee without an address, as in a run never killed
    folders = [p for p in (estate / "out").iterdir() if p.is_dir()]
    assert len(folders) == 1
    letters = letters_of(folders[0])
    assert [p.name.split("_", 1)[1] for p in letters] == ["1-101.docx", "1-102.docx", "1-103.docx"]
    with (folders[0] / "manifest.csv").open(encoding="utf-8-sig") as stream:
        listed = [row["文件"] for row in csv.DictReader(stream)]
    assert sorted(name for name in listed if name.startswith("CJ")) == [p.name for p in letters]
    assert len(docx.Document(str(folders[0] / "print_all.docx")).sections) == 3
    assert [p.name for p in folders[0].iterdir() if p.name.startswith(".")] == []


def test_a_letter_worker_that_dies_mid_batch_gets_a_chinese_message_and_the_next_issue_completes(
        estate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A render worker killed (the OOM killer's choice, a kill -9): the command says so in Chinese, without a
    traceback, and the next issue writes the letters and the folder's files whole."""
    monkeypatch.setattr(batch, "PARALLEL_FROM", 1)
    started = batch.render_pool

    def dying_pool(root: Path) -> ProcessPoolExecutor:
        pool = started(root)
        death = pool.submit(os._exit, 9)  # a worker dies as a killed process does: the pool is broken
        assert isinstance(death.exception(timeout=30), BrokenProcessPool)
        return pool

    monkeypatch.setattr(batch, "render_pool", dying_pool)
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert code == 1 and "生成信件的工作进程意外退出" in output and "Traceback" not in output, output
    assert not multiprocessing.active_children()
    monkeypatch.setattr(batch, "render_pool", started)
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert code == 3, output  # as a batch never interrupted: the absentee without an address is listed
    folder = next((estate / "out").glob(f"{AS_OF}_*"))
    assert [p.name.split("_", 1)[1] for p in letters_of(folder)] == ["1-101.docx", "1-102.docx", "1-103.docx"]
    assert len(docx.Document(str(folder / "print_all.docx")).sections) == 3


def test_no_reprint_of_a_letter_the_batch_could_not_write_for_want_of_an_address(estate: Path,
                                                                                 tmp_path: Path) -> None:
    """2-201 (空置, no mailing address) got no letter: a reprint must not write one addressed to nowhere."""
    run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    code, output = run_cli("-w", str(estate), "notices", "reprint", "CJ2026-000004", "-o", str(tmp_path / "r"))
    assert code == 2 and "2-201" in output and "没有通讯地址" in output, output
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").iterdir())


def test_reprint_help_names_the_folder_it_writes_to() -> None:
    code, output = run_cli("notices", "reprint", "--help")
    assert code == 0 and "out/reprint_<运行号>/" in output and "<日期>_<运行号>" not in output


def test_reprint_gives_the_same_bytes_and_says_when_the_template_changed(estate: Path, tmp_path: Path) -> None:
    run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    original = letters_of(next((estate / "out").glob("*_*")))[0]
    code, output = run_cli("-w", str(estate), "notices", "reprint", "CJ2026-000001", "-o", str(tmp_path / "r"))
    assert code == 0 and "完全一致" in output, output
    assert (tmp_path / "r" / original.name).read_bytes() == original.read_bytes()
    run_cli("-w", str(estate), "templates", "export", str(tmp_path / "t"))
    override = estate / "templates" / "notices"
    override.mkdir(parents=True)
    document = docx.Document(str(tmp_path / "t" / "stage2_notice.docx"))
    document.add_paragraph("本通知一式两份。")
    document.save(str(override / "stage2_notice.docx"))
    code, output = run_cli("-w", str(estate), "notices", "reprint", "CJ2026-000001", "-o", str(tmp_path / "r2"))
    assert code == 0 and "模板已修改" in output and "账目" not in output, output
    assert "本通知一式两份" in all_text(tmp_path / "r2" / original.name)


def test_a_letter_an_earlier_version_compressed_otherwise_reprints_as_the_same_content(
        estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither template nor ledger changed, but the original's bytes were compressed another way (by an
    earlier cuijiao: here deflate level 6 stands for it): the reprint says its content is the original's,
    having compared the original file, still as recorded, part by part."""
    run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    monkeypatch.setattr(Template, "render", partialmethod(Template.render, level=6))
    code, output = run_cli("-w", str(estate), "notices", "reprint", "CJ2026-000001", "-o", str(tmp_path / "r"))
    assert code == 0 and "与原件内容完全一致" in output and "SHA-256 不同" in output, output
    original = letters_of(next((estate / "out").glob("*_*")))[0]
    assert (tmp_path / "r" / original.name).read_bytes() != original.read_bytes()
    assert members(tmp_path / "r" / original.name) == members(original)
    code, output = run_cli("-w", str(estate), "audit", "log")
    assert "内容与原件一致（压缩方式不同）" in output, output
    with zipfile.ZipFile(original, "a") as package:  # the original edited since: no longer the one recorded
        package.writestr("word/extra.xml", "<x/>")
    code, output = run_cli("-w", str(estate), "notices", "reprint", "CJ2026-000001", "-o", str(tmp_path / "r2"))
    assert code == 0 and "生成方式已变化" in output and "内容完全一致" not in output, output


def english_runs(markdown: str) -> list[str]:
    """Runs of four or more English words in ``markdown`` outside code (fenced blocks, `spans`)."""
    prose = re.sub(r"`[^`]*`", "·", re.sub(r"```.*?```", "·", markdown, flags=re.S))  # code ends a run
    return re.findall(r"[A-Za-z]+(?:[\s,;:()/]+[A-Za-z]+){3,}", prose)


def test_english_runs_finds_a_sentence_and_leaves_code_alone() -> None:
    assert english_runs("These .docx files are the letters `cuijiao notices issue` writes.") == [
        "docx files are the letters"]
    assert english_runs("输出 `{%p if company.account %}`，见 `line.item line.period line.owed`。") == []


def test_the_exported_readme_is_in_chinese_and_lists_every_variable(estate: Path, tmp_path: Path) -> None:
    from cuijiao.documents.context import VARIABLES  # noqa: PLC0415

    code, output = run_cli("-w", str(estate), "templates", "export", str(tmp_path / "t"))
    assert code == 0, output
    text = (tmp_path / "t" / "README.md").read_text(encoding="utf-8")
    assert english_runs(text) == []
    assert [name for name in VARIABLES if f"`{name}`" not in text] == []
    for tag in ("`{{ owner.name }}`", "`{%p if company.account %}`", "`{%tr for line in lines %}`"):
        assert tag in text


def _checked(estate: Path, tmp_path: Path, edit: Callable[[DocxDocument], object]) -> tuple[int, str]:
    """``templates check`` after the clerk edits the exported 催缴函 in Word (``edit``) and puts it back."""
    run_cli("-w", str(estate), "templates", "export", str(tmp_path / "t"))
    document = docx.Document(str(tmp_path / "t" / "stage3_demand.docx"))
    edit(document)
    override = estate / "templates" / "notices"
    override.mkdir(parents=True, exist_ok=True)
    document.save(str(override / "stage3_demand.docx"))
    return run_cli("-w", str(estate), "templates", "check")


@pytest.mark.parametrize(("text", "expected"), [
    ("逾期不缴将停水停电。", "停水"),
    ("欠费业主名单将在公告栏公示。", "公示"),
    ("逾期将纳入征信系统。", "征信"),
    ("滞纳金按每日 1% 计收。", "每日 1%"),
    ("逾期每日加收0.5%的滞纳金。", "每日加收0.5%"),
    ("滞纳金：每日千分之五。", "千分之五"),
    ("逾期按日加收5‰违约金。", "5‰"),
    ("违约金按日百分之零点五计。", "百分之零点五"),
    ("{{ owner.nickname }}", "nickname"),
    ("{% if %}", "Jinja 语法错误"),
    ("{% for i in range(9999) %}{% for j in range(9999) %}x{% endfor %}{% endfor %}", "嵌套的循环一起计算"),
    ('{% for i in range(9000) %}{{ "x" * 99999 }}{% endfor %}', "MiB"),
])
def test_check_rejects_forbidden_threats_unknown_names_and_bad_jinja(estate: Path, tmp_path: Path, text: str,
                                                                    expected: str) -> None:
    code, output = _checked(estate, tmp_path, lambda document: document.add_paragraph(text))
    assert code == 1, output
    assert "模板 stage3_demand" in output and expected in output and "段" in output, output


@pytest.mark.parametrize("text", ["滞纳金按每日万分之五计收。", "每日千分之三的滞纳金。", "滞纳金每日0.3%。",
                                  "每月10日前缴清，金额100%按账单。"])
def test_check_lets_a_usual_late_fee_and_other_percentages_pass(estate: Path, tmp_path: Path, text: str) -> None:
    code, output = _checked(estate, tmp_path, lambda document: document.add_paragraph(text))
    assert code == 0, output


@pytest.mark.parametrize("tag", ["{% if %}", "{{ owner.nickname }}", "{{ total ＞ 0 }}", "{% if total %}"])
def test_check_names_the_paragraph_word_shows_and_says_it_in_chinese(estate: Path, tmp_path: Path, tag: str) -> None:
    edited: dict[str, object] = {}

    def edit(document: DocxDocument) -> None:
        target = next(p for p in document.paragraphs[6:] if len(p.text) > 12 and "{" not in p.text)
        edited["opening"] = target.text[:12]
        target.add_run(" " + tag)
        # Counted as Word counts them: every paragraph of the body in order, table cells included.
        edited["number"] = list(document.element.body.iter(qn("w:p"))).index(target._p) + 1

    code, output = _checked(estate, tmp_path, edit)
    opening, number = edited["opening"], edited["number"]
    assert code == 1 and f"第 {number} 段" in output, output
    if "nickname" not in tag:
        assert opening in output and not re.search(r"[Ee]xpected|unexpected|token|[Uu]nknown", output), output


def test_shipped_templates_pass_check_and_a_bad_template_stops_the_batch(estate: Path) -> None:
    code, output = run_cli("templates", "check")
    assert code == 0 and "11 个模板" in output, output
    override = estate / "templates" / "notices"
    override.mkdir(parents=True)
    (override / "stage2_notice.docx").write_bytes(b"not a zip")
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert code == 2 and "不是 Word 文档" in output, output
    assert not list((estate / "out").iterdir())
    code, output = run_cli("-w", str(estate), "notices", "plan", "--as-of", AS_OF)
    assert "现在可发 4 份" in output  # nothing was recorded


def test_a_missing_company_setting_is_named_with_the_line_to_add(tmp_path: Path) -> None:
    root = tmp_path / "bare"
    init_workspace(root).close()
    units = write_csv(tmp_path / "units.csv", UNITS)
    charges = write_csv(tmp_path / "charges.csv", CHARGES)
    run_cli("-w", str(root), "import", "units", str(units))
    run_cli("-w", str(root), "import", "charges", str(charges))
    code, output = run_cli("-w", str(root), "notices", "issue", "--as-of", AS_OF)
    assert code == 2 and '[company] 下加一行 address = "' in output, output


@pytest.mark.parametrize("unit", ["../../etc/passwd", "a/b", "..", "1-1-101"])
def test_unit_ids_become_safe_file_names(tmp_path: Path, unit: str) -> None:
    path = inside(tmp_path, f"CJ2026-000001_{safe_part(unit)}.docx")
    assert path.parent == tmp_path and "/" not in path.name and ".." not in path.name
    with pytest.raises(BadInput):
        inside(tmp_path, "../x.docx")


def test_a_link_planted_where_a_letter_goes_is_replaced_not_followed(tmp_path: Path) -> None:
    """At the letter's name and at its temp name: the letter lands in the folder, the file outside is kept."""
    folder, outside = tmp_path / "out", tmp_path / "outside.txt"
    folder.mkdir()
    outside.write_text("keep me", encoding="utf-8")
    (folder / "CJ2026-000001_1-101.docx").symlink_to(outside)
    (folder / f".CJ2026-000001_1-101.docx.{os.getpid()}.tmp").symlink_to(outside)
    path = inside(folder, "CJ2026-000001_1-101.docx")
    assert write_atomic(path, b"letter") == hashlib.sha256(b"letter").hexdigest()
    assert outside.read_text(encoding="utf-8") == "keep me"
    assert not path.is_symlink() and path.read_bytes() == b"letter"
    assert sorted(p.name for p in folder.iterdir()) == ["CJ2026-000001_1-101.docx"]


def test_a_folder_where_a_letter_goes_is_named_in_the_refusal_not_the_temp_file(tmp_path: Path) -> None:
    """The rename over a folder fails: the clerk is told which name is a folder (the letter's), not that the
    temp file, which was a file and is gone, is one."""
    (tmp_path / "CJ2026-000001_1-101.docx").mkdir()
    with pytest.raises(OSError) as refused:
        write_atomic(inside(tmp_path, "CJ2026-000001_1-101.docx"), b"letter")
    assert os_problem(refused.value) == f"无法使用 {tmp_path / 'CJ2026-000001_1-101.docx'}：这是一个文件夹，不是文件"
    assert [p.name for p in tmp_path.iterdir()] == ["CJ2026-000001_1-101.docx"]


def test_a_plain_install_carries_the_shipped_templates(tmp_path: Path) -> None:
    """A non-editable install from a copy of the source tree finds every template inside the package."""
    import shutil  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    root = Path(__file__).resolve().parents[1]
    source = tmp_path / "source"
    for name in ("src", "templates", "sample_data"):
        shutil.copytree(root / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(root / name, source / name)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(source)], check=True, capture_output=True)
    shutil.rmtree(source)  # nothing may come from the source tree now
    script = ("import cuijiao.notice_templates as t, importlib.resources as r;"
              "print(t.__file__); print(sorted(p.name for p in r.files('cuijiao.notice_templates').iterdir()))")
    found = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True,
                           env={"PYTHONPATH": str(target), "PATH": ""}).stdout
    assert found.startswith(str(target))
    for name in ("stage1_reminder.docx", "stage5_litigation.docx", "limitation_demand.docx", "tenant.docx",
                 "README.md"):
        assert name in found


VARIANT_TEXT = {
    "stage1_reminder": "缴费提醒", "stage2_notice": "本通知即为对上述费用的催告", "stage3_demand": "现再次函告",
    "stage4_lawyer": "律师事务所接受翠湖物业服务有限公司", "stage5_litigation": "证据清单",
    "limitation_demand": "第一百九十五条", "dispute": "“电梯噪音”问题", "hardship": "第 6 期",
    "developer": "物业服务费欠费对账单", "absentee": "邮寄地址：杭州市西湖区文三路 100 号",
    "tenant": "业主负连带交纳责任",
}


@pytest.mark.parametrize("name", sorted(VARIANT_TEXT))
def test_each_template_renders_its_own_words_and_the_shared_ones(name: str, tmp_path: Path) -> None:
    from cuijiao.documents.context import example_context  # noqa: PLC0415
    from cuijiao.documents.templates import Library  # noqa: PLC0415

    path = tmp_path / f"{name}.docx"
    path.write_bytes(Library(None).get(name).render(example_context()))
    text = all_text(path)
    assert VARIANT_TEXT[name] in text
    assert "1,409.50" in text and "人民币壹仟肆佰零玖元伍角" in text and "3-2-1502" in text
    assert "送 达 回 执" in text and "CJ2026-000123" in footer_xml(path)
    if name == "dispute":
        assert not any(word in text for word in ("诉讼", "起诉", "律师", "支付令"))
    if name == "hardship":  # six parts in fen: 234.95 + 5 × 234.91 = 1,409.50
        assert "234.95" in text and text.count("234.91") == 5


def test_sms_fits_one_message_for_a_one_unit_owner() -> None:
    from cuijiao.documents.sms import Text, parts, sms_csv  # noqa: PLC0415

    data = sms_csv([Text("138 0013 8000", "1-1-101", "CJ2026-000001", "张三", 8000, date(2026, 12, 10)),
                    Text("13800138000", "1-1-102", "CJ2026-000002", "张三", 12050, date(2026, 12, 10)),
                    Text("", "2-201", "CJ2026-000003", "李四", 100, date(2026, 12, 10))],
                   "翠湖花园", "0571-88880000")
    rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
    assert len(rows) == 2  # one per phone; no phone, no text
    assert "1-1-101、1-1-102" in rows[1][3] and "200.50元" in rows[1][3] and "12月10日" in rows[1][3]
    single = rows[1][3].replace("1-1-101、1-1-102", "1-1-101")
    assert len(single) <= 70 and parts(single) == 1 and parts("字" * 71) == 2 and parts("字" * 135) == 3


def test_pdf_without_libreoffice_says_how_to_install_it(estate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF, "--pdf")
    assert code == 3 and "apt-get install -y libreoffice-writer-nogui" in output, output  # letters written
    assert letters_of(next((estate / "out").glob("*_*")))


@pytest.mark.skipif(__import__("shutil").which("soffice") is None, reason="LibreOffice is not installed")
def test_pdf_copies_through_libreoffice(estate: Path) -> None:
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF, "--pdf")
    assert code == 3, output  # 2-201 still has no mailing address
    folder = next((estate / "out").glob("*_*"))
    assert {p.stem for p in folder.glob("*.pdf")} >= {p.stem for p in letters_of(folder)}
