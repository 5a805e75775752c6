"""The people directory: who works in the organisation, to find the id or username
that other operations take (a route's owner, a reassignment, a role's members).

Everyone of the organisation may read it; only active people are listed. E-mail
addresses follow the people screen's rule: administrators see everyone's, everyone
else only their own (null for the others).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from sogla.api.auth import api_user as _user
from sogla.api.schemas import InSchema, display_name
from sogla.api.schemas import responses as _ok
from sogla.core.errors import NotFound
from sogla.orgs import selectors
from sogla.orgs.access import is_org_admin
from sogla.orgs.models import User

router = Router(tags=["people"])

MAX_OFFSET = 1_000_000


class DepartmentRefOut(Schema):
    code: str
    name: str


class PersonRoleOut(Schema):
    key: str
    name: str


class DirectoryPersonOut(Schema):
    id: int
    username: str
    name: str = Field(description="The full name (the username when there is none).")
    first_name: str
    middle_name: str
    last_name: str
    department: DepartmentRefOut | None
    roles: list[PersonRoleOut]
    email: str | None = Field(
        description="Shown to administrators, and to each person for themselves; "
        "null otherwise."
    )


class PeopleOut(Schema):
    items: list[DirectoryPersonOut]
    total: int = Field(description="How many people match, on every page.")
    next_offset: int | None = Field(
        description="Pass as `offset` for the next page; null on the last page."
    )


class PeopleIn(InSchema):
    q: str = Field(
        "",
        max_length=100,
        description="Words that each appear in the name or the username (any case).",
    )
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    limit: int = Field(50, ge=1, le=100)


def _person_out(person: User, *, emails: bool, me: User) -> dict[str, Any]:
    department = person.department
    return {
        "id": person.pk,
        "username": person.username,
        "name": display_name(person),
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "last_name": person.last_name,
        "department": {"code": department.code, "name": department.name}
        if department is not None
        else None,
        "roles": [{"key": r.key, "name": r.name} for r in person.roles.all()],
        "email": person.email if emails or person.pk == me.pk else None,
    }


@router.get(
    "/people",
    response=_ok(PeopleOut),
    operation_id="people_list",
    url_name="people_list",
    summary="The organisation's active people by name: ids, usernames, departments "
    "and roles (searchable, in pages)",
)
def people_list(request: HttpRequest, filters: Query[PeopleIn]) -> dict[str, Any]:
    user = _user(request)
    if user.organisation_id is None:
        raise NotFound()
    page = selectors.people_directory(
        user.organisation_id, q=filters.q, offset=filters.offset, limit=filters.limit
    )
    emails = is_org_admin(user)
    following = filters.offset + len(page.items)
    return {
        "items": [_person_out(p, emails=emails, me=user) for p in page.items],
        "total": page.total,
        "next_offset": following if following < page.total and page.items else None,
    }
