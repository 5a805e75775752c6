"""Read-only queries about people: delegations in force, role holders."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from sogla.core.errors import NotFound, ValidationFailed
from sogla.core.prepared import Prepared
from sogla.orgs.models import (
    CalendarDay,
    Delegation,
    Department,
    Invitation,
    Organisation,
    Position,
    Role,
    User,
    WorkingCalendar,
)


def active_delegate(
    user: User, day: date, in_force: Mapping[int, Delegation] | None = None
) -> User | None:
    """Who stands in for ``user`` on ``day`` (the latest-starting delegation wins).

    Chains are followed (A away -> B, B away -> C gives C) up to the organisation's
    size, and a cycle ends at the last person not yet visited. ``in_force`` is
    ``delegations_in_force(organisation, day)`` when the caller has it (no query).
    """
    seen = {user.pk}
    current = user
    while True:
        if in_force is not None:
            delegation = in_force.get(current.pk)
        else:
            delegation = (
                Delegation.objects.for_org(user.organisation_id or 0)
                .filter(
                    from_user=current,
                    starts_on__lte=day,
                    ends_on__gte=day,
                    cancelled_at=None,
                )
                .select_related("to_user")
                .order_by("-starts_on", "-id")
                .first()
            )
        if delegation is None or delegation.to_user_id in seen:
            return current if current.pk != user.pk else None
        if not delegation.to_user.is_active:
            return current if current.pk != user.pk else None
        seen.add(delegation.to_user_id)
        current = delegation.to_user


def _in_force(organisation_id: int, day: Any) -> QuerySet[Delegation]:
    # ``day`` as a plain parameter (ISO text), so that the query compiles once.
    return (
        Delegation.objects.for_org(organisation_id)
        .filter(
            starts_on__lte=RawSQL("%s", [day]),
            ends_on__gte=RawSQL("%s", [day]),
            cancelled_at=None,
        )
        .select_related("to_user")
        .order_by("-starts_on", "-id")
    )


# Run on every command that opens a stage: compiled once (``core.prepared``).
_in_force_prepared = Prepared(_in_force, args=(int, str))


def delegations_in_force(organisation_id: int, day: date) -> dict[int, Delegation]:
    """Per person who is away on ``day``, the delegation ``active_delegate`` follows
    for them (the latest-starting one), with one query."""
    found: dict[int, Delegation] = {}
    for delegation in _in_force_prepared.all(organisation_id, day.isoformat()):
        found.setdefault(delegation.from_user_id, delegation)
    return found


_by_username: dict[int, Prepared[User]] = {}


def users_by_username(organisation_id: int, usernames: Iterable[str]) -> list[User]:
    """The organisation's users with these usernames (active or not), with one
    query compiled once per number of names (``core.prepared``)."""
    names = sorted(set(usernames))
    if not names:
        return []
    prepared = _by_username.get(len(names))
    if prepared is None:
        prepared = _by_username.setdefault(
            len(names),
            Prepared(
                lambda org, *wanted: User.objects.filter(
                    organisation_id=org, username__in=list(wanted)
                ),
                args=(int, *(str,) * len(names)),
            ),
        )
    return prepared.all(organisation_id, *names)


def role_holders(organisation_id: int, role_key: str) -> list[User]:
    return list(
        User.objects.filter(
            organisation_id=organisation_id,
            is_active=True,
            roles__key=role_key,
            roles__organisation_id=organisation_id,
        ).order_by("last_name", "first_name")
    )


# --- the organisation's structure, as the settings screens and the API show it --------


# Every signed-in request reads its user (``orgs.backends.UserBackend``): compiled
# once (``core.prepared``, ADR 0002), the organisation joined.
_user_with_organisation: Prepared[User] = Prepared(
    lambda pk: User.objects.select_related("organisation").filter(pk=pk), arity=1
)


def user_with_organisation(pk: int) -> User:
    """The user with their organisation (``select_related``) in one statement;
    ``User.DoesNotExist`` when there is none."""
    return _user_with_organisation.get(pk)


def organisation_of(organisation_id: int) -> Organisation:
    """The organisation itself (its settings screen); fresh from the database."""
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        raise NotFound()
    return organisation


def departments_of(organisation_id: int) -> list[Department]:
    """The departments as a tree, depth first, each with ``depth`` set."""
    rows = list(
        Department.objects.for_org(organisation_id)
        .select_related("head", "parent")
        .order_by("name")
    )
    children: dict[int | None, list[Department]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    ordered: list[Department] = []

    def walk(parent: int | None, depth: int) -> None:
        for row in children.get(parent, []):
            row.depth = depth  # type: ignore[attr-defined]
            ordered.append(row)
            walk(row.pk, depth + 1)

    walk(None, 0)
    return ordered


def department_by_code(organisation_id: int, code: str) -> Department:
    department = Department.objects.for_org(organisation_id).filter(code=code).first()
    if department is None:
        raise NotFound()
    return department


def roles_of(organisation_id: int) -> list[Role]:
    return list(
        Role.objects.for_org(organisation_id)
        .prefetch_related("members")
        .order_by("key")
    )


def role_by_key(organisation_id: int, key: str) -> Role:
    role = Role.objects.for_org(organisation_id).filter(key=key).first()
    if role is None:
        raise NotFound()
    return role


def positions_of(organisation_id: int) -> list[Position]:
    return list(Position.objects.for_org(organisation_id).order_by("name"))


def active_people(organisation_id: int) -> list[User]:
    """Active people of the organisation, by name."""
    return list(
        User.objects.filter(organisation_id=organisation_id, is_active=True).order_by(
            "last_name", "first_name", "username"
        )
    )


def people_by_ids(organisation_id: int, ids: list[int], field: str) -> list[User]:
    """The active people ``ids`` of the organisation; a problem on ``field`` for any
    other id (another organisation's person answers the same as a missing one)."""
    found = list(
        User.objects.filter(organisation_id=organisation_id, is_active=True, pk__in=ids)
    )
    if len(found) != len(set(ids)):
        raise ValidationFailed.single(field, "invalid", _("No such person."))
    return found


def calendar_settings(
    organisation_id: int,
) -> tuple[WorkingCalendar | None, list[CalendarDay]]:
    calendar = WorkingCalendar.objects.filter(organisation_id=organisation_id).first()
    days = list(
        CalendarDay.objects.filter(organisation_id=organisation_id).order_by("date")
    )
    return calendar, days


def people_of(organisation_id: int | None) -> list[User]:
    """The organisation's people for the people screen, with ``joined`` and
    ``pending_invitation`` (the latest open one, or None) set on each."""
    if organisation_id is None:
        return []
    accepted = Invitation.objects.filter(user=OuterRef("pk"), accepted_at__isnull=False)
    people: list[User] = list(
        User.objects.filter(organisation_id=organisation_id)
        .select_related("department")
        .annotate(accepted=Exists(accepted))
        .order_by("-is_active", "last_name", "first_name", "email")
    )
    open_invitations: dict[int, Invitation] = {}
    for invitation in (
        Invitation.objects.for_org(organisation_id)
        .filter(accepted_at=None, revoked_at=None)
        .order_by("created_at")
    ):
        open_invitations[invitation.user_id] = invitation
    for person in people:
        person.joined = person.accepted or person.has_usable_password()  # type: ignore[attr-defined]
        person.pending_invitation = open_invitations.get(person.pk)  # type: ignore[attr-defined]
    return people


@dataclass
class PeoplePage:
    items: list[User]
    total: int


def people_directory(
    organisation_id: int, *, q: str = "", offset: int = 0, limit: int = 50
) -> PeoplePage:
    """Active people of the organisation by name, whose name or username holds every
    word of ``q`` (any case, Cyrillic too), with their department and roles; three
    queries whatever the page. Words are matched here, not in SQL: SQLite's LIKE
    folds only ASCII letters."""
    people = User.objects.filter(organisation_id=organisation_id, is_active=True)
    words = q.replace("\x00", "").casefold().split()
    rows = people.order_by("last_name", "first_name", "username", "pk").values_list(
        "pk", "last_name", "first_name", "middle_name", "username"
    )
    ids = [
        pk
        for pk, *names in rows
        if all(any(w in n.casefold() for n in names) for w in words)
    ]
    page = ids[offset : offset + limit]
    found = {
        u.pk: u
        for u in people.filter(pk__in=page)
        .select_related("department")
        .prefetch_related(
            Prefetch(
                "roles",
                queryset=Role.objects.for_org(organisation_id).order_by("key"),
            )
        )
    }
    return PeoplePage([found[pk] for pk in page if pk in found], len(ids))
