"""Loading the demo route templates: created and published by the organisation's
administrator through the workflow services, when no template has their key."""

from __future__ import annotations

from sogla.core.access import is_org_admin
from sogla.core.errors import ValidationFailed
from sogla.demo.loading import DemoDataError, Loading
from sogla.demo.schema import RouteFileIn
from sogla.documents.models import DocumentType
from sogla.orgs.models import User
from sogla.workflow.models import RouteTemplate
from sogla.workflow.services import (
    route_template_create,
    route_version_publish,
    route_version_save_draft,
)


def load_routes(loading: Loading) -> None:
    admin = loading.users.get(loading.data.organisation.actor)
    if admin is not None and is_org_admin(admin):
        for route in sorted(loading.data.routes, key=lambda r: r.template.order):
            if loading.data.own_type(route.template.doc_type):
                _route(loading, admin, route)
    elif loading.data.routes:
        loading.warn(
            "no administrator to publish the routes; routes and processes skipped"
        )


def _route(loading: Loading, admin: User, data: RouteFileIn) -> None:
    meta = data.template
    existing = RouteTemplate.objects.for_org(loading.org).filter(key=meta.key).first()
    if existing is not None:
        loading.templates[meta.key] = existing
        return
    doc_type = (
        DocumentType.objects.for_org(loading.org).filter(key=meta.doc_type).first()
    )
    if doc_type is None:
        loading.warn(f"route {meta.key}: no document type {meta.doc_type}; skipped")
        return
    owner = (
        loading.user(meta.owner, f"owner of route {meta.key}") if meta.owner else None
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
    loading.templates[meta.key] = template
    loading.created["route templates"] += 1
