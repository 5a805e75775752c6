"""The card's approval commands: start, decide, resubmit, cancel, remind, reassign,
resolve. (The inbox is ``views_inbox``; the card itself is ``pages``.)

Thin over ``sogla.workflow.services`` and the selectors: parse the POST, call one
service with the request's meta, redirect (or re-render the card with the errors in
place: 422 for bad input, 409 for a closed task or a conflict).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from sogla.core.errors import NotFound, ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.documents.access import access_document
from sogla.documents.forms import uploads_from_post, values_from_post
from sogla.documents.uploads import check_upload
from sogla.orgs.models import User
from sogla.web.errors import app_errors
from sogla.web.requests import signed_in_user as _user
from sogla.workflow import selectors, services
from sogla.workflow.errors import WorkflowError
from sogla.workflow.models import Process, ProcessStatus, RouteTemplate
from sogla.workflow.pages import render_card


def _card_url(document_pk: int, **query: str) -> str:
    url = reverse("documents:card", args=[document_pk])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


# --- start ----------------------------------------------------------------------------


@login_required
@require_POST
@app_errors
def start(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    document = access_document(user, pk)
    key = request.POST.get("route", "")
    routes = selectors.routes_for_document(user=user, document=document)
    template: RouteTemplate | None = next((r for r in routes if r.key == key), None)
    if template is None:
        return render_card(
            request,
            pk,
            status=422,
            start_problem=_("Choose a route."),
            route_key=key,
        )
    try:
        services.process_start(
            actor=user, document=document, template=template, meta=request_meta(request)
        )
    except (ValidationFailed, WorkflowError) as error:
        message = (
            " ".join(str(p.message) for p in error.problems)
            if isinstance(error, ValidationFailed)
            else str(error.message)
        )
        status = 409 if isinstance(error, WorkflowError) else 422
        return render_card(
            request, pk, status=status, start_problem=message, route_key=template.key
        )
    messages.success(request, _("Sent: %(number)s") % {"number": document.number})
    return redirect(_card_url(pk))


# --- decide ---------------------------------------------------------------------------


@login_required
@require_POST
@app_errors
def decide(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    panel = selectors.task_get_for_decision(user=user, task_id=pk)
    document = panel.document
    outcome = request.POST.get("outcome", "")
    comment = request.POST.get("comment", "")
    request_id = request.POST.get("request_id", "")
    to_stage = request.POST.get("to_stage", "")
    values = values_from_post(panel.fields, request.POST) if panel.fields else {}
    state: dict[str, Any] = {
        "outcome": outcome,
        "comment": comment,
        "to_stage": to_stage,
        "request_id": request_id,
        "values": values,
        "errors": {},
    }
    meta = request_meta(request)
    try:
        if panel.task.is_open and request.FILES:
            _upload_result_files(request, user, pk, panel.fields)
        services.task_decide(
            actor=user,
            task_id=pk,
            outcome=outcome,
            comment=comment,
            request_id=request_id,
            fields={k: v for k, v in values.items() if v not in ("", [], None)},
            meta=meta,
            to_stage=to_stage,
        )
    except ValidationFailed as error:
        state["errors"] = error.by_field()
        return render_card(request, document.pk, status=422, panel_state={pk: state})
    except WorkflowError as error:
        state["general"] = str(error.message)
        return render_card(request, document.pk, status=409, panel_state={pk: state})
    return redirect(_card_url(document.pk, decided=str(pk)))


def _upload_result_files(
    request: HttpRequest, user: User, task_pk: int, fields: list[Any]
) -> None:
    """A task's result files (the step's file fields) go in before the decision."""
    for field_key, upload in uploads_from_post(fields, request.FILES, has_files=False):
        checked = check_upload(field_key, upload.name or "", upload, upload.size or 0)
        services.task_file_add(
            actor=user,
            task_id=task_pk,
            upload=checked,
            field_key=field_key,
            meta=request_meta(request),
        )


# --- revision, cancel -----------------------------------------------------------------


def _process(user: User, pk: int) -> Process:
    document = access_document(user, pk)
    process = selectors.process_for_document(document)
    if process is None:
        raise NotFound()
    return process


def _people(user: User, ids: list[str]) -> list[User]:
    wanted = {int(i) for i in ids if i.isdigit()}
    if not wanted:
        return []
    people = list(
        User.objects.filter(
            organisation_id=user.organisation_id or 0, pk__in=wanted, is_active=True
        )
    )
    if len(people) != len(wanted):
        raise ValidationFailed.single("users", "invalid", _("No such person."))
    return people


def _round_edits(request: HttpRequest, user: User) -> services.RoundEdits | None:
    add: dict[str, list[User]] = {}
    remove: dict[str, list[User]] = {}
    due: dict[str, datetime] = {}
    zone = timezone.get_current_timezone()
    for name in request.POST:
        if name.startswith("add:"):
            people = _people(user, request.POST.getlist(name))
            if people:
                add[name[4:]] = people
        elif name.startswith("remove:"):
            people = _people(user, request.POST.getlist(name))
            if people:
                remove[name[7:]] = people
        elif name.startswith("due:") and request.POST[name]:
            try:
                day = datetime.fromisoformat(request.POST[name]).date()
            except ValueError:
                raise ValidationFailed.single(
                    name, "invalid", _("Enter a date.")
                ) from None
            due[name[4:]] = datetime.combine(day, time(18, 0), tzinfo=zone)
    if not (add or remove or due):
        return None
    return services.RoundEdits(add=add, remove=remove, due=due)


@login_required
@require_POST
@app_errors
def resubmit(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    process = _process(user, pk)
    comment = request.POST.get("comment", "")
    reask = request.POST.get("reask", "")
    try:
        edits = _round_edits(request, user)
        services.process_resubmit(
            actor=user,
            process=process,
            comment=comment,
            changes=edits,
            reask=reask,
            meta=request_meta(request),
        )
    except ValidationFailed as error:
        return render_card(
            request,
            pk,
            status=422,
            errors=error.by_field(),
            posted={"comment": comment, "reask": reask},
        )
    except WorkflowError as error:
        return render_card(
            request,
            pk,
            status=409,
            errors={"resubmit": [str(error.message)]},
            posted={"comment": comment, "reask": reask},
        )
    messages.success(
        request, _("Sent again: round %(round)d") % {"round": process.round + 1}
    )
    return redirect(_card_url(pk))


@login_required
@require_POST
@app_errors
def cancel(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    process = _process(user, pk)
    reason = request.POST.get("reason", "")
    try:
        services.process_cancel(
            actor=user, process=process, reason=reason, meta=request_meta(request)
        )
    except ValidationFailed as error:
        return render_card(
            request, pk, status=422, errors=error.by_field(), posted={"reason": reason}
        )
    except WorkflowError as error:
        return render_card(
            request, pk, status=409, errors={"reason": [str(error.message)]}
        )
    messages.success(request, _("Approval cancelled."))
    return redirect(_card_url(pk))


@login_required
@require_POST
@app_errors
def remind(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The initiator reminds the people the approval waits on (once a day each)."""
    user = _user(request)
    process = _process(user, pk)
    try:
        sent = services.process_remind(
            actor=user, process=process, meta=request_meta(request)
        )
    except WorkflowError as error:
        messages.error(request, str(error.message))
        return redirect(_card_url(pk))
    if sent:
        messages.success(
            request,
            ngettext("Reminded %(n)d person.", "Reminded %(n)d people.", sent)
            % {"n": sent},
        )
    else:
        messages.info(request, _("Everyone was already reminded today."))
    return redirect(_card_url(pk))


@login_required
@require_POST
@app_errors
def withdraw(request: HttpRequest, pk: int, task: int) -> HttpResponseBase:
    """A person takes back their approval carried over to the running round."""
    user = _user(request)
    _process(user, pk)
    comment = request.POST.get("comment", "")
    key = f"withdraw-{task}"
    try:
        process = services.task_withdraw(
            actor=user, task_id=task, comment=comment, meta=request_meta(request)
        )
    except ValidationFailed as error:
        problems = {key: [str(p.message) for p in error.problems]}
        return render_card(request, pk, status=422, errors=problems)
    except WorkflowError as error:
        return render_card(request, pk, status=409, errors={key: [str(error.message)]})
    if process.status == ProcessStatus.REVISION:
        messages.success(
            request,
            _("Your approval is withdrawn; the document went back to the initiator."),
        )
    else:
        messages.success(
            request, _("Your approval is withdrawn; decide again when ready.")
        )
    return redirect(_card_url(pk))


# --- route owner: reassign, assign manually -------------------------------------------


@login_required
@require_POST
@app_errors
def reassign(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    document_pk = int(request.POST.get("document", "0") or 0)
    document = access_document(user, document_pk)
    try:
        people = _people(user, [request.POST.get("to_user", "")])
        if not people:
            raise ValidationFailed.single(
                f"reassign-{pk}", "required", _("Choose a person.")
            )
        services.task_reassign(
            actor=user, task_id=pk, to_user=people[0], meta=request_meta(request)
        )
    except ValidationFailed as error:
        problems = {f"reassign-{pk}": [str(p.message) for p in error.problems]}
        return render_card(request, document.pk, status=422, errors=problems)
    except WorkflowError as error:
        return render_card(
            request,
            document.pk,
            status=409,
            errors={f"reassign-{pk}": [str(error.message)]},
        )
    messages.success(
        request, _("Task reassigned to %(name)s.") % {"name": people[0].short_name}
    )
    return redirect(_card_url(document.pk))


@login_required
@require_POST
@app_errors
def resolve(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    process = _process(user, pk)
    stage = request.POST.get("stage", "")
    step = request.POST.get("step", "")
    key = f"resolve-{stage}.{step}"
    try:
        people = _people(user, request.POST.getlist("users"))
        if not people:
            raise ValidationFailed.single(key, "required", _("Choose a person."))
        services.step_resolve(
            actor=user,
            process=process,
            stage=stage,
            step=step,
            users=people,
            meta=request_meta(request),
        )
    except ValidationFailed as error:
        return render_card(
            request,
            pk,
            status=422,
            errors={key: [str(p.message) for p in error.problems]},
        )
    except WorkflowError as error:
        return render_card(request, pk, status=409, errors={key: [str(error.message)]})
    messages.success(request, _("Step assigned."))
    return redirect(_card_url(pk))


# --- the e-mailed task link -------------------------------------------------------------


@login_required
@require_GET
def task_link(request: HttpRequest, pk: int) -> HttpResponse:
    """``/t/<task>/`` from e-mails: the document card with the decision panel."""
    found = selectors.task_document_for_user(user=_user(request), task_id=pk)
    if found is None:
        raise Http404
    document_id, task_id = found
    return redirect(f"{_card_url(document_id)}#decision-{task_id}")


# --- the people of a running round -------------------------------------------------------


@login_required
@require_POST
@app_errors
def participants(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Add a person to a step, take a pending one off, or move a pending deadline
    (``services.step_edit``): one change per post, from the card's route map."""
    user = _user(request)
    process = _process(user, pk)
    stage = request.POST.get("stage", "")
    step = request.POST.get("step", "")
    action = request.POST.get("action", "")
    key = f"people-{stage}.{step}"
    try:
        people = _people(user, [request.POST.get("user", "")])
        if not people:
            raise ValidationFailed.single(key, "required", _("Choose a person."))
        edit: dict[str, Any] = {}
        if action == "add":
            edit["add"] = people
        elif action == "remove":
            edit["remove"] = people
        else:
            try:
                day = datetime.fromisoformat(request.POST.get("due", "")).date()
            except ValueError:
                raise ValidationFailed.single(
                    key, "invalid", _("Enter a date.")
                ) from None
            zone = timezone.get_current_timezone()
            edit["due_at"] = datetime.combine(day, time(18, 0), tzinfo=zone)
            edit["due_for"] = people
        services.step_edit(
            actor=user,
            process=process,
            stage=stage,
            step=step,
            meta=request_meta(request),
            **edit,
        )
    except ValidationFailed as error:
        return render_card(
            request,
            pk,
            status=422,
            errors={key: [str(p.message) for p in error.problems]},
        )
    except WorkflowError as error:
        return render_card(request, pk, status=409, errors={key: [str(error.message)]})
    name = people[0].short_name
    done = {
        "add": _("%(name)s was added to the step."),
        "remove": _("%(name)s was taken off the step."),
    }.get(action, _("The deadline of %(name)s was moved."))
    messages.success(request, done % {"name": name})
    return redirect(_card_url(pk))
