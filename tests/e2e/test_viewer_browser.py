"""The card's viewer in Chromium: page 1 of a DOCX converted by LibreOffice, drawn by
pdf.js from the preview bytes (issue 12 item 1). The screenshot is checked by size and
by non-blank pixels, not pixel by pixel."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest

from sogla.documents.models import FilePreview
from tests.conftest import Tenant
from tests.documents.test_previews import build_all, make_docx, soffice, with_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any, live_server: Any, user: Any) -> None:
    user.set_password("secret-pass-123")
    user.language = "en"
    user.save()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "secret-pass-123")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def ink_share(png: bytes) -> float:
    """The share of pixels that are not (near) white."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    histogram = image.histogram()
    dark = sum(histogram[:200])
    return dark / (image.width * image.height)


@pytest.mark.parametrize("width", [1280, 360])
def test_viewer_shows_page_one_of_a_converted_docx(
    live_server: Any, browser: Any, tenant_a: Tenant, shots: Path, width: int
) -> None:
    soffice()
    paragraphs = ["Договор поставки оборудования"] + [
        f"{n}. Поставщик передаёт оборудование, покупатель принимает и оплачивает."
        for n in range(1, 60)
    ]
    version = with_file(tenant_a, "договор.docx", make_docx(paragraphs))
    build_all()
    preview = FilePreview.objects.get(sha256=version.sha256)
    assert preview.state == FilePreview.State.READY
    assert preview.pages >= 2
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_server, tenant_a.initiator)
    page.goto(f"{live_server.url}/documents/{version.file.document_id}/?tab=files")
    page.wait_for_selector("#viewer[data-viewer-ready]", timeout=20_000)
    first = page.locator('.viewer-page[data-page="1"]')
    page.wait_for_selector('.viewer-page[data-page="1"] canvas', timeout=20_000)
    first.scroll_into_view_if_needed()
    png = first.screenshot(path=str(shots / f"viewer-docx-page1-{width}.png"))
    box = first.bounding_box()
    assert box is not None
    # A4 portrait, fitted to the width available (thumbnail strip hidden on phones).
    assert box["width"] > (280 if width < 500 else 450)
    assert abs(box["height"] / box["width"] - 297 / 210) < 0.03
    share = ink_share(png)
    assert 0.005 < share < 0.5, share  # text drawn, not a blank or black page
    # Lazy: the last page is not drawn before it is scrolled to.
    assert (
        page.locator(f'.viewer-page[data-page="{preview.pages}"] canvas').count() == 0
    )
    # The page count and the thumbnail strip.
    assert page.locator("[data-viewer-page]").get_attribute("max") == str(preview.pages)
    assert page.locator(".viewer-thumb").count() == preview.pages
    # Search in the text: found, counted, the page shown with a highlight.
    page.fill("#viewer-q", "оборудования")
    page.press("#viewer-q", "Enter")
    page.wait_for_selector(".viewer-hit", timeout=10_000)
    assert "1" in page.locator("[data-viewer-found]").inner_text()
    # Zoom in: the page grows.
    before = first.bounding_box()["width"]
    page.click('[data-viewer-action="zoom-in"]')
    page.wait_for_timeout(300)
    assert first.bounding_box()["width"] > before * 1.2
    # Next page.
    page.click('[data-viewer-action="next"]')
    page.wait_for_selector('.viewer-page[data-page="2"] canvas', timeout=10_000)
    from playwright.sync_api import expect

    expect(page.locator("[data-viewer-page]")).to_have_value("2", timeout=10_000)
    page.screenshot(path=str(shots / f"viewer-card-{width}.png"))
    assert errors == []
    page.close()


def test_preview_address_opened_directly_is_a_download_not_a_page(
    live_server: Any, browser: Any, tenant_a: Tenant
) -> None:
    from tests.conftest import MINIMAL_PDF

    version = with_file(tenant_a, "scan.pdf", MINIMAL_PDF)
    build_all()
    page = browser.new_page()
    sign_in(page, live_server, tenant_a.initiator)
    # Chromium aborts the navigation when it turns into a download.
    with page.expect_download() as download, contextlib.suppress(Exception):
        page.goto(f"{live_server.url}/files/{version.pk}/preview.pdf")
    assert download.value.suggested_filename.endswith(".pdf")
    page.close()
