"""Loading the demo organisations from ``data/`` through the product's own services.

``demo_load`` is idempotent: it looks every record up by a stable key (organisation
slug, department code, username, role key, counterparty tax id, document type key)
and creates only what is missing. It never changes a record that already exists,
so whatever people did in the demo organisation survives a second run. The only
exception is asked for explicitly: ``reset_passwords`` sets the demo password again.

Sample documents come with their document type: they are created in the run that
creates the type, so a second run (or a type the administrator changed) adds none.
Route templates (``routes/*.json``) are created and published by the organisation's
administrator when no template has their key; a sample document with a ``process``
is started on its route and moved on by the decisions listed, through the workflow
services, so the inbox, the route map and the history have something to show.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from pydantic import ValidationError as PydanticValidationError

from sogla.core.errors import ApplicationError, ValidationFailed
from sogla.demo.pdf import simple_pdf
from sogla.demo.schema import (
    DATA_DIR,
    CounterpartyIn,
    DocumentIn,
    DocumentTypeIn,
    OrganisationBundle,
    ProcessIn,
    RouteFileIn,
    read_bundles,
)
from sogla.documents import naming
from sogla.documents.models import (
    Counterparty,
    Document,
    DocumentType,
    FieldDef,
    FieldKind,
    StatusDef,
    StatusMeaning,
    StatusToken,
)
from sogla.documents.services import (
    ContactData,
    CounterpartyData,
    NewFile,
    counterparty_create,
    document_create,
    folder_ensure,
)
from sogla.documents.uploads import bytes_upload
from sogla.engine.conditions import parse_condition, referenced_fields
from sogla.orgs.access import is_org_admin
from sogla.orgs.models import (
    Department,
    Organisation,
    Position,
    Role,
    User,
    WorkingCalendar,
)
from sogla.workflow.models import RouteTemplate, Task, TaskState
from sogla.workflow.services import (
    process_resubmit,
    process_start,
    route_template_create,
    route_version_publish,
    route_version_save_draft,
    task_decide,
)

logger = logging.getLogger(__name__)

# Deliberately weak and the same for everyone: the demo is for trying Sogla out on a
# private machine.
DEMO_PASSWORD = "demo"  # noqa: S105


class DemoDataError(Exception):
    """The demo data files contradict themselves (a bug in the data, not user input)."""


class _MissingUser(Exception):
    """A sample refers to a demo user who could not be created (username taken)."""


@dataclass
class DemoLogin:
    organisation: str
    username: str
    full_name: str
    roles: list[str]
    is_admin: bool
    password_set: bool


@dataclass
class DemoOrganisationReport:
    slug: str
    name: str
    created: Counter[str] = field(default_factory=Counter)


@dataclass
class DemoReport:
    organisations: list[DemoOrganisationReport] = field(default_factory=list)
    logins: list[DemoLogin] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    password: str = DEMO_PASSWORD

    @property
    def created_anything(self) -> bool:
        return any(sum(org.created.values()) for org in self.organisations)


@transaction.atomic
def demo_load(
    *,
    reset_passwords: bool = False,
    data_dir: Path = DATA_DIR,
    today: date | None = None,
) -> DemoReport:
    """Create whatever is missing of the demo organisations; one transaction."""
    try:
        bundles = read_bundles(data_dir)
    except PydanticValidationError as error:
        raise DemoDataError(str(error)) from error
    report = DemoReport()
    # Hashed once (the same salt for all demo users, whose password is public anyway):
    # hashing twenty times would take seconds. Validators do not run on purpose.
    password_hash = make_password(DEMO_PASSWORD)
    for bundle in bundles:
        _OrganisationLoader(
            bundle, report, reset_passwords=reset_passwords, password_hash=password_hash
        ).load(today)
    return report


class _OrganisationLoader:
    def __init__(
        self,
        bundle: OrganisationBundle,
        report: DemoReport,
        *,
        reset_passwords: bool,
        password_hash: str,
    ) -> None:
        self.data = bundle
        self.report = report
        self.reset_passwords = reset_passwords
        self.org_report = DemoOrganisationReport(
            slug=bundle.organisation.slug, name=bundle.organisation.name
        )
        self.created = self.org_report.created
        self.departments: dict[str, Department] = {}
        self.users: dict[str, User] = {}
        self.new_users: set[str] = set()
        self.parties: dict[str, Counterparty] = {}
        self.new_types: dict[str, DocumentType] = {}
        self.templates: dict[str, RouteTemplate] = {}
        self.password_hash = password_hash

    def warn(self, message: str) -> None:
        logger.warning("demo %s: %s", self.org_report.slug, message)
        self.report.warnings.append(f"{self.org_report.slug}: {message}")

    # --- the steps, in order ------------------------------------------------------

    def load(self, today: date | None) -> None:
        self.org = self._organisation()
        self.today = today or timezone.localdate(timezone=ZoneInfo(self.org.time_zone))
        self._calendar()
        new_departments = self._departments()
        self._users()
        self._department_heads(new_departments)
        self._roles()
        for path in self.data.organisation.folders:
            folder_ensure(organisation=self.org, path=path)
        actor = self._actor()
        if actor is not None:
            for party in self.data.counterparties:
                self._counterparty(actor, party)
        for doc_type in self.data.document_types:
            self._document_type(doc_type)
        admin = self.users.get(self.data.organisation.actor)
        if admin is not None and is_org_admin(admin):
            for route in sorted(self.data.routes, key=lambda r: r.template.order):
                self._route(admin, route)
        elif self.data.routes:
            self.warn(
                "no administrator to publish the routes; routes and processes skipped"
            )
        for document in self.data.documents:
            self._document(document)
        self.report.organisations.append(self.org_report)
        self._logins()

    def _organisation(self) -> Organisation:
        data = self.data.organisation
        org, created = Organisation.objects.get_or_create(
            slug=data.slug,
            defaults={
                "name": data.name,
                "country": data.country,
                "time_zone": data.time_zone,
                "language": data.language,
            },
        )
        self.created["organisation"] += created
        return org

    def _calendar(self) -> None:
        data = self.data.organisation.calendar
        _calendar, created = WorkingCalendar.objects.get_or_create(
            organisation=self.org,
            defaults={
                "working_weekdays": data.working_weekdays,
                "day_starts": data.day_starts,
                "day_ends": data.day_ends,
                "use_public_holidays": data.use_public_holidays,
            },
        )
        self.created["calendar"] += created

    def _departments(self) -> set[str]:
        new: set[str] = set()
        for data in self.data.organisation.departments:
            parent = None
            if data.parent is not None:
                if data.parent not in self.departments:
                    raise DemoDataError(
                        f"department {data.code}: parent {data.parent} must come first"
                    )
                parent = self.departments[data.parent]
            department, created = Department.objects.get_or_create(
                organisation=self.org,
                code=data.code,
                defaults={"name": data.name, "parent": parent},
            )
            self.departments[data.code] = department
            if created:
                new.add(data.code)
        self.created["departments"] += len(new)
        return new

    def _users(self) -> None:
        data = self.data.organisation
        positions: dict[str, Position] = {}
        for person in data.users:
            existing = User.objects.filter(username=person.username).first()
            if existing is not None:
                if existing.organisation_id != self.org.pk:
                    self.warn(
                        f"the username {person.username!r} belongs to someone outside "
                        "this organisation; left alone"
                    )
                    continue
                self.users[person.username] = existing
                if self.reset_passwords:
                    existing.password = self.password_hash
                    existing.save(update_fields=["password"])
                continue
            position = None
            if person.position:
                if person.position not in positions:
                    positions[person.position], created = (
                        Position.objects.get_or_create(
                            organisation=self.org, name=person.position
                        )
                    )
                    self.created["positions"] += created
                position = positions[person.position]
            if (
                person.department is not None
                and person.department not in self.departments
            ):
                raise DemoDataError(f"user {person.username}: no such department")
            user = User(
                username=person.username,
                email=f"{person.username}@{data.email_domain}",
                first_name=person.first_name,
                last_name=person.last_name,
                middle_name=person.middle_name,
                organisation=self.org,
                department=self.departments.get(person.department or ""),
                position=position,
                language=person.language,
                phone=person.phone,
                is_staff=person.is_staff,
            )
            user.password = self.password_hash
            user.save()
            self.users[person.username] = user
            self.new_users.add(person.username)
        self.created["users"] += len(self.new_users)
        for person in data.users:
            if person.username in self.new_users and person.manager:
                user = self.users[person.username]
                user.manager = self._user(person.manager, f"manager of {user.username}")
                if user.manager is not None:
                    user.save(update_fields=["manager"])

    def _department_heads(self, new_departments: set[str]) -> None:
        for data in self.data.organisation.departments:
            if data.code in new_departments and data.head:
                department = self.departments[data.code]
                department.head = self._user(data.head, f"head of {data.code}")
                if department.head is not None:
                    department.save(update_fields=["head"])

    def _roles(self) -> None:
        roles: dict[str, tuple[Role, bool]] = {}
        for data in self.data.organisation.roles:
            role, created = Role.objects.get_or_create(
                organisation=self.org,
                key=data.key,
                defaults={"name_ru": data.name_ru, "name_en": data.name_en},
            )
            roles[data.key] = (role, created)
            self.created["roles"] += created
        for person in self.data.organisation.users:
            user = self.users.get(person.username)
            for key in person.roles:
                if key not in roles:
                    raise DemoDataError(f"user {person.username}: no such role {key}")
                role, role_created = roles[key]
                # Only links that are new with the role or the person: a membership
                # an administrator removed stays removed.
                if user is not None and (
                    role_created or person.username in self.new_users
                ):
                    role.members.add(user)
                    self.created["role memberships"] += 1

    def _actor(self) -> User | None:
        actor = self.users.get(self.data.organisation.actor)
        if actor is None and self.users:
            actor = next(iter(self.users.values()))
        if actor is None:
            self.warn(
                "no demo user to act for the organisation; counterparties skipped"
            )
        return actor

    def _user(self, username: str, what: str) -> User | None:
        user = self.users.get(username)
        if user is None:
            if not any(p.username == username for p in self.data.organisation.users):
                raise DemoDataError(f"{what}: no demo user {username}")
            self.warn(f"{what}: user {username!r} is not in the organisation; skipped")
        return user

    # --- counterparties -------------------------------------------------------------

    def _counterparty(self, actor: User, data: CounterpartyIn) -> None:
        party = (
            Counterparty.objects.for_org(self.org).filter(tax_id=data.tax_id).first()
        )
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
            self.created["counterparties"] += 1
            if data.folder:
                # The folder remembered on the counterparty (S1, S7), as a filed
                # document would leave it.
                party.folder = folder_ensure(organisation=self.org, path=data.folder)
                party.save(update_fields=["folder"])
        self.parties[data.tax_id] = party

    # --- document types ---------------------------------------------------------------

    def _document_type(self, data: DocumentTypeIn) -> None:
        if DocumentType.objects.for_org(self.org).filter(key=data.key).exists():
            return
        check_document_type(data)
        doc_type = DocumentType.objects.create(
            organisation=self.org,
            key=data.key,
            name_ru=data.name_ru,
            name_en=data.name_en,
            prefix=data.prefix,
            numbering_pattern=data.numbering_pattern,
            title_template=data.title_template,
            folder_rule=data.folder_rule,
            has_files=data.has_files,
            confidential=data.confidential,
            description_ru=data.description_ru,
            description_en=data.description_en,
            order=len(self.new_types) + 1,
        )
        department_choices = [
            {"value": code, "ru": department.name, "en": department.name}
            for code, department in self.departments.items()
        ]
        FieldDef.objects.bulk_create(
            FieldDef(
                organisation=self.org,
                doc_type=doc_type,
                key=f.key,
                label_ru=f.label_ru,
                label_en=f.label_en,
                kind=f.kind,
                required=f.required,
                required_when=f.required_when,
                choices=(
                    department_choices
                    if f.choices_from == "departments"
                    else [c.model_dump() for c in f.choices]
                ),
                help_ru=f.help_ru,
                help_en=f.help_en,
                order=order,
                show_in_registry=f.show_in_registry,
            )
            for order, f in enumerate(data.fields)
        )
        StatusDef.objects.bulk_create(
            StatusDef(
                organisation=self.org,
                doc_type=doc_type,
                key=s.key,
                name_ru=s.name_ru,
                name_en=s.name_en,
                meaning=s.meaning,
                token=s.token,
                is_initial=s.initial,
                order=order,
            )
            for order, s in enumerate(data.statuses)
        )
        self.new_types[data.key] = doc_type
        self.created["document types"] += 1

    # --- routes -------------------------------------------------------------------------

    def _route(self, admin: User, data: RouteFileIn) -> None:
        meta = data.template
        existing = RouteTemplate.objects.for_org(self.org).filter(key=meta.key).first()
        if existing is not None:
            self.templates[meta.key] = existing
            return
        doc_type = (
            DocumentType.objects.for_org(self.org).filter(key=meta.doc_type).first()
        )
        if doc_type is None:
            self.warn(f"route {meta.key}: no document type {meta.doc_type}; skipped")
            return
        owner = (
            self._user(meta.owner, f"owner of route {meta.key}") if meta.owner else None
        )
        try:
            template = route_template_create(
                actor=admin,
                doc_type=doc_type,
                key=meta.key,
                name_ru=meta.name_ru,
                name_en=meta.name_en,
                owner=owner,
                suggest_when=meta.suggest_when,
                order=meta.order,
            )
            draft = route_version_save_draft(
                actor=admin, template=template, definition=data.definition
            )
            route_version_publish(actor=admin, version=draft)
        except ValidationFailed as error:
            raise DemoDataError(f"route {meta.key}: {error}") from error
        self.templates[meta.key] = template
        self.created["route templates"] += 1

    def _process(self, document: Document, initiator: User, data: ProcessIn) -> None:
        """Start the sample's route and make its decisions, as the people would."""
        template = self.templates.get(data.route)
        if template is None:
            if self.templates:  # else no routes at all, and that was said once
                self.warn(f"no route {data.route} for a sample {document.doc_type.key}")
            return
        start = (
            timezone.now() - timedelta(days=data.started_days_ago)
            if data.started_days_ago
            else None
        )
        try:
            process = process_start(
                actor=initiator, document=document, template=template, now=start
            )
            for index, move in enumerate(data.decisions):
                person = self._user(move.by, f"a decision on {document.number}")
                if person is None:
                    return
                if move.outcome == "resubmit":
                    process_resubmit(
                        actor=person, process=process, comment=move.comment
                    )
                    continue
                task = (
                    Task.objects.for_org(self.org)
                    .filter(process=process, assignee=person, state=TaskState.OPEN)
                    .order_by("created_at", "pk")
                    .first()
                )
                if task is None:
                    raise DemoDataError(
                        f"{document.number}: {move.by} has no open task "
                        f"for decision {index + 1}"
                    )
                task_decide(
                    actor=person,
                    task_id=task.pk,
                    outcome=move.outcome,
                    comment=move.comment,
                    request_id=f"demo-{process.pk}-{index + 1}",
                    fields={k: self._value(v) for k, v in move.fields.items()},
                    now=start + timedelta(hours=2 * (index + 1)) if start else None,
                )
        except (ApplicationError, _MissingUser) as error:
            raise DemoDataError(f"{document.number}: {error!r}") from error
        self.created["processes"] += 1

    # --- documents ----------------------------------------------------------------------

    def _document(self, data: DocumentIn) -> None:
        doc_type = self.new_types.get(data.type)
        if doc_type is None:  # the type was there before this run: its samples too
            return
        initiator = self._user(data.initiator, f"initiator of a {data.type}")
        if initiator is None:
            return
        try:
            values = {key: self._value(value) for key, value in data.values.items()}
        except _MissingUser:
            return  # already warned
        files = [
            NewFile(bytes_upload(f.field, f.name, simple_pdf(f.lines)), f.field)
            for f in data.files
        ]
        try:
            document = document_create(
                actor=initiator, doc_type=doc_type, values=values, files=files
            )
        except ValidationFailed as error:
            raise DemoDataError(f"a sample {data.type}: {error}") from error
        if data.status is not None:
            # Demo data only: a few documents are shown as already finished.
            document.status = StatusDef.objects.get(doc_type=doc_type, key=data.status)
            document.save(update_fields=["status", "updated_at"])
        self.created["documents"] += 1
        if data.process is not None:
            self._process(document, initiator, data.process)

    def _value(self, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        if "user" in value:
            return self._user_id(value["user"])
        if "users" in value:
            return [self._user_id(name) for name in value["users"]]
        if "role" in value:
            role = Role.objects.for_org(self.org).get(key=value["role"])
            return sorted(role.members.values_list("pk", flat=True))
        if "counterparty" in value:
            party = self.parties.get(value["counterparty"])
            if party is None:
                raise DemoDataError(f"no demo counterparty {value['counterparty']}")
            return party.pk
        if "days" in value:
            return (self.today + timedelta(days=int(value["days"]))).isoformat()
        raise DemoDataError(f"unknown reference {dict(value)!r}")

    def _user_id(self, username: str) -> int:
        user = self._user(username, "a sample document's field")
        if user is None:
            raise _MissingUser(username)
        return user.pk

    # --- the summary --------------------------------------------------------------------

    def _logins(self) -> None:
        by_user: dict[int, list[str]] = {}
        memberships = Role.members.through.objects.filter(
            role__organisation=self.org, user__in=list(self.users.values())
        ).values_list("user_id", "role__name_en")
        for user_id, role_name in memberships.order_by("role_id"):
            by_user.setdefault(user_id, []).append(role_name)
        for username, user in self.users.items():
            self.report.logins.append(
                DemoLogin(
                    organisation=self.org.slug,
                    username=username,
                    full_name=user.get_full_name(),
                    roles=by_user.get(user.pk, []),
                    is_admin=user.is_staff,
                    password_set=username in self.new_users or self.reset_passwords,
                )
            )


def check_document_type(data: DocumentTypeIn) -> None:
    """The checks an administrator's form would make, applied to the demo data."""
    problems: list[str] = []
    keys = {f.key for f in data.fields}
    if len(keys) != len(data.fields):
        problems.append("field keys repeat")
    for f in data.fields:
        if f.kind not in FieldKind.values:
            problems.append(f"{f.key}: unknown kind {f.kind}")
        if f.kind == FieldKind.CHOICE and not (f.choices or f.choices_from):
            problems.append(f"{f.key}: a choice field without choices")
        if f.required_when is not None:
            try:
                condition = parse_condition(f.required_when)
            except PydanticValidationError as error:
                problems.append(f"{f.key}: bad condition: {error}")
            else:
                problems += [
                    f"{f.key}: condition reads unknown field {name}"
                    for name in referenced_fields(condition) - keys
                ]
    statuses = {s.key for s in data.statuses}
    if len(statuses) != len(data.statuses):
        problems.append("status keys repeat")
    if sum(s.initial for s in data.statuses) != 1:
        problems.append("exactly one status must be initial")
    problems += [
        f"status {s.key}: unknown meaning or colour"
        for s in data.statuses
        if s.meaning not in StatusMeaning.values or s.token not in StatusToken.values
    ]
    problems += [
        f"numbering pattern: unknown {{{name}}}"
        for name in naming.unknown_placeholders(
            data.numbering_pattern, naming.NUMBER_PLACEHOLDERS
        )
    ]
    known = naming.TITLE_BUILTINS | {"yyyy"} | keys
    for what, template in (
        ("title", data.title_template),
        ("folder", data.folder_rule),
    ):
        problems += [
            f"{what} template: unknown {{{name}}}"
            for name in naming.unknown_placeholders(template, known)
        ]
    if problems:
        raise DemoDataError(f"document type {data.key}: " + "; ".join(problems))
