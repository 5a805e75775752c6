"""The organisation settings screens for administrators: the organisation itself,
departments, roles, positions and the working calendar. Thin: the forms shape the input, the
``structure`` services check and write, the selectors read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sogla.core.access import is_org_admin
from sogla.core.errors import PermissionDenied, ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.orgs import selectors, structure
from sogla.orgs.forms_settings import (
    CalendarDayForm,
    CalendarForm,
    DepartmentForm,
    OrganisationForm,
    PositionForm,
    RoleForm,
)
from sogla.orgs.models import Department, User
from sogla.web.errors import app_errors
from sogla.web.forms import BootstrapForm
from sogla.web.requests import signed_in_user


def _admin(request: HttpRequest) -> tuple[User, int]:
    user = signed_in_user(request)
    if not is_org_admin(user) or user.organisation_id is None:
        raise PermissionDenied(
            _("Only an administrator can change the organisation's settings.")
        )
    return user, user.organisation_id


def _attempt(form: BootstrapForm, command: Callable[[], Any]) -> bool:
    """Run ``command``; its problems go back on the form's fields."""
    try:
        command()
    except ValidationFailed as error:
        for field, texts in error.by_field().items():
            for text in texts:
                form.add_error(field if field in form.fields else None, text)
        return False
    return True


def _people(org_id: int, ids: list[str]) -> list[User]:
    return selectors.people_by_ids(org_id, [int(i) for i in ids], "members")


def _person(org_id: int, value: str) -> User | None:
    return selectors.people_by_ids(org_id, [int(value)], "head")[0] if value else None


def _form_page(
    request: HttpRequest,
    form: BootstrapForm,
    command: Callable[[dict[str, Any]], Any],
    *,
    done: str,
    back: str,
    template: str,
    context: Callable[[], dict[str, Any]],
) -> HttpResponse:
    """A settings page with one form (a list with its add form, or an edit form): a
    valid POST runs ``command`` with the cleaned data and, done, says ``done`` and goes
    to ``back``; otherwise the page, its form's problems answered with 400."""
    if (
        request.method == "POST"
        and form.is_valid()
        and _attempt(form, lambda: command(form.cleaned_data))
    ):
        messages.success(request, done)
        return redirect(back)
    return render(
        request,
        template,
        {**context(), "form": form},
        status=400 if form.errors else 200,
    )


# --- the organisation itself -----------------------------------------------------------


@login_required
@app_errors
def organisation(request: HttpRequest) -> HttpResponse:
    user, org_id = _admin(request)
    current = selectors.organisation_of(org_id)
    initial = {key: getattr(current, key) for key in structure.ORGANISATION_SETTINGS}
    form = OrganisationForm(
        request.POST or None,
        initial=initial,
        countries=structure.supported_countries(),
    )
    return _form_page(
        request,
        form,
        lambda data: structure.organisation_update(
            actor=user,
            changes={key: data[key] for key in structure.ORGANISATION_SETTINGS},
            meta=request_meta(request),
        ),
        done=_("Organisation saved."),
        back="settings:organisation",
        template="orgs/settings/organisation.html",
        context=lambda: {"tab": "organisation", "organisation": current},
    )


# --- departments ------------------------------------------------------------------------


def _parent(org_id: int, code: str) -> Department | None:
    return selectors.department_by_code(org_id, code) if code else None


@login_required
@app_errors
def departments(request: HttpRequest) -> HttpResponse:
    user, org_id = _admin(request)
    tree = selectors.departments_of(org_id)
    people = selectors.active_people(org_id)
    form = DepartmentForm(request.POST or None, departments=tree, people=people)
    return _form_page(
        request,
        form,
        lambda data: structure.department_create(
            actor=user,
            name=data["name"],
            name_en=data["name_en"],
            code=data["code"],
            parent=_parent(org_id, data["parent"]),
            head=_person(org_id, data["head"]),
            meta=request_meta(request),
        ),
        done=_("Department added."),
        back="settings:departments",
        template="orgs/settings/departments.html",
        context=lambda: {"tab": "departments", "departments": tree},
    )


@login_required
@app_errors
def department_edit(request: HttpRequest, code: str) -> HttpResponse:
    user, org_id = _admin(request)
    department = selectors.department_by_code(org_id, code)
    tree = selectors.departments_of(org_id)
    initial = {
        "name": department.name,
        "name_en": department.name_en,
        "parent": department.parent.code if department.parent else "",
        "head": str(department.head_id or ""),
    }
    form = DepartmentForm(
        request.POST or None,
        initial=initial,
        departments=[d for d in tree if d.pk != department.pk],
        people=selectors.active_people(org_id),
        editing=True,
    )
    return _form_page(
        request,
        form,
        lambda data: structure.department_update(
            actor=user,
            department=department,
            changes={
                "name": data["name"],
                "name_en": data["name_en"],
                "parent": _parent(org_id, data["parent"]),
                "head": _person(org_id, data["head"]),
            },
            meta=request_meta(request),
        ),
        done=_("Department saved."),
        back="settings:departments",
        template="orgs/settings/department_edit.html",
        context=lambda: {"tab": "departments", "department": department},
    )


# --- roles ------------------------------------------------------------------------------


@login_required
@app_errors
def roles(request: HttpRequest) -> HttpResponse:
    user, org_id = _admin(request)
    people = selectors.active_people(org_id)
    form = RoleForm(request.POST or None, people=people)
    return _form_page(
        request,
        form,
        lambda data: structure.role_create(
            actor=user,
            key=data["key"],
            name_ru=data["name_ru"],
            name_en=data["name_en"],
            members=_people(org_id, data["members"]),
            meta=request_meta(request),
        ),
        done=_("Role added."),
        back="settings:roles",
        template="orgs/settings/roles.html",
        context=lambda: {"tab": "roles", "roles": selectors.roles_of(org_id)},
    )


@login_required
@app_errors
def role_edit(request: HttpRequest, key: str) -> HttpResponse:
    user, org_id = _admin(request)
    role = selectors.role_by_key(org_id, key)
    initial = {
        "name_ru": role.name_ru,
        "name_en": role.name_en,
        "members": [str(u.pk) for u in role.members.all()],
    }
    form = RoleForm(
        request.POST or None,
        initial=initial,
        people=selectors.active_people(org_id),
        editing=True,
    )
    return _form_page(
        request,
        form,
        lambda data: structure.role_update(
            actor=user,
            role=role,
            name_ru=data["name_ru"],
            name_en=data["name_en"],
            members=_people(org_id, data["members"]),
            meta=request_meta(request),
        ),
        done=_("Role saved."),
        back="settings:roles",
        template="orgs/settings/role_edit.html",
        context=lambda: {"tab": "roles", "role": role},
    )


# --- positions --------------------------------------------------------------------------


@login_required
@app_errors
def positions(request: HttpRequest) -> HttpResponse:
    user, org_id = _admin(request)
    return _form_page(
        request,
        PositionForm(request.POST or None),
        lambda data: structure.position_create(
            actor=user, name=data["name"], meta=request_meta(request)
        ),
        done=_("Position added."),
        back="settings:positions",
        template="orgs/settings/positions.html",
        context=lambda: {
            "tab": "positions",
            "positions": selectors.positions_of(org_id),
        },
    )


# --- the calendar -----------------------------------------------------------------------


@login_required
@app_errors
def calendar(request: HttpRequest) -> HttpResponse:
    user, org_id = _admin(request)
    current, days = selectors.calendar_settings(org_id)
    initial = {
        "working_weekdays": (
            current.working_weekdays if current else "0,1,2,3,4"
        ).split(","),
        "day_starts": current.day_starts if current else "09:00",
        "day_ends": current.day_ends if current else "18:00",
        "use_public_holidays": current.use_public_holidays if current else True,
    }
    posted = request.POST if request.POST.get("form") == "calendar" else None
    form = CalendarForm(posted, initial=initial)
    day_posted = request.POST if request.POST.get("form") == "day" else None
    day_form = CalendarDayForm(day_posted)
    meta = request_meta(request)
    if posted is not None and form.is_valid():
        data = form.cleaned_data
        if _attempt(
            form,
            lambda: structure.calendar_update(
                actor=user,
                working_weekdays=[int(d) for d in data["working_weekdays"]],
                day_starts=data["day_starts"],
                day_ends=data["day_ends"],
                use_public_holidays=data["use_public_holidays"],
                meta=meta,
            ),
        ):
            messages.success(request, _("Calendar saved."))
            return redirect("settings:calendar")
    if day_posted is not None and day_form.is_valid():
        data = day_form.cleaned_data
        if _attempt(
            day_form,
            lambda: structure.calendar_day_set(
                actor=user,
                day=data["day"],
                is_working=data["is_working"],
                name=data["name"],
                meta=meta,
            ),
        ):
            messages.success(request, _("Exception added."))
            return redirect("settings:calendar")
    organisation = user.organisation
    return render(
        request,
        "orgs/settings/calendar.html",
        {
            "tab": "calendar",
            "form": form,
            "day_form": day_form,
            "days": days,
            "country": organisation.country if organisation else "",
        },
        status=400 if (form.errors or day_form.errors) else 200,
    )


@login_required
@require_POST
@app_errors
def calendar_day_remove(request: HttpRequest, day: str) -> HttpResponse:
    user, _org_id = _admin(request)
    from datetime import date

    try:
        when = date.fromisoformat(day)
    except ValueError:
        return redirect("settings:calendar")
    structure.calendar_day_remove(actor=user, day=when, meta=request_meta(request))
    messages.success(request, _("Exception removed."))
    return redirect("settings:calendar")
