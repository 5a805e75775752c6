"""The daily digest: one e-mail per user and local day with everything waiting.

A user who chose the digest (``email_mode``, or per kind of notice a
``NotificationPreference``) gets no mail per notification of those kinds: the
rows wait until their local clock passes ``NOTIFICATION_DIGEST_HOUR``, then go into
one digest row (an outbox row of its own, kind ``notifications.digest``) that the
normal delivery sends. The digest is a notice kind like the others: its words and
its items are :class:`DigestNotice`, registered in ``NotificationsConfig.ready()``.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from typing_extensions import override

from sogla.notifications.delivery import (
    claim,
    db_retry,
    deliver,
    waiting_for_digest,
)
from sogla.notifications.kinds import (
    NoticeKind,
    context_of,
    kind_for,
    load_facts,
    site_url,
)
from sogla.notifications.messages import headline, long_when
from sogla.notifications.models import DIGEST_KIND, Notification, NotificationState
from sogla.orgs.models import User

_State = NotificationState


class DigestNotice(NoticeKind[list[Notification]]):
    """The digest's mail: how many, and each gathered notification with its link."""

    def load_facts(
        self, rows: Sequence[Notification]
    ) -> Mapping[int, list[Notification]]:
        items: dict[int, list[Notification]] = {row.pk: [] for row in rows}
        gathered = Notification.objects.filter(digest_id__in=list(items))
        for item in gathered.order_by("created_at", "pk"):
            items[item.digest_id or 0].append(item)
        return items

    @override
    def headline(
        self,
        row: Notification,
        zone: zoneinfo.ZoneInfo,
        facts: list[Notification] | None,
    ) -> str:
        count = int(context_of(row).get("count") or 0)
        return translation.ngettext(
            "Sogla: %(count)d notification of the day",
            "Sogla: %(count)d notifications of the day",
            count,
        ) % {"count": count}

    @override
    def lead(
        self,
        row: Notification,
        zone: zoneinfo.ZoneInfo,
        facts: list[Notification] | None,
    ) -> str:
        return ""

    @override
    def items(
        self,
        row: Notification,
        zone: zoneinfo.ZoneInfo,
        facts: list[Notification] | None,
    ) -> list[dict[str, str]]:
        return [
            {
                "headline": headline(item, zone),
                "when": long_when(item.created_at, zone),
                "link": site_url(reverse("documents:card", args=[item.document_id]))
                if item.document_id
                else "",
            }
            for item in facts or []
        ]

    @override
    def link(self, row: Notification, facts: list[Notification] | None) -> str:
        return site_url(reverse("notifications:list"))

    @override
    def action_label(self, row: Notification, facts: list[Notification] | None) -> str:
        return _("Open notifications")


def _user_zone(user: Any) -> zoneinfo.ZoneInfo:
    org = user.organisation
    name = user.time_zone or (org.time_zone if org is not None else "") or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _cancel_stale(items: Sequence[Notification]) -> set[int]:
    """Items no longer worth sending (a reminder of a decided task): cancelled with
    their kind's reason, not digested."""
    facts = load_facts(items)
    stale: dict[int, str] = {}
    for row in items:
        reason = kind_for(row.kind).why_stale(row, facts.get(row.pk))
        if reason is not None:
            stale[row.pk] = reason
    for reason in set(stale.values()):
        pks = [pk for pk, why in stale.items() if why == reason]
        Notification.objects.filter(pk__in=pks, state=_State.PENDING).update(
            state=_State.CANCELLED, last_error=reason
        )
    return set(stale)


def _make_digest(user: Any, day: str, now: datetime) -> int | None:
    """The digest row of ``user`` for local ``day`` with their pending rows in it;
    None when it exists already or there is nothing to put in it."""
    key = f"digest:u{user.pk}:{day}"

    def make() -> int | None:
        with transaction.atomic():
            if Notification.objects.filter(
                organisation_id=user.organisation_id, idempotency_key=key
            ).exists():
                return None
            pending = Notification.objects.filter(
                organisation_id=user.organisation_id,
                recipient_user=user,
                state=_State.PENDING,
                created_at__lte=now,
            ).filter(waiting_for_digest())
            if connection.features.has_select_for_update_skip_locked:
                pending = pending.select_for_update(skip_locked=True)
            items = list(pending.order_by("pk"))
            stale = _cancel_stale(items)
            items = [row for row in items if row.pk not in stale]
            if not items:
                return None
            digest = Notification(
                organisation_id=user.organisation_id,
                kind=DIGEST_KIND,
                recipient_user=user,
                context={"count": len(items), "day": day},
                idempotency_key=key,
                next_attempt_at=now,
            )
            Notification.objects.bulk_create([digest], ignore_conflicts=True)
            digest = Notification.objects.get(
                organisation_id=user.organisation_id, idempotency_key=key
            )
            Notification.objects.filter(
                pk__in=[row.pk for row in items], state=_State.PENDING
            ).update(state=_State.DIGESTED, digest=digest)
            return digest.pk

    return db_retry(make)


def notifications_send_digests(*, now: datetime | None = None) -> int:
    """Send the daily digests that are due; the number of digest e-mails sent.

    A user who chose the digest gets, once their local clock has passed
    ``NOTIFICATION_DIGEST_HOUR``, one e-mail per local day with every notification
    still waiting for them. The digest is an outbox row itself (key
    ``digest:u<user>:<day>``), so a second call the same day sends nothing, and a
    failed send is retried like any other notification.
    """
    now = now or timezone.now()
    hour = settings.NOTIFICATION_DIGEST_HOUR
    waiting = (
        Notification.objects.filter(state=_State.PENDING)
        .filter(waiting_for_digest())
        .values("recipient_user_id")
    )
    users = User.objects.filter(
        pk__in=waiting, is_active=True, organisation__isnull=False
    ).select_related("organisation")
    digests: list[int] = []
    for user in users:
        local = now.astimezone(_user_zone(user))
        if local.hour < hour:
            continue
        made = _make_digest(user, local.date().isoformat(), now)
        if made is not None:
            digests.append(made)
    # Digests made earlier whose sending failed are retried by the normal delivery.
    if not digests:
        return 0
    rows = claim(now=now, limit=len(digests), only=digests)
    return deliver(rows, now=now, after_send=None) if rows else 0
