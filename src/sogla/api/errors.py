"""Turning exceptions into the API's error format, with translated messages.

Every 4xx body is ``{"errors": [{"field": ..., "code": ..., "message": ...}]}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from sogla.core.errors import (
    NOT_FOUND_MESSAGE,
    ApplicationError,
    FieldProblem,
    Message,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)

if TYPE_CHECKING:
    from ninja import NinjaAPI

# Where ninja says a value came from; the client only cares about the field.
_SOURCES = {"body", "query", "path", "form", "file", "header", "cookie"}
# Names of compound parameters in our operations (a Schema read as a whole).
_WRAPPERS = {"payload", "filters"}


T = TypeVar("T")


# --- a service's refusal of something a body names: 422 on that field -------------------
#
# A selector or service answers NotFound for an object the caller may not see; when
# the object was named in the body or the query (not in the path), the request as a
# whole is fine and the answer is a 422 on the field that named it. These are the one
# place that turns one into the other.


@contextmanager
def refused_as(field: str, code: str, message: Message) -> Iterator[None]:
    """Inside, a ``NotFound`` becomes a 422 on ``field`` with ``code``/``message``."""
    try:
        yield
    except NotFound:
        raise ValidationFailed.single(field, code, message) from None


def stale_cursor() -> Any:
    """Inside, a page cursor the server did not issue answers 422 on ``cursor``."""
    return refused_as("cursor", "invalid", _("This page link is no longer valid."))


def found(value: T | None, field: str, message: Message, code: str = "invalid") -> T:
    """``value``, or a 422 on ``field`` when a look-up found nothing."""
    if value is None:
        raise ValidationFailed.single(field, code, message)
    return value


def no_such_person() -> str:
    return _("No such person.")


def people_or_refused(
    found_people: Mapping[int, T], wanted: Mapping[str, Iterable[int]]
) -> None:
    """A 422 naming every field (of ``wanted``: field -> ids) with an id that
    ``found_people`` lacks."""
    problems = [
        FieldProblem(field, "invalid", no_such_person())
        for field, ids in wanted.items()
        if any(i not in found_people for i in ids)
    ]
    if problems:
        raise ValidationFailed(problems)


def error_body(
    problems: Iterable[Mapping[str, str]],
) -> dict[str, list[dict[str, str]]]:
    return {"errors": [dict(p) for p in problems]}


def respond(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    field: str,
    code: str,
    message: str,
) -> HttpResponse:
    body = error_body([{"field": field, "code": code, "message": message}])
    return api.create_response(request, body, status=status)


def field_from_loc(loc: Iterable[Any]) -> str:
    """("body", "payload", "contacts", 0, "email") -> "contacts[0].email"."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in _WRAPPERS:
        parts = parts[1:]
    elif parts and parts[0] in _WRAPPERS:
        parts = []
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message_for(error: Mapping[str, Any]) -> tuple[str, str]:
    """A translated message and a stable code for one pydantic error."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required", _("This field is required.")
    if kind == "extra_forbidden":
        return "unknown_field", _("There is no such field.")
    if kind.startswith(("int_", "float_", "decimal_")) and kind.endswith(
        ("_parsing", "_type")
    ):
        return "invalid", _("Enter a number.")
    if kind in {"greater_than_equal", "greater_than"}:
        return "too_small", _("Enter a value of at least %(limit)s.") % {
            "limit": ctx.get("ge", ctx.get("gt", ""))
        }
    if kind in {"less_than_equal", "less_than"}:
        return "too_large", _("Enter a value of at most %(limit)s.") % {
            "limit": ctx.get("le", ctx.get("lt", ""))
        }
    if kind == "string_too_long":
        return "too_long", _("At most %(limit)s characters.") % {
            "limit": ctx.get("max_length", "")
        }
    if kind == "string_too_short":
        return "required", _("This field is required.")
    if kind in {"enum", "literal_error"}:
        return "invalid", _("Choose one of the offered values.")
    if kind.startswith("bool"):
        return "invalid", _("Choose yes or no.")
    if kind.startswith("date"):
        return "invalid", _("Enter a date such as 2025-12-31.")
    if kind in {
        "string_type",
        "dict_type",
        "list_type",
        "model_type",
        "model_attributes_type",
    }:
        return "invalid", _("This value has the wrong type.")
    return "invalid", _("Enter a valid value.")


def validation_problems(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    problems = []
    for error in errors:
        code, message = _message_for(error)
        problems.append(
            {
                "field": field_from_loc(error.get("loc", ())),
                "code": code,
                "message": message,
            }
        )
    return problems


def install(api: NinjaAPI) -> None:
    """Register the handlers on ``api`` (replacing ninja's ``{"detail": ...}`` ones)."""

    def on_validation_failed(request: HttpRequest, exc: Any) -> HttpResponse:
        body = error_body(p.as_dict() for p in exc.problems)
        return api.create_response(request, body, status=422)

    def on_not_found(request: HttpRequest, _exc: Any) -> HttpResponse:
        return respond(api, request, 404, "", "not_found", str(NOT_FOUND_MESSAGE))

    def on_permission_denied(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(api, request, 403, "", exc.code, str(exc.message))

    def on_rate_limited(request: HttpRequest, exc: Any) -> HttpResponse:
        response = respond(api, request, 429, "", exc.code, str(exc.message))
        response["Retry-After"] = str(exc.retry_after)
        return response

    def on_application_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(api, request, 422, "", exc.code, str(exc.message))

    def on_ninja_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        body = error_body(validation_problems(exc.errors))
        return api.create_response(request, body, status=422)

    def on_authentication(request: HttpRequest, _exc: Any) -> HttpResponse:
        return respond(
            api,
            request,
            401,
            "",
            "not_authenticated",
            _("Sign in or send a valid API token."),
        )

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        status = exc.status_code
        if status == 400:
            return respond(
                api,
                request,
                400,
                "",
                "parse_error",
                _("The request body is not valid JSON."),
            )
        if status == 403 and "CSRF" in exc.message:
            return respond(
                api,
                request,
                403,
                "",
                "csrf_failed",
                _("The security check failed. Reload the page and try again."),
            )
        if status == 401:
            return on_authentication(request, AuthenticationError())
        if status == 404:
            return on_not_found(request, exc)
        return respond(api, request, status, "", "error", str(exc.message))

    api.add_exception_handler(ValidationFailed, on_validation_failed)
    api.add_exception_handler(NotFound, on_not_found)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(PermissionDenied, on_permission_denied)
    api.add_exception_handler(RateLimited, on_rate_limited)
    api.add_exception_handler(ApplicationError, on_application_error)
    api.add_exception_handler(NinjaValidationError, on_ninja_validation)
    api.add_exception_handler(AuthenticationError, on_authentication)
    api.add_exception_handler(HttpError, on_http_error)
