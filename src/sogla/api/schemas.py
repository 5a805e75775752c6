"""Schemas shared by every router: the one error format."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from ninja import Schema
from pydantic import ConfigDict, Field, WithJsonSchema, field_validator

# Ids are positive 64-bit integers; larger numbers are refused before any query.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# A person's username (Django's rule: letters, digits and @.+-_, at most 150).
Username = Annotated[str, Field(min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")]
# Keys of document types, statuses, fields: slugs.
Key = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[-a-zA-Z0-9_]+$")]


class RefOut(Schema):
    """Another object named by its id: a counterparty, a department."""

    id: int
    name: str


class PersonRefOut(Schema):
    """A person named by an answer (who a delegate stands in for, a department's
    head, a role's members): the same three keys everywhere; ``name`` is the full
    name (the username when there is none)."""

    id: int
    username: str
    name: str


class _Person(Protocol):
    @property
    def pk(self) -> Any: ...
    @property
    def username(self) -> str: ...
    def get_full_name(self) -> str: ...


def display_name(user: _Person) -> str:
    """The person's full name, or their username when they have none."""
    return user.get_full_name() or user.username


def person_ref(user: _Person | None) -> dict[str, Any] | None:
    """``{"id", "username", "name"}`` (the full name), or None."""
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": display_name(user)}


# A local time of day as the API writes it ("09:00:00"): without an offset, so not
# the OpenAPI ``format: time`` (RFC 3339 requires one).
LOCAL_TIME_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]+)?)?$",
    "description": "A local time of day, HH:MM:SS.",
}


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


# Text without NUL characters, as the OpenAPI schema tells clients.
NO_NUL_PATTERN = "^[^\\u0000]*$"
# Schema of text that must say something (the server strips it and refuses it blank):
# ``Field(..., json_schema_extra=NON_BLANK)``.
# (Python's whitespace, which the server strips, includes \x1c-\x1f and \x85.)
_SPACE = "\\s\\u001c-\\u001f\\u0085"
NON_BLANK: dict[str, Any] = {
    "pattern": f"^[{_SPACE}]*[^{_SPACE}\\u0000][^\\u0000]*$",
    "minLength": 1,
}
# An e-mail address, empty allowed.
EMAIL_OR_EMPTY: dict[str, Any] = {
    "anyOf": [{"type": "string", "format": "email"}, {"type": "string", "maxLength": 0}]
}
# A Russian taxpayer number (INN): 10 digits for organisations, 12 for persons.
TAX_ID: dict[str, Any] = {"pattern": "^([0-9]{10}|[0-9]{12})?$"}
KPP: dict[str, Any] = {"pattern": "^([0-9]{4}[0-9A-Z]{2}[0-9]{3})?$"}
OGRN: dict[str, Any] = {"pattern": "^([0-9]{13}|[0-9]{15})?$"}
# An optional id sent as a form field (a form cannot send null: leave it out).
OptionalFormId = Annotated[
    int | None,
    Field(None, ge=1, le=MAX_ID),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_ID}),
]


def _declare_no_nul(schema: dict[str, Any]) -> None:
    """Give every plain text property of ``schema`` the NUL-free pattern."""

    def visit(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if node.get("type") == "string" and not (
            {"pattern", "format", "enum", "const"} & node.keys()
        ):
            node["pattern"] = NO_NUL_PATTERN
        for key in ("anyOf", "oneOf", "allOf"):
            for option in node.get(key, ()):
                visit(option)

    for prop in schema.get("properties", {}).values():
        visit(prop)


class InSchema(Schema):
    """Base of every input schema: unknown keys are refused (422 ``unknown_field``),
    and no text may contain a NUL character (PostgreSQL cannot store it); the
    OpenAPI schema says so with a pattern on each text property."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=lambda schema, _model: _declare_no_nul(schema),
    )

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL character")  # reported as "Enter a valid value."
        return value
