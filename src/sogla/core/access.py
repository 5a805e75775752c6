"""Access helpers every app shares: the actor's organisation and its administrators.

They look only at attributes every Sogla user has (``organisation_id``,
``is_staff``), so the shared kernel needs no import of the tenant app.
"""

from __future__ import annotations

from typing import Any

from sogla.core.errors import NotFound


def is_org_admin(user: Any) -> bool:
    """An administrator of their own organisation (Django staff with an organisation)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and user.organisation_id is not None
    )


def organisation_id_of(user: Any) -> int:
    """The id of the organisation the user acts in; NotFound for a user without one."""
    org_id: int | None = getattr(user, "organisation_id", None)
    if org_id is None:
        raise NotFound()
    return org_id
