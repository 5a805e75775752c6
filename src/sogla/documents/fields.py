"""Field values checked against their document type: one parser for forms and API.

Values are stored as JSON: text as strings, numbers and money as decimal strings
(exact), dates as ISO strings, booleans, users and counterparties as ids, several
users as a list of ids. File fields live in DocumentFile rows, not here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sogla.core.errors import FieldProblem, ValidationFailed
from sogla.documents.models import Counterparty, FieldDef, FieldKind
from sogla.engine.conditions import Comparison, Condition, evaluate, parse_condition
from sogla.orgs.models import User

MAX_STRING = 500
MAX_TEXT = 20_000
MAX_NUMBER = Decimal("1e15")

REQUIRED = gettext_lazy("This field is required.")
PERSON_KINDS = frozenset({FieldKind.USER, FieldKind.USERS})  # fields that name people


class _Invalid(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def _is_blank(value: Any) -> bool:
    return (
        value is None or (isinstance(value, str) and not value.strip()) or value == []
    )


def _decimal(raw: Any, places: int | None) -> str:
    if isinstance(raw, bool):
        raise _Invalid(_("Enter a number."))
    text = str(raw).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Invalid(_("Enter a number.")) from None
    if not value.is_finite() or abs(value) >= MAX_NUMBER:
        raise _Invalid(_("Enter a number.")) from None
    if places is not None:
        if value.as_tuple().exponent < -places:  # type: ignore[operator]
            raise _Invalid(_("Use at most two digits after the decimal point."))
        value = value.quantize(Decimal(1).scaleb(-places))
    return str(value)


def _date(raw: Any) -> str:
    text = str(raw).strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()  # noqa: DTZ007
        except ValueError:
            continue
    raise _Invalid(_("Enter a date such as 31.12.2025."))


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "on", "yes", "да"}:
        return True
    if text in {"0", "false", "off", "no", "нет", ""}:
        return False
    raise _Invalid(_("Choose yes or no."))


def _int_id(raw: Any) -> int:
    if isinstance(raw, bool):
        raise _Invalid(_("Choose a value from the list."))
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise _Invalid(_("Choose a value from the list.")) from None
    if not 0 < value < 2**63:
        raise _Invalid(_("Choose a value from the list."))
    return value


def _text(raw: Any, limit: int) -> str:
    if not isinstance(raw, str | int | float | Decimal):
        raise _Invalid(_("Enter text."))
    text = str(raw).strip()
    if "\x00" in text:
        raise _Invalid(_("Enter text."))
    if len(text) > limit:
        raise _Invalid(_("At most %(limit)d characters.") % {"limit": limit})
    return text


def _url(raw: Any) -> str:
    text = _text(raw, 2000)
    try:
        URLValidator(schemes=["http", "https"])(text)
    except ValidationError:
        raise _Invalid(
            _("Enter a web address starting with http:// or https://.")
        ) from None
    return text


_SPLIT = re.compile(r"[,\s]+")


def _id_list(raw: Any) -> list[int]:
    items = raw if isinstance(raw, list | tuple) else _SPLIT.split(str(raw).strip())
    return sorted({_int_id(item) for item in items if str(item).strip()})


_PARSERS: dict[str, Callable[[FieldDef, Any], Any]] = {
    FieldKind.STRING: lambda _f, raw: _text(raw, MAX_STRING),
    FieldKind.TEXT: lambda _f, raw: _text(raw, MAX_TEXT),
    FieldKind.NUMBER: lambda _f, raw: _decimal(raw, None),
    FieldKind.MONEY: lambda _f, raw: _decimal(raw, 2),
    FieldKind.DATE: lambda _f, raw: _date(raw),
    FieldKind.BOOL: lambda _f, raw: _bool(raw),
    FieldKind.USER: lambda _f, raw: _int_id(raw),
    FieldKind.USERS: lambda _f, raw: _id_list(raw),
    FieldKind.COUNTERPARTY: lambda _f, raw: _int_id(raw),
    FieldKind.URL: lambda _f, raw: _url(raw),
    FieldKind.CHOICE: lambda f, raw: _choice(f, raw),
}


def _choice(field: FieldDef, raw: Any) -> str:
    value = str(raw).strip()
    if value not in {str(c.get("value")) for c in field.choices or []}:
        raise _Invalid(_("Choose one of the offered values."))
    return value


def required_condition(field: FieldDef) -> Condition | None:
    return parse_condition(field.required_when) if field.required_when else None


def _required_reason(field: FieldDef, by_key: Mapping[str, FieldDef]) -> str:
    """ "Required for «Remote work»": says which value made the field required."""
    condition = required_condition(field)
    if isinstance(condition, Comparison):
        source = by_key.get(condition.field)
        if source is not None:
            value = source.choice_label(condition.value)
            return _("Required when “%(field)s” is “%(value)s”.") % {
                "field": source.label,
                "value": value,
            }
    return str(REQUIRED)


def is_required(field: FieldDef, values: Mapping[str, Any]) -> bool:
    condition = required_condition(field)
    if condition is not None:
        return field.required or evaluate(condition, values)
    return field.required


def clean_values(
    *,
    organisation_id: int,
    fields: Sequence[FieldDef],
    raw: Mapping[str, Any],
    present_files: Iterable[str] | None = (),
    existing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Parse ``raw`` against ``fields`` and return the complete stored values.

    ``existing`` holds the current values when a document is being updated: keys
    absent from ``raw`` keep them. Every problem is collected before raising
    ValidationFailed, so the user sees all of them at once.
    """
    by_key = {f.key: f for f in fields}
    problems: list[FieldProblem] = [
        FieldProblem(key, "unknown_field", _("There is no such field."))
        for key in raw
        if key not in by_key or by_key[key].kind == FieldKind.FILE
    ]
    values: dict[str, Any] = {k: v for k, v in (existing or {}).items() if k in by_key}
    for key, field in by_key.items():
        if field.kind == FieldKind.FILE or key not in raw:
            continue
        value = raw[key]
        if _is_blank(value) and field.kind != FieldKind.BOOL:
            values.pop(key, None)
            continue
        try:
            values[key] = _PARSERS[field.kind](field, value)
        except _Invalid as error:
            problems.append(FieldProblem(key, "invalid", error.message))
            values.pop(key, None)

    problems += _check_references(organisation_id, fields, values)
    files = set(present_files or ())
    for key, field in by_key.items():
        if not is_required(field, values):
            continue
        if field.kind == FieldKind.FILE and present_files is None:
            continue  # the caller uploads files after creating the draft
        missing = (
            key not in files
            if field.kind == FieldKind.FILE
            else _is_blank(values.get(key))
        )
        if missing and not any(p.field == key for p in problems):
            problems.append(
                FieldProblem(key, "required", _required_reason(field, by_key))
            )
    if problems:
        raise ValidationFailed(problems)
    return values


def _check_references(
    organisation_id: int, fields: Sequence[FieldDef], values: Mapping[str, Any]
) -> list[FieldProblem]:
    """Users and counterparties must exist in the same organisation (two queries)."""
    user_ids: dict[str, list[int]] = {}
    party_ids: dict[str, int] = {}
    for field in fields:
        value = values.get(field.key)
        if value is None:
            continue
        if field.kind == FieldKind.USER:
            user_ids[field.key] = [value]
        elif field.kind == FieldKind.USERS:
            user_ids[field.key] = list(value)
        elif field.kind == FieldKind.COUNTERPARTY:
            party_ids[field.key] = value
    problems = []
    wanted_users = {i for ids in user_ids.values() for i in ids}
    if wanted_users:
        known = set(
            User.objects.filter(
                organisation_id=organisation_id, is_active=True, pk__in=wanted_users
            ).values_list("pk", flat=True)
        )
        problems += [
            FieldProblem(
                key, "unknown_user", _("No such employee in this organisation.")
            )
            for key, ids in user_ids.items()
            if not set(ids) <= known
        ]
    if party_ids:
        known = set(
            Counterparty.objects.for_org(organisation_id)
            .filter(pk__in=party_ids.values())
            .values_list("pk", flat=True)
        )
        problems += [
            FieldProblem(key, "unknown_counterparty", _("No such counterparty."))
            for key, pk in party_ids.items()
            if pk not in known
        ]
    return problems


def display_value(field: FieldDef, value: Any) -> str:
    """A stored value as people read it (labels for choices; names resolved elsewhere)."""
    if value is None or value == "":
        return ""
    if field.kind == FieldKind.CHOICE:
        return field.choice_label(value)
    if field.kind == FieldKind.BOOL:
        return str(_("Yes") if value else _("No"))
    if field.kind == FieldKind.DATE:
        from django.utils.formats import date_format

        return date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")
    if field.kind in (FieldKind.MONEY, FieldKind.NUMBER):
        from django.utils.formats import number_format

        decimals = 2 if field.kind == FieldKind.MONEY else None
        return number_format(Decimal(value), decimal_pos=decimals, force_grouping=True)
    return str(value)
