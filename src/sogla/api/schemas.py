"""Schemas shared by every router: the one error format."""

from __future__ import annotations

from ninja import Schema


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
