"""Schemas shared by every router: the one error format."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

# Ids are positive 64-bit integers; larger numbers are refused before any query.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Keys of document types, statuses, fields: slugs.
Key = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[-a-zA-Z0-9_]+$")]


class ErrorOut(Schema):
    """One problem: the field it concerns ('' for the request as a whole)."""

    field: str
    code: str
    message: str


class ErrorsOut(Schema):
    """Every 4xx response has this body."""

    errors: list[ErrorOut]


# The error statuses every operation may answer with, declared in the OpenAPI.
ERROR_CODES = frozenset({400, 401, 403, 404, 422})
ERRORS: dict[frozenset[int], type[ErrorsOut]] = {ERROR_CODES: ErrorsOut}
# Commands that the object's state may refuse also answer 409.
CONFLICT_CODES = ERROR_CODES | {409}


def responses(
    schema: Any, status: int = 200, *, conflict: bool = False
) -> dict[Any, Any]:
    """An operation's ``response=``: its success schema plus the declared errors."""
    return {status: schema, (CONFLICT_CODES if conflict else ERROR_CODES): ErrorsOut}


class InSchema(Schema):
    """Base of every input schema: unknown keys are refused (422 ``unknown_field``),
    and no text may contain a NUL character (PostgreSQL cannot store it)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL character")  # reported as "Enter a valid value."
        return value
