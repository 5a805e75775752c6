"""The demo's external contract (S1 «внешнее», S9) end to end: the invitation goes
through a real SMTP server on loopback (aiosmtpd), Chromium follows the mailed
link, the one-time code arrives by mail, the vote is recorded and the same link
then shows the result. Screenshots at 360/1280/1920 px."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from sogla.demo.services import demo_load
from sogla.notifications.delivery import notifications_deliver_due
from sogla.workflow.models import Channel, ConfirmationMethod, Task, TaskState
from tests.documents.test_previews import build_all
from tests.external.conftest import found
from tests.notifications.conftest import Smtp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GUEST = "partners@pitertour.example"
LINK = re.compile(r"(https?://[^\s\"<>]+/g/[A-Za-z0-9_\-]{40,}/)")


def _text(message: Any) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else str(message.get_content())


def test_guest_signs_the_demo_contract_from_the_mail(
    live_server: Any, browser: Any, shots: Path
) -> None:
    server = Smtp()
    server.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=server.port,
            EMAIL_USE_TLS=False,
            EMAIL_TIMEOUT=5,
            SITE_URL=live_server.url,
        ):
            demo_load()
            build_all()  # the previews the worker would make
            task = Task.objects.get(guest_email=GUEST, state=TaskState.OPEN)
            notifications_deliver_due(limit=500)
            invitations = [m for m in server.sink.messages if GUEST in str(m["To"])]
            assert len(invitations) == 1
            invitation = _text(invitations[0])
            link = found(LINK.pattern, invitation)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            posts: list[dict[str, str]] = []
            page.on(
                "request",
                lambda r: posts.append(r.headers) if r.method == "POST" else None,
            )
            page.goto(link)
            assert page.url == f"{live_server.url}/g/"
            assert task.process.document.number in page.content()
            # the card's pdf.js viewer draws the contract on the guest page
            page.wait_for_selector("[data-viewer-ready='1']", timeout=30_000)
            page.wait_for_selector(".viewer-page[data-rendered='1'] canvas")
            page.screenshot(path=str(shots / "guest-1280-open.png"), full_page=True)
            for width in (360, 1920):
                page.set_viewport_size({"width": width, "height": 900})
                page.screenshot(
                    path=str(shots / f"guest-{width}-open.png"), full_page=True
                )
            page.set_viewport_size({"width": 1280, "height": 900})
            page.check("#o-approve")
            page.check("#accept")
            before = len(server.sink.messages)
            page.click("#decision button[type=submit]")
            page.wait_for_selector("#code")
            codes = [m for m in server.sink.messages[before:] if GUEST in str(m["To"])]
            assert len(codes) == 1
            code = found(r"\b(\d{6})\b", _text(codes[0]))
            page.fill("#code", code)
            page.screenshot(path=str(shots / "guest-1280-code.png"), full_page=True)
            page.click("#decision form button[type=submit]")
            page.wait_for_selector("text=Ваше решение учтено")
            page.screenshot(path=str(shots / "guest-1280-voted.png"), full_page=True)
            # no-referrer: Chromium posted every form with "Origin: null" and no
            # Referer, and the CSRF check (sogla.core.csrf) let them through
            assert posts
            assert all(h.get("origin") == "null" for h in posts)
            assert not any("referer" in h for h in posts)
            task.refresh_from_db()
            assert task.state == TaskState.DONE
            assert task.outcome == "approve"
            assert task.channel == Channel.GUEST
            assert task.confirmation == ConfirmationMethod.EMAIL_CODE
            assert task.confirmation_to == "p***@pitertour.example"
            # the same link later shows the result (a new session from the link)
            again = browser.new_context(viewport={"width": 360, "height": 800})
            phone = again.new_page()
            phone.goto(link)
            assert "Ваше решение учтено" in phone.content()
            phone.screenshot(path=str(shots / "guest-360-voted.png"), full_page=True)
            again.close()
            context.close()
            # the process went on to the general director
            assert Task.objects.filter(
                process=task.process, stage_key="director", state=TaskState.OPEN
            ).exists()
    finally:
        server.stop()
