"""The installable app in Chromium (issue 12 item 6): the manifest passes Chromium's
installability checks, the service worker caches the shell and static files only
(never pages, previews or API responses), the offline page shows without network,
and signing out empties the caches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MINIMAL_PDF, Tenant
from tests.documents.test_previews import build_all, with_file
from tests.e2e.conftest import ARGS, CHROMIUM
from tests.e2e.test_viewer_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CACHED_URLS = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) urls.push(new URL(request.url).pathname);
  }
  return urls;
}"""


def test_installable_offline_page_and_cache_hygiene(
    live_server: Any, browser: Any, tenant_a: Tenant, tmp_path: Path
) -> None:
    version = with_file(tenant_a, "scan.pdf", MINIMAL_PDF)
    build_all()
    # A profile on disk: Chromium never offers to install from an incognito one.
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        args=ARGS,
        viewport={"width": 360, "height": 780},
    )
    page = context.new_page()
    sign_in(page, live_server, tenant_a.initiator)
    page.goto(f"{live_server.url}/inbox/")
    assert page.evaluate(
        "async () => { await navigator.serviceWorker.ready; return true; }"
    )

    cdp = context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest")
    assert manifest["errors"] == []
    installability = cdp.send("Page.getInstallabilityErrors")
    assert installability["installabilityErrors"] == []

    # Pages, a preview and an API response pass through; only static files and the
    # offline page are ever stored.
    page.reload()
    page.goto(f"{live_server.url}/documents/{version.file.document_id}/?tab=files")
    page.wait_for_selector("#viewer[data-viewer-ready]", timeout=20_000)
    page.goto(f"{live_server.url}/api/v1/me")
    page.goto(f"{live_server.url}/inbox/")
    cached = page.evaluate(CACHED_URLS)
    assert "/offline/" in cached
    assert any(url.endswith("app.css") for url in cached)
    assert all(url == "/offline/" or url.startswith("/static/") for url in cached), (
        cached
    )

    # Without network a page shows the offline page, not an error or stale data.
    context.set_offline(True)
    page.goto(f"{live_server.url}/documents/")
    assert "No connection" in page.inner_text("h1")
    context.set_offline(False)

    # Signing out drops every cache.
    page.goto(f"{live_server.url}/inbox/")
    page.click("button.dropdown-toggle")
    page.click("form[action='/accounts/logout/'] button")
    page.wait_for_url(f"{live_server.url}/accounts/login/*")
    registrations = (
        "async () => (await navigator.serviceWorker.getRegistrations()).length"
    )
    for _ in range(50):
        if page.evaluate(registrations) == 0:
            break
        page.wait_for_timeout(200)
    assert page.evaluate(registrations) == 0
    page.wait_for_timeout(300)
    left = page.evaluate(CACHED_URLS)
    assert "/offline/" not in left
    assert all(url.startswith("/static/") for url in left), left
    context.close()
