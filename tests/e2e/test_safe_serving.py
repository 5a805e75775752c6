"""T36: every accepted kind of stored file is served so that nothing in it can run.

Chromium opens each file's download URL (the same URL the card links to, with the
session of a signed-in user): the response must be an attachment with nosniff and a
sandboxing CSP, the browser must download rather than render it, and no script may
run (no dialog, no page error).
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse

from sogla.documents.services import NewFile, document_create, file_add
from sogla.documents.uploads import check_upload
from tests.conftest import make_tenant
from tests.security.test_hostile_uploads import CONTENTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE_NAME = 'x"; filename=evil.html\r\nX-Injected: 1; a.{ext}'


def test_stored_files_never_execute(
    live_server: Any, browser: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = make_tenant("Alpha")
    document = document_create(
        actor=tenant.initiator,
        doc_type=tenant.contract,
        values={"subject": "served", "amount": "1"},
    )
    versions = []
    for _name, data, ext, accepted in CONTENTS:
        if not accepted:
            continue
        name = HOSTILE_NAME.format(ext=ext.lstrip("."))
        upload = check_upload("files", name, io.BytesIO(data), len(data))
        versions.append(
            file_add(actor=tenant.initiator, document=document, new=NewFile(upload))
        )

    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    dialogs: list[str] = []
    page_errors: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", tenant.initiator.username)
    page.fill("#id_password", "secret-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/inbox/")

    bad_headers = []
    downloaded = 0
    for version in versions:
        url = live_server.url + reverse("documents:download", args=[version.pk])
        response = context.request.get(url)
        headers = response.headers
        disposition = headers.get("content-disposition", "")
        if not (
            disposition.startswith("attachment")
            and "\n" not in disposition
            and "\r" not in disposition
            and headers.get("x-content-type-options") == "nosniff"
            and "sandbox" in headers.get("content-security-policy", "")
            and "default-src 'none'" in headers.get("content-security-policy", "")
            and "x-injected" not in headers
        ):
            bad_headers.append(f"v{version.pk}: {dict(headers)}")
        with page.expect_download() as download_info:
            page.evaluate("url => { window.location.href = url; }", url)
        assert download_info.value.suggested_filename
        downloaded += 1

    with capsys.disabled():
        print(
            f"\nT36: files served {len(versions)}, downloaded (not rendered) {downloaded}, "
            f"script executions {len(dialogs) + len(page_errors)}, "
            f"responses without the safe headers {len(bad_headers)}"
        )
    assert len(versions) >= 10
    assert downloaded == len(versions)
    assert dialogs == []
    assert page_errors == []
    assert bad_headers == []
    context.close()
