"""Small helpers for views."""

from __future__ import annotations

from django.http import HttpRequest

from sogla.orgs.models import User


def signed_in_user(request: HttpRequest) -> User:
    """The request's user in a view behind ``login_required``."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required guarantees it
    return user


def page_or_part(request: HttpRequest, *, page: str, part: str, target: str) -> str:
    """The template to render: ``part`` for an htmx request that swaps only the
    element ``target`` (not a history restore), else the whole ``page``."""
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == target and not htmx.history_restore_request:
        return part
    return page
