"""The registry, inbox, card and reports in Chromium at 360, 1280 and 1920 px in
both languages, on the demo organisation: the page never scrolls sideways and no
word in a table cell is broken across lines (issue 13 item 13); and the registry
switched to a kanban and saved as a view (issue 12 item 5)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from sogla.demo.services import demo_load
from sogla.documents.models import Document, SavedView
from sogla.orgs.models import Organisation, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOSCOW = ZoneInfo("Europe/Moscow")
WIDTHS = (360, 1280, 1920)
# Words are split on spaces, hyphens, dashes and slashes (where a browser may wrap);
# a word whose text boxes lie on two lines was broken inside.
MEASURE = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('main td, main th')) {
    if (!cell.offsetParent) continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const words = /[^\\s\\-\\u2010-\\u2014\\/]+/g;
      let m;
      while ((m = words.exec(node.data))) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()]
          .filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  }
  return {scroll: document.documentElement.scrollWidth, inner: innerWidth, broken};
}"""


@pytest.fixture
def argo(transactional_db: None) -> Organisation:
    demo_load(today=timezone.localdate(timezone=MOSCOW))
    return Organisation.objects.get(slug="argo")


def sign_in(browser: Any, base: str, username: str, width: int = 1280) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_pages_fit_every_width_in_both_languages(
    live_server: Any, browser: Any, argo: Organisation, shots: Any
) -> None:
    card = (
        Document.objects.filter(organisation=argo, processes__isnull=False)
        .order_by("id")
        .first()
    )
    assert card is not None
    paths = ["/documents/", "/inbox/", f"/documents/{card.pk}/", "/reports/"]
    problems = []
    for language in ("ru", "en"):
        User.objects.filter(organisation=argo).update(language=language)
        page = sign_in(browser, live_server.url, "director")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for path in paths:
                page.goto(f"{live_server.url}{path}")
                page.wait_for_load_state("networkidle")
                found = page.evaluate(MEASURE)
                name = path.strip("/").replace("/", "-") or "root"
                if found["scroll"] > found["inner"]:
                    problems.append(
                        f"{language} {width} {path}: scrolls sideways "
                        f"({found['scroll']} > {found['inner']})"
                    )
                    page.screenshot(
                        path=str(shots / f"overflow-{name}-{language}-{width}.png")
                    )
                if found["broken"]:
                    problems.append(
                        f"{language} {width} {path}: words broken {found['broken'][:5]}"
                    )
        page.close()
    print(f"layouts: {len(paths) * len(WIDTHS) * 2} pages measured")
    assert problems == []


def test_switch_to_kanban_and_save_the_view(
    live_server: Any, browser: Any, argo: Organisation, shots: Any
) -> None:
    User.objects.filter(organisation=argo).update(language="en")
    page = sign_in(browser, live_server.url, "director")
    page.goto(f"{live_server.url}/documents/")
    page.click("#mode-kanban")
    page.wait_for_url("**mode=kanban**")
    assert page.get_by_text("Pick one document type").is_visible()
    page.get_by_role("link", name="Contract", exact=True).click()
    page.wait_for_url("**type=contract**")
    page.locator(".kanban-card").first.wait_for()  # columns load when revealed
    columns = page.locator(".kanban-col")
    assert columns.count() >= 5
    heads = page.locator(".kanban-head").all_inner_texts()
    assert any("Approved" in h for h in heads)
    assert any("Draft" in h for h in heads)
    page.click("#views-menu")
    page.fill("#view-name", "Contracts board")
    page.check("#view-shared")
    page.click("#view-save")
    page.wait_for_url("**view=**")
    assert "Contracts board" in page.locator("h1").inner_text()
    page.locator(".kanban-card").first.wait_for()
    page.screenshot(path=str(shots / "registry-kanban-saved.png"))
    saved = SavedView.objects.get(name="Contracts board")
    assert saved.shared
    assert saved.query["mode"] == "kanban"
    assert saved.query["type"] == "contract"
    # a colleague picks the shared view from the menu
    other = sign_in(browser, live_server.url, "lawyer")
    other.goto(f"{live_server.url}/documents/")
    other.click("#views-menu")
    other.get_by_role("link", name="Contracts board").click()
    other.wait_for_url("**mode=kanban**")
    other.locator(".kanban-card").first.wait_for()
    for opened in (page, other):  # no column still loading when the server stops
        opened.wait_for_load_state("networkidle")
        opened.close()


def test_counterparty_combobox_by_keyboard(
    live_server: Any, browser: Any, argo: Organisation
) -> None:
    """Down/Up move the active option (aria-activedescendant, focus stays in the
    input), Enter picks it without submitting the form, Escape closes the list."""
    User.objects.filter(organisation=argo).update(language="en")
    page = sign_in(browser, live_server.url, "manager")
    page.goto(f"{live_server.url}/documents/new/contract/")
    field = page.locator("[data-cp-input]").first
    box = page.locator("[data-combobox]").first
    field.click()
    field.press_sequentially("ООО", delay=20)
    options = box.locator("[data-cp-options] [role=option]")
    options.first.wait_for()
    # each key may start a search; the last answer replaces the list: let it land
    page.wait_for_load_state("networkidle")
    assert options.count() >= 2
    field.press("ArrowDown")
    field.press("ArrowDown")
    field.press("ArrowUp")
    first_id = options.first.get_attribute("id")
    assert field.get_attribute("aria-activedescendant") == first_id
    assert options.first.get_attribute("aria-selected") == "true"
    assert options.nth(1).get_attribute("aria-selected") == "false"
    assert page.evaluate("document.activeElement.hasAttribute('data-cp-input')")
    name = options.first.locator("[data-cp-pick]").get_attribute("data-name")
    wanted = options.first.locator("[data-cp-pick]").get_attribute("data-id")
    field.press("Enter")
    assert page.url.endswith("/documents/new/contract/")  # nothing submitted
    assert box.locator("[data-cp-value]").input_value() == wanted
    assert field.input_value() == name
    field.press_sequentially(" ", delay=20)
    options.first.wait_for()
    field.press("Escape")
    assert box.locator("[data-cp-options] [role=option]").count() == 0
    assert field.get_attribute("aria-expanded") == "false"
    page.close()
