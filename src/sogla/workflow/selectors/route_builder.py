"""What the route builder reads: the route with its versions, the organisation's names
for the pickers, the running processes per version, a diff of two definitions and a
simulation ("for this initiator and these values, who is asked, what is skipped")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from sogla.core.access import organisation_id_of
from sogla.core.errors import NotFound, ValidationFailed
from sogla.documents.models import Document, FieldDef, StatusDef
from sogla.engine.conditions import describe
from sogla.engine.definition import RouteDefinition
from sogla.engine.run import preview
from sogla.engine.validation import parse_route
from sogla.orgs.models import Department, Role, User
from sogla.workflow.condition_words import skip_reason, words_for
from sogla.workflow.models import (
    ACTIVE_PROCESS_STATUSES,
    Process,
    RouteTemplate,
    RouteVersion,
    RouteVersionStatus,
)
from sogla.workflow.reason_words import Names, reason_in_words
from sogla.workflow.resolver import Resolver, document_facts
from sogla.workflow.route_words import say
from sogla.workflow.selectors.routes import _admin_org


@dataclass
class BuilderRoute:
    template: RouteTemplate
    draft: RouteVersion | None
    published: RouteVersion | None
    running_on_published: int  # running processes on every published version


def builder_routes(*, user: User) -> list[dict[str, Any]]:
    """Every route with its draft, latest version and running processes (3 queries)."""
    org_id = _admin_org(user)
    templates = list(
        RouteTemplate.objects.for_org(org_id)
        .select_related("doc_type")
        .order_by("order", "key")
    )
    versions = (
        RouteVersion.objects.for_org(org_id)
        .defer("definition")
        .order_by("template_id", "number")
    )
    drafts: dict[int, RouteVersion] = {}
    published: dict[int, RouteVersion] = {}
    for version in versions:
        target = drafts if version.status == RouteVersionStatus.DRAFT else published
        target[version.template_id] = version
    running = dict(
        Process.objects.for_org(org_id)
        .filter(status__in=ACTIVE_PROCESS_STATUSES)
        .values_list("route_version__template_id")
        .annotate(n=Count("id"))
        .values_list("route_version__template_id", "n")
    )
    return [
        {
            "template": t,
            "draft": drafts.get(t.pk),
            "published": published.get(t.pk),
            "running": running.get(t.pk, 0),
        }
        for t in templates
    ]


def builder_route(*, user: User, pk: int) -> BuilderRoute:
    """The route with its draft and latest published version and the processes
    running on it (two queries: the template with the count, then the versions)."""
    org_id = organisation_id_of(user)
    running = (
        Process.objects.filter(
            organisation_id=org_id,
            route_version__template=OuterRef("pk"),
            status__in=ACTIVE_PROCESS_STATUSES,
        )
        .order_by()
        .values("route_version__template")
        .annotate(n=Count("pk"))
        .values("n")
    )
    template = (
        RouteTemplate.objects.for_org(org_id)
        .select_related("doc_type")
        .annotate(running=Coalesce(Subquery(running), 0))
        .filter(pk=pk)
        .first()
    )
    if template is None:
        raise NotFound()
    _admin_org(user)
    # A draft is numbered after every published version: the two highest numbers
    # are the draft (if any) and the latest published version.
    latest = list(
        RouteVersion.objects.filter(template=template)
        .select_related("updated_by")
        .order_by("-number")[:2]
    )
    draft = next((v for v in latest if v.status == RouteVersionStatus.DRAFT), None)
    published = next(
        (v for v in latest if v.status == RouteVersionStatus.PUBLISHED), None
    )
    return BuilderRoute(
        template, draft, published, int(getattr(template, "running", 0))
    )


def running_processes(template: RouteTemplate) -> int:
    """Processes still running (or in revision) on a published version of the route:
    they stay on it when a new version is published."""
    return Process.objects.filter(
        organisation_id=template.organisation_id,
        route_version__template=template,
        status__in=ACTIVE_PROCESS_STATUSES,
    ).count()


def builder_facts(template: RouteTemplate) -> dict[str, Any]:
    """The names the builder's pickers offer, in the reader's language."""
    org_id = template.organisation_id
    fields = list(
        FieldDef.objects.filter(doc_type_id=template.doc_type_id).order_by(
            "order", "pk"
        )
    )
    return {
        "fields": [
            {
                "key": f.key,
                "label": f.label,
                "kind": f.kind,
                "choices": [
                    {"value": c.get("value"), "label": f.choice_label(c.get("value"))}
                    for c in (f.choices or [])
                ],
            }
            for f in fields
        ]
        + [
            {"key": "initiator.department", "label": _("Initiator's department"), "kind": "department", "choices": []},
            {"key": "counterparty.category", "label": _("Counterparty's category"), "kind": "string", "choices": []},
        ],
        "users": [
            {"key": u.username, "label": u.short_name, "id": u.pk}
            for u in User.objects.filter(organisation_id=org_id, is_active=True).order_by(
                "last_name", "first_name", "username"
            )
        ],
        **_names(org_id, template.doc_type_id),
    }  # fmt: skip


def _names(org_id: int, doc_type_id: int) -> dict[str, list[dict[str, str]]]:
    """The roles, departments and the type's statuses as the pickers name them, in
    one query (the builder page's budget is ten)."""

    def part(model: Any, kind: str, key: str, ru: str, en: str, order: Any) -> Any:
        return model.objects.order_by().values_list(
            Value(kind, output_field=CharField()), key, ru, en, order
        )

    rows = (
        part(Role, "role", "key", "name_ru", "name_en", Value(0, output_field=IntegerField()))
        .filter(organisation_id=org_id)
        .union(
            part(Department, "department", "code", "name", "name_en", Value(0, output_field=IntegerField()))
            .filter(organisation_id=org_id),
            part(StatusDef, "status", "key", "name_ru", "name_en", "order")
            .filter(organisation_id=org_id, doc_type_id=doc_type_id),
            all=True,
        )
    )  # fmt: skip
    english = _lang() == "en"
    found: dict[str, list[tuple[Any, str, str]]] = {
        "role": [], "department": [], "status": []
    }  # fmt: skip
    for kind, key, ru, en, order in rows:
        label = (en or ru) if english else (ru or en)
        found[kind].append((order if kind == "status" else label.lower(), key, label))
    return {
        name: [{"key": key, "label": label} for _o, key, label in sorted(found[kind])]
        for name, kind in (
            ("roles", "role"), ("departments", "department"), ("statuses", "status")
        )
    }  # fmt: skip


# --- the diff of two versions ---------------------------------------------------------


def _stages(definition: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {
        str(s.get("key")): s
        for s in definition.get("stages") or []
        if isinstance(s, Mapping)
    }


def _steps(definition: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for key, stage in _stages(definition).items():
        for step in stage.get("steps") or []:
            if isinstance(step, Mapping):
                found[(key, str(step.get("key")))] = step
    return found


def _label(item: Mapping[str, Any], key: str) -> str:
    name = item.get("name")
    if isinstance(name, Mapping):
        return str(name.get(_lang()) or name.get("ru") or name.get("en") or key)
    return key


def route_diff(
    old: Mapping[str, Any] | None, new: Mapping[str, Any]
) -> list[dict[str, str]]:
    """What the new definition changes, one line per stage or step (added, removed,
    changed), the order of the stages, route-wide settings one line each; stages and
    steps are matched by key and named by their names."""
    old = old or {}
    old_stages, new_stages = _stages(old), _stages(new)
    stage_names = {k: _label(v, k) for k, v in {**old_stages, **new_stages}.items()}
    lines = _stage_lines(old_stages, new_stages, stage_names)
    lines += _step_lines(_steps(old), _steps(new), stage_names)
    for setting in sorted((set(old) | set(new)) - {"stages", "key", "name"}):
        if old.get(setting) != new.get(setting):
            lines.append(
                _line("changed", _("Setting «%(k)s» changed") % {"k": setting})
            )
    if old and old.get("name") != new.get("name"):
        lines.append(_line("changed", _("The route's name changed")))
    return lines


def _line(kind: str, text: str) -> dict[str, str]:
    return {"kind": kind, "text": text}


def _stage_lines(
    old: dict[str, Mapping[str, Any]],
    new: dict[str, Mapping[str, Any]],
    names: dict[str, str],
) -> list[dict[str, str]]:
    lines = []

    def own(stage: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in stage.items() if k != "steps"}

    for key, stage in new.items():
        if key not in old:
            lines.append(_line("added", _("Stage «%(k)s» added") % {"k": names[key]}))
        elif own(stage) != own(old[key]):
            lines.append(
                _line("changed", _("Stage «%(k)s» changed") % {"k": names[key]})
            )
    for key in old:
        if key not in new:
            lines.append(
                _line("removed", _("Stage «%(k)s» removed") % {"k": names[key]})
            )
    common = [k for k in new if k in old]
    if common != [k for k in old if k in new]:
        lines.append(_line("changed", _("The order of the stages changed")))
    return lines


def _step_lines(
    old: dict[tuple[str, str], Any],
    new: dict[tuple[str, str], Any],
    stage_names: dict[str, str],
) -> list[dict[str, str]]:
    lines = []

    def names(where: tuple[str, str]) -> dict[str, str]:
        body = new.get(where) or old[where]
        return {"s": stage_names[where[0]], "t": _label(body, where[1])}

    for where, body in new.items():
        if where not in old:
            lines.append(
                _line("added", _("Step «%(t)s» added to «%(s)s»") % names(where))
            )
        elif old[where] != body:
            lines.append(
                _line("changed", _("Step «%(t)s» in «%(s)s» changed") % names(where))
            )
    for where in old:
        if where not in new:
            lines.append(
                _line("removed", _("Step «%(t)s» removed from «%(s)s»") % names(where))
            )
    return lines


# --- simulation ------------------------------------------------------------------------


def route_simulate(
    *,
    user: User,
    template: RouteTemplate,
    definition: Mapping[str, Any],
    initiator_id: int | None,
    values: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """For this initiator and these values: every stage and step, whether it runs,
    who is asked (resolved as a real start would) or why it is skipped.

    The definition must parse (problems by path otherwise); nothing is saved.
    """
    org_id = organisation_id_of(user)
    if template.organisation_id != org_id:
        raise NotFound()
    route, problems = parse_route(definition)
    if route is None:
        raise ValidationFailed.single(
            "definition", "invalid", say(problems[0].message) if problems else ""
        )
    initiator = (
        User.objects.filter(organisation_id=org_id, pk=initiator_id)
        .select_related("department")
        .first()
        if initiator_id
        else user
    )
    if initiator is None:
        raise ValidationFailed.single("initiator", "invalid", _("No such person."))
    fields = list(FieldDef.objects.filter(doc_type_id=template.doc_type_id))
    known = {f.key for f in fields}
    document = Document(
        organisation_id=org_id,
        doc_type=template.doc_type,
        initiator=initiator,
        fields={k: v for k, v in values.items() if k in known and v not in ("", None)},
    )
    return _stages_out(route, document, fields)


def _stages_out(
    route: RouteDefinition, document: Document, fields: list[FieldDef]
) -> list[dict[str, Any]]:
    # Departments by their names, never their codes (read only when one is named).
    names = Names(document.organisation_id)
    words = words_for(fields, names)
    resolver = Resolver(document, definition=route)
    stages = preview(route, document_facts(document), resolver)
    ids = {
        int(p.id)
        for stage in stages
        for step in stage.steps
        for p in step.participants
        if p.kind == "user"
    }
    people = {u.pk: u.short_name for u in User.objects.filter(pk__in=ids)}
    out = []
    for stage_def, stage in zip(route.stages, stages, strict=True):
        steps = []
        for step_def, step in zip(stage_def.steps, stage.steps, strict=False):
            reason = (
                skip_reason(step.reason, step_def.when, words) if step.reason else ""
            )
            if reason and reason == step.reason:  # the resolver's: nobody to ask
                reason = reason_in_words(reason, names)
            steps.append(
                {
                    "key": step.key,
                    "name": step.name.get(_lang()),
                    "kind": step.kind,
                    "runs": step.runs,
                    "reason": reason,
                    "unresolved": step.unresolved,
                    "quorum": str(step.quorum),
                    "people": [
                        people.get(int(p.id), str(p.id))
                        if p.kind == "user"
                        else str(p.id)
                        for p in step.participants
                    ],
                }
            )
        reason = stage.reason
        if reason:
            reason = (
                skip_reason(reason, stage_def.when, words)
                if stage_def.when is not None and reason.startswith("condition")
                else _("every step is skipped")
            )
        out.append(
            {
                "key": stage.key,
                "name": stage.name.get(_lang()),
                "runs": stage.runs,
                "reason": reason,
                "steps": steps,
            }
        )
    return out


def _lang() -> str:
    return "en" if get_language() == "en" else "ru"


# --- the phone's read-only outline ----------------------------------------------------


def route_outline(
    definition: Mapping[str, Any],
    fields: list[dict[str, Any]],
    departments: list[dict[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """Stages and their steps in words, as the phone shows them (read-only).

    ``fields`` and ``departments`` are ``builder_facts``' (no query here):
    departments are named, never shown by their codes.
    """
    route, _problems = parse_route(definition)
    if route is None:
        return []
    words = words_for(
        [
            FieldDef(
                key=f["key"],
                label_ru=f["label"],
                label_en=f["label"],
                kind=f["kind"],
                choices=[
                    {"value": c["value"], "ru": c["label"], "en": c["label"]}
                    for c in f["choices"]
                ],
            )
            for f in fields
            if "." not in f["key"]
        ],
        Names(0, _departments={d["key"]: d["label"] for d in departments or []}),
    )
    lang = _lang()
    out = []
    for index, stage in enumerate(route.stages, start=1):
        steps = []
        for step in stage.steps:
            assignee = (
                step.assignee.model_dump(exclude_defaults=True) if step.assignee else {}
            )
            steps.append(
                {
                    "name": step.name.get(lang) or step.key,
                    "kind": step.kind.value,
                    "assignee": assignee,
                    "when": describe(step.when, words) if step.when is not None else "",
                    "due": step.due.model_dump(
                        exclude_none=True, include={"working_days", "hours", "field"}
                    )
                    if step.due
                    else {},
                }
            )
        out.append(
            {
                "number": index,
                "name": stage.name.get(lang) or stage.key,
                "when": describe(stage.when, words) if stage.when is not None else "",
                "steps": steps,
            }
        )
    return out  # fmt: skip
