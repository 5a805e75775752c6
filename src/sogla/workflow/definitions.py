"""Route definitions as the engine reads them, parsed once per published version.

A published version never changes, so its parsed ``RouteDefinition`` is kept for
the life of the process; drafts are parsed on every call. Both the commands and
the screens read definitions through ``definition_for``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sogla.engine.definition import RouteDefinition
from sogla.workflow.models import RouteVersion, RouteVersionStatus

_definitions: dict[tuple[int, str], RouteDefinition] = {}
_definitions_lock = threading.Lock()
_DEFINITIONS_MAX = 2000


def _key(pk: int, status: str, published_at: datetime | None) -> tuple[int, str] | None:
    """The cache key of a published version (None: not cached). The id plus the
    publication time, so a row id reused after a rolled-back transaction (tests)
    never returns another route's definition."""
    if status != RouteVersionStatus.PUBLISHED or published_at is None:
        return None
    return (pk, published_at.isoformat())


def _parsed(key: tuple[int, str] | None, definition: Any) -> RouteDefinition:
    parsed = RouteDefinition.model_validate(definition)
    if key is not None:
        with _definitions_lock:
            if len(_definitions) >= _DEFINITIONS_MAX:
                _definitions.clear()
            _definitions[key] = parsed
    return parsed


def definition_for(version: RouteVersion) -> RouteDefinition:
    """The parsed definition of a version; published ones are cached (immutable)."""
    key = _key(version.pk, version.status, version.published_at)
    cached = _definitions.get(key) if key is not None else None
    if cached is not None:
        return cached
    return _parsed(key, version.definition)


def definitions_by_version(
    versions: Iterable[tuple[int, str, datetime | None]],
) -> dict[int, RouteDefinition]:
    """The parsed definitions of versions named by (id, status, published_at), as a
    list reads them without the route's JSON: cached ones read nothing, the others
    are read together in one statement."""
    found: dict[int, RouteDefinition] = {}
    missing: dict[int, tuple[int, str] | None] = {}
    for pk, status, published_at in versions:
        key = _key(pk, status, published_at)
        cached = _definitions.get(key) if key is not None else None
        if cached is not None:
            found[pk] = cached
        elif pk not in found:
            missing[pk] = key
    if missing:
        rows = RouteVersion.objects.filter(pk__in=missing).values_list(
            "pk", "definition"
        )
        for pk, definition in rows:
            found[pk] = _parsed(missing[pk], definition)
    return found


def stage_usernames(definition: RouteDefinition) -> dict[str, frozenset[str]]:
    """For each username the route assigns a step to (``{"user": "<username>"}``),
    the usernames its stage assigns: a stage opens its steps together, so the
    resolver reads those people together."""
    together: dict[str, frozenset[str]] = {}
    for stage in definition.stages:
        names = frozenset(
            step.assignee.user
            for step in stage.steps
            if step.assignee is not None and step.assignee.user
        )
        for name in names:
            together[name] = together.get(name, frozenset()) | names
    return together
