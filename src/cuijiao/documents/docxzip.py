"""A .docx is a zip: read members as stored bytes, write a letter by copying them.

A letter differs from its template only in the parts that carry Jinja tags
(``word/document.xml``, a footer with the notice number). Every other member
is copied as the compressed bytes the template already holds, so a letter
costs one deflate of the rendered parts, not a re-compression of the package.
Timestamps are fixed, so the same text always gives the same bytes (and hash).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")
_DOS_TIME, _DOS_DATE = 0, (1980 - 1980) << 9 | 1 << 5 | 1  # 1980-01-01 00:00
_UTF8_NAME = 0x800


class NotADocx(ValueError):
    """The file is not a zip package with a Word document in it."""


@dataclass(frozen=True)
class Member:
    name: str
    method: int  # zipfile.ZIP_STORED or ZIP_DEFLATED
    crc: int
    size: int
    raw: bytes  # the stored (compressed) bytes


def read_members(data: bytes, origin: str) -> list[Member]:
    """The package's members in order, each with its stored bytes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise NotADocx(f"{origin}: 不是 Word 文档（.docx），无法打开：{exc}") from None
    names = {info.filename for info in infos}
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise NotADocx(f"{origin}: 不是 Word 文档（.docx）：缺少 word/document.xml")
    members = []
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise NotADocx(f"{origin}: 不支持的压缩方式（{info.filename}）")
        header = _LOCAL.unpack_from(data, info.header_offset)
        start = info.header_offset + _LOCAL.size + header[9] + header[10]
        members.append(Member(info.filename, info.compress_type, info.CRC, info.file_size,
                              data[start:start + info.compress_size]))
    return members


def member_bytes(member: Member) -> bytes:
    return member.raw if member.method == zipfile.ZIP_STORED else zlib.decompress(member.raw, -15)


def member_text(member: Member) -> str:
    return member_bytes(member).decode("utf-8")


def deflated(name: str, content: bytes, level: int = 6) -> Member:
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    raw = packer.compress(content) + packer.flush()
    return Member(name, zipfile.ZIP_DEFLATED, zlib.crc32(content), len(content), raw)


class Package:
    """Members laid out once; ``build`` appends the rendered ones and the directory."""

    def __init__(self, static: list[Member]) -> None:
        self._prefix = bytearray()
        self._central = bytearray()
        for member in static:
            self._add(self._prefix, self._central, member)
        self._count = len(static)

    @staticmethod
    def _add(body: bytearray, central: bytearray, member: Member) -> None:
        name = member.name.encode("utf-8")
        offset = len(body)
        body += _LOCAL.pack(b"PK\x03\x04", 20, _UTF8_NAME, member.method, _DOS_TIME, _DOS_DATE, member.crc,
                            len(member.raw), member.size, len(name), 0)
        body += name
        body += member.raw
        central += _CENTRAL.pack(b"PK\x01\x02", 20, 20, _UTF8_NAME, member.method, _DOS_TIME, _DOS_DATE,
                                 member.crc, len(member.raw), member.size, len(name), 0, 0, 0, 0, 0, offset)
        central += name

    def build(self, rendered: list[Member]) -> bytes:
        body, central = bytearray(self._prefix), bytearray(self._central)
        for member in rendered:
            self._add(body, central, member)
        count = self._count + len(rendered)
        end = _END.pack(b"PK\x05\x06", 0, 0, count, count, len(central), len(body), 0)
        return bytes(body + central + end)
