"""What every page's shell needs: the organisation, the navigation and the languages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sogla.orgs.access import is_org_admin


def shell(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    return {
        "organisation": getattr(user, "organisation", None),
        "is_org_admin": is_org_admin(user),
        "nav_section": _section(match.view_name if match else ""),
    }


def _section(view_name: str) -> str:
    """Which navigation item is current for the page being rendered."""
    if view_name.startswith("documents:counterparty"):
        return "counterparties"
    if view_name in {"documents:new", "documents:create"}:
        return "new"
    if view_name.startswith("documents:"):
        return "registry"
    if view_name.startswith("accounts:"):
        return "account"
    return ""
