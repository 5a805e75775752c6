"""Who may do what inside an organisation."""

from __future__ import annotations

from sogla.core.access import is_org_admin
from sogla.orgs.models import User

__all__ = ["is_org_admin", "manager_of"]


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
