"""The discussion's screens: its page (the card's tab shows the same part), the
commands (post, edit, delete), attached files and the people one may mention.

Thin: the document is found through ``documents.access`` (404 when the user may not
see it), the services decide. An htmx request gets the thread part back with the
errors in place; a plain form post is redirected to the card's tab.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from sogla.core.errors import ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.discussion import selectors, services
from sogla.discussion.models import MAX_TEXT
from sogla.discussion.reading import DiscussedDocument, thread_context
from sogla.documents.access import access_document
from sogla.documents.downloads import stored_file_response
from sogla.documents.uploads import CheckedUpload, check_upload
from sogla.orgs.models import User
from sogla.web.errors import app_errors
from sogla.web.requests import signed_in_user


def _card_tab(document: DiscussedDocument, anchor: str = "") -> str:
    card = reverse("documents:card", args=[document.pk])
    return f"{card}?tab=discussion{anchor}"


def _answer(
    request: HttpRequest,
    user: User,
    document: DiscussedDocument,
    *,
    anchor: str = "",
    error: ValidationFailed | None = None,
    posted: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    if error is None and not getattr(request, "htmx", False):
        return redirect(_card_tab(document, anchor))
    context = thread_context(
        user,
        document,
        errors=error.by_field() if error else None,
        posted=posted if error else None,
    )
    htmx = bool(getattr(request, "htmx", False))
    # the card's tab count follows the thread (an out-of-band swap)
    context["oob_count"] = htmx
    template = "discussion/partials/thread.html" if htmx else "discussion/page.html"
    return render(request, template, context, status=status)


@login_required
@require_GET
@app_errors
def page(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    document = access_document(user, pk)
    template = (
        "discussion/partials/thread.html"
        if getattr(request, "htmx", False)
        else "discussion/page.html"
    )
    return render(request, template, thread_context(user, document))


def _uploads(request: HttpRequest) -> list[CheckedUpload]:
    files = request.FILES.getlist("files")
    services.check_file_count(len(files))
    return [check_upload("files", f.name or "", f, f.size or 0) for f in files]


def _flag(request: HttpRequest, name: str) -> bool:
    return request.POST.get(name, "") in ("1", "on", "true")


@login_required
@require_POST
@app_errors
def post(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    document = access_document(user, pk)
    text = request.POST.get("text", "")
    parent = request.POST.get("parent", "")
    posted = {"text": text[: MAX_TEXT + 100]}
    if parent:
        posted["reply"] = parent[:20]
    else:
        posted["new"] = "1"
    try:
        message = services.message_post(
            actor=user,
            document=document,
            text=text,
            parent_id=int(parent) if parent.isdigit() and len(parent) < 19 else None,
            for_guests=_flag(request, "for_guests"),
            files=_uploads(request),
            meta=request_meta(request),
        )
    except ValidationFailed as error:
        return _answer(request, user, document, error=error, posted=posted, status=422)
    return _answer(request, user, document, anchor=f"#m-{message.pk}")


@login_required
@require_POST
@app_errors
def edit(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    user = signed_in_user(request)
    document = access_document(user, pk)
    text = request.POST.get("text", "")
    try:
        message = services.message_edit(
            actor=user,
            document=document,
            message_id=message_id,
            text=text,
            for_guests=_flag(request, "for_guests"),
            meta=request_meta(request),
        )
    except ValidationFailed as error:
        posted = {"edit": str(message_id), "text": text[: MAX_TEXT + 100]}
        return _answer(request, user, document, error=error, posted=posted, status=422)
    return _answer(request, user, document, anchor=f"#m-{message.pk}")


@login_required
@require_POST
@app_errors
def delete(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    user = signed_in_user(request)
    document = access_document(user, pk)
    message = services.message_delete(
        actor=user, document=document, message_id=message_id, meta=request_meta(request)
    )
    return _answer(request, user, document, anchor=f"#m-{message.pk}")


@login_required
@require_GET
@app_errors
def attachment(request: HttpRequest, file_id: int) -> FileResponse:
    """An attached file, as the documents' files are served: an attachment, its
    type read from the content at upload, sandboxed, never cached."""
    found = selectors.attachment_get(user=signed_in_user(request), pk=file_id)
    return stored_file_response(
        found.storage_key, name=found.original_name, content_type=found.mime_type
    )


@login_required
@require_GET
@app_errors
def people(request: HttpRequest, pk: int) -> JsonResponse:
    """Colleagues who may see the document, for the composer's @ list."""
    user = signed_in_user(request)
    document = access_document(user, pk)
    found = selectors.mention_candidates(
        user=user, document=document, query=request.GET.get("q", "")
    )
    response = JsonResponse(
        {
            "people": [
                {"username": p.username, "name": p.get_full_name() or p.username}
                for p in found
            ]
        }
    )
    response["Cache-Control"] = "private, no-store"
    return response
