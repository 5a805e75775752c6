"""Small helpers for views."""

from __future__ import annotations

from django.http import HttpRequest

from sogla.orgs.models import User


def signed_in_user(request: HttpRequest) -> User:
    """The request's user in a view behind ``login_required``."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required guarantees it
    return user
