"""The text of a file, for search (and for anyone else who needs a file's words:
version comparison can reuse it).

``extract_text(data, mime_type)`` reads PDF (pypdfium2), DOCX (python-docx), XLSX
(openpyxl, values only) and plain text (UTF-8, else Windows-1251), and never raises:
a corrupt, encrypted or oversized file gives an ``Extracted`` with no text and a
``reason``. Limits: ``MAX_PAGES`` PDF pages, ``MAX_CHARS`` characters of text, and
for the ZIP-based formats ``MAX_UNPACKED`` bytes unpacked (a DOCX bomb is refused
before it is opened). Pages are separated by form feeds.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass

from sogla.documents.uploads import DOCX, XLSX

logger = logging.getLogger("sogla.textextract")

MAX_PAGES = 500
MAX_CHARS = 1_000_000
MAX_UNPACKED = 100 * 1024 * 1024
MAX_RATIO = 200  # unpacked / packed size of one ZIP member
MAX_CELLS = 200_000

PDF = "application/pdf"
TEXT = "text/plain"


@dataclass(frozen=True)
class Extracted:
    text: str
    reason: str = ""  # why there is no (or only part of the) text; "" = all of it

    @property
    def ok(self) -> bool:
        return not self.reason


def extract_text(data: bytes, mime_type: str) -> Extracted:
    """The text of a file's content (see the module docstring)."""
    reader = _READERS.get(mime_type)
    if reader is None:
        return Extracted("", "unsupported")
    try:
        return reader(data)
    except Exception as error:  # noqa: BLE001 - a broken file must not stop the worker
        logger.info("no text from a %s file: %r", mime_type, error)
        return Extracted("", "unreadable")


def _limited(parts: list[str], reason: str = "") -> Extracted:
    text = "".join(parts)
    if len(text) > MAX_CHARS:
        return Extracted(text[:MAX_CHARS], "truncated")
    return Extracted(text, reason)


def _pdf(data: bytes) -> Extracted:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        reason = "encrypted" if "password" in str(error).lower() else "unreadable"
        return Extracted("", reason)
    try:
        parts: list[str] = []
        size = 0
        count = len(pdf)
        for index in range(min(count, MAX_PAGES)):
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_range()
                finally:
                    textpage.close()
            finally:
                page.close()
            parts.append(text.replace("\r\n", "\n") + "\f")
            size += len(text)
            if size > MAX_CHARS:
                break
        return _limited(parts, "truncated" if count > MAX_PAGES else "")
    finally:
        pdf.close()


def _check_zip(data: bytes) -> str:
    """'' if the ZIP is safe to open, else the reason."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        total = 0
        for info in archive.infolist():
            total += info.file_size
            if info.file_size > MAX_RATIO * max(info.compress_size, 1) + 1_000_000:
                return "too_large"
        if total > MAX_UNPACKED:
            return "too_large"
    return ""


def _docx(data: bytes) -> Extracted:
    import docx

    problem = _check_zip(data)
    if problem:
        return Extracted("", problem)
    document = docx.Document(io.BytesIO(data))
    parts: list[str] = []
    size = 0
    for paragraph in document.paragraphs:
        parts.append(paragraph.text + "\n")
        size += len(paragraph.text)
        if size > MAX_CHARS:
            return _limited(parts)
    for table in document.tables:
        for row in table.rows:
            line = "\t".join(cell.text for cell in row.cells)
            parts.append(line + "\n")
            size += len(line)
            if size > MAX_CHARS:
                return _limited(parts)
    return _limited(parts)


def _xlsx(data: bytes) -> Extracted:
    import openpyxl

    problem = _check_zip(data)
    if problem:
        return Extracted("", problem)
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        parts: list[str] = []
        cells = 0
        for sheet in book.worksheets:
            parts.append(f"{sheet.title}\n")
            for row in sheet.iter_rows(values_only=True):
                values = [str(v) for v in row if v is not None]
                cells += len(row)
                if values:
                    parts.append("\t".join(values) + "\n")
                if cells > MAX_CELLS:
                    return _limited(parts, "truncated")
            parts.append("\f")
        return _limited(parts)
    finally:
        book.close()


def _text(data: bytes) -> Extracted:
    head = data[: MAX_CHARS * 4]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 3 and len(data) > len(head):
            text = head[: error.start].decode("utf-8", errors="replace")
        else:
            text = head.decode("cp1251", errors="replace")
    return _limited([text.lstrip("\ufeff")])


_READERS = {PDF: _pdf, DOCX: _docx, XLSX: _xlsx, TEXT: _text}
