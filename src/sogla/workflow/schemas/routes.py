"""API schemas of route templates, for administrators: the list, one template with
its draft and published definitions and the draft's problems, and their input."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from sogla.api.schemas import Id, Username
from sogla.engine.validation import Problem
from sogla.workflow.models import RouteVersion
from sogla.workflow.schemas.common import In, RefOut, user_ref
from sogla.workflow.selectors import RouteTemplateDetail


class ProblemOut(Schema):
    path: str
    message: str


class VersionOut(Schema):
    number: int
    status: str
    created_at: datetime
    published_at: datetime | None


class RouteTemplateOut(Schema):
    key: str
    name: str
    name_ru: str
    name_en: str
    doc_type: str
    owner: RefOut | None
    suggest_when: dict[str, Any] | None
    order: int
    is_active: bool
    draft: VersionOut | None
    published: VersionOut | None = Field(description="The latest published version.")


class RouteDraftOut(VersionOut):
    definition: dict[str, Any]
    problems: list[ProblemOut] = Field(
        description="What stops publishing this draft, each with its path."
    )


class RoutePublishedOut(VersionOut):
    definition: dict[str, Any]


class RouteTemplateDetailOut(RouteTemplateOut):
    draft: RouteDraftOut | None
    published: RoutePublishedOut | None


class RouteTemplateIn(In):
    key: str = Field(min_length=1, max_length=60)
    doc_type: str = Field(min_length=1, max_length=60, description="A type key.")
    name_ru: str = Field("", max_length=200)
    name_en: str = Field("", max_length=200)
    owner: Id | Username | None = Field(
        None,
        description="The route's owner: a user id, or a username "
        "(`GET /people` lists both).",
    )
    suggest_when: dict[str, Any] | None = Field(
        None, description="A condition on the document's values; null means always."
    )
    order: int = Field(0, ge=0, le=100000)
    definition: dict[str, Any] = Field(description="The first draft's definition.")


class RouteDraftIn(In):
    definition: dict[str, Any]


def _version_out(version: RouteVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {
        "number": version.number,
        "status": version.status,
        "created_at": version.created_at,
        "published_at": version.published_at,
    }


def route_template_out(detail: RouteTemplateDetail) -> dict[str, Any]:
    template = detail.template
    return {
        "key": template.key,
        "name": template.name,
        "name_ru": template.name_ru,
        "name_en": template.name_en,
        "doc_type": template.doc_type.key,
        "owner": user_ref(template.owner),
        "suggest_when": template.suggest_when,
        "order": template.order,
        "is_active": template.is_active,
        "draft": _version_out(detail.draft),
        "published": _version_out(detail.published),
    }


def route_template_detail_out(
    detail: RouteTemplateDetail, problems: list[Problem]
) -> dict[str, Any]:
    data = route_template_out(detail)
    if detail.draft is not None:
        data["draft"] = {
            **(data["draft"] or {}),
            "definition": detail.draft.definition,
            "problems": [{"path": p.path, "message": p.message} for p in problems],
        }
    if detail.published is not None:
        data["published"] = {
            **(data["published"] or {}),
            "definition": detail.published.definition,
        }
    return data
