"""``print_all.docx``: every letter of a run, each its own section, in one file to print.

Each letter keeps its own section, so its header and footer (with its notice
number and its own page count) stay its own; a new section starts a new page.
The styles, numbering and theme are the first letter's: letters rendered from
templates that share styles (the shipped ones do) print as they were built.

A letter's share of the file is a :class:`Piece` — its body with its ids
renamed, its headers, footers and images as parts of their own — made where
the letter is: by the worker that rendered it (a month's batch, so the main
process never reads a letter back), or from the file (``merge_letters``).
The piece comes deflated: its parts as zip members, its body as a
:class:`Segment` of ``word/document.xml``'s deflate stream. :class:`PrintFile`
writes the parts as pieces come and spools the bodies' segments, so memory
does not grow with the number of letters and the process that gathers them
compresses nothing; ``word/document.xml`` is written at the end, when every
letter's namespaces are known, and its CRC is joined from the segments'.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path
from xml.sax.saxutils import quoteattr

from cuijiao.documents.docxzip import (
    NOTHING,
    Member,
    Segment,
    ZipWriter,
    deflated,
    joined_crc,
    member_text,
    read_members,
    segment,
    stored_segment,
)
from cuijiao.documents.output import create_new
from cuijiao.documents.templates import RenderedParts, Template, body_split

_REL = re.compile(r"<Relationship\s([^>]*?)/?>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_RID = re.compile(rb'(r:(?:id|embed|link|pict|dm|lo|qs|cs))="([^"]+)"')
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
    parts: list[Member] = field(default_factory=list)  # headers, footers and their rels, deflated
    media: list[Member] = field(default_factory=list)  # images (stored), named by their digest
    content: Segment = NOTHING  # the body without its section properties
    section: bytes = b""  # its <w:sectPr>: the print file's last, written bare at the end
    section_break: Segment = NOTHING  # the same closing a paragraph, when another letter follows


def _renamer(mapping: dict[bytes, bytes]) -> Callable[[re.Match[bytes]], bytes]:
    def rename(match: re.Match[bytes]) -> bytes:
        return match.group(1) + b'="' + mapping.get(match.group(2), match.group(2)) + b'"'
    return rename


def _media_name(data: bytes, target: str) -> str:
    return f"media/m{hashlib.sha256(data).hexdigest()[:16]}{Path(target).suffix}"


Read = Callable[[str], bytes]  # a member of the letter's package by name, inflated


def letter_piece(index: int, data: bytes) -> Piece:
    """The share of the letter whose .docx bytes are ``data``, as the ``index``-th of the print file."""
    with zipfile.ZipFile(io.BytesIO(data)) as letter:
        return piece_of(index, letter.read, set(letter.namelist()))


def rendered_piece(index: int, template: Template, rendered: RenderedParts) -> Piece:
    """:func:`letter_piece` of a letter just rendered from ``template``, without reading its package back."""
    texts = rendered.texts
    return piece_of(index, lambda name: texts[name] if name in texts else template.static_part(name),
                    template.static_names() | texts.keys(), rendered.body)


def piece_of(index: int, read: Read, names: AbstractSet[str], body_segment: Segment | None = None) -> Piece:
    """The letter's share; ``body_segment``: its body content as deflated in the letter, taken as it is
    when no id in it is renamed.

    A template's letters share their packages' parts but for the rendered text: what is read from those
    parts (relationships, namespaces, content types, a header's deflated bytes) is worked out once for
    each distinct content (the caches below), not once a letter.
    """
    split = body_split(read("word/document.xml"))
    if split is None:
        raise ValueError("word/document.xml: no body with section properties (<w:body>, <w:sectPr>)")
    head, content, rest = split
    namespaces, ignorable = _root_names(head[:head.index(b"<w:body")])
    piece = Piece(dict(namespaces), list(ignorable), dict(_defaults(read("[Content_Types].xml"))), [], [], [])
    rid_map: dict[bytes, bytes] = {}
    for rel in _rel_dicts(read("word/_rels/document.xml.rels")):
        kind = rel["Type"].removeprefix(_HEADER_TYPE)
        if kind not in _PER_LETTER:
            piece.base_rels.append(rel)
            continue
        new = {"Id": f"rL{index}_{rel['Id']}", "Type": rel["Type"], "Target": rel["Target"]}
        rid_map[rel["Id"].encode()] = new["Id"].encode()
        if rel.get("TargetMode") == "External":
            new["TargetMode"] = "External"
        elif kind in ("header", "footer"):
            stem = posixpath.splitext(posixpath.basename(rel["Target"]))[0]
            new["Target"] = f"{kind}_{index}_{stem}.xml"
            _copy_part(piece, read, names, rel["Target"], new["Target"])
            piece.overrides.append((f"/word/{new['Target']}", _CT_HEADER if kind == "header" else _CT_FOOTER))
        elif kind == "image":
            new["Target"] = _copy_media(piece, read, rel["Target"])
        piece.rels.append(new)
    section = rest[:rest.rindex(b"</w:body>")]
    rename = _renamer(rid_map)
    # An id is renamed only where it is an attribute's whole value: "rId7", quotes included.
    renamed = any(b'"' + rid + b'"' in content for rid in rid_map)
    if renamed:
        content = _RID.sub(rename, content)
    piece.content = body_segment if body_segment is not None and not renamed else segment(content, LEVEL)
    piece.section = _RID.sub(rename, section)
    # Stored, not deflated: a few hundred bytes that differ in every letter by their renamed ids.
    piece.section_break = stored_segment(b"<w:p><w:pPr>" + piece.section + b"</w:pPr></w:p>")
    return piece


@lru_cache(maxsize=64)
def _parsed_rels(xml: bytes) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(tuple(rel.items()) for rel in _rels(xml.decode("utf-8")))


def _rel_dicts(xml: bytes) -> list[dict[str, str]]:
    """A relationships part's entries, each a dict of its own for the caller to change."""
    return [dict(rel) for rel in _parsed_rels(xml)]


@lru_cache(maxsize=64)
def _root_names(root: bytes) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The namespaces the document's root declares, and those it names ignorable."""
    text = root.decode("utf-8")
    return tuple(_NS.findall(text)), tuple(name for m in _IGNORABLE.finditer(text) for name in m.group(1).split())


@lru_cache(maxsize=64)
def _defaults(types: bytes) -> tuple[tuple[str, str], ...]:
    """File extension → its <Default/> in [Content_Types].xml, the first one for each extension."""
    found: dict[str, str] = {}
    for default in _DEFAULT.findall(types.decode("utf-8")):
        found.setdefault(dict(_ATTR.findall(default))["Extension"].lower(), default)
    return tuple(found.items())


@lru_cache(maxsize=64)
def _deflated_part(content: bytes) -> tuple[int, int, bytes]:
    """(CRC, size, deflated bytes) of a header's or footer's content: a header is the same in every letter of a
    template, a footer holds its letter's number (then this is one deflate, as without the cache)."""
    member = deflated("", content, LEVEL)
    return member.crc, member.size, member.raw


def _part(name: str, content: bytes) -> Member:
    return Member(name, zipfile.ZIP_DEFLATED, *_deflated_part(content))


def _copy_media(piece: Piece, read: Read, target: str) -> str:
    data = read("word/" + target)
    name = _media_name(data, target)
    piece.media.append(Member("word/" + name, zipfile.ZIP_STORED, zlib.crc32(data), len(data), data))
    return name


def _copy_part(piece: Piece, read: Read, names: AbstractSet[str], target: str, new_name: str) -> None:
    """A header or footer (and its images) as a part of this letter's own."""
    part = read("word/" + target).replace(b'w:instr="NUMPAGES"', b'w:instr="SECTIONPAGES"')
    piece.parts.append(_part("word/" + new_name, part))
    rels_name = f"word/_rels/{posixpath.basename(target)}.rels"
    if rels_name in names:
        rels = _rel_dicts(read(rels_name))
        for rel in rels:
            if rel["Type"].endswith("/image") and rel.get("TargetMode") != "External":
                rel["Target"] = _copy_media(piece, read, rel["Target"])
        piece.parts.append(_part(f"word/_rels/{new_name}.rels", _rels_xml(rels).encode()))


class PrintFile:
    """``target`` (a temp name the caller renames) written from pieces in order, the bodies spooled beside it.

    The package's other parts (styles, settings, theme…) are copied from ``first``, the first letter's file.
    """

    def __init__(self, target: Path, first: Path) -> None:
        self.target, self.first = target, first
        self.spool_path = target.with_suffix(".body.tmp")  # a killed run's temp files are swept as .*.tmp
        self.file = os.fdopen(create_new(target), "wb")
        self.out = ZipWriter(self.file)
        try:
            self.spool = os.fdopen(create_new(self.spool_path), "w+b")
        except BaseException:  # no PrintFile for the caller to abort: the file just made goes here
            self.file.close()
            target.unlink(missing_ok=True)
            raise
        self.namespaces: dict[str, str] = {}
        self.ignorable: dict[str, None] = {}
        self.defaults: dict[str, str] = {}
        self.base_rels: list[dict[str, str]] | None = None
        self.rels: list[dict[str, str]] = []
        self.overrides: list[tuple[str, str]] = []
        self.media: set[str] = set()
        self.spooled = self.body_crc = self.body_size = 0  # the spool's length; its bodies' CRC and size
        self.last: Piece | None = None  # its section closes the body; the others' close a paragraph

    def add(self, piece: Piece) -> None:
        self.namespaces.update(piece.namespaces)
        self.ignorable.update(dict.fromkeys(piece.ignorable))
        for extension, default in piece.defaults.items():
            self.defaults.setdefault(extension, default)
        if self.base_rels is None:
            self.base_rels = piece.base_rels
        self.rels += piece.rels
        self.overrides += piece.overrides
        for member in piece.parts:
            self.out.add(member)
        for member in piece.media:
            if member.name not in self.media:
                self.out.add(member)
                self.media.add(member.name)
        if self.last is not None:
            self._spool(self.last.section_break)
        self._spool(piece.content)
        self.last = piece

    def _spool(self, part: Segment) -> None:
        self.spool.write(part.raw)
        self.spooled += len(part.raw)
        self.body_crc = joined_crc(self.body_crc, part.crc, part.size)
        self.body_size += part.size

    def close(self) -> None:
        try:
            self._finish()
        except BaseException:
            self.abort()
            raise
        self.discard_spool()

    def abort(self) -> None:
        self.file.close()
        self.discard_spool()
        self.target.unlink(missing_ok=True)

    def discard_spool(self) -> None:
        self.spool.close()
        self.spool_path.unlink(missing_ok=True)

    def _finish(self) -> None:
        out = self.out
        skipped = ("word/media/", "word/_rels/", "word/header", "word/footer")
        types = ""
        for member in read_members(self.first.read_bytes(), str(self.first)):  # copied as stored, not recompressed
            if member.name == "[Content_Types].xml":
                types = member_text(member)
            elif not member.name.startswith(skipped) and member.name != "word/document.xml":
                out.add(member)
        types = re.sub(r'<Override PartName="/word/(header|footer)\d*\.xml"[^>]*/>', "", types)
        types = _DEFAULT.sub("", types)
        extra = "".join(self.defaults.values()) + "".join(
            f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in self.overrides)
        out.add(deflated("[Content_Types].xml", types.replace("</Types>", extra + "</Types>").encode(), LEVEL))
        out.add(deflated("word/_rels/document.xml.rels", _rels_xml((self.base_rels or []) + self.rels).encode(),
                         LEVEL))
        self._document()
        out.close()
        self.file.close()

    def _document(self) -> None:
        """``word/document.xml``: its opening (the namespaces of every letter), the spooled bodies, the last
        letter's section and the closing, as one deflate stream."""
        namespaces = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in sorted(self.namespaces.items()))
        ignorable = (f' mc:Ignorable="{" ".join(self.ignorable)}"' if self.ignorable and "mc" in self.namespaces
                     else "")
        head = segment(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document {namespaces}'
                       f"{ignorable}><w:body>".encode(), LEVEL)
        closing = (self.last.section if self.last is not None else b"") + b"</w:body></w:document>"
        packer = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        tail = packer.compress(closing) + packer.flush()  # the stream's final block
        crc = zlib.crc32(closing, joined_crc(head.crc, self.body_crc, self.body_size))
        self.spool.flush()
        self.out.add_stream("word/document.xml", zipfile.ZIP_DEFLATED, crc,
                            head.size + self.body_size + len(closing), len(head.raw) + self.spooled + len(tail),
                            chain([head.raw], self._spooled(), [tail]))

    def _spooled(self) -> Iterator[bytes]:
        self.spool.seek(0)
        while block := self.spool.read(1 << 20):
            yield block


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
