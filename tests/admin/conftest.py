"""Admin test helpers."""

from __future__ import annotations

from typing import Any

from django.test import Client

from sogla.orgs.models import User


def admin_client(user: User) -> Client:
    """A signed-in client; English pages so that tests can read the messages."""
    user.language = "en"
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def management(prefix: str, total: int = 0, initial: int = 0) -> dict[str, Any]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
