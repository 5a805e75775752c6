"""Reading the discussion: a card's thread, the guests' messages, unread counts,
the people one may mention. The caller has already checked that the reader may see
the document (``documents.access``); every query is scoped to its organisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from sogla.core.errors import NotFound
from sogla.core.prepared import Prepared, db, statement_cursor
from sogla.discussion.models import Message, MessageFile, ReadMark
from sogla.documents.access import visible_documents
from sogla.documents.models import Document
from sogla.orgs.models import User

EDIT_WINDOW = timedelta(minutes=15)
MENTION_CHOICES = 10


@dataclass
class MessageView:
    message: Message
    replies: list[MessageView] = field(default_factory=list)
    can_edit: bool = False
    can_delete: bool = False
    unread: bool = False

    @property
    def deleted(self) -> bool:
        return self.message.deleted_at is not None


@dataclass
class Thread:
    messages: list[MessageView]
    total: int
    unread: int
    last_id: int


def editable_until(message: Message) -> datetime:
    return message.created_at + EDIT_WINDOW


def may_edit(user: User, message: Message, now: datetime | None = None) -> bool:
    return (
        message.author_id == user.pk
        and message.deleted_at is None
        and (now or timezone.now()) < editable_until(message)
    )


def _messages(document: Document) -> QuerySet[Message]:
    return (
        Message.objects.for_org(document.organisation_id)
        .filter(document_id=document.pk)
        .select_related("author", "file_version")
        .prefetch_related("files")
        .order_by("id")
    )


def _last_seen(user: User, document: Document) -> int:
    mark = (
        ReadMark.objects.for_org(document.organisation_id)
        .filter(user=user, document_id=document.pk)
        .values_list("last_seen_id", flat=True)
        .first()
    )
    return int(mark or 0)


def thread_for_card(*, user: User, document: Document) -> Thread:
    """The document's messages, replies under their message, newest thread last
    (three queries: the read mark, the messages with their people, their files)."""
    seen = _last_seen(user, document)
    now = timezone.now()
    views: dict[int, MessageView] = {}
    top: list[MessageView] = []
    unread = 0
    rows = list(_messages(document))
    for message in rows:
        fresh = (
            message.pk > seen
            and message.author_id != user.pk
            and message.deleted_at is None
        )
        unread += fresh
        view = MessageView(
            message=message,
            can_edit=may_edit(user, message, now),
            can_delete=message.author_id == user.pk and message.deleted_at is None,
            unread=fresh,
        )
        views[message.pk] = view
        parent = views.get(message.parent_id) if message.parent_id else None
        (parent.replies if parent else top).append(view)
    alive = sum(1 for m in rows if m.deleted_at is None)
    return Thread(top, alive, unread, rows[-1].pk if rows else 0)


def guest_messages(document: Document) -> list[Message]:
    """The messages the document's guests may read (never the internal ones)."""
    return list(
        Message.objects.for_org(document.organisation_id)
        .filter(document_id=document.pk, for_guests=True, deleted_at=None)
        .select_related("author")
        .prefetch_related("files")
        .order_by("id")
    )


def guest_attachment(*, organisation_id: int, document_id: int, pk: int) -> MessageFile:
    """A file attached to a message the document's guests may read; NotFound for
    any other (an internal or deleted message's, another document's)."""
    found = (
        MessageFile.objects.for_org(organisation_id)
        .filter(
            pk=pk,
            message__document_id=document_id,
            message__for_guests=True,
            message__deleted_at=None,
        )
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def _unread_filter(user: User | int) -> Q:
    seen = Subquery(
        ReadMark.objects.filter(user=user, document_id=OuterRef("document_id")).values(
            "last_seen_id"
        )[:1]
    )
    return (
        Q(deleted_at=None)
        & ~Q(author=user)
        & Q(id__gt=Coalesce(seen, Value(0), output_field=IntegerField()))
    )


def unread_counts(*, user: User, document_ids: Sequence[int]) -> dict[int, int]:
    """Unread messages per document for ``user`` (one aggregate query): not
    deleted, not the user's own, newer than the user's read mark (at most one per
    user and document).

    Written out rather than composed with the ORM: the inbox asks it on every page,
    and compiling the read mark's subquery cost more than running it. On PostgreSQL
    the documents' ids go as one array parameter, so that the text is the same for
    any page and is planned once per connection (``core.prepared``); SQLite has no
    arrays and gets one parameter per id."""
    ids = [int(pk) for pk in document_ids]
    if not ids or user.organisation_id is None:
        return {}
    wrapper = db()
    postgres = wrapper.vendor == "postgresql"
    listed = "= ANY(%s)" if postgres else f"IN ({', '.join(['%s'] * len(ids))})"
    sql = (
        "SELECT m.document_id, COUNT(*) FROM discussion_message m "  # noqa: S608 - placeholders only
        "LEFT JOIN discussion_readmark r "
        "ON r.document_id = m.document_id AND r.user_id = %s "
        f"WHERE m.organisation_id = %s AND m.document_id {listed} "
        "AND m.deleted_at IS NULL AND m.author_id <> %s "
        "AND m.id > COALESCE(r.last_seen_id, 0) GROUP BY m.document_id"
    )
    params = [user.pk, user.organisation_id, *([ids] if postgres else ids), user.pk]
    with statement_cursor(wrapper) as cursor:
        cursor.execute(sql, params)
        return {int(document): int(n) for document, n in cursor.fetchall()}


def _counts(org_id: int, document_id: int, user_id: int) -> QuerySet[Any]:
    # One group (none without messages): an aggregate, as a queryset.
    return (
        Message.objects.for_org(org_id)
        .filter(document_id=document_id)
        .values("document_id")
        .annotate(
            total=Count("id", filter=Q(deleted_at=None)),
            unread=Count("id", filter=_unread_filter(user_id)),
        )
        .values_list("total", "unread")
    )


# The card asks on every request: compiled once (``core.prepared``, ADR 0002).
_counts_prepared: Prepared[Any] = Prepared(_counts, arity=3)


def card_counts(*, user: User, document: Document) -> tuple[int, int]:
    """(messages, unread ones) of the document for the card's tab (one query)."""
    found = _counts_prepared.all(document.organisation_id, document.pk, user.pk)
    total, unread = found[0] if found else (0, 0)
    return int(total or 0), int(unread or 0)


def message_get(*, document: Document, pk: int) -> Message:
    """A message of this document; NotFound otherwise."""
    found = (
        Message.objects.for_org(document.organisation_id)
        .filter(document_id=document.pk, pk=pk)
        .select_related("author", "file_version")
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def message_list(*, document: Document) -> list[Message]:
    return list(_messages(document))


def attachment_get(*, user: User, pk: int) -> MessageFile:
    """An attached file of a message on a document the user may see."""
    found = (
        MessageFile.objects.for_org(user.organisation_id or 0)
        .filter(
            pk=pk,
            message__deleted_at=None,
            message__document__in=visible_documents(user),
        )
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def can_see(person: User, document: Document) -> bool:
    """Whether ``person`` may open the document (same rules as the card)."""
    if person.organisation_id != document.organisation_id or not person.is_active:
        return False
    if not document.doc_type.confidential:
        return True  # everyone of the organisation sees a type that is not confidential
    return visible_documents(person).filter(pk=document.pk).exists()


def mention_candidates(*, user: User, document: Document, query: str) -> list[User]:
    """Up to ten active colleagues who may see the document, by name or username."""
    words = query.strip().lstrip("@")[:60]
    people = User.objects.filter(
        organisation_id=document.organisation_id, is_active=True
    ).exclude(pk=user.pk)
    if words:
        people = people.filter(
            Q(username__istartswith=words)
            | Q(last_name__istartswith=words)
            | Q(first_name__istartswith=words)
        )
    found: list[User] = []
    for person in people.order_by("last_name", "first_name", "id")[:50]:
        if can_see(person, document):
            found.append(person)
        if len(found) >= MENTION_CHOICES:
            break
    return found


def message_talk(document_ids: Sequence[int]) -> dict[int, list[str]]:
    """The messages' text by document (full-text search's talk source)."""
    found: dict[int, list[str]] = {}
    rows = (
        Message.objects.filter(document_id__in=document_ids, deleted_at=None)
        .values_list("document_id", "text")
        .order_by("pk")
    )
    for document_id, text in rows:
        found.setdefault(document_id, []).append(text)
    return found
