"""What every approval schema shares: the input base and a reference to a person."""

from __future__ import annotations

from typing import Any

from sogla.api.schemas import InSchema, PersonRefOut, RefOut, person_ref
from sogla.orgs.models import User

In = InSchema
StepKey = str  # "stage.step"

__all__ = ["In", "PersonRefOut", "RefOut", "StepKey", "person_ref", "user_ref"]


def user_ref(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.short_name}
