"""Browser tests: Playwright's sync API driving Debian's Chromium against live_server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import skip_or_fail

# Playwright's sync API runs an event loop in the test thread; the ORM must still work.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DIST = Path(__file__).resolve().parents[2] / "src/sogla/web/static/sogla/dist/app.js"
SHOTS = Path(os.environ.get("SOGLA_SHOTS_DIR", "/tmp/shots"))  # noqa: S108


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    if not DIST.exists():
        skip_or_fail("front-end assets are not built (npm ci && npm run build)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def sideways(page: Any, boxes: str) -> int:
    """How many pixels the page, or any element matching the CSS selector ``boxes``
    (a scrolling box, a stage of the route map), is wider than its box: 0 or less
    when nothing scrolls or sticks out sideways."""
    return int(
        page.evaluate(
            """(boxes) => Math.max(
              document.documentElement.scrollWidth - document.documentElement.clientWidth,
              ...Array.from(document.querySelectorAll(boxes),
                            (box) => box.scrollWidth - box.clientWidth))""",
            boxes,
        )
    )
