"""Who is calling: a personal API token (``Authorization: Bearer``) or the session.

The token is tried first. A request with an ``Authorization`` header is never
authenticated by its cookies, so a bad token is a 401 even in a signed-in browser.
Session requests with unsafe methods must pass Django's CSRF check.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from sogla.orgs.models import User
from sogla.orgs.tokens import api_token_user


def _activate_language(request: HttpRequest, user: User) -> None:
    """Accept-Language when the client sends one, else the user's (or the org's)."""
    if "Accept-Language" in request.headers:
        language = translation.get_language_from_request(request)
    else:
        org = user.organisation
        language = (
            user.language or (org.language if org else "") or settings.LANGUAGE_CODE
        )
    translation.activate(language)
    request.LANGUAGE_CODE = language


def api_user(request: HttpRequest) -> User:
    """The authenticated user of an API operation (ninja puts it in ``request.auth``)."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)  # noqa: S101 - every operation requires auth
    return user


class TokenAuth(HttpBearer):
    """``Authorization: Bearer sgl_...`` with a personal token (see orgs.tokens)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_user(token)
        if user is None:
            return None
        request.user = user
        _activate_language(request, user)
        return user


class SessionAuth(APIKeyCookie):
    """The browser's Django session; unsafe methods need the CSRF token."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if "Authorization" in request.headers:
            return None  # a token was sent: it alone decides
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if check_csrf(request):  # a response means the check failed
            raise HttpError(403, "CSRF check Failed")
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if key is None:
            return None
        user = request.user
        if not user.is_authenticated or not user.is_active:
            return None
        _activate_language(request, user)
        return user


AUTH = [TokenAuth(), SessionAuth()]
