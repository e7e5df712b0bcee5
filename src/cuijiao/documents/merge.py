"""``print_all.docx``: every letter of a run, each its own section, in one file to print.

Each letter keeps its own section, so its header and footer (with its notice
number and its own page count) stay its own; a new section starts a new page.
The styles, numbering and theme are the first letter's: letters rendered from
templates that share styles (the shipped ones do) print as they were built.

Written in two passes over the letter files, so memory does not grow with the
number of letters' text: the first copies each letter's headers, footers and
images as parts of their own, the second streams the bodies into
``word/document.xml``.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

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


def _document_root(letter: zipfile.ZipFile) -> str:
    """``word/document.xml`` up to ``<w:body``: the namespaces, without inflating the whole body."""
    head = b""
    with letter.open("word/document.xml") as stream:
        while b"<w:body" not in head:
            block = stream.read(4096)
            if not block:
                raise ValueError("word/document.xml has no <w:body>")
            head += block
    return head[:head.index(b"<w:body")].decode("utf-8")


def _rels(xml: str) -> list[dict[str, str]]:
    return [dict(_ATTR.findall(m.group(1))) for m in _REL.finditer(xml)]


def _rels_xml(rels: list[dict[str, str]]) -> str:
    body = "".join("<Relationship " + " ".join(f"{k}={quoteattr(v)}" for k, v in rel.items()) + "/>"
                   for rel in rels)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
            '"http://schemas.openxmlformats.org/package/2006/relationships">' + body + "</Relationships>")


@dataclass
class _Merge:
    out: zipfile.ZipFile
    base_rels: list[dict[str, str]] = field(default_factory=list)
    letter_rels: list[dict[str, str]] = field(default_factory=list)
    overrides: list[tuple[str, str]] = field(default_factory=list)
    defaults: dict[str, str] = field(default_factory=dict)
    media: dict[str, str] = field(default_factory=dict)  # sha → part name
    namespaces: dict[str, str] = field(default_factory=dict)
    ignorable: dict[str, None] = field(default_factory=dict)
    rid_maps: list[dict[str, str]] = field(default_factory=list)

    def copy_media(self, letter: zipfile.ZipFile, target: str) -> str:
        data = letter.read("word/" + target)
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self.media:
            name = f"media/m{digest[:16]}{Path(target).suffix}"
            self.out.writestr("word/" + name, data, zipfile.ZIP_STORED)
            self.media[digest] = name
        return self.media[digest]

    def copy_part(self, letter: zipfile.ZipFile, target: str, new_name: str) -> None:
        """A header or footer (and its images) as a part of this letter's own."""
        part = letter.read("word/" + target).replace(b'w:instr="NUMPAGES"', b'w:instr="SECTIONPAGES"')
        self.out.writestr("word/" + new_name, part, zipfile.ZIP_DEFLATED, LEVEL)
        rels_name = f"word/_rels/{Path(target).name}.rels"
        if rels_name in letter.namelist():
            rels = _rels(letter.read(rels_name).decode("utf-8"))
            for rel in rels:
                if rel["Type"].endswith("/image") and rel.get("TargetMode") != "External":
                    rel["Target"] = self.copy_media(letter, rel["Target"])
            self.out.writestr(f"word/_rels/{new_name}.rels", _rels_xml(rels), zipfile.ZIP_DEFLATED, LEVEL)

    def first_pass(self, index: int, letter: zipfile.ZipFile) -> None:
        root = _document_root(letter)
        self.namespaces.update(dict(_NS.findall(root)))
        for match in _IGNORABLE.finditer(root):
            self.ignorable.update(dict.fromkeys(match.group(1).split()))
        types = letter.read("[Content_Types].xml").decode("utf-8")
        for default in _DEFAULT.findall(types):
            extension = dict(_ATTR.findall(default))["Extension"]
            self.defaults.setdefault(extension.lower(), default)
        rid_map: dict[str, str] = {}
        for rel in _rels(letter.read("word/_rels/document.xml.rels").decode("utf-8")):
            kind = rel["Type"].removeprefix(_HEADER_TYPE)
            if kind not in _PER_LETTER:
                if index == 0:
                    self.base_rels.append(rel)
                continue
            new_id = f"rL{index}_{rel['Id']}"
            rid_map[rel["Id"]] = new_id
            new = {"Id": new_id, "Type": rel["Type"], "Target": rel["Target"]}
            if rel.get("TargetMode") == "External":
                new["TargetMode"] = "External"
            elif kind in ("header", "footer"):
                new["Target"] = f"{kind}_{index}_{Path(rel['Target']).stem}.xml"
                self.copy_part(letter, rel["Target"], new["Target"])
                self.overrides.append((f"/word/{new['Target']}", _CT_HEADER if kind == "header" else _CT_FOOTER))
            elif kind == "image":
                new["Target"] = self.copy_media(letter, rel["Target"])
            self.letter_rels.append(new)
        self.rid_maps.append(rid_map)


def merge_letters(paths: Sequence[Path], target: Path) -> None:
    """Write ``target`` (a temp name the caller renames) from the letter files, in order."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=LEVEL) as out:
        merge = _Merge(out)
        for index, path in enumerate(paths):
            with zipfile.ZipFile(path) as letter:
                merge.first_pass(index, letter)
        with zipfile.ZipFile(paths[0]) as first:
            for name in first.namelist():
                if name.startswith(("word/media/", "word/_rels/", "word/header", "word/footer")) or name in (
                        "word/document.xml", "[Content_Types].xml"):
                    continue
                out.writestr(name, first.read(name))
            types = first.read("[Content_Types].xml").decode("utf-8")
        types = re.sub(r'<Override PartName="/word/(header|footer)\d*\.xml"[^>]*/>', "", types)
        types = _DEFAULT.sub("", types)
        extra = "".join(merge.defaults.values()) + "".join(
            f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in merge.overrides)
        out.writestr("[Content_Types].xml", types.replace("</Types>", extra + "</Types>"))
        out.writestr("word/_rels/document.xml.rels", _rels_xml(merge.base_rels + merge.letter_rels))
        with out.open("word/document.xml", "w", force_zip64=True) as stream:
            _write_bodies(stream, paths, merge)


def _renamer(mapping: dict[str, str]) -> Callable[[re.Match[str]], str]:
    def rename(match: re.Match[str]) -> str:
        return f'{match.group(1)}="{mapping.get(match.group(2), match.group(2))}"'
    return rename


def _write_bodies(stream: object, paths: Sequence[Path], merge: _Merge) -> None:
    write = stream.write  # type: ignore[attr-defined]
    namespaces = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in sorted(merge.namespaces.items()))
    ignorable = f' mc:Ignorable="{" ".join(merge.ignorable)}"' if merge.ignorable and "mc" in merge.namespaces else ""
    write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document {namespaces}{ignorable}>'
          "<w:body>".encode())
    last = len(paths) - 1
    for index, path in enumerate(paths):
        with zipfile.ZipFile(path) as letter:
            document = letter.read("word/document.xml").decode("utf-8")
        start = document.index(">", document.index("<w:body")) + 1
        body = document[start:document.rindex("</w:body>")]
        body = _RID.sub(_renamer(merge.rid_maps[index]), body)
        section = body.rindex("<w:sectPr")
        content, sect_pr = body[:section], body[section:]
        write(content.encode())
        write((sect_pr if index == last else f"<w:p><w:pPr>{sect_pr}</w:pPr></w:p>").encode())
    write(b"</w:body></w:document>")
