"""Loading a demo organisation's own records: the organisation and its calendar,
departments, people (with their managers and heads), roles, folders and
counterparties; and the summary of who can sign in."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import get_language

from sogla.demo.loading import DemoDataError, DemoLogin, Loading
from sogla.demo.schema import CounterpartyIn, UserData
from sogla.documents.models import Counterparty
from sogla.documents.services import (
    ContactData,
    CounterpartyData,
    counterparty_create,
    folder_ensure,
)
from sogla.orgs.models import (
    Department,
    Organisation,
    Position,
    Role,
    User,
    WorkingCalendar,
)


def load_organisation(loading: Loading, today: date | None) -> None:
    """The organisation, its calendar, departments, people, roles and folders."""
    loading.org = _organisation(loading)
    loading.today = today or timezone.localdate(
        timezone=ZoneInfo(loading.org.time_zone)
    )
    _calendar(loading)
    new_departments = _departments(loading)
    _people(loading)
    _department_heads(loading, new_departments)
    _roles(loading)
    for path in loading.data.organisation.folders:
        folder_ensure(organisation=loading.org, path=path)


def load_counterparties(loading: Loading) -> None:
    """The counterparties, created by the organisation's acting user."""
    actor = _actor(loading)
    if actor is not None:
        for party in loading.data.counterparties:
            _counterparty(loading, actor, party)


def _organisation(loading: Loading) -> Organisation:
    data = loading.data.organisation
    org, created = Organisation.objects.get_or_create(
        slug=data.slug,
        defaults={
            "name": data.name,
            "name_en": data.name_en,
            "country": data.country,
            "time_zone": data.time_zone,
            "language": data.language,
        },
    )
    loading.created["organisation"] += created
    return org


def _calendar(loading: Loading) -> None:
    data = loading.data.organisation.calendar
    _calendar, created = WorkingCalendar.objects.get_or_create(
        organisation=loading.org,
        defaults={
            "working_weekdays": data.working_weekdays,
            "day_starts": data.day_starts,
            "day_ends": data.day_ends,
            "use_public_holidays": data.use_public_holidays,
        },
    )
    loading.created["calendar"] += created


def _departments(loading: Loading) -> set[str]:
    new: set[str] = set()
    for data in loading.data.organisation.departments:
        parent = None
        if data.parent is not None:
            if data.parent not in loading.departments:
                raise DemoDataError(
                    f"department {data.code}: parent {data.parent} must come first"
                )
            parent = loading.departments[data.parent]
        department, created = Department.objects.get_or_create(
            organisation=loading.org,
            code=data.code,
            defaults={"name": data.name, "name_en": data.name_en, "parent": parent},
        )
        if not created and data.name_en and not department.name_en:
            department.name_en = data.name_en  # a demo loaded before English names
            department.save(update_fields=["name_en"])
        loading.departments[data.code] = department
        if created:
            new.add(data.code)
    loading.created["departments"] += len(new)
    return new


def _people(loading: Loading) -> None:
    """The demo users: new ones with the demo password, then their managers."""
    positions: dict[str, Position] = {}
    for person in loading.data.organisation.users:
        existing = User.objects.filter(username=person.username).first()
        if existing is None:
            loading.users[person.username] = _new_user(loading, person, positions)
            loading.new_users.add(person.username)
        elif existing.organisation_id != loading.org.pk:
            loading.warn(
                f"the username {person.username!r} belongs to someone outside "
                "this organisation; left alone"
            )
        else:
            loading.users[person.username] = existing
            if loading.reset_passwords:
                existing.password = loading.password_hash
                existing.save(update_fields=["password"])
    loading.created["users"] += len(loading.new_users)
    for person in loading.data.organisation.users:
        if person.username in loading.new_users and person.manager:
            user = loading.users[person.username]
            user.manager = loading.user(person.manager, f"manager of {user.username}")
            if user.manager is not None:
                user.save(update_fields=["manager"])


def _new_user(
    loading: Loading, person: UserData, positions: dict[str, Position]
) -> User:
    position = None
    if person.position:
        if person.position not in positions:
            positions[person.position], created = Position.objects.get_or_create(
                organisation=loading.org, name=person.position
            )
            loading.created["positions"] += created
        position = positions[person.position]
    if person.department is not None and person.department not in loading.departments:
        raise DemoDataError(f"user {person.username}: no such department")
    user = User(
        username=person.username,
        email=f"{person.username}@{loading.data.organisation.email_domain}",
        first_name=person.first_name,
        last_name=person.last_name,
        middle_name=person.middle_name,
        organisation=loading.org,
        department=loading.departments.get(person.department or ""),
        position=position,
        language=person.language,
        phone=person.phone,
        is_staff=person.is_staff,
    )
    user.password = loading.password_hash
    user.save()
    return user


def _department_heads(loading: Loading, new_departments: set[str]) -> None:
    for data in loading.data.organisation.departments:
        if data.code in new_departments and data.head:
            department = loading.departments[data.code]
            department.head = loading.user(data.head, f"head of {data.code}")
            if department.head is not None:
                department.save(update_fields=["head"])


def _roles(loading: Loading) -> None:
    roles: dict[str, tuple[Role, bool]] = {}
    for data in loading.data.organisation.roles:
        role, created = Role.objects.get_or_create(
            organisation=loading.org,
            key=data.key,
            defaults={"name_ru": data.name_ru, "name_en": data.name_en},
        )
        roles[data.key] = (role, created)
        loading.created["roles"] += created
    for person in loading.data.organisation.users:
        user = loading.users.get(person.username)
        for key in person.roles:
            if key not in roles:
                raise DemoDataError(f"user {person.username}: no such role {key}")
            role, role_created = roles[key]
            # Only links that are new with the role or the person: a membership
            # an administrator removed stays removed.
            if user is not None and (
                role_created or person.username in loading.new_users
            ):
                role.members.add(user)
                loading.created["role memberships"] += 1


def _actor(loading: Loading) -> User | None:
    actor = loading.users.get(loading.data.organisation.actor)
    if actor is None and loading.users:
        actor = next(iter(loading.users.values()))
    if actor is None:
        loading.warn("no demo user to act for the organisation; counterparties skipped")
    return actor


def _counterparty(loading: Loading, actor: User, data: CounterpartyIn) -> None:
    party = Counterparty.objects.for_org(loading.org).filter(tax_id=data.tax_id).first()
    if party is None:
        party = counterparty_create(
            actor=actor,
            data=CounterpartyData(
                name=data.name,
                tax_id=data.tax_id,
                category=data.category,
                address=data.address,
                note=data.note,
                contacts=[
                    ContactData(
                        name=c.name,
                        email=c.email,
                        phone=c.phone,
                        position=c.position,
                    )
                    for c in data.contacts
                ],
            ),
        )
        loading.created["counterparties"] += 1
        if data.folder:
            # The folder remembered on the counterparty (S1, S7), as a filed
            # document would leave it.
            party.folder = folder_ensure(organisation=loading.org, path=data.folder)
            party.save(update_fields=["folder"])
    loading.parties[data.tax_id] = party


def logins(loading: Loading) -> list[DemoLogin]:
    """Who can sign in, with their roles (for the command's summary)."""
    by_user: dict[int, list[str]] = {}
    memberships = Role.members.through.objects.filter(
        role__organisation=loading.org, user__in=list(loading.users.values())
    ).values_list("user_id", "role__name_ru", "role__name_en")
    english = get_language() == "en"  # the listing is in one language
    for user_id, name_ru, name_en in memberships.order_by("role_id"):
        by_user.setdefault(user_id, []).append(name_en if english else name_ru)
    return [
        DemoLogin(
            organisation=loading.org.slug,
            username=username,
            full_name=user.get_full_name(),
            roles=by_user.get(user.pk, []),
            is_admin=user.is_staff,
            password_set=username in loading.new_users or loading.reset_passwords,
        )
        for username, user in loading.users.items()
    ]
