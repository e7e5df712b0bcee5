"""The print file's zip writer: members from stored bytes, segments of one deflate stream made apart,
and the ZIP64 records a month's print file needs (81,000 members at 100,000 units) — each read back
with Python's zipfile, which checks every member's CRC as it inflates it."""

from __future__ import annotations

import random
import struct
import zipfile
import zlib
from pathlib import Path

from cuijiao.documents.docxzip import Member, ZipWriter, deflated, joined_crc, joined_member, segment, stored_segment


def test_the_crc_of_joined_bytes_comes_from_each_part_s_crc_and_the_second_s_length() -> None:
    rng = random.Random(7)
    for size_a, size_b in [(0, 0), (0, 5), (5, 0), (1, 1), (100, 70_000), (131_072, 65_536), (3, 200_001),
                           (0, 65_536), (65_536, 1), (1, 3_000_000)]:
        a, b = rng.randbytes(size_a), rng.randbytes(size_b)
        assert joined_crc(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_the_crc_of_a_long_second_part_joins_as_zlib_computes_it() -> None:
    """Past 64 KiB the shift comes by squaring; past 512 MiB it wraps round its 32 powers of x, as zlib's
    does. Checked against zlib's CRC of the bytes themselves: a few bytes, then n zeros."""
    first = b"<w:document>"
    zeros = bytes(1 << 20)
    for size in (65_537, 3_000_001, (1 << 29) + 12_345, (1 << 31) + 3):
        joined, alone = zlib.crc32(first), 0
        for start in range(0, size, len(zeros)):
            block = zeros[:min(len(zeros), size - start)]
            joined, alone = zlib.crc32(block, joined), zlib.crc32(block, alone)
        assert joined_crc(zlib.crc32(first), alone, size) == joined, size


def test_segments_made_apart_join_into_one_stream() -> None:
    """Deflated and stored stretches (a section break is stored; one of 70,000 bytes takes two blocks)."""
    texts = ["<w:p>第一封</w:p>" * 500, "", "<w:p>第二封 <w:t>¥1,234.56</w:t></w:p>" * 3000, "尾",
             '<w:p><w:pPr><w:sectPr><w:headerReference r:id="rL1_rId7"/></w:sectPr></w:pPr></w:p>', "",
             "x" * 70_000, "<w:p>第三封</w:p>"]
    parts = [(stored_segment if number in (3, 4, 5, 6) else segment)(text.encode())
             for number, text in enumerate(texts)]
    assert parts[4].raw.startswith(b"\x00") and len(parts[6].raw) == 70_000 + 2 * 5
    final = zlib.compressobj(1, zlib.DEFLATED, -15).flush()  # an empty final block ends the stream
    assert zlib.decompress(b"".join(p.raw for p in parts) + final, -15).decode() == "".join(texts)
    assert [p.size for p in parts] == [len(text.encode()) for text in texts]


def test_a_member_joined_from_segments_and_a_last_part_inflates_to_their_bytes(tmp_path: Path) -> None:
    """A letter's document.xml: its opening and its body as segments (the body is also its print-file share),
    the section and closing as the final block; zipfile checks the joined CRC as it inflates."""
    head, body, last = b'<w:document xmlns:w="w"><w:body>', "<w:p>李四 ¥2,114.25</w:p>".encode() * 400, \
        b"<w:sectPr/></w:body></w:document>"
    member = joined_member("word/document.xml", [segment(head), segment(b""), segment(body)], last)
    path = tmp_path / "letter.zip"
    with path.open("wb") as stream:
        writer = ZipWriter(stream)
        writer.add(member)
        writer.close()
    with zipfile.ZipFile(path) as package:
        assert package.read("word/document.xml") == head + body + last
    assert member.size == len(head + body + last)


def test_a_package_of_more_members_than_the_zip_count_field_holds_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    count = 70_000  # above 65,535: the count lives in the ZIP64 end record
    with path.open("wb") as stream:
        writer = ZipWriter(stream)
        for number in range(count):
            writer.add(deflated(f"word/footer_{number}.xml", f"<w:ftr>第 {number} 封</w:ftr>".encode()))
        writer.close()
    with zipfile.ZipFile(path) as package:
        assert len(package.infolist()) == count
        assert package.testzip() is None
        assert package.read("word/footer_69999.xml").decode() == "<w:ftr>第 69999 封</w:ftr>"


def test_a_member_larger_than_4_gib_inflated_gets_its_zip64_sizes(tmp_path: Path) -> None:
    """A print file's body passes 4 GiB inflated at about 160,000 letters; the sizes go in ZIP64 fields."""
    block = segment(bytes(1 << 20))  # 1 MiB of zeros, deflated to under 5 KB
    blocks = 4097
    size = blocks << 20
    crc = 0
    zeros = bytes(1 << 20)
    for _ in range(blocks):
        crc = zlib.crc32(zeros, crc)
    tail = zlib.compressobj(1, zlib.DEFLATED, -15).flush()
    path = tmp_path / "big.zip"
    with path.open("wb") as stream:
        writer = ZipWriter(stream)
        writer.add(Member("first.txt", zipfile.ZIP_STORED, zlib.crc32(b"a"), 1, b"a"))
        writer.add_stream("word/document.xml", zipfile.ZIP_DEFLATED, crc, size, len(block.raw) * blocks + len(tail),
                          [*(block.raw for _ in range(blocks)), tail])
        writer.add(Member("last.txt", zipfile.ZIP_STORED, zlib.crc32(b"z"), 1, b"z"))
        writer.close()
    assert path.stat().st_size < 64 << 20  # 4 GiB of zeros deflate to ~20 MB
    with zipfile.ZipFile(path) as package:
        info = package.getinfo("word/document.xml")
        assert info.file_size == size > 0xFFFFFFFF
        read = 0
        with package.open(info) as member:  # zipfile checks the CRC when the member's end is read
            while chunk := member.read(64 << 20):
                read += len(chunk)
        assert read == size
        assert package.read("last.txt") == b"z"


def _local_sizes(data: bytes, offset: int) -> tuple[int, int, bytes]:
    """A local header's compressed and uncompressed size fields and its extra field, as stored."""
    raw_size, size, name_length, extra_length = struct.unpack_from("<IIHH", data, offset + 18)
    start = offset + 30 + name_length
    return raw_size, size, data[start:start + extra_length]


def test_a_member_past_2_gib_inflated_gets_zip64_sizes_as_zipfile_writes_them(tmp_path: Path) -> None:
    """Sizes from 2 GiB up go in ZIP64 fields, as Python's zipfile (and the code before this writer) put
    them: readers that take the 32-bit fields as signed (older Java and LibreOffice) see no negative size.
    The print file's body is 1.2 GB at 100,000 units; 2 GiB is within reach of a larger estate."""
    block = segment(bytes(1 << 20))
    blocks = 2048  # exactly 2 GiB inflated: one past zipfile.ZIP64_LIMIT
    tail = zlib.compressobj(1, zlib.DEFLATED, -15).flush()
    size, compressed = blocks << 20, len(block.raw) * blocks + len(tail)
    path = tmp_path / "two.zip"
    with path.open("wb") as stream:
        writer = ZipWriter(stream)
        writer.add_stream("word/document.xml", zipfile.ZIP_DEFLATED, 0, size, compressed,
                          [*(block.raw for _ in range(blocks)), tail])
        writer.close()
    assert _local_sizes(path.read_bytes(), 0) == (0xFFFFFFFF, 0xFFFFFFFF, struct.pack("<HHQQ", 1, 16, size, compressed))
    with zipfile.ZipFile(path) as package:  # the central record's ZIP64 field read back, not inflated
        info = package.getinfo("word/document.xml")
        assert (info.file_size, info.compress_size) == (size, compressed)
        assert info.extract_version == 45


def test_exactly_65535_members_get_the_zip64_end_record_as_zipfile_writes_it(tmp_path: Path) -> None:
    """0xFFFF in the end record's count is the mark of a ZIP64 count (APPNOTE 4.4.1.4): zipfile writes the
    ZIP64 end record from that count on, and so does the print file."""
    counts = {}
    for count in (65_534, 65_535):
        with (tmp_path / f"{count}.zip").open("wb") as stream:
            writer = ZipWriter(stream)
            for number in range(count):
                writer.add(Member(f"{number}", zipfile.ZIP_STORED, 0, 0, b""))
            writer.close()
        data = (tmp_path / f"{count}.zip").read_bytes()
        counts[count] = data[-22 - 20:-22].startswith(b"PK\x06\x07")  # the ZIP64 locator before the end record
        with zipfile.ZipFile(tmp_path / f"{count}.zip") as package:
            assert len(package.infolist()) == count
    assert counts == {65_534: False, 65_535: True}
