"""Route templates for administrators: the list, and one with its definitions."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from sogla.core.access import is_org_admin, organisation_id_of
from sogla.core.errors import NotFound, PermissionDenied
from sogla.orgs.models import User
from sogla.workflow.models import RouteTemplate, RouteVersion, RouteVersionStatus


@dataclass
class RouteTemplateDetail:
    template: RouteTemplate
    draft: RouteVersion | None
    published: RouteVersion | None  # the latest published version


def _admin_org(user: User) -> int:
    org_id = organisation_id_of(user)
    if not is_org_admin(user):
        raise PermissionDenied(_("Only an administrator may change routes."))
    return org_id


def route_templates_for_admin(*, user: User) -> list[RouteTemplateDetail]:
    """Every route template of the organisation with its draft and latest version.

    Two queries: the templates, and their versions' numbers and states (definitions
    are not loaded).
    """
    org_id = _admin_org(user)
    templates = list(
        RouteTemplate.objects.for_org(org_id)
        .select_related("doc_type", "owner")
        .order_by("order", "key")
    )
    versions = (
        RouteVersion.objects.for_org(org_id)
        .filter(template__in=templates)
        .defer("definition")
        .order_by("template_id", "number")
    )
    drafts: dict[int, RouteVersion] = {}
    published: dict[int, RouteVersion] = {}
    for version in versions:
        if version.status == RouteVersionStatus.DRAFT:
            drafts[version.template_id] = version
        else:
            published[version.template_id] = version
    return [
        RouteTemplateDetail(t, drafts.get(t.pk), published.get(t.pk)) for t in templates
    ]


def route_template_for_admin(*, user: User, key: str) -> RouteTemplateDetail:
    """One route template by key with its draft and latest published definitions.

    NotFound for a key the organisation does not have (whoever asks), then
    PermissionDenied for anyone but an administrator.
    """
    template = (
        RouteTemplate.objects.for_org(organisation_id_of(user))
        .select_related("doc_type", "owner")
        .filter(key=key)
        .first()
    )
    if template is None:
        raise NotFound()
    _admin_org(user)
    draft = RouteVersion.objects.filter(
        template=template, status=RouteVersionStatus.DRAFT
    ).first()
    published = (
        RouteVersion.objects.filter(
            template=template, status=RouteVersionStatus.PUBLISHED
        )
        .order_by("-number")
        .first()
    )
    return RouteTemplateDetail(template, draft, published)
