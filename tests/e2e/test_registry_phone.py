"""The registry renders each document once: on a phone the table's rows are laid
out as cards (number and status, the first page's thumbnail beside the title, the
traffic light with the person it waits on); on a wide screen they are the table."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sogla.orgs.models import Organisation, User
from tests.e2e.test_registry_browser import argo, sign_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_registry_rows_are_cards_on_a_phone(
    live_server: Any,
    browser: Any,
    argo: Organisation,  # noqa: F811
    shots: Any,
) -> None:
    User.objects.filter(organisation=argo).update(language="en")
    page = sign_in(browser, live_server.url, "director", width=360)
    page.goto(f"{live_server.url}/documents/")
    page.wait_for_load_state("networkidle")
    assert page.locator(".registry-table thead").is_hidden()
    rows = page.locator(".registry-table tbody tr")
    assert rows.count() > 3
    first = rows.first
    assert first.evaluate("e => getComputedStyle(e).display") == "flex"
    link = first.locator("td:first-child > a")
    href = link.get_attribute("href")
    assert href is not None
    assert re.fullmatch(r"/documents/\d+/", href)
    # the thumbnail main.js adds to the card, beside the title (decorative)
    thumb = first.locator("td:nth-child(2) > img")
    assert thumb.get_attribute("src") == f"{href}thumbnail.png"
    assert thumb.get_attribute("alt") == ""
    assert thumb.is_visible()
    # the status chip sits on the number's line, the title below it
    number_box = link.bounding_box()
    chip_box = first.locator("td.status > span").bounding_box()
    title_box = first.locator("td:nth-child(2)").bounding_box()
    assert number_box is not None
    assert chip_box is not None
    assert title_box is not None
    assert abs(chip_box["y"] - number_box["y"]) < 12
    assert title_box["y"] > number_box["y"] + number_box["height"] - 1
    # the chip looks as a status chip of its token does anywhere else
    same = """e => {
      const chip = document.createElement("span");
      chip.className = "status-chip " + e.className;
      document.body.append(chip);
      const [a, b] = [getComputedStyle(e), getComputedStyle(chip)];
      const same = a.color === b.color && a.backgroundColor === b.backgroundColor;
      chip.remove();
      return same;
    }"""
    chips = page.locator(".registry-table td.status > span")
    for index in range(chips.count()):
        assert chips.nth(index).evaluate(same), chips.nth(index).inner_text()
    # the traffic light: one image named by where the document stands
    light = page.locator(".registry-table td.route > span[role=img]").first
    assert re.match(r"Stage \d+ of \d+, ", light.get_attribute("title") or "")
    page.screenshot(path=str(shots / "registry-phone-360.png"), full_page=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.locator(".registry-table thead").is_visible()
    assert first.evaluate("e => getComputedStyle(e).display") == "table-row"
    assert not thumb.is_visible()  # the table shows no thumbnails
    page.screenshot(path=str(shots / "registry-table-1280.png"), full_page=True)
    page.close()
