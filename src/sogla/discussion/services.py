"""Commands of the discussion: post, edit (15 minutes, by the author), delete (by
the author, leaving "message deleted"), mark read. One transaction each; each
change is audited in the document's chain; mentions queue a notification in the
same transaction (the outbox), which the worker sends as the person's settings say
(at once, in the daily digest, or not by mail; always in the bell).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sogla.core.audit import audit_record
from sogla.core.errors import NotFound, PermissionDenied, ValidationFailed
from sogla.core.request_meta import RequestMeta
from sogla.discussion import markup
from sogla.discussion.models import MAX_TEXT, Message, MessageFile, ReadMark
from sogla.discussion.notices import MENTION
from sogla.discussion.selectors import can_see, editable_until, message_get
from sogla.discussion.steps import current_step
from sogla.documents.models import Document, FileVersion
from sogla.documents.services import search_mark
from sogla.documents.uploads import CheckedUpload, storage_key
from sogla.notifications.services import notification_build, notifications_enqueue_many
from sogla.orgs.models import User

MAX_FILES = 5
MAX_MENTIONS = 20


def _clean_text(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationFailed.single(
            "text", "required", _("Write a message (it is empty).")
        )
    if len(text) > MAX_TEXT:
        raise ValidationFailed.single(
            "text",
            "too_long",
            _("The message is too long: at most %(limit)d characters, it has %(n)d.")
            % {"limit": MAX_TEXT, "n": len(text)},
        )
    if "\x00" in text:
        raise ValidationFailed.single("text", "invalid", _("Enter a valid value."))
    return text


def check_file_count(count: int) -> None:
    if count > MAX_FILES:
        raise ValidationFailed.single(
            "files",
            "too_many_files",
            _("Attach at most %(limit)d files to one message.") % {"limit": MAX_FILES},
        )


def _mentioned(text: str, document: Document) -> list[User]:
    """The people "@name" names; each must be an active colleague of the document's
    organisation who may see it, else the message is refused naming them."""
    names = markup.mentioned_names(text)
    if not names:
        return []
    if len(names) > MAX_MENTIONS:
        raise ValidationFailed.single(
            "text",
            "too_many_mentions",
            _("Mention at most %(limit)d people in one message.")
            % {"limit": MAX_MENTIONS},
        )
    people = {
        person.username.lower(): person
        for person in User.objects.filter(
            organisation_id=document.organisation_id, is_active=True
        ).filter(username__in=_spellings(text, names))
    }
    refused = [
        name
        for name in names
        if name not in people or not can_see(people[name], document)
    ]
    if refused:
        raise ValidationFailed.single(
            "text",
            "mention_refused",
            _(
                "Cannot mention %(names)s: only colleagues of your organisation who "
                "may see this document can be mentioned."
            )
            % {"names": ", ".join(f"@{name}" for name in refused)},
        )
    return [people[name] for name in names]


def _spellings(text: str, names: Sequence[str]) -> list[str]:
    """The names as typed and lower-cased (usernames keep their case)."""
    typed = [m.group(1) for m in markup.MENTION.finditer(text)]
    return sorted(set(typed) | set(names))


def _main_version(document: Document) -> FileVersion | None:
    """The current version of the document's main file (the general file added
    first, else the first file of a field)."""
    return (
        FileVersion.objects.for_org(document.organisation_id)
        .filter(file__document_id=document.pk, file__archived_at=None)
        .order_by("file__field_key", "file_id", "-version")
        .first()
    )


def _notify(message: Message, people: Sequence[User], already: Sequence[int]) -> None:
    document = message.document
    author = message.author
    rows = [
        notification_build(
            organisation_id=document.organisation_id,
            kind=MENTION,
            recipient_user=person,
            document_id=document.pk,
            context={
                "number": document.number,
                "title": document.title,
                "message": message.pk,
                "author": author.get_full_name() or author.username,
                "excerpt": markup.plain(message.text),
            },
            idempotency_key=f"discussion.mention:{message.pk}:{person.pk}",
        )
        for person in people
        if person.pk != author.pk and person.pk not in already
    ]
    notifications_enqueue_many(rows)


def _store(message: Message, uploads: Sequence[CheckedUpload]) -> list[MessageFile]:
    stored = []
    for upload in uploads:
        key = storage_key(message.organisation_id, upload.sha256)
        if not default_storage.exists(key):
            key = default_storage.save(key, upload.content)
        stored.append(
            MessageFile.objects.create(
                organisation_id=message.organisation_id,
                message=message,
                original_name=upload.name,
                sha256=upload.sha256,
                size=upload.size,
                mime_type=upload.mime_type,
                storage_key=key,
            )
        )
    return stored


def _audit(
    verb: str,
    actor: User,
    message: Message,
    payload: dict[str, Any],
    meta: RequestMeta | None,
) -> None:
    """Record a change of ``message`` in its document's audit chain."""
    audit_record(
        organisation_id=message.organisation_id,
        verb=f"discussion.{verb}",
        actor=actor,
        target_type="message",
        target_id=message.pk,
        document_id=message.document_id,
        payload=payload,
        request_meta=meta,
    )


@transaction.atomic
def message_post(
    *,
    actor: User,
    document: Document,
    text: str,
    parent_id: int | None = None,
    for_guests: bool = False,
    files: Sequence[CheckedUpload] = (),
    meta: RequestMeta | None = None,
) -> Message:
    """Post a message (a reply with ``parent_id``) on a document the actor may see
    (the caller found it through ``documents.access``)."""
    text = _clean_text(text)
    check_file_count(len(files))
    parent = None
    if parent_id is not None:
        try:
            parent = message_get(document=document, pk=parent_id)
        except NotFound:
            raise ValidationFailed.single(
                "parent", "unknown_message", _("No such message to reply to.")
            ) from None
        if parent.parent_id is not None:  # one level: a reply to a reply joins it
            parent = message_get(document=document, pk=parent.parent_id)
    people = _mentioned(text, document)
    version = _main_version(document)
    message = Message.objects.create(
        organisation_id=document.organisation_id,
        document=document,
        parent=parent,
        author=actor,
        text=text,
        html=markup.render(text, [p.username for p in people]),
        for_guests=bool(for_guests),
        mentions=[p.pk for p in people],
        file_version=version,
        step=current_step(document),
    )
    stored = _store(message, files)
    _notify(message, people, already=())
    search_mark([document.pk])
    _audit(
        "message_posted",
        actor,
        message,
        {
            "parent": parent.pk if parent else None,
            "for_guests": message.for_guests,
            "mentions": message.mentions,
            "length": len(text),
            "files": [{"name": f.original_name, "sha256": f.sha256} for f in stored],
            "version": version.version if version else None,
            "step": message.step.get("key", ""),
        },
        meta,
    )
    _read_to(actor, document, message.pk)
    return message


def _own(actor: User, message: Message) -> None:
    if message.author_id != actor.pk:
        raise PermissionDenied(
            _("Only the author may change or delete a message."), code="not_author"
        )
    if message.deleted_at is not None:
        raise PermissionDenied(_("The message was deleted."), code="deleted")


@transaction.atomic
def message_edit(
    *,
    actor: User,
    document: Document,
    message_id: int,
    text: str,
    for_guests: bool | None = None,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> Message:
    """Change one's own message within 15 minutes of posting it; people newly
    mentioned are notified."""
    message = message_get(document=document, pk=message_id)
    _own(actor, message)
    if (now or timezone.now()) >= editable_until(message):
        raise PermissionDenied(
            _("A message can be edited for 15 minutes after it is posted."),
            code="edit_window_closed",
        )
    text = _clean_text(text)
    people = _mentioned(text, document)
    before = list(message.mentions or [])
    message.text = text
    message.html = markup.render(text, [p.username for p in people])
    message.mentions = [p.pk for p in people]
    if for_guests is not None:
        message.for_guests = bool(for_guests)
    message.edited_at = now or timezone.now()
    message.save(update_fields=["text", "html", "mentions", "for_guests", "edited_at"])
    _notify(message, people, already=before)
    search_mark([document.pk])
    _audit(
        "message_edited",
        actor,
        message,
        {
            "for_guests": message.for_guests,
            "mentions": message.mentions,
            "length": len(text),
        },
        meta,
    )
    return message


@transaction.atomic
def message_delete(
    *,
    actor: User,
    document: Document,
    message_id: int,
    meta: RequestMeta | None = None,
) -> Message:
    """Delete one's own message: the card keeps its place, saying "message
    deleted"; its text and files are no longer shown to anyone."""
    message = message_get(document=document, pk=message_id)
    _own(actor, message)
    message.deleted_at = timezone.now()
    message.save(update_fields=["deleted_at"])
    search_mark([document.pk])
    _audit("message_deleted", actor, message, {"length": len(message.text)}, meta)
    return message


def _read_to(user: User, document: Document, last_id: int) -> None:
    mark, created = ReadMark.objects.get_or_create(
        organisation_id=document.organisation_id,
        user=user,
        document=document,
        defaults={"last_seen_id": last_id},
    )
    if not created and mark.last_seen_id < last_id:
        ReadMark.objects.filter(pk=mark.pk, last_seen_id__lt=last_id).update(
            last_seen_id=last_id
        )


@transaction.atomic
def discussion_mark_read(*, user: User, document: Document, last_id: int) -> None:
    """The user has seen the document's messages up to ``last_id``."""
    if last_id > 0:
        _read_to(user, document, last_id)
