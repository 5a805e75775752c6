"""Route definitions as the engine reads them, parsed once per published version.

A published version never changes, so its parsed ``RouteDefinition`` is kept for
the life of the process; drafts are parsed on every call. Both the commands and
the screens read definitions through ``definition_for``.
"""

from __future__ import annotations

import threading

from sogla.engine.definition import RouteDefinition
from sogla.workflow.models import RouteVersion, RouteVersionStatus

_definitions: dict[tuple[int, str], RouteDefinition] = {}
_definitions_lock = threading.Lock()
_DEFINITIONS_MAX = 2000


def definition_for(version: RouteVersion) -> RouteDefinition:
    """The parsed definition of a version; published ones are cached (immutable).

    The key is the id plus the publication time, so a row id reused after a
    rolled-back transaction (tests) never returns another route's definition.
    """
    if version.status != RouteVersionStatus.PUBLISHED or version.published_at is None:
        return RouteDefinition.model_validate(version.definition)
    key = (version.pk, version.published_at.isoformat())
    cached = _definitions.get(key)
    if cached is not None:
        return cached
    parsed = RouteDefinition.model_validate(version.definition)
    with _definitions_lock:
        if len(_definitions) >= _DEFINITIONS_MAX:
            _definitions.clear()
        _definitions[key] = parsed
    return parsed


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
