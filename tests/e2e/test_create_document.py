"""S1 in a real browser: sign in, create a contract with a PDF and a new counterparty."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sogla.documents.models import Counterparty, Document
from tests.conftest import MINIMAL_PDF, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "secret-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/inbox/")


def test_create_contract_with_file_and_inline_counterparty(
    live_server: Any, browser: Any, shots: Path
) -> None:
    tenant = make_tenant("Alpha")
    tenant.initiator.language = "en"
    tenant.initiator.save()
    base = live_server.url
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )

    _sign_in(page, base, tenant.initiator.username)
    page.click("a[href='/documents/new/']  >> nth=0")
    page.click("a[href='/documents/new/contract/']")
    page.wait_for_url(f"{base}/documents/new/contract/")

    page.fill("#id_f-subject", "Equipment supply")
    page.fill("#id_f-amount", "1 250 000,50")
    # The counterparty does not exist yet: create it inline from the combobox.
    page.fill("#id_f-counterparty-search", "Romashka")
    page.click("text=Create “Romashka”")
    page.fill("#id_f-counterparty-cp-tax", "7701234578")
    page.click("[data-cp-submit]")
    page.wait_for_selector("text=Chosen: Romashka")
    party = Counterparty.objects.get(organisation=tenant.org)
    assert page.input_value("#id_f-counterparty") == str(party.pk)

    page.set_input_files(
        "#id_f-contract_file",
        files=[
            {
                "name": "contract.pdf",
                "mimeType": "application/pdf",
                "buffer": MINIMAL_PDF,
            }
        ],
    )
    page.screenshot(path=str(shots / "e2e-form-filled.png"), full_page=True)
    page.click("button[type=submit]:has-text('Create draft')")
    page.wait_for_url(re.compile(r".*/documents/\d+/$"))
    document = Document.objects.get(organisation=tenant.org)
    assert page.locator("[role=status]").first.inner_text().strip() == (
        f"Created: {document.number}"
    )
    assert document.counterparty_id == party.pk
    assert document.fields["amount"] == "1250000.50"

    # It is in the registry; the search box finds it by number.
    page.goto(f"{base}/documents/")
    page.fill("#id_q", document.number)
    page.wait_for_function("() => location.search.includes('q=D-')")
    row = page.locator(f"#results a:has-text('{document.number}')").first
    row.wait_for()
    page.screenshot(path=str(shots / "e2e-registry.png"), full_page=True)
    row.click()
    page.wait_for_url(f"{base}/documents/{document.pk}/")

    # The Files tab lists the version; the download is an attachment.
    page.click("a.nav-link:has-text('Files')")
    page.wait_for_selector("text=v1 (current)")
    page.screenshot(path=str(shots / "e2e-card-files.png"), full_page=True)
    with page.expect_download() as info:
        page.click("a:has-text('v1 (current)')")
    download = info.value
    assert download.suggested_filename == "contract.pdf"
    assert Path(download.path()).read_bytes() == MINIMAL_PDF
    assert errors == []
    context.close()


@pytest.mark.parametrize(
    ("width", "language"), [(1280, "en"), (360, "en"), (1280, "ru"), (360, "ru")]
)
def test_screens_fit_the_viewport(
    live_server: Any, browser: Any, shots: Path, width: int, language: str
) -> None:
    """No sideways scroll at 360 px; screenshots for a person to look at."""
    tenant = make_tenant("Alpha")
    tenant.initiator.language = language
    tenant.initiator.save()
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    _sign_in(page, live_server.url, tenant.initiator.username)
    for name, path in [
        ("registry", "/documents/"),
        ("new", "/documents/new/contract/"),
        ("counterparties", "/counterparties/new/"),
    ]:
        page.goto(live_server.url + path)
        page.screenshot(
            path=str(shots / f"e2e-{name}-{width}-{language}.png"), full_page=True
        )
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (name, overflow)
        assert page.get_attribute("html", "lang") == language
    context.close()
