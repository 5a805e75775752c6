"""Per-user language and time zone; security headers on every response."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

# Uploaded content and the API docs never run inline scripts; the app has none.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
    "script-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class UserPreferencesMiddleware:
    """Activate the signed-in user's language and time zone (else the organisation's)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        tz_name = settings.TIME_ZONE
        if user.is_authenticated:
            org = getattr(user, "organisation", None)
            language = user.language or (org.language if org else "")
            tz_name = user.time_zone or (org.time_zone if org else tz_name)
            if language and not request.GET.get("lang"):
                translation.activate(language)
                request.LANGUAGE_CODE = language
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz_name))
        except zoneinfo.ZoneInfoNotFoundError:
            timezone.deactivate()
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """CSP on every page; no caching of pages that show a signed-in user's data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if request.user.is_authenticated and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
