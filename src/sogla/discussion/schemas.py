"""API schemas of the discussion."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from ninja import Field, Schema

from sogla.api.schemas import MAX_ID, NON_BLANK, InSchema
from sogla.discussion.models import MAX_TEXT, Message
from sogla.discussion.selectors import editable_until


class MessageIn(InSchema):
    text: str = Field(
        max_length=MAX_TEXT,
        json_schema_extra=NON_BLANK,
        description="Markdown-light: **bold**, _italics_, [links](https://…), lists, "
        "`code`. `@username` mentions a colleague who may see the document "
        "(refused otherwise: 422 `mention_refused` on `text`).",
    )
    parent_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="Reply to this message (a reply to a reply joins its thread).",
    )
    for_guests: bool = Field(
        default=False, description="Shown to the document's guests too."
    )


class MessagePatchIn(InSchema):
    text: str = Field(max_length=MAX_TEXT, json_schema_extra=NON_BLANK)
    for_guests: bool | None = None


class MessageAuthorOut(Schema):
    id: int
    username: str
    name: str


class MessageStepOut(Schema):
    key: str
    name: str
    round: int | None = None


class MessageFileOut(Schema):
    id: int
    name: str
    size: int
    mime_type: str
    sha256: str
    download_url: str


class MessageOut(Schema):
    id: int
    parent_id: int | None
    author: MessageAuthorOut
    text: str | None = Field(description="null once the message is deleted")
    html: str | None = Field(description="The text rendered and sanitised")
    for_guests: bool
    mentions: list[int]
    file_version: int | None = Field(
        description="The main file's version number when the message was written"
    )
    step: MessageStepOut | None = Field(
        description="The route step current at the time"
    )
    created_at: datetime
    edited_at: datetime | None
    editable_until: datetime
    deleted: bool
    files: list[MessageFileOut]


def message_out(message: Message) -> dict[str, Any]:
    deleted = message.deleted_at is not None
    author = message.author
    step = message.step if isinstance(message.step, dict) else {}
    return {
        "id": message.pk,
        "parent_id": message.parent_id,
        "author": {
            "id": author.pk,
            "username": author.username,
            "name": author.get_full_name() or author.username,
        },
        "text": None if deleted else message.text,
        "html": None if deleted else message.html,
        "for_guests": message.for_guests,
        "mentions": [int(p) for p in message.mentions or []],
        "file_version": message.file_version.version if message.file_version else None,
        "step": (
            {
                "key": str(step.get("key", "")),
                "name": message.step_name,
                "round": step.get("round")
                if isinstance(step.get("round"), int)
                else None,
            }
            if step
            else None
        ),
        "created_at": message.created_at,
        "edited_at": message.edited_at,
        "editable_until": editable_until(message),
        "deleted": deleted,
        "files": []
        if deleted
        else [
            {
                "id": f.pk,
                "name": f.original_name,
                "size": f.size,
                "mime_type": f.mime_type,
                "sha256": f.sha256,
                "download_url": reverse("api:message_file_download", args=[f.pk]),
            }
            for f in message.files.all()
        ],
    }
