"""ZIP amplification (issue: a .docx with 560,000 central-directory entries held a
request for 16 s and ~270 MiB): hostile containers are refused from their end
records, before anything is listed, and real office documents still pass.

The hostile files are built here byte by byte (a few MB each), so their declared
counts and sizes can lie the way an attacker's do.
"""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
import zlib
from dataclasses import dataclass

import pytest
from openpyxl import Workbook

from sogla.core.errors import ValidationFailed
from sogla.documents.archives import ZipLimits
from sogla.documents.uploads import DOCX, ODT, XLSX, check_upload

DOCX_PARTS = {
    "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
    "_rels/.rels": b'<?xml version="1.0"?><Relationships/>',
    "word/document.xml": b'<?xml version="1.0"?><w:document>'
    + b"<w:p><w:r><w:t>Contract text</w:t></w:r></w:p>" * 2000
    + b"</w:document>",
    "word/styles.xml": b'<?xml version="1.0"?><w:styles/>',
    "docProps/core.xml": b'<?xml version="1.0"?><cp:coreProperties/>',
}


@dataclass(frozen=True)
class Member:
    name: bytes
    stored: bytes = b""  # the bytes after the local header
    method: int = 0  # 0 stored, 8 deflated
    size: int = 0  # inflated size as declared
    crc: int = 0
    cd_extra: bytes = b""


def raw_zip(members: list[Member], *, declared: int | None = None) -> bytes:
    """A ZIP file whose end record declares ``declared`` members (default: the truth)."""
    body = bytearray()
    directory = bytearray()
    for member in members:
        offset = len(body)
        body += struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            0,
            member.method,
            0,
            0,
            member.crc,
            len(member.stored),
            member.size,
            len(member.name),
            0,
        )
        body += member.name + member.stored
        directory += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            20,
            20,
            0,
            member.method,
            0,
            0,
            member.crc,
            len(member.stored),
            member.size,
            len(member.name),
            len(member.cd_extra),
            0,
            0,
            0,
            0,
            offset,
        )
        directory += member.name + member.cd_extra
    count = len(members) if declared is None else declared
    end = struct.pack(
        "<4s4H2LH",
        b"PK\x05\x06",
        0,
        0,
        min(count, 0xFFFF),
        min(count, 0xFFFF),
        len(directory),
        len(body),
        0,
    )
    return bytes(body + directory + end)


def _stored(name: str, data: bytes) -> Member:
    return Member(name.encode(), data, 0, len(data), zlib.crc32(data))


def _deflated(name: str, data: bytes) -> Member:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = packer.compress(data) + packer.flush()
    return Member(name.encode(), packed, 8, len(data), zlib.crc32(data))


def _docx_members() -> list[Member]:
    return [_deflated(name, data) for name, data in DOCX_PARTS.items()]


def many_entries(count: int) -> bytes:
    """A .docx-looking file with ``count`` empty members after the real parts."""
    junk = [Member(f"j/{i:07d}".encode()) for i in range(count)]
    return raw_zip(_docx_members() + junk)


def lying_count(count: int) -> bytes:
    """The end record says 5 members; the directory holds ``count``."""
    junk = [Member(f"j/{i:07d}".encode()) for i in range(count)]
    return raw_zip(_docx_members() + junk, declared=5)


def huge_directory() -> bytes:
    """Few members, each with a 60 KB extra field in the directory (about 6 MB)."""
    padding = b"\x99\x99" + struct.pack("<H", 60_000) + b"\x00" * 60_000
    members = _docx_members() + [
        Member(f"p/{i}".encode(), cd_extra=padding) for i in range(100)
    ]
    return raw_zip(members)


def inflating_member() -> bytes:
    """word/document.xml inflates 40 MB of zeros from about 40 KB (ratio ~1000)."""
    members = _docx_members()
    members[2] = _deflated("word/document.xml", b"\x00" * 40_000_000)
    return raw_zip(members)


def inflating_in_total() -> bytes:
    """20 directory entries each claiming 64 MiB from 400 KB (ratio 164 < 200):
    1.25 GiB in total, over the 1 GiB limit."""
    members = _docx_members()
    stored = b"\x00" * 400_000
    members += [
        Member(f"media/{i}.bin".encode(), stored, 8, 64 * 1024 * 1024)
        for i in range(20)
    ]
    return raw_zip(members)


def _refused(data: bytes) -> bool:
    """True when the upload is refused as a kind of file that is not accepted."""
    try:
        check_upload("file", "contract.docx", io.BytesIO(data), len(data))
    except ValidationFailed as error:
        return [p.code for p in error.problems] == ["file_type_not_accepted"]
    return False


HOSTILE = {
    "60,000 members": lambda: many_entries(60_000),
    "60,000 members, 5 declared": lambda: lying_count(60_000),
    "6 MB central directory": huge_directory,
    "member inflating 1000x": inflating_member,
    "1.25 GiB inflated in total": inflating_in_total,
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_container_is_refused(name: str) -> None:
    data = HOSTILE[name]()
    assert _refused(data), name


def test_limits_and_time_to_refuse_are_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    limits = ZipLimits.from_settings()
    data = many_entries(60_000)
    tracemalloc.start()
    started = time.perf_counter()
    refused = _refused(data)
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    with capsys.disabled():
        print(
            f"\nZIP limits: {limits.max_entries} members, central directory "
            f"{limits.max_directory // 1024} KiB, ratio {limits.max_ratio}:1 above 1 MiB, "
            f"{limits.max_total // 2**20} MiB inflated in total; a {len(data) / 2**20:.1f} MB "
            f".docx with 60,005 members refused in {elapsed * 1000:.1f} ms, "
            f"peak {peak / 2**20:.1f} MiB allocated"
        )
    assert refused


def test_the_member_limit_is_a_setting(settings: object) -> None:
    settings.SOGLA_ZIP_MAX_ENTRIES = 10  # type: ignore[attr-defined]
    data = raw_zip(_docx_members() + [Member(f"m/{i}".encode()) for i in range(6)])
    assert _refused(data)
    settings.SOGLA_ZIP_MAX_ENTRIES = 11  # type: ignore[attr-defined]
    assert not _refused(data)


def _real_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in range(1, 2001):
        sheet.append([row, f"Договор {row}", row * 1.5, "=A1*2"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _zipped(parts: dict[str, bytes], stored_first: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first:
            archive.writestr(stored_first, parts[stored_first], zipfile.ZIP_STORED)
        for name, data in parts.items():
            if name != stored_first:
                archive.writestr(name, data)
    return buffer.getvalue()


ODT_PARTS = {
    "mimetype": b"application/vnd.oasis.opendocument.text",
    "META-INF/manifest.xml": b'<?xml version="1.0"?><manifest:manifest/>',
    "content.xml": b'<?xml version="1.0"?><office:document-content>'
    + b"<text:p>Contract text</text:p>" * 2000
    + b"</office:document-content>",
    "styles.xml": b'<?xml version="1.0"?><office:document-styles/>',
}


@pytest.mark.parametrize(
    ("name", "make", "mime"),
    [
        ("contract.docx", lambda: _zipped(DOCX_PARTS), DOCX),
        ("contract.docx", lambda: raw_zip(_docx_members()), DOCX),
        ("register.xlsx", _real_xlsx, XLSX),
        ("contract.odt", lambda: _zipped(ODT_PARTS, "mimetype"), ODT),
        # 4,000 members (many images, say) is still a document
        (
            "album.docx",
            lambda: _zipped(
                {**DOCX_PARTS, **{f"word/media/{i}.png": b"x" for i in range(4000)}}
            ),
            DOCX,
        ),
    ],
)
def test_real_office_documents_are_accepted(name: str, make: object, mime: str) -> None:
    data = make()  # type: ignore[operator]
    checked = check_upload("file", name, io.BytesIO(data), len(data))
    assert checked.mime_type == mime
