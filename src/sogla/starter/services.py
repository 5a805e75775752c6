"""Installing a library template into an organisation: one transaction.

The template's roles are created when missing and given the people the
administrator named ("who is your lawyer?"); its document type is created through
the documents services (the same checks as the settings screens and the API), and
its routes are created and published through the workflow services, checked against
the new type. Installing again adds what is missing (a route deleted since, more
people in a role) and duplicates nothing. A type of the same key that did not come
from this template is never touched: the administrator chooses to install under
another key (``rename``) or not at all (``skip``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from django.db import transaction
from django.utils.translation import gettext as _

from sogla.core.access import is_org_admin
from sogla.core.audit import audit_record
from sogla.core.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed
from sogla.core.request_meta import RequestMeta
from sogla.documents.models import DocumentType
from sogla.documents.services import (
    FieldSpec,
    StatusSpec,
    TypeSpec,
    document_type_create,
)
from sogla.orgs.models import Department, Organisation, Role, User
from sogla.starter.library import (
    LibraryTemplate,
    expand_definition,
    library_template,
    type_choices,
)
from sogla.starter.models import TemplateInstall
from sogla.workflow.models import RouteTemplate
from sogla.workflow.services import (
    route_template_create,
    route_version_publish,
    route_version_save_draft,
)

#: ``ask`` refuses a clash with a clear problem; ``keep`` (the demo) uses a type of
#: the same key as it is and adds only the missing routes.
OnClash = Literal["ask", "rename", "skip", "keep"]


class KeyClash(ValidationFailed):
    """A type with the template's key exists and did not come from this template."""

    code = "key_clash"


@dataclass
class InstallResult:
    template: LibraryTemplate
    doc_type: DocumentType | None = None
    type_created: bool = False
    skipped: bool = False
    already_installed: bool = False
    roles_created: list[str] = field(default_factory=list)
    routes_created: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def headed_departments(org_id: int) -> list[tuple[str, str]]:
    """(code, name) of the departments with a head, in the order they were made."""
    return list(
        Department.objects.for_org(org_id)
        .filter(head__isnull=False)
        .order_by("pk")
        .values_list("code", "name")
    )


def all_departments(org_id: int) -> list[tuple[str, str, str]]:
    """(code, name, English name) of every department, in the order they were made."""
    return list(
        Department.objects.for_org(org_id)
        .order_by("pk")
        .values_list("code", "name", "name_en")
    )


def type_spec(template: LibraryTemplate, org_id: int, key: str) -> TypeSpec:
    data = template.document_type
    choices = type_choices(data, all_departments(org_id))
    return TypeSpec(
        key=key,
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
        fields=[
            FieldSpec(
                key=f.key,
                label_ru=f.label_ru,
                label_en=f.label_en,
                kind=f.kind,
                required=f.required,
                required_when=f.required_when,
                choices=choices[f.key],
                help_ru=f.help_ru,
                help_en=f.help_en,
                show_in_registry=f.show_in_registry,
            )
            for f in data.fields
        ],
        statuses=[
            StatusSpec(s.key, s.name_ru, s.name_en, s.meaning, s.token, s.initial)
            for s in data.statuses
        ],
    )


@transaction.atomic
def template_install(
    *,
    organisation: Organisation,
    actor: User | None,
    key: str,
    role_holders: Mapping[str, Sequence[User]] | None = None,
    on_clash: OnClash = "ask",
    new_key: str = "",
    route_owners: Mapping[str, User] | None = None,
    meta: RequestMeta | None = None,
) -> InstallResult:
    """Install the library template ``key`` into ``organisation``.

    ``actor`` is the organisation's administrator; without one (the demo loading an
    organisation that has none) only the roles and the type are made, no routes.
    """
    org_id = organisation.pk
    if actor is not None and not (
        is_org_admin(actor) and actor.organisation_id == org_id
    ):
        raise PermissionDenied(_("Only an administrator can install templates."))
    template = library_template(key)
    if template is None:
        raise NotFound()
    result = InstallResult(template=template)
    holders = _checked_holders(org_id, template, role_holders or {})
    install = (
        TemplateInstall.objects.filter(organisation_id=org_id, template_key=key)
        .select_related("doc_type")
        .first()
    )
    if install is not None:
        result.doc_type = install.doc_type
        result.already_installed = True
    else:
        if not _new_type(result, org_id, actor, template, on_clash, new_key, meta):
            return result
    _roles(result, org_id, template, holders)
    if actor is not None and result.doc_type is not None:
        _routes(result, org_id, actor, template, holders, route_owners or {}, meta)
    audit_record(
        organisation_id=org_id,
        verb="template.installed",
        actor=actor,
        actor_label="" if actor is not None else "system",
        target_type="doctype",
        target_id=result.doc_type.pk if result.doc_type else "",
        payload={
            "template": key,
            "doc_type": result.doc_type.key if result.doc_type else None,
            "type_created": result.type_created,
            "roles_created": result.roles_created,
            "routes_created": result.routes_created,
            "holders": {k: [u.pk for u in v] for k, v in holders.items() if v},
        },
        request_meta=meta,
    )
    return result


def _checked_holders(
    org_id: int, template: LibraryTemplate, role_holders: Mapping[str, Sequence[User]]
) -> dict[str, list[User]]:
    known = {r.key for r in template.roles}
    problems = []
    holders: dict[str, list[User]] = {}
    for role_key, users in role_holders.items():
        if role_key not in known:
            problems.append(
                FieldProblem(
                    f"role_{role_key}", "unknown", _("The template has no such role.")
                )
            )
            continue
        for user in users:
            if user.organisation_id != org_id or not user.is_active:
                problems.append(
                    FieldProblem(f"role_{role_key}", "invalid", _("No such person."))
                )
        holders[role_key] = list(users)
    if problems:
        raise ValidationFailed(problems)
    return holders


def _new_type(
    result: InstallResult,
    org_id: int,
    actor: User | None,
    template: LibraryTemplate,
    on_clash: OnClash,
    new_key: str,
    meta: RequestMeta | None,
) -> bool:
    """Create the template's type (or settle the clash); False when skipped."""
    type_key = template.document_type.key
    existing = DocumentType.objects.for_org(org_id).filter(key=type_key).first()
    if existing is not None:
        if on_clash == "skip":
            result.skipped = True
            return False
        if on_clash == "keep":
            result.doc_type = existing
            return True
        if on_clash != "rename":
            raise KeyClash(
                [
                    FieldProblem(
                        "on_clash",
                        "key_clash",
                        _(
                            "A document type with the key “%(key)s” exists already. "
                            "Install the template under another key, or skip it: "
                            "the existing type is not changed."
                        )
                        % {"key": type_key},
                    )
                ]
            )
        type_key = new_key.strip()
        if not type_key or type_key == template.document_type.key:
            raise ValidationFailed(
                [FieldProblem("new_key", "required", _("Give the new type a key."))]
            )
    spec = type_spec(template, org_id, type_key)
    try:
        doc_type = document_type_create(
            actor=actor, spec=spec, organisation_id=org_id, meta=meta
        )
    except ValidationFailed as error:
        raise ValidationFailed(
            FieldProblem("new_key" if p.field == "key" else p.field, p.code, p.message)
            for p in error.problems
        ) from error
    TemplateInstall.objects.create(
        organisation_id=org_id,
        template_key=template.key,
        doc_type=doc_type,
        installed_by=actor,
    )
    result.doc_type = doc_type
    result.type_created = True
    return True


def _roles(
    result: InstallResult,
    org_id: int,
    template: LibraryTemplate,
    holders: Mapping[str, Sequence[User]],
) -> None:
    for data in template.roles:
        role, created = Role.objects.get_or_create(
            organisation_id=org_id,
            key=data.key,
            defaults={"name_ru": data.name_ru, "name_en": data.name_en},
        )
        if created:
            result.roles_created.append(data.key)
        people = holders.get(data.key)
        if people:
            role.members.add(*people)


def _route_key(
    template_route_key: str, doc_type: DocumentType, default_key: str
) -> str:
    if doc_type.key == default_key:
        return template_route_key
    return f"{doc_type.key.replace('_', '-')}-{template_route_key}"[:60]


def _routes(
    result: InstallResult,
    org_id: int,
    actor: User,
    template: LibraryTemplate,
    holders: Mapping[str, Sequence[User]],
    owners: Mapping[str, User],
    meta: RequestMeta | None,
) -> None:
    doc_type = result.doc_type
    if doc_type is None:
        return
    departments = headed_departments(org_id)
    extra = {"meta": meta} if meta is not None else {}
    for route in sorted(template.routes, key=lambda r: r.order):
        key = _route_key(route.key, doc_type, template.document_type.key)
        existing = RouteTemplate.objects.for_org(org_id).filter(key=key).first()
        if existing is not None:
            if existing.doc_type_id != doc_type.pk:
                result.warnings.append(
                    _(
                        "A route with the key “%(key)s” belongs to another type; skipped."
                    )
                    % {"key": key}
                )
            continue
        owner = owners.get(route.key) or _role_owner(org_id, route.owner_role, holders)
        definition = {**expand_definition(route.definition, departments), "key": key}
        created = route_template_create(
            actor=actor,
            doc_type=doc_type,
            key=key,
            name_ru=route.name_ru,
            name_en=route.name_en,
            owner=owner or actor,
            suggest_when=route.suggest_when,
            order=route.order,
            **extra,
        )
        draft = route_version_save_draft(
            actor=actor, template=created, definition=definition, **extra
        )
        route_version_publish(actor=actor, version=draft, **extra)
        result.routes_created.append(key)


def _role_owner(
    org_id: int, role_key: str | None, holders: Mapping[str, Sequence[User]]
) -> User | None:
    if not role_key:
        return None
    named = holders.get(role_key)
    if named:
        return named[0]
    role = Role.objects.for_org(org_id).filter(key=role_key).first()
    return role.members.filter(is_active=True).order_by("pk").first() if role else None
