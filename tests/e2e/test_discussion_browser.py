"""The discussion in Chromium: a message with an @mention chosen from the list,
a colleague's reply, both seen on the card (screenshots at 1280 and 360 px)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sogla.discussion.models import Message
from sogla.documents.services import NewFile, file_add
from sogla.documents.uploads import bytes_upload
from sogla.notifications.models import Notification
from tests.conftest import MINIMAL_PDF, make_tenant
from tests.workflow.conftest import approve, make_document, publish, route, stage, start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "secret-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/inbox/")


def test_mention_reply_and_read(live_server: Any, browser: Any, shots: Path) -> None:
    tenant = make_tenant("Alpha")
    for user in (tenant.initiator, tenant.colleague):
        user.language = "en"
        user.save()
    tenant.colleague.first_name, tenant.colleague.last_name = "Elena", "Kozlova"
    tenant.colleague.save()
    document = make_document(tenant, subject="Equipment supply")
    file_add(
        actor=tenant.initiator,
        document=document,
        new=NewFile(bytes_upload("file", "offer.pdf", MINIMAL_PDF), ""),
    )
    head = tenant.department.head
    assert head is not None
    template = publish(
        tenant,
        route(
            stage(
                "manager",
                approve("m", {"user": head.username}),
                name={"ru": "Руководитель", "en": "Manager"},
            )
        ),
    )
    start(tenant, template, document)
    base = live_server.url
    card = f"{base}/documents/{document.pk}/?tab=discussion"
    errors: list[str] = []

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(page, base, tenant.initiator.username)
    page.goto(card)
    box = page.locator("#text-new")
    box.click()
    box.type("Please check **clause 4**, @alpha-col")
    option = page.locator("[role=option]", has_text="Kozlova")
    option.wait_for()
    page.locator("#discussion").screenshot(
        path=str(shots / "discussion-mentions-1280.png")
    )
    box.press("Enter")
    assert box.input_value().endswith("@alpha-colleague ")
    page.click("#discussion form.discussion-composer:last-of-type button[type=submit]")
    page.locator("article .mention", has_text="@alpha-colleague").wait_for()
    assert page.locator("article strong", has_text="clause 4").count() == 1
    assert Notification.objects.filter(
        kind="discussion.mention", recipient_user=tenant.colleague
    ).exists()
    context.close()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(page, base, tenant.colleague.username)
    page.goto(f"{base}/documents/{document.pk}/")
    assert page.locator("#card-tabs a", has_text="1 new").count() == 1
    page.click("#card-tabs a[href='?tab=discussion']")
    page.locator("#discussion").wait_for()
    page.locator("article.discussion-unread").wait_for()
    first = Message.objects.get()
    page.click(f"#m-{first.pk} ~ details.discussion-reply summary")
    page.fill(f"#text-{first.pk}", "Done, see _my remarks_")
    page.click(f"#text-{first.pk} ~ div button[type=submit]")
    page.locator(".discussion-replies article em", has_text="my remarks").wait_for()
    page.locator("#discussion").screenshot(path=str(shots / "discussion-1280.png"))
    page.screenshot(path=str(shots / "discussion-card-1280.png"), full_page=True)
    context.close()

    tenant.initiator.language = "ru"  # the phone shot in Russian
    tenant.initiator.save()
    context = browser.new_context(viewport={"width": 360, "height": 780})
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(page, base, tenant.initiator.username)
    page.goto(card)
    page.locator(".discussion-replies article em", has_text="my remarks").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator("#card-tabs a", has_text="Обсуждение").count() == 1
    page.screenshot(path=str(shots / "discussion-card-360-ru.png"), full_page=True)
    context.close()

    reply = Message.objects.exclude(pk=first.pk).get()
    assert reply.parent_id == first.pk
    assert first.file_version is not None
    assert first.step["en"] == "Manager"
    assert errors == []
