"""Errors raised by services and turned into translated messages by the interfaces."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

Message = str | Promise


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one input field: the field's key, a code and a message."""

    field: str
    code: str
    message: Message

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": str(self.message)}


class ApplicationError(Exception):
    """A command that cannot be carried out; nothing was changed."""

    code = "error"

    def __init__(self, message: Message, *, code: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code


NOT_FOUND_MESSAGE = gettext_lazy("Not found or no access.")


class NotFound(ApplicationError):
    """The object does not exist or the actor may not see it (never tell which).

    The message is always the same, so that it says nothing about which it was.
    """

    code = "not_found"

    def __init__(
        self, message: Message = NOT_FOUND_MESSAGE, *, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)


class PermissionDenied(ApplicationError):
    code = "forbidden"


class RateLimited(ApplicationError):
    """Too many of one command in a while; ``retry_after`` seconds until allowed."""

    code = "rate_limited"

    def __init__(self, message: Message, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class ValidationFailed(ApplicationError):
    """Input failed validation; ``problems`` names every field that is wrong."""

    code = "invalid"

    def __init__(self, problems: Iterable[FieldProblem]) -> None:
        self.problems = list(problems)
        summary = "; ".join(f"{p.field}: {p.message}" for p in self.problems)
        super().__init__(summary)

    @classmethod
    def single(cls, field: str, code: str, message: Message) -> ValidationFailed:
        return cls([FieldProblem(field, code, message)])

    def by_field(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.field, []).append(str(problem.message))
        return grouped
