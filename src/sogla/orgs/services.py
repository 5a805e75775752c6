"""Commands over users that the users themselves run (their own preferences)."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from sogla.core.errors import FieldProblem, ValidationFailed
from sogla.orgs.models import LANGUAGE_CHOICES, EmailMode, User

_LANGUAGES = {code for code, _name in LANGUAGE_CHOICES}


@transaction.atomic
def user_preferences_update(
    *,
    actor: User,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    language: str | None = None,
    time_zone: str | None = None,
    email_mode: str | None = None,
) -> User:
    """Change the actor's own name, e-mail, language, time zone and how
    notification e-mails come (None = keep)."""
    problems: list[FieldProblem] = []
    changed: dict[str, str] = {}
    _clean_names({"first_name": first_name, "last_name": last_name}, problems, changed)
    if email is not None:
        clean_email = email.strip()
        if clean_email:
            try:
                validate_email(clean_email)
            except ValidationError:
                problems.append(
                    FieldProblem("email", "invalid", _("Enter a valid e-mail."))
                )
        changed["email"] = clean_email
    if language is not None:
        if language and language not in _LANGUAGES:
            problems.append(
                FieldProblem(
                    "language", "invalid", _("Choose one of the offered values.")
                )
            )
        changed["language"] = language
    if time_zone is not None:
        if time_zone and time_zone not in zoneinfo.available_timezones():
            problems.append(
                FieldProblem(
                    "time_zone", "invalid", _("Choose one of the offered values.")
                )
            )
        changed["time_zone"] = time_zone
    if email_mode is not None:
        if email_mode not in EmailMode.values:
            problems.append(
                FieldProblem(
                    "email_mode", "invalid", _("Choose one of the offered values.")
                )
            )
        changed["email_mode"] = email_mode
    if problems:
        raise ValidationFailed(problems)
    for key, value in changed.items():
        setattr(actor, key, value)
    if changed:
        actor.save(update_fields=list(changed))
    return actor


def _clean_names(
    names: dict[str, str | None], problems: list[FieldProblem], changed: dict[str, str]
) -> None:
    """Names with their spaces collapsed into ``changed``; too long ones as problems."""
    limit = 150
    for key, value in names.items():
        if value is None:
            continue
        clean = " ".join(value.split())
        if len(clean) > limit:
            problems.append(
                FieldProblem(
                    key,
                    "too_long",
                    _("At most %(limit)d characters.") % {"limit": limit},
                )
            )
        changed[key] = clean
