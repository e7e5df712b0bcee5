"""``print_all.docx``: every letter of a run, each its own section, in one file to print.

Each letter keeps its own section, so its header and footer (with its notice
number and its own page count) stay its own; a new section starts a new page.
The styles, numbering and theme are the first letter's: letters rendered from
templates that share styles (the shipped ones do) print as they were built.

A letter's share of the file is a :class:`Piece` — its body with its ids
renamed, its headers, footers and images as parts of their own — made where
the letter is: by the worker that rendered it (a month's batch, so the main
process never reads a letter back), or from the file (``merge_letters``).
:class:`PrintFile` writes the parts as pieces come and spools the bodies, so
memory does not grow with the number of letters; ``word/document.xml`` is
written at the end, when every letter's namespaces are known.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

from cuijiao.documents.templates import Template

_REL = re.compile(r"<Relationship\s([^>]*?)/?>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_RID = re.compile(r'(r:(?:id|embed|link|pict|dm|lo|qs|cs))="([^"]+)"')
_NS = re.compile(r'xmlns:(\w+)="([^"]+)"')
_IGNORABLE = re.compile(r'mc:Ignorable="([^"]*)"')
_DEFAULT = re.compile(r"<Default\s[^>]*/>")
_HEADER_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_PER_LETTER = ("header", "footer", "image", "hyperlink")
_CT_HEADER = "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"
_CT_FOOTER = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"
# Deflate's fastest level: on 5,000 of a month's letters level 6 took 2.5 s against 2.2 s for a print
# file a fifth smaller (12 MiB against 15); the batch waits for this file, the printer does not mind.
LEVEL = 1


def _rels(xml: str) -> list[dict[str, str]]:
    return [dict(_ATTR.findall(m.group(1))) for m in _REL.finditer(xml)]


def _rels_xml(rels: list[dict[str, str]]) -> str:
    body = "".join("<Relationship " + " ".join(f"{k}={quoteattr(v)}" for k, v in rel.items()) + "/>"
                   for rel in rels)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
            '"http://schemas.openxmlformats.org/package/2006/relationships">' + body + "</Relationships>")


@dataclass
class Piece:
    """One letter's share of the print file (the ``index``-th letter: its ids and part names carry it)."""

    namespaces: dict[str, str]
    ignorable: list[str]
    defaults: dict[str, str]  # file extension → its <Default/> content type
    base_rels: list[dict[str, str]]  # styles, numbering, theme…: the print file takes the first letter's
    rels: list[dict[str, str]]  # headers, footers, images, links: renamed to this letter's own
    overrides: list[tuple[str, str]]  # part name → content type, for its headers and footers
    parts: list[tuple[str, bytes]] = field(default_factory=list)  # headers, footers and their rels
    media: list[tuple[str, bytes]] = field(default_factory=list)  # images, named by their digest
    content: bytes = b""  # the body without its section properties
    section: bytes = b""  # its <w:sectPr>


def _renamer(mapping: dict[str, str]) -> Callable[[re.Match[str]], str]:
    def rename(match: re.Match[str]) -> str:
        return f'{match.group(1)}="{mapping.get(match.group(2), match.group(2))}"'
    return rename


def _media_name(data: bytes, target: str) -> str:
    return f"media/m{hashlib.sha256(data).hexdigest()[:16]}{Path(target).suffix}"


Read = Callable[[str], bytes]  # a member of the letter's package by name, inflated


def letter_piece(index: int, data: bytes) -> Piece:
    """The share of the letter whose .docx bytes are ``data``, as the ``index``-th of the print file."""
    with zipfile.ZipFile(io.BytesIO(data)) as letter:
        return piece_of(index, letter.read, set(letter.namelist()))


def rendered_piece(index: int, template: Template, rendered: dict[str, bytes]) -> Piece:
    """:func:`letter_piece` of a letter just rendered from ``template``, without reading its package back."""
    names = {member.name for member in template.static} | rendered.keys()
    return piece_of(index, lambda name: rendered[name] if name in rendered else template.static_part(name), names)


def piece_of(index: int, read: Read, names: set[str]) -> Piece:
    document = read("word/document.xml").decode("utf-8")
    root = document[:document.index("<w:body")]
    piece = Piece(dict(_NS.findall(root)), [name for m in _IGNORABLE.finditer(root) for name in m.group(1).split()],
                  {}, [], [], [])
    for default in _DEFAULT.findall(read("[Content_Types].xml").decode("utf-8")):
        piece.defaults.setdefault(dict(_ATTR.findall(default))["Extension"].lower(), default)
    rid_map: dict[str, str] = {}
    for rel in _rels(read("word/_rels/document.xml.rels").decode("utf-8")):
        kind = rel["Type"].removeprefix(_HEADER_TYPE)
        if kind not in _PER_LETTER:
            piece.base_rels.append(rel)
            continue
        new = {"Id": f"rL{index}_{rel['Id']}", "Type": rel["Type"], "Target": rel["Target"]}
        rid_map[rel["Id"]] = new["Id"]
        if rel.get("TargetMode") == "External":
            new["TargetMode"] = "External"
        elif kind in ("header", "footer"):
            new["Target"] = f"{kind}_{index}_{Path(rel['Target']).stem}.xml"
            _copy_part(piece, read, names, rel["Target"], new["Target"])
            piece.overrides.append((f"/word/{new['Target']}", _CT_HEADER if kind == "header" else _CT_FOOTER))
        elif kind == "image":
            new["Target"] = _copy_media(piece, read, rel["Target"])
        piece.rels.append(new)
    start = document.index(">", document.index("<w:body")) + 1
    body = _RID.sub(_renamer(rid_map), document[start:document.rindex("</w:body>")])
    section = body.rindex("<w:sectPr")
    piece.content, piece.section = body[:section].encode(), body[section:].encode()
    return piece


def _copy_media(piece: Piece, read: Read, target: str) -> str:
    data = read("word/" + target)
    name = _media_name(data, target)
    piece.media.append((name, data))
    return name


def _copy_part(piece: Piece, read: Read, names: set[str], target: str, new_name: str) -> None:
    """A header or footer (and its images) as a part of this letter's own."""
    part = read("word/" + target).replace(b'w:instr="NUMPAGES"', b'w:instr="SECTIONPAGES"')
    piece.parts.append(("word/" + new_name, part))
    rels_name = f"word/_rels/{Path(target).name}.rels"
    if rels_name in names:
        rels = _rels(read(rels_name).decode("utf-8"))
        for rel in rels:
            if rel["Type"].endswith("/image") and rel.get("TargetMode") != "External":
                rel["Target"] = _copy_media(piece, read, rel["Target"])
        piece.parts.append((f"word/_rels/{new_name}.rels", _rels_xml(rels).encode()))


class PrintFile:
    """``target`` (a temp name the caller renames) written from pieces in order, the bodies spooled beside it.

    The package's other parts (styles, settings, theme…) are copied from ``first``, the first letter's file.
    """

    def __init__(self, target: Path, first: Path) -> None:
        self.target, self.first = target, first
        self.spool_path = target.with_suffix(".body.tmp")  # a killed run's temp files are swept as .*.tmp
        self.out = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=LEVEL)
        self.spool = self.spool_path.open("w+b")
        self.namespaces: dict[str, str] = {}
        self.ignorable: dict[str, None] = {}
        self.defaults: dict[str, str] = {}
        self.base_rels: list[dict[str, str]] | None = None
        self.rels: list[dict[str, str]] = []
        self.overrides: list[tuple[str, str]] = []
        self.media: set[str] = set()
        self.section = b""  # the last letter's, written bare at the end; the others' close a paragraph

    def add(self, piece: Piece) -> None:
        self.namespaces.update(piece.namespaces)
        self.ignorable.update(dict.fromkeys(piece.ignorable))
        for extension, default in piece.defaults.items():
            self.defaults.setdefault(extension, default)
        if self.base_rels is None:
            self.base_rels = piece.base_rels
        self.rels += piece.rels
        self.overrides += piece.overrides
        for name, data in piece.parts:
            self.out.writestr(name, data, zipfile.ZIP_DEFLATED, LEVEL)
        for name, data in piece.media:
            if name not in self.media:
                self.out.writestr("word/" + name, data, zipfile.ZIP_STORED)
                self.media.add(name)
        if self.section:
            self.spool.write(b"<w:p><w:pPr>" + self.section + b"</w:pPr></w:p>")
        self.spool.write(piece.content)
        self.section = piece.section

    def close(self) -> None:
        try:
            self._finish()
        except BaseException:
            self.abort()
            raise
        self.discard_spool()

    def abort(self) -> None:
        self.out.close()
        self.discard_spool()
        self.target.unlink(missing_ok=True)

    def discard_spool(self) -> None:
        self.spool.close()
        self.spool_path.unlink(missing_ok=True)

    def _finish(self) -> None:
        out = self.out
        with zipfile.ZipFile(self.first) as first:
            for name in first.namelist():
                if name.startswith(("word/media/", "word/_rels/", "word/header", "word/footer")) or name in (
                        "word/document.xml", "[Content_Types].xml"):
                    continue
                out.writestr(name, first.read(name))
            types = first.read("[Content_Types].xml").decode("utf-8")
        types = re.sub(r'<Override PartName="/word/(header|footer)\d*\.xml"[^>]*/>', "", types)
        types = _DEFAULT.sub("", types)
        extra = "".join(self.defaults.values()) + "".join(
            f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in self.overrides)
        out.writestr("[Content_Types].xml", types.replace("</Types>", extra + "</Types>"))
        out.writestr("word/_rels/document.xml.rels", _rels_xml((self.base_rels or []) + self.rels))
        namespaces = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in sorted(self.namespaces.items()))
        ignorable = (f' mc:Ignorable="{" ".join(self.ignorable)}"' if self.ignorable and "mc" in self.namespaces
                     else "")
        with out.open("word/document.xml", "w", force_zip64=True) as stream:
            stream.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document {namespaces}'
                         f"{ignorable}><w:body>".encode())
            self.spool.flush()
            self.spool.seek(0)
            shutil.copyfileobj(self.spool, stream, 1 << 20)
            stream.write(self.section + b"</w:body></w:document>")
        out.close()


def merge_letters(paths: Sequence[Path], target: Path) -> None:
    """Write ``target`` (a temp name the caller renames) from the letter files, in order."""
    printing = PrintFile(target, paths[0])
    try:
        for index, path in enumerate(paths):
            printing.add(letter_piece(index, path.read_bytes()))
    except BaseException:
        printing.abort()
        raise
    printing.close()
