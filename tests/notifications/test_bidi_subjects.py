"""Bidirectional-text controls never reach an e-mail subject or a bell line, and
user text is isolated on pages (issue 13, item 7)."""

from __future__ import annotations

from pathlib import Path

from sogla.core.text import BIDI_CONTROLS
from sogla.notifications.delivery import notifications_deliver_due
from sogla.notifications.messages import headline, recipient_zone
from sogla.notifications.models import Notification
from tests.conftest import Tenant
from tests.notifications.conftest import Smtp, start_approval, subject

HOSTILE = "Invoice \u202eexe.pdf\u202c \u2067x\u2069"


def test_subject_and_bell_line_carry_no_bidi_controls(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    start_approval(tenant_a, subject=HOSTILE)
    row = Notification.objects.get(
        organisation=tenant_a.org, kind="workflow.task_assigned"
    )
    line = headline(row, recipient_zone(row))
    assert "Invoice" in line
    assert not BIDI_CONTROLS & set(line)
    assert notifications_deliver_due() == 1
    [message] = smtp.sink.messages
    text = subject(message)
    assert "Invoice exe.pdf" in text
    assert not BIDI_CONTROLS & set(text)


def test_pages_isolate_user_text() -> None:
    css = (Path(__file__).parents[2] / "assets" / "main.css").read_text()
    assert ".text-break-any, .user-text, bdi { unicode-bidi: isolate; }" in css
