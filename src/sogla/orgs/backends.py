"""The password backend: Django's ``ModelBackend``, with the signed-in user read
together with their organisation in one prepared statement.

Every signed-in request loads its user (``django.contrib.auth.get_user``), and the
first middleware after it reads the user's organisation (the language and time
zone to activate); a page's shell names the organisation too. ``ModelBackend``
reads the user, and the organisation afterwards, each compiled by the ORM on every
request. Here one statement joins them, compiled once per process and prepared on
the server (``orgs.selectors.user_with_organisation``, ``core.prepared``).

Nothing is kept between requests: the user is read from the database on every
request, so a deactivated user or a changed password (Django's session hash check,
which runs on the user this returns) ends the session at once, and a logout ends
it on every process.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from sogla.orgs.models import User
from sogla.orgs.selectors import user_with_organisation


class UserBackend(ModelBackend):
    """``ModelBackend`` (password sign-in, permissions) whose ``get_user`` reads the
    user with their organisation: one statement instead of two."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = user_with_organisation(int(user_id))
        except (User.DoesNotExist, TypeError, ValueError):
            return None
        return user if self.user_can_authenticate(user) else None
