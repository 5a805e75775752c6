"""What every page's shell needs: the organisation and the navigation counters."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {}
    return {"organisation": getattr(user, "organisation", None)}
