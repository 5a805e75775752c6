"""Schemas shared by every router: the one error format."""

from __future__ import annotations

from typing import Annotated

from ninja import Schema
from pydantic import Field

# Ids are positive 64-bit integers; larger numbers are refused before any query.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


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
