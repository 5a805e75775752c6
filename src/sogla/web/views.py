"""Small views of the web layer."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.views.decorators.http import require_GET


@require_GET
def favicon(_request: HttpRequest) -> HttpResponsePermanentRedirect:
    """``/favicon.ico`` for pages without our icon link (the Django admin)."""
    return HttpResponsePermanentRedirect(static("sogla/favicon.svg"))
