"""Route templates and their versions (administrators): create, save a draft,
check it against the organisation, publish. A published version never changes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from sogla.core.access import organisation_id_of
from sogla.core.audit import audit_record
from sogla.core.errors import (
    FieldProblem,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from sogla.core.request_meta import RequestMeta
from sogla.documents.models import DocumentType, FieldDef, StatusDef
from sogla.engine.conditions import parse_condition
from sogla.engine.validation import OrgFacts, validate_route
from sogla.orgs.access import is_org_admin
from sogla.orgs.models import Department, Role, User
from sogla.workflow.error_codes import WorkflowErrorCode
from sogla.workflow.errors import WorkflowError
from sogla.workflow.models import RouteTemplate, RouteVersion, RouteVersionStatus
from sogla.workflow.services.pipeline import NO_META


@transaction.atomic
def route_template_create(
    *,
    actor: User,
    doc_type: DocumentType,
    key: str,
    name_ru: str,
    name_en: str = "",
    owner: User | None = None,
    suggest_when: Mapping[str, Any] | None = None,
    order: int = 0,
    meta: RequestMeta = NO_META,
) -> RouteTemplate:
    """A new route for a document type (administrators)."""
    org_id = organisation_id_of(actor)
    if not is_org_admin(actor):
        raise PermissionDenied(_("Only an administrator may change routes."))
    if doc_type.organisation_id != org_id:
        raise NotFound()
    problems = []
    if not naming_key_ok(key):
        problems.append(
            FieldProblem(
                "key", "invalid", _("Use lower-case letters, digits, - and _.")
            )
        )
    elif RouteTemplate.objects.for_org(org_id).filter(key=key).exists():
        problems.append(
            FieldProblem("key", "duplicate", _("A route with this key already exists."))
        )
    if not name_ru.strip() and not name_en.strip():
        problems.append(
            FieldProblem("name_ru", "required", _("This field is required."))
        )
    if owner is not None and owner.organisation_id != org_id:
        problems.append(FieldProblem("owner", "invalid", _("No such person.")))
    if suggest_when is not None:
        try:
            parse_condition(suggest_when)
        except ValueError:
            problems.append(
                FieldProblem("suggest_when", "invalid", _("This condition is invalid."))
            )
    if problems:
        raise ValidationFailed(problems)
    template = RouteTemplate.objects.create(
        organisation_id=org_id,
        key=key,
        name_ru=name_ru.strip()[:200],
        name_en=name_en.strip()[:200],
        doc_type=doc_type,
        owner=owner,
        suggest_when=dict(suggest_when) if suggest_when is not None else None,
        order=order,
    )
    audit_record(
        organisation_id=org_id,
        verb="route.created",
        actor=actor,
        target_type="route",
        target_id=template.pk,
        payload={"key": key, "doc_type": doc_type.key},
        request_meta=meta,
    )
    return template


def naming_key_ok(key: str) -> bool:
    return bool(re.fullmatch(r"[a-z][a-z0-9_-]{0,59}", key))


def _template_for_admin(actor: User, template: RouteTemplate) -> int:
    org_id = organisation_id_of(actor)
    if template.organisation_id != org_id:
        raise NotFound()
    if not is_org_admin(actor):
        raise PermissionDenied(_("Only an administrator may change routes."))
    return org_id


@transaction.atomic
def route_version_save_draft(
    *,
    actor: User,
    template: RouteTemplate,
    definition: Mapping[str, Any],
    meta: RequestMeta = NO_META,
) -> RouteVersion:
    """Save the template's draft (creating it with the next number if none)."""
    org_id = _template_for_admin(actor, template)
    RouteTemplate.objects.select_for_update().filter(pk=template.pk).first()
    draft = RouteVersion.objects.filter(
        template=template, status=RouteVersionStatus.DRAFT
    ).first()
    if draft is None:
        last = RouteVersion.objects.filter(template=template).aggregate(
            n=Max("number")
        )["n"]
        draft = RouteVersion(
            organisation_id=org_id,
            template=template,
            number=(last or 0) + 1,
            created_by=actor,
        )
    draft.definition = dict(definition)
    draft.revision += 1
    draft.updated_at = timezone.now()
    draft.updated_by = actor
    draft.save()
    audit_record(
        organisation_id=org_id,
        verb="route.draft_saved",
        actor=actor,
        target_type="route",
        target_id=template.pk,
        payload={"version": draft.number},
        request_meta=meta,
    )
    return draft


def org_facts(template: RouteTemplate) -> OrgFacts:
    """What a definition of this template is checked against."""
    org_id = template.organisation_id
    fields = dict(
        FieldDef.objects.filter(doc_type_id=template.doc_type_id).values_list(
            "key", "kind"
        )
    )
    return OrgFacts(
        roles=frozenset(Role.objects.for_org(org_id).values_list("key", flat=True)),
        usernames=frozenset(
            User.objects.filter(organisation_id=org_id).values_list(
                "username", flat=True
            )
        ),
        departments=frozenset(
            Department.objects.for_org(org_id).values_list("code", flat=True)
        ),
        statuses=frozenset(
            StatusDef.objects.filter(doc_type_id=template.doc_type_id).values_list(
                "key", flat=True
            )
        ),
        fields=fields,
    )


def route_problems(template: RouteTemplate, definition: Mapping[str, Any]) -> list[str]:
    """Every problem of a definition for this template, each with its path."""
    return [str(p) for p in validate_route(definition, org_facts(template))]


@transaction.atomic
def route_version_publish(
    *, actor: User, version: RouteVersion, meta: RequestMeta = NO_META
) -> RouteVersion:
    """Publish a draft after validating it; a published version never changes."""
    template = version.template
    org_id = _template_for_admin(actor, template)
    version = RouteVersion.objects.select_for_update().get(
        pk=version.pk, organisation_id=org_id
    )
    if version.status != RouteVersionStatus.DRAFT:
        raise WorkflowError(
            _("This version is already published and cannot change."),
            code=WorkflowErrorCode.ALREADY_PUBLISHED,
        )
    problems = validate_route(version.definition, org_facts(template))
    if problems:
        raise ValidationFailed(
            FieldProblem(p.path or "definition", "invalid", p.message) for p in problems
        )
    version.status = RouteVersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor
    version.save(update_fields=["status", "published_at", "published_by"])
    audit_record(
        organisation_id=org_id,
        verb="route.published",
        actor=actor,
        target_type="route",
        target_id=template.pk,
        payload={"version": version.number, "key": template.key},
        request_meta=meta,
    )
    return version


def route_version_latest_published(template: RouteTemplate) -> RouteVersion | None:
    return (
        RouteVersion.objects.filter(
            template=template, status=RouteVersionStatus.PUBLISHED
        )
        .order_by("-number")
        .first()
    )
