"""The route builder (UI.md screen 9): the list of routes and the builder page, and
the JSON endpoints its script calls. The script holds the definition; the server
checks it with the engine, simulates it, and saves or publishes it through the
services (one transaction each)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sogla.core.errors import ApplicationError, ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.documents import selectors as document_selectors
from sogla.web.errors import app_errors
from sogla.web.requests import signed_in_user
from sogla.workflow import services
from sogla.workflow.builder_words import builder_words
from sogla.workflow.selectors import route_builder as reads
from sogla.workflow.services import route_builder as commands


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationFailed.single(
            "body", "invalid", _("The request is not JSON.")
        ) from None
    if not isinstance(data, dict):
        raise ValidationFailed.single("body", "invalid", _("The request is not JSON."))
    return data


def _refusal(error: ApplicationError) -> JsonResponse:
    if isinstance(error, ValidationFailed):
        return JsonResponse(
            {
                "message": str(error.problems[0].message) if error.problems else "",
                "problems": [
                    {"path": p.field, "message": str(p.message)} for p in error.problems
                ],
            },
            status=422,
        )
    status = 409 if isinstance(error, commands.DraftChanged) else 400
    return JsonResponse({"message": str(error.message), "problems": []}, status=status)


@login_required
@app_errors
def routes(request: HttpRequest) -> HttpResponse:
    """The routes with their versions; a form to add one."""
    user = signed_in_user(request)
    rows = reads.builder_routes(user=user)
    types = list(document_selectors.document_types_for_admin(user))
    problems: dict[str, list[str]] = {}
    if request.method == "POST":
        chosen = next(
            (t for t in types if str(t.pk) == request.POST.get("doc_type")), None
        )
        try:
            if chosen is None:
                raise ValidationFailed.single(
                    "doc_type", "required", _("Choose a document type.")
                )
            template = services.route_template_create(
                actor=user,
                doc_type=chosen,
                key=request.POST.get("key", "").strip(),
                name_ru=request.POST.get("name_ru", ""),
                name_en=request.POST.get("name_en", ""),
                meta=request_meta(request),
            )
        except ValidationFailed as error:
            problems = error.by_field()
        else:
            return redirect("settings:route_builder", pk=template.pk)
    return render(
        request,
        "workflow/routes/list.html",
        {
            "tab": "routes",
            "rows": rows,
            "types": types,
            "problems": problems,
            "form": request.POST,
        },
        status=422 if problems else 200,
    )


@login_required
@app_errors
@require_GET
def route_builder(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    route = reads.builder_route(user=user, pk=pk)
    template = route.template
    current = route.draft or route.published
    definition = (
        current.definition
        if current is not None
        else {
            "key": template.key,
            "name": {"ru": template.name_ru, "en": template.name_en},
            "stages": [],
        }
    )
    facts = reads.builder_facts(template)
    state: dict[str, Any] = {
        "definition": definition,
        "token": commands.token_of(route.draft, route.published),
        "published": route.published.definition if route.published else None,
        "publishedNumber": route.published.number if route.published else 0,
        "draftNumber": route.draft.number if route.draft else 0,
        "running": route.running_on_published,
        "facts": facts,
        "urls": {
            "check": request.path + "check/",
            "save": request.path + "save/",
            "publish": request.path + "publish/",
            "simulate": request.path + "simulate/",
            "import": request.path + "import/",
        },
    }
    words = builder_words()
    outline = _outline_in_words(
        reads.route_outline(definition, facts["fields"], facts["departments"]),
        words,
        facts,
    )
    return render(
        request,
        "workflow/routes/builder.html",
        {
            "tab": "routes",
            "route": route,
            "definition": definition,
            "state": state,
            "words": words,
            "outline": outline,
            # The script asks for the checks as soon as it starts (one place to
            # keep them current); the page itself does not run them.
            "problems": [],
        },
    )


def _outline_in_words(
    outline: list[dict[str, Any]], words: dict[str, Any], facts: dict[str, Any]
) -> list[dict[str, Any]]:
    """The phone's outline with kinds and people named as the builder names them."""
    names: dict[str, dict[str, str]] = {
        "user": {x["key"]: x["label"] for x in facts["users"]},
        "role": {x["key"]: x["label"] for x in facts["roles"]},
        "department_head": {x["key"]: x["label"] for x in facts["departments"]},
    }
    fields = {x["key"]: x["label"] for x in facts["fields"]}
    for name in (
        "manager_of",
        "department_head_field",
        "user_field",
        "users_field",
        "guest_field",
    ):
        names[name] = fields
    names["manager_of"] = {**fields, "initiator": words["w"]["ofInitiator"]}
    names["department_head"] = {
        **names["department_head"],
        "initiator": words["w"]["initiatorDept"],
    }
    for stage in outline:
        for step in stage["steps"]:
            step["kind"] = words["kinds"].get(step["kind"], step["kind"])
            assignee = step.pop("assignee")
            levels = assignee.pop("levels", 1)
            who = []
            for key, value in assignee.items():
                label = words["assignees"].get(key, key)
                if value is True:
                    who.append(label)
                elif isinstance(value, list):
                    who.append(f"{label}: {', '.join(value)}")
                else:
                    shown = names.get(key, {}).get(value, value)
                    who.append(
                        f"{label}: {shown}" + (f" +{levels - 1}" if levels > 1 else "")
                    )
            step["who"] = who
            due = step.pop("due", {})
            if "working_days" in due:
                step["due"] = words["w"]["wdShort"] % {"n": due["working_days"]}
            elif "hours" in due:
                step["due"] = words["w"]["hShort"] % {"n": due["hours"]}
            elif "field" in due:
                step["due"] = fields.get(due["field"], due["field"])
    return outline


def _endpoint(request: HttpRequest, pk: int) -> tuple[Any, Any]:
    user = signed_in_user(request)
    return user, reads.builder_route(user=user, pk=pk)


@login_required
@app_errors
@require_POST
def route_check(request: HttpRequest, pk: int) -> JsonResponse:
    """Problems (by path, translated), the diff against the published version and the
    running processes that stay on it."""
    _user, route = _endpoint(request, pk)
    try:
        definition = _json_body(request).get("definition")
        if not isinstance(definition, dict):
            raise ValidationFailed.single(
                "definition", "invalid", _("This is not a route definition.")
            )
    except ValidationFailed as error:
        return _refusal(error)
    problems = commands.route_check(route.template, definition)
    return JsonResponse(
        {
            "problems": [p.as_dict() for p in problems],
            "diff": reads.route_diff(
                route.published.definition if route.published else None, definition
            ),
            "running": route.running_on_published,
        }
    )


def _draft_command(
    request: HttpRequest, pk: int, command: Callable[..., Any]
) -> tuple[Any, Any] | JsonResponse:
    """Run a builder command (save or publish) on the definition and revision token
    the page sent; the template and the result, or the refusal as JSON."""
    user, route = _endpoint(request, pk)
    try:
        body = _json_body(request)
        done = command(
            actor=user,
            template=route.template,
            definition=body.get("definition"),
            base=str(body.get("token", "")),
            meta=request_meta(request),
        )
    except ApplicationError as error:
        return _refusal(error)
    return route.template, done


@login_required
@app_errors
@require_POST
def route_save(request: HttpRequest, pk: int) -> JsonResponse:
    answer = _draft_command(request, pk, commands.route_builder_save)
    if isinstance(answer, JsonResponse):
        return answer
    template, draft = answer
    problems = commands.route_check(template, draft.definition)
    return JsonResponse(
        {
            "token": commands.token_of(draft, None),
            "draftNumber": draft.number,
            "problems": [p.as_dict() for p in problems],
        }
    )


@login_required
@app_errors
@require_POST
def route_publish(request: HttpRequest, pk: int) -> JsonResponse:
    answer = _draft_command(request, pk, commands.route_builder_publish)
    if isinstance(answer, JsonResponse):
        return answer
    _template, version = answer
    return JsonResponse(
        {
            "token": commands.token_of(None, version),
            "publishedNumber": version.number,
            "message": _("Version %(n)s is published. New documents follow it.")
            % {"n": version.number},
        }
    )


@login_required
@app_errors
@require_POST
def route_simulate(request: HttpRequest, pk: int) -> JsonResponse:
    user, route = _endpoint(request, pk)
    try:
        body = _json_body(request)
        values = body.get("values") or {}
        initiator = str(body.get("initiator") or "")
        stages = reads.route_simulate(
            user=user,
            template=route.template,
            definition=body.get("definition") or {},
            initiator_id=int(initiator) if initiator.isdigit() else None,
            values=values if isinstance(values, dict) else {},
        )
    except ApplicationError as error:
        return _refusal(error)
    return JsonResponse({"stages": stages})


@login_required
@app_errors
@require_GET
def route_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The draft's definition (or the latest published one) as a JSON file."""
    _user, route = _endpoint(request, pk)
    current = route.draft or route.published
    definition = (
        current.definition
        if current is not None
        else {"key": route.template.key, "stages": []}
    )
    response = HttpResponse(
        json.dumps(definition, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="route-{route.template.key}.json"'
    )
    return response


@login_required
@app_errors
@require_POST
def route_import(request: HttpRequest, pk: int) -> JsonResponse:
    user, route = _endpoint(request, pk)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationFailed.single("file", "required", _("Choose a JSON file."))
        content = upload.read(commands.MAX_IMPORT_BYTES + 1)
        draft = commands.route_import(
            actor=user,
            template=route.template,
            content=content,
            base=request.POST.get("token", ""),
            meta=request_meta(request),
        )
    except ApplicationError as error:
        return _refusal(error)
    return JsonResponse(
        {
            "token": commands.token_of(draft, None),
            "draftNumber": draft.number,
            "definition": draft.definition,
        }
    )
