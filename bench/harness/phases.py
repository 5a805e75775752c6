"""CPU per phase of ``task_decide`` (``bench/engine.py --phases``).

Wraps the functions a decision goes through with ``time.process_time`` (inclusive:
a phase's figure contains the phases it calls, e.g. "prepare" contains the lock and
the load), counted only inside ``services.task_decide`` (not in ``process_start``,
which runs the same functions). Unprofiled, so the figures add up to about the
decision's CPU; meant to be read as shares, on the same run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# (label, module path, attribute path): the phases, in the order a decision runs them
PHASES = (
    ("prepare (all of it)", "sogla.workflow.services.decisions", "_Decision.prepare"),
    ("  lock the task", "sogla.workflow.services.decisions", "_Decision.locked"),
    ("  load the state", "sogla.workflow.repository", "load"),
    ("  context", "sogla.workflow.services.decisions", "command_context"),
    ("engine (handle)", "sogla.workflow.services.pipeline", "handle"),
    ("save the rows", "sogla.workflow.repository", "save"),
    ("effects", "sogla.workflow.effects", "EffectApplier.run"),
    ("audit: record", "sogla.workflow.effects", "EffectApplier.audit"),
    ("audit: append", "sogla.core.audit", "_append"),
    ("commit", "django.db.backends.base.base", "BaseDatabaseWrapper.commit"),
)


@contextmanager
def phases() -> Iterator[Counter[str]]:
    """Within the block, CPU seconds per phase accumulate in the counter given."""
    import importlib

    spent: Counter[str] = Counter()
    inside = [False]
    undo: list[Callable[[], None]] = []
    services: Any = importlib.import_module("sogla.workflow.services")
    decide = services.task_decide

    def deciding(*args: Any, **kwargs: Any) -> Any:
        inside[0] = True
        try:
            return decide(*args, **kwargs)
        finally:
            inside[0] = False

    services.task_decide = deciding
    undo.append(lambda: setattr(services, "task_decide", decide))
    for label, module_name, path in PHASES:
        owner: Any = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        original = (
            owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        )
        setattr(owner, name, _timed(original, label, spent, inside))
        undo.append(
            lambda owner=owner, name=name, original=original: setattr(
                owner, name, original
            )
        )
    try:
        yield spent
    finally:
        for restore in reversed(undo):
            restore()


def _timed(
    function: Callable[..., Any], label: str, spent: Counter[str], inside: list[bool]
) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        if not inside[0]:
            return function(*args, **kwargs)
        began = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - began

    return timed


def report(spent: Counter[str], decisions: int, cpu: float) -> str:
    """The phases' CPU per decision and share of the decision's CPU."""
    lines = ["  CPU per phase (inclusive; process_time, unprofiled):"]
    per_decision = cpu / decisions
    for label, _module, _path in PHASES:
        each = spent[label] / decisions
        lines.append(
            f"    {label:22s} {each * 1000:6.3f} ms  {each / per_decision * 100:5.1f} %"
        )
    lines.append(f"    {'decision':22s} {per_decision * 1000:6.3f} ms  100.0 %")
    return "\n".join(lines)
