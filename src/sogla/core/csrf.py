"""Django's CSRF check, and what it needs on the guest pages (``/g/``).

Guest pages send ``Referrer-Policy: no-referrer`` (the link's token must never
leak, RELIABILITY.md T15). Under that policy a browser sends no ``Referer`` and,
by the Fetch standard, ``Origin: null`` on a form POST, even to its own origin, so
Django's origin check (and on HTTPS its referer check) would refuse every guest
form. For those requests only, the browser's Fetch Metadata decides instead:
``Sec-Fetch-Site: same-origin`` is set by the browser itself (a page cannot set or
forge it) and says the form was posted by a page of this origin. The CSRF token
(cookie and form field) is still checked as everywhere. Anything else (another
path, a real foreign ``Origin``, ``Sec-Fetch-Site: cross-site`` or missing) goes
through Django's checks unchanged.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware as DjangoCsrfViewMiddleware

GUEST_PREFIX = "/g/"


def _guest_same_origin(request: HttpRequest) -> bool:
    return (
        request.path_info.startswith(GUEST_PREFIX)
        and request.META.get("HTTP_ORIGIN", "null") == "null"
        and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"
    )


class CsrfViewMiddleware(DjangoCsrfViewMiddleware):
    def _origin_verified(self, request: HttpRequest) -> bool:
        if _guest_same_origin(request):
            return True
        return bool(super()._origin_verified(request))  # type: ignore[misc]

    def _check_referer(self, request: HttpRequest) -> None:
        if _guest_same_origin(request):
            return
        super()._check_referer(request)  # type: ignore[misc]
