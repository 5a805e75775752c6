"""What a mention's notification says (registered for ``discussion.`` kinds in
``DiscussionConfig.ready()``; notifications sits below and never imports it).

The context holds the author's name and a plain excerpt of the message; the mail
templates escape it, so markup typed in a message is never live in a mail.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from typing_extensions import override

from sogla.notifications.kinds import (
    NoticeKind,
    context_of,
    document_words,
    register,
    site_url,
)
from sogla.notifications.models import Notification

PREFIX = "discussion."
MENTION = "discussion.mention"


class DiscussionNotices(NoticeKind[None]):
    @override
    def preference_kinds(self) -> Sequence[tuple[str, Any, bool]]:
        return ((MENTION, gettext_lazy("I am mentioned in a discussion"), False),)

    @override
    def headline(self, row: Notification, zone: zoneinfo.ZoneInfo, facts: None) -> str:
        number, title = document_words(row)
        return _("You were mentioned: %(doc)s") % {"doc": f"{number} {title}".strip()}

    @override
    def lead(self, row: Notification, zone: zoneinfo.ZoneInfo, facts: None) -> str:
        author = str(context_of(row).get("author") or "")
        return _("%(author)s mentioned you in the discussion of the document.") % {
            "author": author or _("A colleague")
        }

    @override
    def fact_rows(
        self, row: Notification, zone: zoneinfo.ZoneInfo, facts: None
    ) -> list[tuple[str, str]]:
        excerpt = str(context_of(row).get("excerpt") or "")
        return [(_("Message"), excerpt)] if excerpt else []

    @override
    def link(self, row: Notification, facts: None) -> str:
        if row.document_id is None:
            return site_url(reverse("notifications:list"))
        message = context_of(row).get("message")
        anchor = f"#m-{message}" if isinstance(message, int) else ""
        card = reverse("documents:card", args=[row.document_id])
        return site_url(f"{card}?tab=discussion{anchor}")

    @override
    def action_label(self, row: Notification, facts: None) -> str:
        return _("Open the discussion")


def register_notices() -> None:
    """Called from ``DiscussionConfig.ready()``."""
    register(PREFIX, DiscussionNotices())
