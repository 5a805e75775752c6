"""Who may do what inside an organisation."""

from __future__ import annotations

from typing import Any

from sogla.orgs.models import User


def is_org_admin(user: Any) -> bool:
    """An administrator of their own organisation (Django staff with an organisation)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and user.organisation_id is not None
    )


def manager_of(user: User) -> User | None:
    """The explicit manager, else the head of the user's department (not oneself)."""
    if user.manager_id is not None:
        return user.manager
    department = user.department
    while department is not None:
        head = department.head
        if head is not None and head.pk != user.pk:
            return head
        department = department.parent
    return None
