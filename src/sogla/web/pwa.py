"""The installable app (issue 12 item 6): the web app manifest, the service worker
and the offline page.

The service worker caches the app shell (the offline page, CSS, JS, fonts, icons)
and static files only. Pages, partials, files, previews and API responses always go
to the network and are never stored: a cache shared by whoever uses the browser next
must not hold another user's documents. Signed-out pages delete the caches (see
``assets/main.js``). There are no push notifications: no push service is reachable
from the installations Sogla targets (docs/pwa.md).
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

SHELL_ASSETS = (
    "sogla/dist/app.css",
    "sogla/dist/app.js",
    "sogla/dist/fonts/bootstrap-icons.woff2",
    "sogla/favicon.svg",
    "sogla/icons/icon-192.png",
)
THEME = "#0a58ca"


def _shell() -> list[str]:
    urls = []
    for name in SHELL_ASSETS:
        try:
            urls.append(static(name))
        except ValueError:  # not collected (a development checkout): skip it
            continue
    return urls


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    icons = [
        {"src": static("sogla/icons/icon-192.png"), "sizes": "192x192",
         "type": "image/png", "purpose": "any"},
        {"src": static("sogla/icons/icon-512.png"), "sizes": "512x512",
         "type": "image/png", "purpose": "any"},
        {"src": static("sogla/icons/icon-maskable-512.png"), "sizes": "512x512",
         "type": "image/png", "purpose": "maskable"},
    ]  # fmt: skip
    body = {
        "id": "/",
        "name": "Sogla",
        "short_name": "Sogla",
        "description": _("Document approval: your tasks, documents and decisions"),
        "lang": getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE),
        "start_url": reverse("workflow:inbox"),
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": icons,
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    shell = _shell()
    offline = reverse("offline")
    version = hashlib.sha256("\n".join([offline, *shell]).encode()).hexdigest()[:12]
    response = render(
        request,
        "web/sw.js",
        {
            "version": version,
            "shell": json.dumps(shell),
            "offline": json.dumps(offline),
            "static_prefix": json.dumps(str(settings.STATIC_URL)),
        },
        content_type="application/javascript; charset=utf-8",
    )
    # Browsers check for a new worker on navigation; never serve a stale one.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """The page the service worker shows when a page cannot be loaded; it holds no
    user data (it is cached for everyone who uses this browser)."""
    response = render(request, "web/offline.html", {"user": AnonymousUser()})
    response["Cache-Control"] = "no-cache"
    return response
