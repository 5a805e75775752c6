"""Which route step is current for a document: asked of whoever registered.

The discussion sits below workflow, so it never imports it; workflow registers
its answer in ``WorkflowConfig.ready()``. Without one, messages carry no step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sogla.documents.models import Document

# document -> {"key": "stage.step", "ru": "...", "en": "...", "round": n} or {}
StepSource = Callable[[Document], dict[str, Any]]
_SOURCES: list[StepSource] = []


def register_step_source(source: StepSource) -> None:
    if source not in _SOURCES:
        _SOURCES.append(source)


def current_step(document: Document) -> dict[str, Any]:
    for source in _SOURCES:
        found = source(document)
        if found:
            return found
    return {}
