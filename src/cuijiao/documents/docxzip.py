"""A .docx is a zip: read members as stored bytes, write a letter by copying them.

A letter differs from its template only in the parts that carry Jinja tags
(``word/document.xml``, a footer with the notice number). Every other member
is copied as the compressed bytes the template already holds, so a letter
costs one deflate of the rendered parts, not a re-compression of the package.
Timestamps are fixed, so the same text always gives the same bytes (and hash).

The print file is written the same way, streamed (:class:`ZipWriter`), its
body joined from stretches (:class:`Segment`) of one deflate stream that the render
workers made apart, their CRC-32s joined without the bytes (:func:`joined_crc`).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")
_END64 = struct.Struct("<4sQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<4sIQI")
_EXTRA64 = struct.Struct("<HH")
_Q2 = struct.Struct("<QQ")
# zipfile's thresholds: ZIP64 fields for a size or offset past 2 GiB - 1 (readers that take the 32-bit fields
# as signed see no negative one) and for a count from 0xFFFF (that count is the mark of a ZIP64 one).
_LIMIT, _COUNT_LIMIT = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
_MARK32, _MARK16 = 0xFFFFFFFF, 0xFFFF  # what a field moved to a ZIP64 record holds
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


@dataclass(frozen=True)
class Segment:
    """A stretch of a deflate stream made on its own: blocks ending on a byte boundary, none of them final and
    none reaching back before the stretch's start, so stretches made in different processes join into one
    stream as they are."""

    raw: bytes
    crc: int  # CRC-32 of the bytes it inflates to
    size: int  # how many bytes it inflates to


def segment(data: bytes, level: int = 1) -> Segment:
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return Segment(packer.compress(data) + packer.flush(zlib.Z_SYNC_FLUSH), zlib.crc32(data), len(data))


def stored_segment(data: bytes) -> Segment:
    """``data`` as stored (uncompressed) deflate blocks, at most 65,535 bytes each (RFC 1951, 3.2.4): no
    compressor for a few hundred bytes. Each block starts on a byte boundary, as a segment does, so its
    three header bits (not final, stored) and their padding are one zero byte."""
    raw = bytearray()
    for start in range(0, len(data), 0xFFFF):
        block = data[start:start + 0xFFFF]
        raw += _STORED.pack(0, len(block), len(block) ^ 0xFFFF) + block
    return Segment(bytes(raw), zlib.crc32(data), len(data))


_STORED = struct.Struct("<BHH")
NOTHING = Segment(b"", 0, 0)


def joined_member(name: str, segments: Iterable[Segment], last: bytes, level: int = 1) -> Member:
    """A deflated member made of ``segments`` and ``last`` (deflated here as the stream's final block): a
    letter's ``word/document.xml`` whose body segment is also its share of the print file."""
    raw, crc, size = bytearray(), 0, 0
    for part in segments:
        raw += part.raw
        crc, size = joined_crc(crc, part.crc, part.size), size + part.size
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    raw += packer.compress(last) + packer.flush()
    return Member(name, zipfile.ZIP_DEFLATED, zlib.crc32(last, crc), size + len(last), bytes(raw))


def joined_crc(first: int, second: int, second_size: int) -> int:
    """CRC-32 of two byte strings joined, from each one's CRC and the second's length (zlib's crc32_combine,
    which Python does not offer): crc(a+b) = crc(a)·x^(8n) ^ crc(b) modulo CRC-32's polynomial, n = len(b).
    A print file's letter (tens of KB) is shifted by feeding zlib's register zeros, past its inversions (``^ _ONES``);
    longer ones (the whole body behind the head: a gigabyte at 100,000 units) by squaring, ~10 µs."""
    if second_size <= len(_ZEROS):
        return zlib.crc32(_ZEROS[:second_size], first ^ _ONES) ^ _ONES ^ second
    power, exponent = _ONE, 3  # x^(2^3): a byte is 8 bits
    while second_size:
        if second_size & 1:
            power = _times(_X_TO_2_TO[exponent % 32], power)
        second_size >>= 1
        exponent += 1
    return _times(power, first) ^ second


def _times(a: int, b: int) -> int:
    """a·b modulo CRC-32's polynomial, both bit-reflected as zlib holds them (its multmodp)."""
    product, bit = 0, _ONE
    while a:
        if a & bit:
            product ^= b
            a ^= bit
        bit >>= 1
        b = (b >> 1) ^ _POLYNOMIAL if b & 1 else b >> 1
    return product


def _powers() -> list[int]:
    """x^(2^k) for k < 32, each the square of the one before (zlib's x2n_table); x^(2^32) is x again."""
    powers = [_ONE >> 1]  # x¹
    for _ in range(31):
        powers.append(_times(powers[-1], powers[-1]))
    return powers


_ZEROS = memoryview(bytes(1 << 16))
_ONES, _ONE, _POLYNOMIAL = 0xFFFFFFFF, 1 << 31, 0xEDB88320  # _ONE: the polynomial 1, bit-reflected
_X_TO_2_TO = _powers()


def _entry(name: str, method: int, crc: int, size: int, raw_size: int, offset: int) -> tuple[bytes, bytes]:
    """A member's local header and its central directory record; ZIP64 fields (APPNOTE 4.5.3) only for the
    sizes and the offset past 2 GiB - 1, as Python's zipfile writes them."""
    encoded = name.encode("utf-8")
    big_sizes = size > _LIMIT or raw_size > _LIMIT
    sizes = (_MARK32, _MARK32) if big_sizes else (raw_size, size)
    local_extra = _EXTRA64.pack(1, 16) + _Q2.pack(size, raw_size) if big_sizes else b""
    extra64 = ([size, raw_size] if big_sizes else []) + ([offset] if offset > _LIMIT else [])
    central_extra = _EXTRA64.pack(1, 8 * len(extra64)) + struct.pack(f"<{len(extra64)}Q", *extra64) if extra64 else b""
    version = 45 if extra64 else 20
    local = _LOCAL.pack(b"PK\x03\x04", version, _UTF8_NAME, method, _DOS_TIME, _DOS_DATE, crc, *sizes,
                        len(encoded), len(local_extra)) + encoded + local_extra
    central = _CENTRAL.pack(b"PK\x01\x02", version, version, _UTF8_NAME, method, _DOS_TIME, _DOS_DATE, crc,
                            *sizes, len(encoded), len(central_extra), 0, 0, 0, 0,
                            _MARK32 if offset > _LIMIT else offset) + encoded
    return local, central + central_extra


def _end(count: int, central_size: int, central_offset: int) -> bytes:
    """The end of central directory record, after a ZIP64 one and its locator where a field overflows."""
    if count < _COUNT_LIMIT and central_size <= _LIMIT and central_offset <= _LIMIT:
        return _END.pack(b"PK\x05\x06", 0, 0, count, count, central_size, central_offset, 0)
    end64 = _END64.pack(b"PK\x06\x06", _END64.size - 12, 45, 45, 0, 0, count, count, central_size, central_offset)
    locator = _LOCATOR64.pack(b"PK\x06\x07", 0, central_offset + central_size, 1)
    entries = min(count, _MARK16)
    return end64 + locator + _END.pack(b"PK\x05\x06", 0, 0, entries, entries, min(central_size, _MARK32),
                                       min(central_offset, _MARK32), 0)


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
        local, record = _entry(member.name, member.method, member.crc, member.size, len(member.raw), len(body))
        body += local
        body += member.raw
        central += record

    def build(self, rendered: list[Member]) -> bytes:
        body, central = bytearray(self._prefix), bytearray(self._central)
        for member in rendered:
            self._add(body, central, member)
        return bytes(body + central + _end(self._count + len(rendered), len(central), len(body)))


class ZipWriter:
    """A package written to ``stream`` member by member from stored bytes, of any size (ZIP64 where needed):
    the print file of a month's batch, whose parts come deflated from the processes that rendered them."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._central = bytearray()
        self._count = 0
        self._offset = 0

    def add(self, member: Member) -> None:
        self.add_stream(member.name, member.method, member.crc, member.size, len(member.raw), [member.raw])

    def add_stream(self, name: str, method: int, crc: int, size: int, raw_size: int,
                   chunks: Iterable[bytes]) -> None:
        """A member whose stored bytes (``raw_size`` of them) come in ``chunks``: never all in memory."""
        local, record = _entry(name, method, crc, size, raw_size, self._offset)
        self._stream.write(local)
        written = 0
        for chunk in chunks:
            self._stream.write(chunk)
            written += len(chunk)
        if written != raw_size:
            raise ValueError(f"{name}: {written} bytes written, {raw_size} announced")
        self._offset += len(local) + written
        self._central += record
        self._count += 1

    def close(self) -> None:
        self._stream.write(self._central)
        self._stream.write(_end(self._count, len(self._central), self._offset))
