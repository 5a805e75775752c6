"""Commands over users that the users themselves run (their own preferences)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from sogla.core.errors import FieldProblem, ValidationFailed
from sogla.orgs.models import (
    LANGUAGE_CHOICES,
    EmailMode,
    NotificationMode,
    NotificationPreference,
    User,
)

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


@transaction.atomic
def notification_preferences_set(
    *,
    actor: User,
    modes: Mapping[str, str],
    kinds: Sequence[tuple[str, str, bool]],
) -> None:
    """The actor's e-mail choice per kind of notice (``kinds``: the offered kinds,
    (kind, label, essential)); "" = as the general setting. Essential kinds
    cannot be turned off."""
    essential = {kind: is_essential for kind, _label, is_essential in kinds}
    problems: list[FieldProblem] = []
    for kind, mode in modes.items():
        if kind not in essential or (mode and mode not in NotificationMode.values):
            problems.append(
                FieldProblem(kind, "invalid", _("Choose one of the offered values."))
            )
        elif mode == NotificationMode.OFF and essential[kind]:
            problems.append(
                FieldProblem(
                    kind,
                    "essential",
                    _("This notice asks you to act; it cannot be turned off."),
                )
            )
    if problems:
        raise ValidationFailed(problems)
    org_id = actor.organisation_id
    if org_id is None:
        raise ValidationFailed([FieldProblem("user", "invalid", _("No organisation."))])
    NotificationPreference.objects.filter(user=actor, kind__in=list(modes)).delete()
    NotificationPreference.objects.bulk_create(
        [
            NotificationPreference(
                organisation_id=org_id, user=actor, kind=kind, mode=mode
            )
            for kind, mode in modes.items()
            if mode
        ]
    )


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
