"""The route builder's commands: save the draft, publish it, import JSON.

The builder holds the definition as JSON and sends it whole; the server checks it
with the engine and keeps the draft. Each save names the draft revision it was made
over (``route_token``): when another administrator saved or published in between,
the save is refused with who did it and when, and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from sogla.core.errors import FieldProblem, ValidationFailed
from sogla.core.request_meta import RequestMeta
from sogla.engine.validation import Problem, parse_route, validate_route
from sogla.orgs.models import Role, User
from sogla.workflow.error_codes import WorkflowErrorCode
from sogla.workflow.errors import WorkflowError
from sogla.workflow.models import RouteTemplate, RouteVersion, RouteVersionStatus
from sogla.workflow.route_words import ShownProblem, shown
from sogla.workflow.services.pipeline import NO_META
from sogla.workflow.services.routes import (
    _template_for_admin,
    org_facts,
    route_version_publish,
    route_version_save_draft,
)

MAX_IMPORT_BYTES = 1024 * 1024  # a route is a few kilobytes; 1 MB is plenty


class DraftChanged(WorkflowError):
    """Another administrator saved or published the route since it was loaded."""

    code = WorkflowErrorCode.DRAFT_CHANGED


def _versions(
    template: RouteTemplate,
) -> tuple[RouteVersion | None, RouteVersion | None]:
    draft = (
        RouteVersion.objects.filter(template=template, status=RouteVersionStatus.DRAFT)
        .select_related("updated_by")
        .first()
    )
    published = (
        RouteVersion.objects.filter(
            template=template, status=RouteVersionStatus.PUBLISHED
        )
        .select_related("published_by")
        .order_by("-number")
        .first()
    )
    return draft, published


def token_of(draft: RouteVersion | None, published: RouteVersion | None) -> str:
    """What the builder loaded: the draft's revision, or the published number."""
    if draft is not None:
        return f"d{draft.number}.{draft.revision}"
    return f"p{published.number if published is not None else 0}"


def route_token(template: RouteTemplate) -> str:
    return token_of(*_versions(template))


def _when(moment: Any) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _check_token(template: RouteTemplate, base: str) -> None:
    """Lock the route and refuse when it changed since ``base`` was read."""
    RouteTemplate.objects.select_for_update().filter(pk=template.pk).first()
    draft, published = _versions(template)
    if token_of(draft, published) == base:
        return
    if draft is not None and draft.updated_at is not None:
        who = draft.updated_by.short_name if draft.updated_by else _("someone")
        message = _(
            "%(who)s changed the draft at %(when)s. Reload the route to see their "
            "changes; yours are not saved."
        ) % {"who": who, "when": _when(draft.updated_at)}
    elif published is not None and published.published_at is not None:
        who = (
            published.published_by.short_name
            if published.published_by
            else _("someone")
        )
        message = _(
            "%(who)s published version %(n)s at %(when)s. Reload the route; your "
            "changes are not saved."
        ) % {"who": who, "n": published.number, "when": _when(published.published_at)}
    else:
        message = _(
            "The route changed meanwhile. Reload it; your changes are not saved."
        )
    raise DraftChanged(message)


def _own(template: RouteTemplate, definition: Mapping[str, Any]) -> dict[str, Any]:
    """The definition under this route's key, named as the route when it has no name."""
    data = dict(definition)
    data["key"] = template.key
    if not data.get("name"):
        data["name"] = {"ru": template.name_ru, "en": template.name_en}
    return data


def route_check(
    template: RouteTemplate, definition: Mapping[str, Any]
) -> list[ShownProblem]:
    """Every problem of a definition, in the reader's language, each with its path.

    Beyond the engine's checks: a role that nobody active holds.
    """
    problems = validate_route(definition, org_facts(template))
    route, _structure = parse_route(definition)
    if route is not None:
        held = set(
            Role.objects.for_org(template.organisation_id)
            .filter(members__is_active=True)
            .values_list("key", flat=True)
        )
        known = {p.path for p in problems}
        for si, stage in enumerate(route.stages):
            for ti, step in enumerate(stage.steps):
                role = step.assignee.role if step.assignee is not None else None
                path = f"stages[{si}].steps[{ti}].assignee.role"
                if role and role not in held and path not in known:
                    problems.append(Problem(path, f"role nobody holds: {role}"))
    return shown(problems)


@transaction.atomic
def route_builder_save(
    *,
    actor: User,
    template: RouteTemplate,
    definition: Mapping[str, Any],
    base: str,
    meta: RequestMeta = NO_META,
) -> RouteVersion:
    """Save the draft made over ``base``; refused when the route changed since."""
    _template_for_admin(actor, template)
    if not isinstance(definition, Mapping):
        raise ValidationFailed.single(
            "definition", "invalid", _("This is not a route definition.")
        )
    _check_token(template, base)
    return route_version_save_draft(
        actor=actor, template=template, definition=_own(template, definition), meta=meta
    )


@transaction.atomic
def route_builder_publish(
    *,
    actor: User,
    template: RouteTemplate,
    definition: Mapping[str, Any],
    base: str,
    meta: RequestMeta = NO_META,
) -> RouteVersion:
    """Save the draft and publish it as the next version, or neither.

    Refused with every problem (translated, by path) when the route cannot run;
    running processes stay on the version they started with.
    """
    draft = route_builder_save(
        actor=actor, template=template, definition=definition, base=base, meta=meta
    )
    problems = route_check(template, draft.definition)
    if problems:
        raise ValidationFailed(
            FieldProblem(p.path or "definition", "invalid", p.message) for p in problems
        )
    return route_version_publish(actor=actor, version=draft, meta=meta)


def _import_problem(message: str) -> ValidationFailed:
    return ValidationFailed.single("file", "invalid", message)


@transaction.atomic
def route_import(
    *,
    actor: User,
    template: RouteTemplate,
    content: bytes,
    base: str,
    meta: RequestMeta = NO_META,
) -> RouteVersion:
    """A route's JSON (as exported) becomes the draft; anything wrong: a report
    naming every problem, and nothing saved.

    ``content`` may be cut at ``MAX_IMPORT_BYTES + 1`` by the caller.
    """
    _template_for_admin(actor, template)
    if len(content) > MAX_IMPORT_BYTES:
        raise _import_problem(
            _("The file is too large for a route (at most %(mb)s MB).")
            % {"mb": MAX_IMPORT_BYTES // (1024 * 1024)}
        )
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _import_problem(_("The file is not JSON.")) from None
    if isinstance(data, dict) and isinstance(data.get("definition"), dict):
        data = data["definition"]  # the API's shape: {"key": ..., "definition": {...}}
    if not isinstance(data, dict) or "stages" not in data:
        raise _import_problem(_("The file is not a Sogla route: it has no stages."))
    data = _own(template, data)
    problems = route_check(template, data)
    if problems:
        raise ValidationFailed(
            [FieldProblem("file", "invalid", _("The route cannot be imported here:"))]
            + [
                FieldProblem(p.path or "definition", "invalid", p.message)
                for p in problems
            ]
        )
    return route_builder_save(
        actor=actor, template=template, definition=data, base=base, meta=meta
    )
