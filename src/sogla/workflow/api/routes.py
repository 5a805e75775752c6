"""Route template endpoints, for administrators: list, read, create, save the draft
(with its problems) and publish."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from sogla.api.auth import api_user as _user
from sogla.api.errors import found, no_such_person
from sogla.api.schemas import Key
from sogla.api.schemas import responses as _ok
from sogla.core.errors import ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.documents import selectors as document_selectors
from sogla.engine.validation import Problem, validate_route
from sogla.orgs.models import User
from sogla.workflow import selectors, services
from sogla.workflow.models import RouteTemplate
from sogla.workflow.schemas.routes import (
    RouteDraftIn,
    RouteTemplateDetailOut,
    RouteTemplateIn,
    RouteTemplateOut,
    route_template_detail_out,
    route_template_out,
)

router = Router()  # tagged by the parent router in workflow.api


def _problems(template: RouteTemplate, draft: Any) -> list[Problem]:
    if draft is None:
        return []
    return validate_route(draft.definition, services.org_facts(template))


def _route_detail(user: User, key: str) -> dict[str, Any]:
    detail = selectors.route_template_for_admin(user=user, key=key)
    return route_template_detail_out(detail, _problems(detail.template, detail.draft))


@router.get(
    "/routes",
    response=_ok(list[RouteTemplateOut]),
    operation_id="routes_list",
    url_name="routes_list",
    summary="Route templates with their draft and latest published version (admins)",
)
def routes_list(request: HttpRequest) -> list[dict[str, Any]]:
    details = selectors.route_templates_for_admin(user=_user(request))
    return [route_template_out(d) for d in details]


@router.get(
    "/routes/{key}",
    response=_ok(RouteTemplateDetailOut),
    operation_id="route_get",
    url_name="route_get",
    summary="One route template with its definitions and the draft's problems (admins)",
)
def route_get(request: HttpRequest, key: Key) -> dict[str, Any]:
    return _route_detail(_user(request), key)


@router.post(
    "/routes",
    response=_ok(RouteTemplateDetailOut, 201),
    operation_id="route_create",
    url_name="route_create",
    summary="Create a route template with a draft definition (admins)",
)
def route_create(
    request: HttpRequest, payload: RouteTemplateIn
) -> Status[dict[str, Any]]:
    user = _user(request)
    meta = request_meta(request)
    doc_type = document_selectors.document_type_chosen(user, payload.doc_type)
    owner = None
    if isinstance(payload.owner, int):
        people = selectors.colleagues_by_id(user=user, ids=[payload.owner])
        owner = found(people.get(payload.owner), "owner", no_such_person())
    elif payload.owner is not None:
        owner = found(
            selectors.colleague_by_username(user=user, username=payload.owner),
            "owner",
            no_such_person(),
        )
    with transaction.atomic():
        template = services.route_template_create(
            actor=user,
            doc_type=doc_type,
            key=payload.key,
            name_ru=payload.name_ru,
            name_en=payload.name_en,
            owner=owner,
            suggest_when=payload.suggest_when,
            order=payload.order,
            meta=meta,
        )
        services.route_version_save_draft(
            actor=user, template=template, definition=payload.definition, meta=meta
        )
    return Status(201, _route_detail(user, template.key))


@router.put(
    "/routes/{key}/draft",
    response=_ok(RouteTemplateDetailOut),
    operation_id="route_draft_save",
    url_name="route_draft_save",
    summary="Save the route's draft definition (created if none); lists its problems",
)
def route_draft_save(
    request: HttpRequest, key: Key, payload: RouteDraftIn
) -> dict[str, Any]:
    user = _user(request)
    detail = selectors.route_template_for_admin(user=user, key=key)
    services.route_version_save_draft(
        actor=user,
        template=detail.template,
        definition=payload.definition,
        meta=request_meta(request),
    )
    return _route_detail(user, key)


@router.post(
    "/routes/{key}/publish",
    response=_ok(RouteTemplateDetailOut, conflict=True),
    operation_id="route_publish",
    url_name="route_publish",
    summary="Publish the draft; 422 lists every problem with its path",
    description="Each problem's `field` is its path in the definition, e.g. "
    '`stages[2].steps[0].assignee.role` with the message `no role "lawer" in this '
    "organisation`. A published version never changes; processes pin theirs.",
)
def route_publish(request: HttpRequest, key: Key) -> dict[str, Any]:
    user = _user(request)
    detail = selectors.route_template_for_admin(user=user, key=key)
    if detail.draft is None:
        raise ValidationFailed.single(
            "draft", "required", _("There is no draft to publish.")
        )
    services.route_version_publish(
        actor=user, version=detail.draft, meta=request_meta(request)
    )
    return _route_detail(user, key)
