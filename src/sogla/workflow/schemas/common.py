"""What every approval schema shares: the input base and a reference to a person."""

from __future__ import annotations

from typing import Any, Protocol

from sogla.api.schemas import InSchema, PersonRefOut, RefOut, person_ref

In = InSchema
StepKey = str  # "stage.step"

__all__ = ["In", "PersonRefOut", "RefOut", "StepKey", "person_ref", "user_ref"]


class _Named(Protocol):
    """A ``User``, or a person read as values (``selectors.PersonValues``)."""

    @property
    def pk(self) -> Any: ...
    @property
    def short_name(self) -> str: ...


def user_ref(user: _Named | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.short_name}
