"""REST endpoints of the discussion: list, post, edit and delete a document's
messages, and download a message's file.

Thin: the document is found through ``documents.access`` (404 for a document the
caller may not see or of another organisation), the services decide. Editing or
deleting someone else's message, and editing after 15 minutes, answer 403.
"""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest
from ninja import Router, Status

from sogla.api.auth import api_user as _user
from sogla.api.schemas import ERRORS, Id
from sogla.api.schemas import responses as _ok
from sogla.core.request_meta import request_meta
from sogla.core.text import strip_bidi
from sogla.discussion import selectors, services
from sogla.discussion.schemas import MessageIn, MessageOut, MessagePatchIn, message_out
from sogla.documents.access import access_document
from sogla.documents.downloads import DOWNLOAD_CSP

router = Router(tags=["discussion"])


@router.get(
    "/documents/{document_id}/messages",
    response=_ok(list[MessageOut]),
    operation_id="document_messages_list",
    url_name="document_messages_list",
    summary="The document's discussion, oldest first (replies carry parent_id)",
)
def messages_list(request: HttpRequest, document_id: Id) -> list[dict[str, Any]]:
    document = access_document(_user(request), document_id)
    return [message_out(m) for m in selectors.message_list(document=document)]


@router.post(
    "/documents/{document_id}/messages",
    response=_ok(MessageOut, 201),
    operation_id="document_message_post",
    url_name="document_message_post",
    summary="Post a message or a reply; @username mentions notify colleagues",
)
def message_post(
    request: HttpRequest, document_id: Id, payload: MessageIn
) -> Status[dict[str, Any]]:
    user = _user(request)
    document = access_document(user, document_id)
    message = services.message_post(
        actor=user,
        document=document,
        text=payload.text,
        parent_id=payload.parent_id,
        for_guests=payload.for_guests,
        meta=request_meta(request),
    )
    return Status(
        201, message_out(selectors.message_get(document=document, pk=message.pk))
    )


@router.patch(
    "/documents/{document_id}/messages/{message_id}",
    response=_ok(MessageOut),
    operation_id="document_message_edit",
    url_name="document_message_edit",
    summary="Edit one's own message (within 15 minutes of posting it)",
)
def message_edit(
    request: HttpRequest, document_id: Id, message_id: Id, payload: MessagePatchIn
) -> dict[str, Any]:
    user = _user(request)
    document = access_document(user, document_id)
    message = services.message_edit(
        actor=user,
        document=document,
        message_id=message_id,
        text=payload.text,
        for_guests=payload.for_guests,
        meta=request_meta(request),
    )
    return message_out(message)


@router.delete(
    "/documents/{document_id}/messages/{message_id}",
    response={204: None, **ERRORS},
    operation_id="document_message_delete",
    url_name="document_message_delete",
    summary="Delete one's own message (the discussion shows 'message deleted')",
)
def message_delete(
    request: HttpRequest, document_id: Id, message_id: Id
) -> Status[None]:
    user = _user(request)
    document = access_document(user, document_id)
    services.message_delete(
        actor=user,
        document=document,
        message_id=message_id,
        meta=request_meta(request),
    )
    return Status(204, None)


@router.get(
    "/message-files/{file_id}/download",
    response={200: None, **ERRORS},
    operation_id="message_file_download",
    url_name="message_file_download",
    summary="Download a file attached to a message (an attachment, never inline)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file's bytes",
                "content": {
                    "application/octet-stream": {
                        "schema": {"type": "string", "format": "binary"}
                    }
                },
            }
        }
    },
)
def message_file_download(request: HttpRequest, file_id: Id) -> FileResponse:
    found = selectors.attachment_get(user=_user(request), pk=file_id)
    response = FileResponse(
        default_storage.open(found.storage_key, "rb"),
        as_attachment=True,
        filename=strip_bidi(found.original_name),
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cache-Control"] = "no-store"
    return response
