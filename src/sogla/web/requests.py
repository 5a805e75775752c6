"""Small helpers for views."""

from __future__ import annotations

from django.http import HttpRequest

from sogla.orgs.models import User


def signed_in_user(request: HttpRequest) -> User:
    """The request's user in a view behind ``login_required``."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required guarantees it
    return user


def is_partial(request: HttpRequest, target: str) -> bool:
    """An htmx request that swaps only the element ``target`` (not a history restore):
    the view answers with that part of the page alone."""
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return bool(htmx.target == target and not htmx.history_restore_request)
