"""Making a preview of a stored file: no database here, only bytes in and out.

- PDF: shown as it is; checked with pypdfium2 (a corrupt or password-protected file
  has no preview) and its first page rendered as the thumbnail.
- Office files and text (DOCX, DOC, XLSX, XLS, ODT, ODS, PPTX, PPT, RTF, TXT):
  converted to PDF by LibreOffice headless. Each conversion gets its own temporary
  user profile (two ``soffice`` runs sharing one exit with nothing), runs in its own
  process group under a time limit and a memory limit, and is killed with the whole
  group when the limit passes. ZIP containers are checked first with stricter limits
  than at upload, so a "bomb" is refused before LibreOffice inflates it.
- PNG and JPEG: shown inline; the thumbnail is made with Pillow.

Every failure is a :class:`NoPreview` with a short reason code; the caller records it
and the card says "no preview" while the file still downloads.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.conf import settings

from sogla.documents.archives import ZipLimits, ZipRefused, open_container
from sogla.documents.uploads import DOCX, ODS, ODT, OLE, PPTX, XLSX

logger = logging.getLogger(__name__)

PDF = "application/pdf"
RTF = "text/rtf"
IMAGES = frozenset({"image/png", "image/jpeg"})
ZIP_OFFICE = frozenset({DOCX, XLSX, PPTX, ODT, ODS})
OFFICE = ZIP_OFFICE | {OLE, RTF, "text/plain"}
THUMB_WIDTH = 240
# The suffix LibreOffice needs to pick its import filter, by content type.
_SUFFIX = {DOCX: ".docx", XLSX: ".xlsx", PPTX: ".pptx", ODT: ".odt", ODS: ".ods",
           RTF: ".rtf", "text/plain": ".txt"}  # fmt: skip


class NoPreview(Exception):
    """No preview can be made; ``reason`` is a short code kept on the row."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Built:
    """What a successful build produced."""

    kind: str  # "pdf" or "image"
    pages: int = 0
    pdf: bytes | None = None  # a converted PDF; None when the source is shown itself
    thumbnail: bytes = b""
    text: list[str] = field(default_factory=list)  # extracted text, one item a page


def previewable(mime_type: str) -> bool:
    return mime_type == PDF or mime_type in IMAGES or mime_type in OFFICE


def build_preview(
    source: IO[bytes], *, mime_type: str, name: str = "", timeout: float | None = None
) -> Built:
    """The preview of one file's bytes; NoPreview when there cannot be one."""
    if mime_type == PDF:
        data = source.read()
        pages, thumb, text = inspect_pdf(data)
        return Built(kind="pdf", pages=pages, thumbnail=thumb, text=text)
    if mime_type in IMAGES:
        return Built(kind="image", pages=1, thumbnail=image_thumbnail(source))
    if mime_type in OFFICE:
        if mime_type in ZIP_OFFICE:
            check_container(source)
        source.seek(0)
        suffix = _office_suffix(mime_type, name)
        pdf = convert_to_pdf(source, suffix=suffix, timeout=timeout)
        pages, thumb, text = inspect_pdf(pdf)
        return Built(kind="pdf", pages=pages, pdf=pdf, thumbnail=thumb, text=text)
    raise NoPreview("unsupported", mime_type)


def _office_suffix(mime_type: str, name: str) -> str:
    if mime_type == OLE:  # .doc, .xls or .ppt: the name says which
        suffix = Path(name).suffix.lower()
        return suffix if suffix in {".doc", ".xls", ".ppt"} else ".doc"
    return _SUFFIX[mime_type]


def check_container(source: IO[bytes]) -> None:
    """Refuse a ZIP office file that would inflate beyond the preview limits."""
    limits = ZipLimits(
        max_entries=int(settings.SOGLA_ZIP_MAX_ENTRIES),
        max_directory=int(settings.SOGLA_ZIP_MAX_ENTRIES) * 1024,
        max_ratio=int(settings.SOGLA_PREVIEW_ZIP_MAX_RATIO),
        max_total=int(settings.SOGLA_PREVIEW_MAX_UNCOMPRESSED_MB) * 1024 * 1024,
    )
    try:
        open_container(source, limits).close()
    except ZipRefused as refused:
        raise NoPreview("too_large", refused.reason) from None


# --- PDF ------------------------------------------------------------------------------


def inspect_pdf(data: bytes) -> tuple[int, bytes, list[str]]:
    """(pages, first-page PNG thumbnail, text per page) of a PDF; NoPreview if unreadable."""
    import pypdfium2

    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        message = str(error).lower()
        if "password" in message:
            raise NoPreview("encrypted", str(error)) from None
        raise NoPreview("corrupt", str(error)) from None
    try:
        pages = len(pdf)
        if pages < 1:
            raise NoPreview("corrupt", "no pages")
        max_pages = int(settings.SOGLA_PREVIEW_MAX_PAGES)
        if pages > max_pages:
            raise NoPreview("too_large", f"{pages} pages")
        first = pdf[0]
        width = first.get_width() or 1
        scale = min(THUMB_WIDTH / width, 2.0)
        bitmap = first.render(scale=scale)
        out = io.BytesIO()
        bitmap.to_pil().convert("RGB").save(out, format="PNG", optimize=True)
        text = [_page_text(pdf[i]) for i in range(pages)]
        return pages, out.getvalue(), text
    except pypdfium2.PdfiumError as error:
        raise NoPreview("corrupt", str(error)) from None
    finally:
        pdf.close()


def _page_text(page: object) -> str:
    textpage = page.get_textpage()  # type: ignore[attr-defined]
    try:
        text: str = textpage.get_text_bounded()
    finally:
        textpage.close()
    return text.replace("\r\n", "\n").replace("\r", "\n")


def pdf_text(data: bytes) -> list[str]:
    """The text of each page of a PDF (empty pages give '')."""
    return inspect_pdf(data)[2]


# --- images ---------------------------------------------------------------------------


def image_thumbnail(source: IO[bytes]) -> bytes:
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = int(settings.SOGLA_PREVIEW_MAX_PIXELS)
    try:
        with Image.open(source) as image:
            image.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 2))
            out = io.BytesIO()
            image.convert("RGB").save(out, format="PNG", optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as error:
        raise NoPreview("corrupt", str(error)) from None


# --- LibreOffice ----------------------------------------------------------------------


def soffice_path() -> str | None:
    configured = str(settings.SOGLA_PREVIEW_SOFFICE)
    if os.sep in configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which(configured)


def convert_to_pdf(
    source: IO[bytes], *, suffix: str, timeout: float | None = None
) -> bytes:
    """LibreOffice's PDF of an office file; NoPreview on failure or timeout.

    A fresh profile directory per call (so conversions may run in parallel), its own
    process group (so a timeout kills LibreOffice's child processes too), and an
    address-space limit.
    """
    binary = soffice_path()
    if binary is None:
        raise NoPreview("no_converter", str(settings.SOGLA_PREVIEW_SOFFICE))
    limit = float(timeout if timeout is not None else settings.SOGLA_PREVIEW_TIMEOUT)
    with tempfile.TemporaryDirectory(prefix="sogla-preview-") as work:
        root = Path(work)
        (root / "in").mkdir()
        (root / "out").mkdir()
        source_path = root / "in" / f"document{suffix}"
        with source_path.open("wb") as target:
            shutil.copyfileobj(source, target)
        command = [
            binary,
            f"-env:UserInstallation={(root / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--convert-to",
            "pdf",
            "--outdir",
            str(root / "out"),
            str(source_path),
        ]
        _run_limited(command, cwd=root, timeout=limit)
        result = root / "out" / "document.pdf"
        if not result.is_file() or result.stat().st_size == 0:
            raise NoPreview("failed", "LibreOffice wrote no PDF")
        return result.read_bytes()


def _memory_cap(megabytes: int) -> Callable[[], None] | None:
    """A pre-exec hook setting the child's address-space limit (nothing else runs)."""
    if megabytes <= 0:
        return None
    cap = megabytes * 1024 * 1024

    def limit() -> None:  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    return limit


def _run_limited(command: list[str], *, cwd: Path, timeout: float) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "LANG": "C.UTF-8",
        "TMPDIR": str(cwd),
    }
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_memory_cap(int(settings.SOGLA_PREVIEW_MEMORY_MB)),
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise NoPreview("timeout", f"killed after {timeout:.0f} s") from None
    finally:
        _kill_group(process)  # stray children of a finished soffice
    elapsed = time.monotonic() - started
    if process.returncode != 0:
        tail = output.decode("utf-8", "replace")[-300:] if output else ""
        raise NoPreview("failed", f"exit {process.returncode}: {tail}")
    logger.info("converted %s in %.2f s", command[-1].rsplit("/", 1)[-1], elapsed)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - a zombie we cannot reap
        logger.error("soffice %s did not exit after SIGKILL", process.pid)
