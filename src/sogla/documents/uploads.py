"""Checking uploaded files: size, content type from the bytes, safe display names.

The policy: office documents, PDF, images and plain text are accepted; the type is
read from the content and must agree with the file name's extension; executables,
HTML, SVG, scripts and Office files with macros are refused. Stored files get
server-made keys (organisation / sha256), so a name can never choose where bytes land.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import struct
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _

from sogla.core.errors import ValidationFailed
from sogla.core.text import strip_bidi
from sogla.documents.archives import ZipRefused, open_container, read_small

logger = logging.getLogger(__name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
OLE = "application/x-ole-storage"

# Accepted content types and the extensions a name may carry for each.
ACCEPTED: dict[str, frozenset[str]] = {
    "application/pdf": frozenset({".pdf"}),
    DOCX: frozenset({".docx"}),
    XLSX: frozenset({".xlsx"}),
    PPTX: frozenset({".pptx"}),
    ODT: frozenset({".odt"}),
    ODS: frozenset({".ods"}),
    OLE: frozenset({".doc", ".xls", ".ppt"}),
    "image/png": frozenset({".png"}),
    "image/jpeg": frozenset({".jpg", ".jpeg"}),
    "text/plain": frozenset({".txt", ".csv", ".md"}),
}
MAX_PIXELS = 100_000_000
_ZIP_KINDS = {
    "word/document.xml": DOCX,
    "xl/workbook.xml": XLSX,
    "ppt/presentation.xml": PPTX,
}
_ODF_KINDS = {
    b"application/vnd.oasis.opendocument.text": ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": ODS,
}
# Looked for (lower-cased) anywhere in a text file: a browser or a viewer that
# ignores the declared type could run it.
_MARKUP = (b"<html", b"<!doctype", b"<script", b"<svg", b"<?xml", b"<body", b"<iframe",
           b"<head", b"<meta", b"<object", b"<embed", b"<link", b"<style", b"<?php")  # fmt: skip
# Executable headers: Windows (MZ), ELF, Mach-O (both byte orders, 32/64-bit, fat),
# WebAssembly. Scripts are recognised by their "#!" line.
_EXECUTABLE = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf",
               b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe",
               b"\x00asm")  # fmt: skip


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    mime_type: str
    size: int
    sha256: str
    content: IO[bytes]


def safe_name(raw: str) -> str:
    """A display name with no path, control or direction characters, at most 200 chars."""
    name = strip_bidi(unicodedata.normalize("NFC", raw or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split())
    stem, suffix = _split(name)
    stem = stem.strip(" .") or "file"
    suffix = suffix[:16]
    return stem[: 200 - len(suffix)] + suffix


def _split(name: str) -> tuple[str, str]:
    suffix = PurePosixPath(name).suffix.lower() if "." in name else ""
    return (name[: -len(suffix)] if suffix else name), suffix


def _sniff(head: bytes, stream: IO[bytes]) -> str | None:
    """The content type read from the bytes, or None when it is not accepted.

    Every signature must be at the start (a PDF may follow a BOM or whitespace);
    executables are refused whatever follows their header.
    """
    if head.startswith(_EXECUTABLE) or _lstrip(head).startswith(b"#!"):
        return None
    if _lstrip(head).startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(stream)
    return _sniff_text(stream)


def _lstrip(head: bytes) -> bytes:
    """``head`` without a leading UTF-8 byte-order mark and ASCII whitespace."""
    return head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n\f")


def _sniff_zip(stream: IO[bytes]) -> str | None:
    try:
        archive = open_container(stream)
    except ZipRefused as refused:
        logger.info("ZIP container refused: %s", refused.reason)
        return None
    try:
        with archive:
            names = set(archive.namelist())
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                return None
            for marker, kind in _ZIP_KINDS.items():
                if marker in names:
                    return kind
            if "mimetype" in names:
                return _ODF_KINDS.get(read_small(archive, "mimetype").strip())
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, NotImplementedError):
        return None
    return None


def _sniff_text(stream: IO[bytes]) -> str | None:
    """Plain text (UTF-8, else Windows-1251) with no NUL and no markup anywhere."""
    overlap = max(len(marker) for marker in _MARKUP) - 1
    utf8 = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    previous = b""
    for chunk in _chunks(stream):
        if b"\x00" in chunk:
            return None
        window = (previous + chunk).lower()
        if any(marker in window for marker in _MARKUP):
            return None
        previous = chunk[-overlap:]
        if is_utf8:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                is_utf8 = False
    if is_utf8:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    return "text/plain" if is_utf8 or _is_cp1251(stream) else None


def _is_cp1251(stream: IO[bytes]) -> bool:
    try:
        for chunk in _chunks(stream):
            chunk.decode("cp1251")
    except UnicodeDecodeError:
        return False
    return True


def _png_too_large(head: bytes) -> bool:
    if len(head) < 24:
        return True
    width, height = struct.unpack(">II", head[16:24])
    return bool(width * height > MAX_PIXELS)


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    stream.seek(0)
    while chunk := stream.read(1024 * 1024):
        yield chunk


def check_upload(field: str, name: str, stream: IO[bytes], size: int) -> CheckedUpload:
    """Validate one upload; raises ValidationFailed naming ``field`` with the reason."""
    limit_mb = settings.SOGLA_MAX_UPLOAD_MB
    display = safe_name(name)
    if size <= 0:
        raise ValidationFailed.single(field, "empty_file", _("The file is empty."))
    if size > limit_mb * 1024 * 1024:
        raise ValidationFailed.single(
            field,
            "file_too_large",
            _("File is over %(limit)d MB.") % {"limit": limit_mb},
        )
    stream.seek(0)
    head = stream.read(8192)
    mime = _sniff(head, stream)
    if mime is None:
        raise ValidationFailed.single(
            field,
            "file_type_not_accepted",
            _(
                "This kind of file is not accepted: use PDF, office documents, images or text."
            ),
        )
    if mime == "image/png" and _png_too_large(head):
        raise ValidationFailed.single(
            field, "image_too_large", _("The image has too many pixels.")
        )
    suffix = _split(display)[1]
    if suffix not in ACCEPTED[mime]:
        raise ValidationFailed.single(
            field,
            "file_type_mismatch",
            _("The file's content does not match its name (%(suffix)s).")
            % {"suffix": suffix or _("no extension")},
        )
    digest = hashlib.sha256()
    counted = 0
    for chunk in _chunks(stream):
        digest.update(chunk)
        counted += len(chunk)
    stream.seek(0)
    return CheckedUpload(display, mime, counted, digest.hexdigest(), stream)


def storage_key(organisation_id: int, sha256: str) -> str:
    return f"{organisation_id}/{sha256[:2]}/{sha256}"


def bytes_upload(field: str, name: str, data: bytes) -> CheckedUpload:
    """check_upload for content already in memory (demo data, tests, API clients)."""
    return check_upload(field, name, io.BytesIO(data), len(data))
