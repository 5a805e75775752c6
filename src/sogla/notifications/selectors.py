"""Reading a user's in-app notifications (the bell and the notifications page).

Every query is scoped to the user's organisation and to the user as recipient.
The bell shows what the outbox holds for the user, whatever happened to the
e-mail, except cancelled rows (reminders for decided tasks), daily digest mails
and resent copies (e-mail only).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, QuerySet

from sogla.core.prepared import Prepared, sql_literal
from sogla.notifications.messages import headline, recipient_zone
from sogla.notifications.models import DIGEST_KIND, Notification, NotificationState

if TYPE_CHECKING:
    from sogla.orgs.models import User

PAGE_SIZE = 30
MAX_PAGE_SIZE = 100


def notifications_for_user(*, user: User) -> QuerySet[Notification]:
    if user.organisation_id is None:
        return Notification.objects.none()
    return _shown(user.organisation_id, user.pk)


def _shown(organisation_id: int, user_id: int) -> QuerySet[Notification]:
    return (
        Notification.objects.for_org(organisation_id)
        .filter(recipient_user_id=user_id, resent_from__isnull=True)
        .exclude(state=NotificationState.CANCELLED)
        .exclude(kind=DIGEST_KIND)
    )


def _unread(organisation_id: int, user_id: int) -> QuerySet[Any]:
    # notifications_for_user's rows, unread, counted (one group: none when zero)
    return (
        _shown(organisation_id, user_id)
        .filter(read_at__isnull=True)
        .values("recipient_user_id")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )


# Every page with the bell asks: compiled once (``core.prepared``, ADR 0002).
_unread_prepared: Prepared[Any] = Prepared(_unread, arity=2)


# The same count written out, as a scalar subquery for the navigation's one
# statement of counts on every page (``workflow.selectors.navigation_counts``), with
# ``_unread``'s filters exactly (a test keeps them equal): the organisation's rows
# for the recipient, not resent copies, not cancelled, not digests, unread.
# ``%(org)s`` and ``%(user)s`` are the caller's parameters.
UNREAD_SQL = (
    "(SELECT COUNT(*) FROM notifications_notification n "  # noqa: S608 - constants
    "WHERE n.organisation_id = %(org)s AND n.recipient_user_id = %(user)s "
    "AND n.resent_from_id IS NULL "
    f"AND n.state <> {sql_literal(NotificationState.CANCELLED.value)} "
    f"AND n.kind <> {sql_literal(DIGEST_KIND)} AND n.read_at IS NULL)"
)


def notification_unread_count(*, user: User) -> int:
    """The bell's number: one query."""
    if user.organisation_id is None:
        return 0
    found = _unread_prepared.all(user.organisation_id, user.pk)
    return int(found[0]) if found else 0


@dataclass(frozen=True)
class NotificationItem:
    row: Notification
    headline: str

    @property
    def pk(self) -> int:
        return self.row.pk

    @property
    def unread(self) -> bool:
        return self.row.read_at is None


@dataclass(frozen=True)
class NotificationPage:
    items: list[NotificationItem]
    next_before: int | None  # pass as ``before`` for the next (older) page


def notification_page(
    *,
    user: User,
    before: int | None = None,
    limit: int = PAGE_SIZE,
    unread_only: bool = False,
    zone: zoneinfo.ZoneInfo | None = None,
) -> NotificationPage:
    """Newest first, keyset-paged by id: one query per page."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    rows = notifications_for_user(user=user).select_related("organisation")
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    found = list(rows.order_by("-pk")[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    items = []
    for row in found:
        row.recipient_user = user  # the same person: no query per row
        items.append(NotificationItem(row, headline(row, zone or recipient_zone(row))))
    return NotificationPage(items, found[-1].pk if more and found else None)
