"""REST endpoints about the caller: who am I, and my personal API tokens."""

from __future__ import annotations

from datetime import date as date_type
from datetime import datetime, time
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import WithJsonSchema

from sogla.api.auth import api_user as _user
from sogla.api.errors import refused_as
from sogla.api.schemas import (
    ERRORS,
    LOCAL_TIME_SCHEMA,
    NON_BLANK,
    ErrorsOut,
    Id,
    InSchema,
    PersonRefOut,
    RefOut,
    person_ref,
)
from sogla.api.schemas import responses as _ok
from sogla.core.errors import NotFound
from sogla.core.request_meta import request_meta
from sogla.orgs import selectors, structure
from sogla.orgs.access import is_org_admin
from sogla.orgs.models import ApiToken, Department, Role, User
from sogla.orgs.tokens import api_token_create, api_token_revoke, api_tokens_of

router = Router(tags=["me"])


class OrganisationOut(Schema):
    id: int
    name: str
    slug: str


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


# --- the organisation's structure (administrators write; everyone reads) -----------------

settings_router = Router(tags=["organisation"])

Code = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[-a-z0-9_]+$")]


class DepartmentOut(Schema):
    code: str
    name: str = Field(description="The (Russian) name.")
    name_en: str = Field(
        description="The name in English; empty: the English interface shows `name`."
    )
    parent: str | None = Field(description="The parent department's code.")
    head: PersonRefOut | None
    depth: int


class DepartmentIn(InSchema):
    code: Code
    name: str = Field(min_length=1, max_length=200, description="The (Russian) name.")
    name_en: str = Field(
        default="", max_length=200, description="The name in English (optional)."
    )
    parent: Code | None = None
    head: Id | None = Field(default=None, description="The head's user id.")


class DepartmentPatchIn(InSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(
        default=None,
        max_length=200,
        description="The name in English; empty or null: none (the English "
        "interface shows `name`).",
    )
    parent: Code | None = Field(
        default=None, description="The new parent's code; send null for the top."
    )
    head: Id | None = Field(default=None, description="User id; null: no head.")


class RoleDetailOut(Schema):
    key: str
    name: str
    name_ru: str
    name_en: str
    members: list[PersonRefOut]


class RoleIn(InSchema):
    key: Code
    name_ru: str = Field(default="", max_length=200)
    name_en: str = Field(default="", max_length=200)
    members: list[Id] = Field(default=[], max_length=1000)


class RolePatchIn(InSchema):
    name_ru: str | None = Field(default=None, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    members: list[Id] | None = Field(
        default=None, max_length=1000, description="Who holds the role (user ids)."
    )


class PositionOut(Schema):
    id: int
    name: str


class PositionIn(InSchema):
    name: str = Field(min_length=1, max_length=200)


class CalendarDayOut(Schema):
    date: date_type
    is_working: bool
    name: str


LocalTime = Annotated[time, WithJsonSchema(LOCAL_TIME_SCHEMA)]


class CalendarOut(Schema):
    working_weekdays: list[int] = Field(description="Monday is 0.")
    day_starts: LocalTime
    day_ends: LocalTime
    use_public_holidays: bool
    country: str
    days: list[CalendarDayOut] = Field(description="Exceptions to the weekly pattern.")


class CalendarIn(InSchema):
    working_weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(max_length=7)
    day_starts: time
    day_ends: time
    use_public_holidays: bool = True


class CalendarDayIn(InSchema):
    is_working: bool = False
    name: str = Field(default="", max_length=200)


def _admin_org_id(request: HttpRequest) -> tuple[User, int]:
    user = _user(request)
    if user.organisation_id is None:
        raise NotFound()
    return user, user.organisation_id


def _department_out(department: Department) -> dict[str, Any]:
    return {
        "code": department.code,
        "name": department.name,
        "name_en": department.name_en,
        "parent": department.parent.code if department.parent else None,
        "head": person_ref(department.head),
        "depth": getattr(department, "depth", 0),
    }


def _role_out(role: Role) -> dict[str, Any]:
    return {
        "key": role.key,
        "name": role.name,
        "name_ru": role.name_ru,
        "name_en": role.name_en,
        "members": [person_ref(u) for u in role.members.all() if u.is_active],
    }


def _one_person(org_id: int, user_id: int | None, field: str) -> User | None:
    if user_id is None:
        return None
    return selectors.people_by_ids(org_id, [user_id], field)[0]


@settings_router.get(
    "/departments",
    response=_ok(list[DepartmentOut]),
    operation_id="departments_list",
    url_name="departments_list",
    summary="The departments as a tree (depth first), with their heads",
)
def departments_list(request: HttpRequest) -> list[dict[str, Any]]:
    _admin, org_id = _admin_org_id(request)
    return [_department_out(d) for d in selectors.departments_of(org_id)]


@settings_router.post(
    "/departments",
    response={201: DepartmentOut, **ERRORS},
    operation_id="department_create",
    url_name="department_create",
    summary="Create a department (administrators)",
)
def department_create(
    request: HttpRequest, payload: DepartmentIn
) -> Status[dict[str, Any]]:
    user, org_id = _admin_org_id(request)
    department = structure.department_create(
        actor=user,
        code=payload.code,
        meta=request_meta(request),
        **_department_values(org_id, payload),
    )
    return Status(201, _department_out(department))


def _department_values(
    org_id: int, payload: DepartmentIn | DepartmentPatchIn
) -> dict[str, Any]:
    """The department's settings the payload sends (all of a create's; a patch's
    sent ones), the parent's code and the head's id resolved in the organisation."""
    sent = payload.model_fields_set | (
        {"name", "name_en", "parent", "head"}
        if isinstance(payload, DepartmentIn)
        else set()
    )
    values: dict[str, Any] = {}
    if "name" in sent and payload.name is not None:
        values["name"] = payload.name
    if "name_en" in sent:
        values["name_en"] = payload.name_en or ""
    if "parent" in sent:
        values["parent"] = (
            _department_or_problem(org_id, payload.parent) if payload.parent else None
        )
    if "head" in sent:
        values["head"] = _one_person(org_id, payload.head, "head")
    return values


def _department_or_problem(org_id: int, code: str) -> Department:
    with refused_as("parent", "invalid", _("No such department.")):
        return selectors.department_by_code(org_id, code)


@settings_router.patch(
    "/departments/{code}",
    response=_ok(DepartmentOut),
    operation_id="department_update",
    url_name="department_update",
    summary="Rename a department (in Russian and English), move it in the tree or "
    "change its head (administrators)",
)
def department_update(
    request: HttpRequest, code: Code, payload: DepartmentPatchIn
) -> dict[str, Any]:
    user, org_id = _admin_org_id(request)
    department = selectors.department_by_code(org_id, code)
    department = structure.department_update(
        actor=user,
        department=department,
        changes=_department_values(org_id, payload),
        meta=request_meta(request),
    )
    return _department_out(selectors.department_by_code(org_id, department.code))


@settings_router.get(
    "/roles",
    response=_ok(list[RoleDetailOut]),
    operation_id="roles_list",
    url_name="roles_list",
    summary="The roles and who holds them",
)
def roles_list(request: HttpRequest) -> list[dict[str, Any]]:
    _admin, org_id = _admin_org_id(request)
    return [_role_out(r) for r in selectors.roles_of(org_id)]


@settings_router.post(
    "/roles",
    response={201: RoleDetailOut, **ERRORS},
    operation_id="role_create",
    url_name="role_create",
    summary="Create a role and name who holds it (administrators)",
)
def role_create(request: HttpRequest, payload: RoleIn) -> Status[dict[str, Any]]:
    user, org_id = _admin_org_id(request)
    role = structure.role_create(
        actor=user,
        key=payload.key,
        name_ru=payload.name_ru,
        name_en=payload.name_en,
        members=selectors.people_by_ids(org_id, payload.members, "members"),
        meta=request_meta(request),
    )
    return Status(201, _role_out(selectors.role_by_key(org_id, role.key)))


@settings_router.patch(
    "/roles/{key}",
    response=_ok(RoleDetailOut),
    operation_id="role_update",
    url_name="role_update",
    summary="Rename a role or set who holds it (administrators)",
)
def role_update(
    request: HttpRequest, key: Code, payload: RolePatchIn
) -> dict[str, Any]:
    user, org_id = _admin_org_id(request)
    role = selectors.role_by_key(org_id, key)
    structure.role_update(
        actor=user,
        role=role,
        name_ru=payload.name_ru,
        name_en=payload.name_en,
        members=(
            selectors.people_by_ids(org_id, payload.members, "members")
            if payload.members is not None
            else None
        ),
        meta=request_meta(request),
    )
    return _role_out(selectors.role_by_key(org_id, key))


@settings_router.get(
    "/positions",
    response=_ok(list[PositionOut]),
    operation_id="positions_list",
    url_name="positions_list",
    summary="The positions (job titles)",
)
def positions_list(request: HttpRequest) -> list[dict[str, Any]]:
    _admin, org_id = _admin_org_id(request)
    return [{"id": p.pk, "name": p.name} for p in selectors.positions_of(org_id)]


@settings_router.post(
    "/positions",
    response={201: PositionOut, **ERRORS},
    operation_id="position_create",
    url_name="position_create",
    summary="Create a position (administrators)",
)
def position_create(
    request: HttpRequest, payload: PositionIn
) -> Status[dict[str, Any]]:
    user, _org_id = _admin_org_id(request)
    position = structure.position_create(
        actor=user, name=payload.name, meta=request_meta(request)
    )
    return Status(201, {"id": position.pk, "name": position.name})


def _calendar_out(org_id: int, country: str) -> dict[str, Any]:
    calendar, days = selectors.calendar_settings(org_id)
    weekdays = calendar.working_weekdays if calendar else "0,1,2,3,4"
    return {
        "working_weekdays": [int(d) for d in weekdays.split(",") if d.strip()],
        "day_starts": calendar.day_starts if calendar else time(9),
        "day_ends": calendar.day_ends if calendar else time(18),
        "use_public_holidays": calendar.use_public_holidays if calendar else True,
        "country": country,
        "days": [
            {"date": d.date, "is_working": d.is_working, "name": d.name} for d in days
        ],
    }


@settings_router.get(
    "/calendar",
    response=_ok(CalendarOut),
    operation_id="calendar_get",
    url_name="calendar_get",
    summary="The working calendar: weekly pattern, hours, holidays, exceptions",
)
def calendar_get(request: HttpRequest) -> dict[str, Any]:
    user, org_id = _admin_org_id(request)
    return _calendar_out(org_id, user.organisation.country if user.organisation else "")


@settings_router.put(
    "/calendar",
    response=_ok(CalendarOut),
    operation_id="calendar_update",
    url_name="calendar_update",
    summary="Set the working days, hours and public holidays (administrators)",
)
def calendar_update(request: HttpRequest, payload: CalendarIn) -> dict[str, Any]:
    user, org_id = _admin_org_id(request)
    structure.calendar_update(
        actor=user,
        working_weekdays=payload.working_weekdays,
        day_starts=payload.day_starts,
        day_ends=payload.day_ends,
        use_public_holidays=payload.use_public_holidays,
        meta=request_meta(request),
    )
    return _calendar_out(org_id, user.organisation.country if user.organisation else "")


@settings_router.put(
    "/calendar/days/{day}",
    response=_ok(CalendarOut),
    operation_id="calendar_day_set",
    url_name="calendar_day_set",
    summary="Make a date an exception: a day off, or a working day (administrators)",
)
def calendar_day_set(
    request: HttpRequest, day: date_type, payload: CalendarDayIn
) -> dict[str, Any]:
    user, org_id = _admin_org_id(request)
    structure.calendar_day_set(
        actor=user,
        day=day,
        is_working=payload.is_working,
        name=payload.name,
        meta=request_meta(request),
    )
    return _calendar_out(org_id, user.organisation.country if user.organisation else "")


@settings_router.delete(
    "/calendar/days/{day}",
    response={204: None, **ERRORS},
    operation_id="calendar_day_remove",
    url_name="calendar_day_remove",
    summary="Remove an exception day (administrators)",
)
def calendar_day_remove(request: HttpRequest, day: date_type) -> Status[None]:
    user, _org_id = _admin_org_id(request)
    structure.calendar_day_remove(actor=user, day=day, meta=request_meta(request))
    return Status(204, None)
