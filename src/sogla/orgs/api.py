"""REST endpoints about the caller: who am I, and my personal API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from sogla.api.auth import api_user as _user
from sogla.api.schemas import ERRORS, NON_BLANK, ErrorsOut, Id, InSchema
from sogla.core.request_meta import request_meta
from sogla.orgs.access import is_org_admin
from sogla.orgs.models import ApiToken
from sogla.orgs.tokens import api_token_create, api_token_revoke, api_tokens_of

router = Router(tags=["me"])


class OrganisationOut(Schema):
    id: int
    name: str
    slug: str


class RefOut(Schema):
    id: int
    name: str


class RoleOut(Schema):
    key: str
    name: str


class MeOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    middle_name: str
    email: str
    language: str
    time_zone: str
    organisation: OrganisationOut | None
    department: RefOut | None
    manager_id: int | None
    roles: list[RoleOut]
    is_org_admin: bool


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The first characters, to recognise the token.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The token itself. Shown once; store it now.")


class TokenIn(InSchema):
    name: str = Field(max_length=100, json_schema_extra=NON_BLANK)


def _token_out(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


@router.get(
    "/me",
    response={200: MeOut, **ERRORS},
    operation_id="me_get",
    url_name="me_get",
    summary="The signed-in user, their organisation and roles",
)
def me_get(request: HttpRequest) -> dict[str, Any]:
    user = _user(request)
    org = user.organisation
    department = user.department
    return {
        "id": user.pk,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "middle_name": user.middle_name,
        "email": user.email,
        "language": user.language or (org.language if org else ""),
        "time_zone": user.time_zone or (org.time_zone if org else ""),
        "organisation": {"id": org.pk, "name": org.name, "slug": org.slug}
        if org
        else None,
        "department": {"id": department.pk, "name": department.name}
        if department
        else None,
        "manager_id": user.manager_id,
        "roles": [{"key": r.key, "name": r.name} for r in user.roles.order_by("key")],
        "is_org_admin": is_org_admin(user),
    }


@router.get(
    "/me/tokens",
    response={200: list[TokenOut], **ERRORS},
    operation_id="me_tokens_list",
    url_name="me_tokens_list",
    summary="My API tokens (the tokens themselves are never shown again)",
)
def me_tokens_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_token_out(t) for t in api_tokens_of(_user(request))]


@router.post(
    "/me/tokens",
    response={201: TokenCreatedOut, **ERRORS, 429: ErrorsOut},
    operation_id="me_token_create",
    url_name="me_token_create",
    summary="Create an API token; the answer carries it once",
    description="At most SOGLA_TOKENS_PER_HOUR (10) per person per hour, and none "
    "while the account's sign-in is locked out: then 429 with Retry-After.",
)
def me_token_create(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    token, raw = api_token_create(
        actor=_user(request), name=payload.name, request_meta=request_meta(request)
    )
    return Status(201, {**_token_out(token), "token": raw})


@router.delete(
    "/me/tokens/{token_id}",
    response={204: None, **ERRORS},
    operation_id="me_token_revoke",
    url_name="me_token_revoke",
    summary="Revoke one of my API tokens",
)
def me_token_revoke(request: HttpRequest, token_id: Id) -> Status[None]:
    api_token_revoke(actor=_user(request), token_id=token_id)
    return Status(204, None)
