"""The guest page (``/g/…``, UI.md screen 7): no login, no JavaScript needed.

``/g/<token>/`` exchanges the link for a session cookie and redirects to the clean
``/g/``; every other guest URL reads only that cookie. A GET never acts: decisions,
codes, the language switch and "send me a new link" are POSTs with a CSRF token.
Every answer carries ``Cache-Control: no-store`` and ``Referrer-Policy:
no-referrer`` (the forms still pass the CSRF check: ``sogla.core.csrf``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_http_methods, require_POST

from sogla.core.errors import (
    ApplicationError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from sogla.core.request_meta import request_meta
from sogla.discussion.selectors import guest_attachment, guest_messages
from sogla.documents.downloads import file_response, stored_file_response
from sogla.external import selectors
from sogla.external.models import Challenge, GuestSession
from sogla.external.services.agreement import agreement_accepted, agreement_current
from sogla.external.services.codes import CodeLocked, CodeNotSent
from sogla.external.services.decisions import (
    guest_code_channel,
    guest_code_send,
    guest_decide,
)
from sogla.external.services.links import (
    LinkState,
    link_open,
    link_renew,
    secure_cookie,
    session_end,
    session_for,
)
from sogla.external.viewer import page_viewer
from sogla.workflow.errors import WorkflowError

COOKIE = "sogla_guest"
LANG_COOKIE = "sogla_guest_lang"
LANGUAGES = ("ru", "en")


def _headers(response: HttpResponseBase) -> HttpResponseBase:
    # No Referer ever leaves a guest page, not even to Sogla itself. Browsers then
    # post the page's forms with "Origin: null" and no Referer: sogla.core.csrf
    # accepts those on /g/ when the browser's Sec-Fetch-Site says same-origin.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _language(request: HttpRequest, fallback: str = "") -> str:
    chosen = request.COOKIES.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return fallback if fallback in LANGUAGES else settings.LANGUAGE_CODE


def invalid(request: HttpRequest) -> HttpResponse:
    """The one answer to anything that is not the guest's: "invalid", no details."""
    return _closed(request, "invalid", status=404)


def guest_view(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """The guest's language for the answer, and the headers every guest page has."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        with translation.override(_language(request, _org_language(request))):
            return _headers(view(request, *args, **kwargs))

    return wrapped


def _org_language(request: HttpRequest) -> str:
    session = guest_session(request)
    return session.organisation.language if session is not None else ""


def guest_session(request: HttpRequest) -> GuestSession | None:
    if not hasattr(request, "_guest_session"):
        request._guest_session = session_for(request.COOKIES.get(COOKIE, ""))  # type: ignore[attr-defined]
    return request._guest_session  # type: ignore[attr-defined,no-any-return]


def _closed(
    request: HttpRequest, state: str, token: str = "", status: int = 410
) -> HttpResponse:
    return render(
        request,
        "external/closed.html",
        {
            "state": state,
            "token": token,
            "renewable": state in (LinkState.EXPIRED, LinkState.USED_UP),
        },
        status=status,
    )


def _rate_limited(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = render(
        request, "external/closed.html", {"state": "rate_limited"}, status=429
    )
    response["Retry-After"] = str(retry_after)
    return response


# --- opening a link ------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def open_link(request: HttpRequest, token: str) -> HttpResponseBase:
    """``/g/<token>/``: HEAD and link scanners see a page and use nothing up; a
    person's GET (or the scanner page's button, a POST) gets a session cookie and
    a redirect to ``/g/``."""
    with translation.override(_language(request)):
        if request.method == "HEAD":
            return _headers(HttpResponse(b"", content_type="text/html"))
        meta = request_meta(request)
        try:
            opened = link_open(token, meta=meta, confirmed=request.method == "POST")
        except RateLimited as limited:
            return _headers(_rate_limited(request, limited.retry_after))
        if opened.state == LinkState.SCANNER:
            return _headers(render(request, "external/continue.html", {"token": token}))
        if opened.state != LinkState.OK:
            status = 404 if opened.state == LinkState.INVALID else 410
            return _headers(_closed(request, opened.state, token, status))
        response = redirect(reverse("external:page"))
        response.set_cookie(
            COOKIE,
            opened.session_key,
            max_age=int(settings.GUEST_SESSION_SECONDS),
            path="/g/",
            secure=secure_cookie(),
            httponly=True,
            samesite="Lax",
        )
        return _headers(response)


@require_POST
@guest_view
def renew(request: HttpRequest, token: str) -> HttpResponseBase:
    """ "Send me a new link" on an expired or used-up link: the page says the same
    whether or not a mail went out (nothing to learn about addresses)."""
    link_renew(token, meta=request_meta(request))
    return render(request, "external/closed.html", {"state": "renewed"})


# --- the page ------------------------------------------------------------------------------


def no_session(request: HttpRequest) -> HttpResponse:
    return render(request, "external/closed.html", {"state": "no_session"}, status=401)


def _render_page(
    request: HttpRequest,
    session: GuestSession,
    *,
    status: int = 200,
    form: dict[str, Any] | None = None,
    challenge: Challenge | None = None,
) -> HttpResponse:
    page = selectors.guest_page(session)
    agreement = agreement_current(session.organisation_id) if page.needs_code else None
    code_channel, code_to = (
        guest_code_channel(session, page.document.counterparty_id)
        if page.needs_code and page.state == selectors.PageState.OPEN
        else ("", "")
    )
    context = {
        "page": page,
        "viewer": page_viewer(
            session.organisation_id, page.files, request.GET.get("file", "")[:20]
        ),
        "form": {"outcome": "", "comment": "", "errors": {}, **(form or {})},
        "request_id": (form or {}).get("request_id") or uuid.uuid4().hex,
        "challenge": challenge,
        "code_channel": code_channel,
        "code_to": code_to,
        "agreement": agreement,
        "agreement_text": (
            (
                agreement.text_en
                if translation.get_language() == "en" and agreement.text_en
                else agreement.text_ru
            )
            if agreement
            else ""
        ),
        "agreement_done": bool(
            agreement and agreement_accepted(agreement, session.link.email)
        ),
        "language": translation.get_language(),
        # the discussion's messages marked for guests (never the internal ones)
        "guest_messages": guest_messages(page.document),
    }
    return render(request, "external/page.html", context, status=status)


def page(request: HttpRequest) -> HttpResponseBase:
    session = guest_session(request)
    with translation.override(_language(request, _org_language(request))):
        if session is None:
            return _headers(no_session(request))
        if session.link.revoked_at is not None:
            return _headers(_closed(request, LinkState.REVOKED))
        return _headers(_render_page(request, session))


def _form(request: HttpRequest) -> dict[str, Any]:
    return {
        "outcome": request.POST.get("outcome", "")[:30],
        "comment": request.POST.get("comment", ""),
        "request_id": request.POST.get("request_id", "")[:100],
        "accept": request.POST.get("accept_agreement") == "1",
        "errors": {},
    }


@require_POST
def decide(request: HttpRequest) -> HttpResponseBase:
    """The decision form: records it, or (a step that needs a code) sends a code
    and shows the code form."""
    session = guest_session(request)
    with translation.override(_language(request, _org_language(request))):
        if session is None:
            return _headers(no_session(request))
        form = _form(request)
        meta = request_meta(request)
        page = selectors.guest_page(session)
        try:
            if page.needs_code:
                challenge = guest_code_send(
                    session=session,
                    outcome=form["outcome"],
                    comment=form["comment"],
                    accept_agreement=form["accept"],
                    meta=meta,
                    language=translation.get_language() or "",
                )
                return _headers(
                    _render_page(request, session, form=form, challenge=challenge)
                )
            guest_decide(
                session=session,
                outcome=form["outcome"],
                comment=form["comment"],
                request_id=form["request_id"],
                meta=meta,
            )
        except ApplicationError as error:
            return _headers(_refused(request, session, form, error))
        return _headers(redirect(reverse("external:page")))


@require_POST
def confirm(request: HttpRequest) -> HttpResponseBase:
    """The code form: verify the code, then record the decision it was sent for."""
    session = guest_session(request)
    with translation.override(_language(request, _org_language(request))):
        if session is None:
            return _headers(no_session(request))
        form = _form(request)
        challenge_id = request.POST.get("challenge", "")[:20]
        challenge = Challenge.objects.filter(
            pk=int(challenge_id) if challenge_id.isdigit() else 0,
            task_id=session.link.task_id,
            participant_ref=f"guest:{session.link.email}",
        ).first()
        try:
            guest_decide(
                session=session,
                outcome=form["outcome"],
                comment=form["comment"],
                request_id=form["request_id"],
                meta=request_meta(request),
                challenge_id=challenge_id,
                code=request.POST.get("code", "")[:20],
                accept_agreement=True,
            )
        except ApplicationError as error:
            return _headers(_refused(request, session, form, error, challenge))
        return _headers(redirect(reverse("external:page")))


def _refused(
    request: HttpRequest,
    session: GuestSession,
    form: dict[str, Any],
    error: ApplicationError,
    challenge: Challenge | None = None,
) -> HttpResponse:
    if isinstance(error, RateLimited):
        return _rate_limited(request, error.retry_after)
    if isinstance(error, NotFound | PermissionDenied):
        return _closed(request, "invalid", status=404)
    status = 422
    if isinstance(error, ValidationFailed):
        form["errors"] = error.by_field()
    elif isinstance(error, CodeLocked):
        form["errors"] = {"code": [str(error.message)]}
        challenge, status = None, 423
    elif isinstance(error, CodeNotSent):
        form["errors"] = {"general": [str(error.message)]}
        status = 503
    elif isinstance(error, WorkflowError):
        form["errors"] = {"general": [str(error.message)]}
        status = 409
    else:
        form["errors"] = {"general": [str(error.message)]}
    if (
        challenge is not None
        and "code" in form["errors"]
        and error.code in ("code_dead", "code_expired", "code_replaced")
    ):
        challenge = None  # ask for a new code
    return _render_page(request, session, status=status, form=form, challenge=challenge)


@require_POST
def language(request: HttpRequest) -> HttpResponseBase:
    chosen = request.POST.get("language", "")
    response = redirect(reverse("external:page"))
    if chosen in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            chosen,
            max_age=365 * 24 * 3600,
            path="/g/",
            secure=secure_cookie(),
            httponly=True,
            samesite="Lax",
        )
    return _headers(response)


@require_POST
def leave(request: HttpRequest) -> HttpResponseBase:
    session_end(request.COOKIES.get(COOKIE, ""))
    response = redirect(reverse("external:page"))
    response.delete_cookie(COOKIE, path="/g/")
    return _headers(response)


def _guest_file(
    request: HttpRequest, find: Callable[[GuestSession], HttpResponseBase]
) -> HttpResponseBase:
    """``find``'s answer for the session's guest; no session: the no-session page,
    anything ``find`` does not find for it: the one "invalid" answer."""
    session = guest_session(request)
    with translation.override(_language(request, _org_language(request))):
        if session is None:
            return _headers(no_session(request))
        try:
            return _headers(find(session))
        except NotFound:
            return _headers(invalid(request))


def download(request: HttpRequest, version_id: int) -> HttpResponseBase:
    """A file of the guest's document, checked against the session."""
    return _guest_file(
        request,
        lambda session: file_response(selectors.guest_file(session, version_id)),
    )


def attachment(request: HttpRequest, file_id: int) -> HttpResponseBase:
    """A file attached to a message for guests on the guest's document, checked
    against the session (never an internal message's)."""

    def find(session: GuestSession) -> HttpResponseBase:
        found = guest_attachment(
            organisation_id=session.organisation_id,
            document_id=session.link.task.process.document_id,
            pk=file_id,
        )
        return stored_file_response(
            found.storage_key, name=found.original_name, content_type=found.mime_type
        )

    return _guest_file(request, find)
