"""Kinds of notice: what a notification says, where it leads, whether it still counts.

Notifications sits below the apps that send them, so it never imports them. An app
registers a :class:`NoticeKind` for the prefix of its kinds in its
``AppConfig.ready()`` (workflow: ``"workflow."`` from ``sogla.workflow.notices``); the
messages, the bell and the deliverer ask :func:`kind_for` and get the generic notice
for a kind nobody registered. A kind loads the facts its e-mails need in bulk
(:meth:`NoticeKind.load_facts`, a constant number of queries per batch); the other
methods get them back as ``facts`` (``None`` where nothing was loaded: the bell, the
items of a digest).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from sogla.core.text import without_number
from sogla.notifications.models import Notification

F = TypeVar("F")


def context_of(row: Notification) -> Mapping[str, Any]:
    """The row's context, or an empty one when it is not a mapping."""
    return row.context if isinstance(row.context, dict) else {}


def document_words(row: Notification) -> tuple[str, str]:
    """The document's number and title from the context, the number said once
    (titles often repeat it: "Договор ДГ-1: X" with number "ДГ-1" -> "Договор: X")."""
    ctx = context_of(row)
    number = str(ctx.get("number") or "").strip()
    return number, without_number(str(ctx.get("title") or ""), number)


def site_url(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


class NoticeKind(Generic[F]):
    """The generic notice (a kind nobody registered); apps subclass it for theirs.

    Each method is a hook with the signature every kind implements; the generic
    defaults ignore what they do not need (ARG002 is off for this file).
    """

    def load_facts(self, rows: Sequence[Notification]) -> Mapping[int, F]:
        """What the e-mails of ``rows`` show besides their context, by row id."""
        return {}

    def preference_kinds(self) -> Sequence[tuple[str, Any, bool]]:
        """(kind, label, essential) for the notification settings: each kind a
        person may have e-mailed at once, in the digest, or (unless essential)
        not at all."""
        return ()

    def headline(
        self, row: Notification, zone: zoneinfo.ZoneInfo, facts: F | None
    ) -> str:
        """The subject of the mail and the line in the bell (active language)."""
        number, title = document_words(row)
        if number or title:
            return _("Notification: %(doc)s") % {"doc": f"{number} {title}".strip()}
        return _("Notification from Sogla")

    def lead(self, row: Notification, zone: zoneinfo.ZoneInfo, facts: F | None) -> str:
        """One sentence under the headline: why the recipient gets this."""
        return _("There is news about a document you take part in.")

    def fact_rows(
        self, row: Notification, zone: zoneinfo.ZoneInfo, facts: F | None
    ) -> list[tuple[str, str]]:
        """Rows the e-mail shows after the document's own (label, value)."""
        return []

    def decisions(
        self, row: Notification, zone: zoneinfo.ZoneInfo, facts: F | None
    ) -> list[tuple[str, str, str, str]]:
        """The decisions so far: (who, what, when, comment)."""
        return []

    def items(
        self, row: Notification, zone: zoneinfo.ZoneInfo, facts: F | None
    ) -> list[dict[str, str]]:
        """The notifications a digest gathers: headline, when, link."""
        return []

    def link(self, row: Notification, facts: F | None) -> str:
        """The one call to action: the document card, else the notifications page."""
        if row.document_id is None:
            return site_url(reverse("notifications:list"))
        return site_url(reverse("documents:card", args=[row.document_id]))

    def action_label(self, row: Notification, facts: F | None) -> str:
        return _("Open the document")

    def why_stale(self, row: Notification, facts: F | None) -> str | None:
        """Why the row is no longer worth sending (it is cancelled), or None."""
        return None


_GENERIC: NoticeKind[Any] = NoticeKind()
_KINDS: dict[str, NoticeKind[Any]] = {}


def preference_kinds() -> list[tuple[str, str, bool]]:
    """(kind, label, essential) of every kind a person may set e-mails for, from
    the registered kinds (``NoticeKind.preference_kinds``); labels translated."""
    found: list[tuple[str, str, bool]] = []
    for registered in _KINDS.values():
        found.extend(
            (kind, str(label), essential)
            for kind, label, essential in registered.preference_kinds()
        )
    return found


def register(prefix: str, kind: NoticeKind[Any]) -> None:
    """Let ``kind`` speak for every notification whose kind starts with ``prefix``."""
    _KINDS[prefix] = kind


def kind_for(kind: str) -> NoticeKind[Any]:
    """The registered kind with the longest prefix of ``kind``, else the generic one."""
    found = [prefix for prefix in _KINDS if kind.startswith(prefix)]
    return _KINDS[max(found, key=len)] if found else _GENERIC


def load_facts(rows: Sequence[Notification]) -> dict[int, Any]:
    """The facts of every row, loaded by its kind (one batch per kind)."""
    groups: dict[int, tuple[NoticeKind[Any], list[Notification]]] = {}
    for row in rows:
        kind = kind_for(row.kind)
        groups.setdefault(id(kind), (kind, []))[1].append(row)
    facts: dict[int, Any] = {}
    for kind, group in groups.values():
        facts.update(kind.load_facts(group))
    return facts
