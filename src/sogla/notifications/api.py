"""REST endpoints of the caller's in-app notifications (the bell)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from sogla.api.auth import api_user as _user
from sogla.api.schemas import MAX_ID, Id, InSchema
from sogla.api.schemas import responses as _ok
from sogla.notifications import selectors
from sogla.notifications.services import notifications_mark_read

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="e.g. `workflow.task_assigned`")
    headline: str = Field(description="The line the bell shows, in your language.")
    document_id: int | None
    number: str
    title: str
    created_at: datetime
    read_at: datetime | None


class NotificationListOut(Schema):
    items: list[NotificationOut]
    unread: int = Field(description="How many of your notifications are unread.")
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null on the last."
    )


class NotificationFilterIn(InSchema):
    before: int | None = Field(None, ge=1, le=MAX_ID)
    limit: int = Field(selectors.PAGE_SIZE, ge=1, le=selectors.MAX_PAGE_SIZE)
    unread: bool = False


class MarkReadIn(InSchema):
    ids: list[Id] | None = Field(
        None,
        max_length=500,
        description="The notifications to mark read; omit to mark all of them.",
    )


class MarkReadOut(Schema):
    marked: int
    unread: int


@router.get(
    "/notifications",
    response=_ok(NotificationListOut),
    operation_id="notifications_list",
    url_name="notifications_list",
    summary="My notifications, newest first",
)
def notifications_list(
    request: HttpRequest, filters: Query[NotificationFilterIn]
) -> dict[str, Any]:
    user = _user(request)
    page = selectors.notification_page(
        user=user,
        before=filters.before,
        limit=filters.limit,
        unread_only=filters.unread,
    )
    return {
        "items": [
            {
                "id": item.pk,
                "kind": item.row.kind,
                "headline": item.headline,
                "document_id": item.row.document_id,
                "number": str(item.row.context.get("number") or ""),
                "title": str(item.row.context.get("title") or ""),
                "created_at": item.row.created_at,
                "read_at": item.row.read_at,
            }
            for item in page.items
        ],
        "unread": selectors.notification_unread_count(user=user),
        "next_before": page.next_before,
    }


@router.post(
    "/notifications/read",
    response=_ok(MarkReadOut),
    operation_id="notifications_mark_read",
    url_name="notifications_mark_read",
    summary="Mark notifications read (all when no ids are given)",
)
def notifications_read(request: HttpRequest, payload: MarkReadIn) -> dict[str, int]:
    user = _user(request)
    marked = notifications_mark_read(actor=user, ids=payload.ids)
    return {"marked": marked, "unread": selectors.notification_unread_count(user=user)}
