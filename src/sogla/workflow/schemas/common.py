"""What every approval schema shares: the input base and a reference to a person."""

from __future__ import annotations

from typing import Any

from ninja import Schema

from sogla.api.schemas import InSchema
from sogla.orgs.models import User

In = InSchema
StepKey = str  # "stage.step"


class RefOut(Schema):
    id: int
    name: str


def user_ref(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.short_name}
