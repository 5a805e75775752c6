"""Commands that set up an organisation's structure (administrators): the
organisation's own settings (names, language, time zone, country), departments
(a tree, each with a head), roles and who holds them, positions, the working
calendar (weekly pattern, public holidays of the country, exception days).

Each public function is one transaction and is recorded in the audit log; the
settings screens and the API call the same functions, so both check the same way.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Any

import holidays
from django.db import transaction
from django.utils.translation import gettext as _

from sogla.core.access import is_org_admin
from sogla.core.audit import audit_record
from sogla.core.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed
from sogla.core.request_meta import RequestMeta
from sogla.orgs.models import (
    LANGUAGE_CHOICES,
    CalendarDay,
    Department,
    Organisation,
    Position,
    Role,
    User,
    WorkingCalendar,
)

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


def _admin_org(actor: User) -> int:
    if not is_org_admin(actor) or actor.organisation_id is None:
        raise PermissionDenied(
            _("Only an administrator can change the organisation's settings.")
        )
    return actor.organisation_id


def _audit(
    org_id: int, actor: User, verb: str, target: str, pk: Any, payload: dict[str, Any],
    meta: RequestMeta | None,
) -> None:  # fmt: skip
    audit_record(
        organisation_id=org_id,
        verb=verb,
        actor=actor,
        target_type=target,
        target_id=pk,
        payload=payload,
        request_meta=meta,
    )


def _person(org_id: int, user: User | None, field: str) -> list[FieldProblem]:
    if user is not None and (user.organisation_id != org_id or not user.is_active):
        return [FieldProblem(field, "invalid", _("No such person."))]
    return []


def _name(value: str, field: str = "name") -> list[FieldProblem]:
    if not value.strip():
        return [FieldProblem(field, "required", _("This field is required."))]
    return []


# --- the organisation itself -----------------------------------------------------------

ORGANISATION_SETTINGS = ("name", "name_en", "language", "time_zone", "country")
NAME_LENGTH = 200


def supported_countries() -> list[str]:
    """Country codes whose public holidays the calendar knows (``holidays``)."""
    return sorted(
        code for code in holidays.list_supported_countries() if len(code) == 2
    )


def _organisation_problems(changes: Mapping[str, Any]) -> list[FieldProblem]:
    problems: list[FieldProblem] = [
        FieldProblem(name, "unknown", _("This setting cannot be changed."))
        for name in sorted(set(changes) - set(ORGANISATION_SETTINGS))
    ]
    if "name" in changes:
        problems += _name(str(changes["name"] or ""))
    for field in ("name", "name_en"):
        if len(str(changes.get(field) or "").strip()) > NAME_LENGTH:
            problems.append(
                FieldProblem(
                    field,
                    "too_long",
                    _("At most %(limit)s characters.") % {"limit": NAME_LENGTH},
                )
            )
    offered = {
        "language": {code for code, _label in LANGUAGE_CHOICES},
        "time_zone": zoneinfo.available_timezones(),
        "country": set(supported_countries()),
    }
    for field, values in offered.items():
        if field in changes and changes[field] not in values:
            problems.append(
                FieldProblem(field, "invalid", _("Choose one of the offered values."))
            )
    return problems


@transaction.atomic
def organisation_update(
    *, actor: User, changes: Mapping[str, Any], meta: RequestMeta | None = None
) -> Organisation:
    """Change the organisation's names (Russian and English), its default language
    and time zone, and the country whose public holidays are days off. Only the
    actor's own organisation; the changed values are audited (old and new); saving without a change writes
    nothing."""
    org_id = _admin_org(actor)
    organisation = Organisation.objects.select_for_update().filter(pk=org_id).first()
    if organisation is None:
        raise NotFound()
    problems = _organisation_problems(changes)
    if problems:
        raise ValidationFailed(problems)
    before = {k: getattr(organisation, k) for k in ORGANISATION_SETTINGS}
    for key in ORGANISATION_SETTINGS:
        if key in changes:
            value = changes[key]
            setattr(organisation, key, str(value or "").strip())
    after = {k: getattr(organisation, k) for k in ORGANISATION_SETTINGS}
    changed = {k: {"old": before[k], "new": after[k]}
               for k in ORGANISATION_SETTINGS if before[k] != after[k]}  # fmt: skip
    if changed:
        organisation.save(update_fields=[*changed, "updated_at"])
        if "country" in changed:
            # Other holidays: saving the calendar raises its version, so every
            # process reads the working calendar again (sogla.orgs.calendars).
            calendar_of(org_id).save()
        _audit(org_id, actor, "organisation.changed", "organisation", org_id,
               {"changes": changed}, meta)  # fmt: skip
    return organisation


# --- departments ------------------------------------------------------------------------


@transaction.atomic
def department_create(
    *,
    actor: User,
    name: str,
    code: str,
    parent: Department | None = None,
    head: User | None = None,
    name_en: str = "",
    meta: RequestMeta | None = None,
) -> Department:
    org_id = _admin_org(actor)
    problems = _name(name)
    if not CODE.match(code):
        problems.append(
            FieldProblem(
                "code", "invalid", _("Use lower-case latin letters, digits, - and _.")
            )
        )
    elif Department.objects.for_org(org_id).filter(code=code).exists():
        problems.append(
            FieldProblem("code", "taken", _("A department with this code exists."))
        )
    if parent is not None and parent.organisation_id != org_id:
        problems.append(FieldProblem("parent", "invalid", _("No such department.")))
    problems += _person(org_id, head, "head")
    if problems:
        raise ValidationFailed(problems)
    department = Department.objects.create(
        organisation_id=org_id,
        name=name.strip(),
        name_en=name_en.strip()[:200],
        code=code,
        parent=parent,
        head=head,
    )
    _audit(org_id, actor, "department.created", "department", department.pk,
           {"code": code, "name": department.name, "name_en": department.name_en,
            "parent": parent.code if parent else None,
            "head": head.pk if head else None}, meta)  # fmt: skip
    return department


def _descendant_ids(department: Department) -> set[int]:
    ids: set[int] = set()
    frontier = [department.pk]
    while frontier:
        children = list(
            Department.objects.filter(parent_id__in=frontier).values_list(
                "pk", flat=True
            )
        )
        frontier = [c for c in children if c not in ids]
        ids.update(frontier)
    return ids


DEPARTMENT_SETTINGS = frozenset({"name", "name_en", "parent", "head"})


@transaction.atomic
def department_update(
    *,
    actor: User,
    department: Department,
    changes: Mapping[str, Any],
    meta: RequestMeta | None = None,
) -> Department:
    """Rename (in Russian and English), move in the tree (never under itself) or
    change the head."""
    org_id = _admin_org(actor)
    locked = (
        Department.objects.select_for_update()
        .filter(pk=department.pk, organisation_id=org_id)
        .first()
    )
    if locked is None:
        raise NotFound()
    department = locked
    problems: list[FieldProblem] = [
        FieldProblem(name, "unknown", _("This setting cannot be changed."))
        for name in sorted(set(changes) - DEPARTMENT_SETTINGS)
    ]
    if "name" in changes:
        problems += _name(str(changes["name"]))
    parent = changes.get("parent", department.parent)
    if "parent" in changes and parent is not None:
        if parent.organisation_id != org_id:
            problems.append(FieldProblem("parent", "invalid", _("No such department.")))
        elif parent.pk == department.pk or parent.pk in _descendant_ids(department):
            problems.append(
                FieldProblem(
                    "parent",
                    "cycle",
                    _("A department cannot be placed under itself or its own unit."),
                )
            )
    if "head" in changes:
        problems += _person(org_id, changes["head"], "head")
    if problems:
        raise ValidationFailed(problems)
    before = {
        "name": department.name,
        "name_en": department.name_en,
        "parent": department.parent_id,
        "head": department.head_id,
    }
    if "name" in changes:
        department.name = str(changes["name"]).strip()
    if "name_en" in changes:
        department.name_en = str(changes["name_en"] or "").strip()[:200]
    if "parent" in changes:
        department.parent = parent
    if "head" in changes:
        department.head = changes["head"]
    department.save()
    after = {
        "name": department.name,
        "name_en": department.name_en,
        "parent": department.parent_id,
        "head": department.head_id,
    }
    _audit(org_id, actor, "department.changed", "department", department.pk,
           {"code": department.code,
            "changes": {k: {"old": before[k], "new": after[k]}
                        for k in before if before[k] != after[k]}}, meta)  # fmt: skip
    return department


# --- roles and positions ----------------------------------------------------------------


@transaction.atomic
def role_create(
    *,
    actor: User,
    key: str,
    name_ru: str,
    name_en: str = "",
    members: Iterable[User] = (),
    meta: RequestMeta | None = None,
) -> Role:
    org_id = _admin_org(actor)
    people = list(members)
    problems: list[FieldProblem] = []
    if not CODE.match(key):
        problems.append(
            FieldProblem(
                "key", "invalid", _("Use lower-case latin letters, digits, - and _.")
            )
        )
    elif Role.objects.for_org(org_id).filter(key=key).exists():
        problems.append(FieldProblem("key", "taken", _("A role with this key exists.")))
    if not (name_ru.strip() or name_en.strip()):
        problems.append(
            FieldProblem("name_ru", "required", _("This field is required."))
        )
    for person in people:
        problems += _person(org_id, person, "members")
    if problems:
        raise ValidationFailed(problems)
    role = Role.objects.create(
        organisation_id=org_id,
        key=key,
        name_ru=name_ru.strip() or name_en.strip(),
        name_en=name_en.strip() or name_ru.strip(),
    )
    role.members.set(people)
    _audit(org_id, actor, "role.created", "role", role.pk,
           {"key": key, "members": [p.pk for p in people]}, meta)  # fmt: skip
    return role


@transaction.atomic
def role_update(
    *,
    actor: User,
    role: Role,
    name_ru: str | None = None,
    name_en: str | None = None,
    members: Iterable[User] | None = None,
    meta: RequestMeta | None = None,
) -> Role:
    """Rename a role or set who holds it (the key stays: routes refer to it)."""
    org_id = _admin_org(actor)
    if role.organisation_id != org_id:
        raise NotFound()
    people = list(members) if members is not None else None
    problems: list[FieldProblem] = []
    new_ru = role.name_ru if name_ru is None else name_ru.strip()
    new_en = role.name_en if name_en is None else name_en.strip()
    if not (new_ru or new_en):
        problems.append(
            FieldProblem("name_ru", "required", _("This field is required."))
        )
    for person in people or []:
        problems += _person(org_id, person, "members")
    if problems:
        raise ValidationFailed(problems)
    role.name_ru, role.name_en = new_ru or new_en, new_en or new_ru
    role.save(update_fields=["name_ru", "name_en"])
    payload: dict[str, Any] = {"key": role.key}
    if people is not None:
        before = sorted(role.members.values_list("pk", flat=True))
        role.members.set(people)
        payload["members"] = {"old": before, "new": sorted(p.pk for p in people)}
    _audit(org_id, actor, "role.changed", "role", role.pk, payload, meta)
    return role


@transaction.atomic
def position_create(
    *, actor: User, name: str, meta: RequestMeta | None = None
) -> Position:
    org_id = _admin_org(actor)
    problems = _name(name)
    if Position.objects.for_org(org_id).filter(name=name.strip()).exists():
        problems.append(FieldProblem("name", "taken", _("This position exists.")))
    if problems:
        raise ValidationFailed(problems)
    position = Position.objects.create(organisation_id=org_id, name=name.strip())
    _audit(org_id, actor, "position.created", "position", position.pk,
           {"name": position.name}, meta)  # fmt: skip
    return position


# --- the working calendar ---------------------------------------------------------------


def calendar_of(org_id: int) -> WorkingCalendar:
    calendar, _created = WorkingCalendar.objects.get_or_create(organisation_id=org_id)
    return calendar


@transaction.atomic
def calendar_update(
    *,
    actor: User,
    working_weekdays: Iterable[int],
    day_starts: time,
    day_ends: time,
    use_public_holidays: bool,
    meta: RequestMeta | None = None,
) -> WorkingCalendar:
    org_id = _admin_org(actor)
    days = sorted(set(working_weekdays))
    problems: list[FieldProblem] = []
    if not days or any(d < 0 or d > 6 for d in days):
        problems.append(
            FieldProblem(
                "working_weekdays", "invalid", _("Choose at least one working day.")
            )
        )
    if day_ends <= day_starts:
        problems.append(
            FieldProblem(
                "day_ends", "invalid", _("The working day must end after it starts.")
            )
        )
    if problems:
        raise ValidationFailed(problems)
    calendar = calendar_of(org_id)
    calendar.working_weekdays = ",".join(str(d) for d in days)
    calendar.day_starts = day_starts
    calendar.day_ends = day_ends
    calendar.use_public_holidays = use_public_holidays
    calendar.save()
    _audit(org_id, actor, "calendar.changed", "calendar", calendar.pk,
           {"working_weekdays": calendar.working_weekdays,
            "day_starts": day_starts.isoformat(), "day_ends": day_ends.isoformat(),
            "use_public_holidays": use_public_holidays}, meta)  # fmt: skip
    return calendar


@transaction.atomic
def calendar_day_set(
    *,
    actor: User,
    day: date,
    is_working: bool,
    name: str = "",
    meta: RequestMeta | None = None,
) -> CalendarDay:
    """An exception: a day off on a working day, or a working day off the pattern."""
    org_id = _admin_org(actor)
    calendar = calendar_of(org_id)
    row, _created = CalendarDay.objects.update_or_create(
        organisation_id=org_id,
        calendar=calendar,
        date=day,
        defaults={"is_working": is_working, "name": name.strip()[:200]},
    )
    _audit(org_id, actor, "calendar.day_set", "calendar", calendar.pk,
           {"date": day.isoformat(), "is_working": is_working, "name": row.name},
           meta)  # fmt: skip
    return row


@transaction.atomic
def calendar_day_remove(
    *, actor: User, day: date, meta: RequestMeta | None = None
) -> None:
    org_id = _admin_org(actor)
    deleted, _rows = CalendarDay.objects.filter(
        organisation_id=org_id, date=day
    ).delete()
    if not deleted:
        raise NotFound()
    _audit(org_id, actor, "calendar.day_removed", "calendar", "",
           {"date": day.isoformat()}, meta)  # fmt: skip
