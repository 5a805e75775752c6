"""Making the PDFs: the approval sheet (HTML through WeasyPrint) and the stamp
merged onto the last page of the main PDF (pypdf, with a segno QR code).

WeasyPrint fetches nothing: every resource is inline and the URL fetcher refuses,
so text from users (titles, names, comments) is only ever text.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import Any

import segno
from django.template.loader import render_to_string
from pypdf import PdfReader, PdfWriter, Transformation

# WeasyPrint tells every step of every PDF at INFO: keep the logs for problems.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class NotAPdf(ValueError):
    """The bytes are not a PDF pypdf can read."""


def _refuse(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"no external resources in generated PDFs ({url[:40]})")


def html_to_pdf(html: str) -> bytes:
    import weasyprint

    return bytes(
        weasyprint.HTML(string=html, url_fetcher=_refuse, base_url=".").write_pdf()
    )


def render_pdf(template: str, context: Mapping[str, Any]) -> bytes:
    return html_to_pdf(render_to_string(template, dict(context)))


def qr_svg(url: str) -> str:
    """The URL as an inline SVG QR code (error correction M)."""
    return str(segno.make(url, error="m", micro=False).svg_inline(scale=4, border=2))


def stamp_pdf(original: bytes, context: Mapping[str, Any]) -> bytes:
    """``original`` with the stamp drawn over its last page; every other page, and
    everything already on the last one, stays as it was."""
    try:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(original)))
    except Exception as error:
        raise NotAPdf(str(error)) from error
    if not writer.pages:
        raise NotAPdf("no pages")
    page = writer.pages[-1]
    box = page.mediabox
    width, height = float(box.width), float(box.height)
    overlay_pdf = render_pdf(
        "evidence/stamp.html",
        {**context, "width": f"{width:.2f}", "height": f"{height:.2f}"},
    )
    overlay = PdfReader(io.BytesIO(overlay_pdf)).pages[0]
    page.merge_transformed_page(
        overlay,
        Transformation().translate(float(box.left), float(box.bottom)),
        over=True,
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def is_pdf_head(head: bytes) -> bool:
    """The start of a file says PDF (``%PDF-`` within the first KiB)."""
    return b"%PDF-" in head[:1024]
