"""Django's database session store, with the session row read by a statement
compiled once per process (``core.prepared``; prepared on the server on
PostgreSQL) instead of a queryset compiled on every request.

The row is read by its key and its expiry compared here, where Django's store asks
the database for ``expire_date > now``: the same sessions load, an expired one is
no session. Writing, cycling and deleting sessions are Django's. Nothing is kept
between requests, so a logout (the row deleted) ends the session on every process.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.contrib.sessions.models import Session
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone

from sogla.core.prepared import Prepared

_by_key: Prepared[Session] = Prepared(
    lambda key: Session.objects.filter(session_key=key), args=(str,)
)


class SessionStore(DatabaseStore):
    """``SESSION_ENGINE = "sogla.core.sessions"``."""

    def _get_session_from_db(self) -> Any:
        try:
            found = _by_key.all(self.session_key)
        except SuspiciousOperation as error:  # pragma: no cover - as Django's store
            logger = logging.getLogger(f"django.security.{type(error).__name__}")
            logger.warning(str(error))
            found = []
        if found and found[0].expire_date > timezone.now():
            return found[0]
        self._session_key = None
        return None
