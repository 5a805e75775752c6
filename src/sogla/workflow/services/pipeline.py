"""The one way a command runs: lock, load, check, engine, save, audit, effects.

Every command on a process goes through ``execute(prepare, ...)``:

1. ``prepare()`` locks the process row (``lock_and_load``; a decision locks it with
   its task, ``repository.lock_task``), loads the partial state the command needs
   with the document (``repository.load``), makes the checks only the locked
   state can answer and returns a ``Step``: the engine command and its context
   (``command_context``). A command with nothing for the engine (a repeated
   request, a timer fired already, a reminder) returns ``Answered`` instead.
2. ``handle`` (the pure engine) returns the new state and its effects; a refusal
   becomes the application's error (``refusals.engine_refusal``).
3. ``repository.save`` writes what changed, the compare-and-set on
   ``Process.version`` first.
4. The command's audit event, then its effects (``effects.EffectApplier``):
   notices into the outbox, the document's status and fields, route actions.
5. ``Step.answer`` gives the command's result.

All of it is one transaction, with the command's audit events (``with_retry``);
a lost compare-and-set (``ConcurrentUpdate``) runs it once more from the start, a
second loss is a ``ProcessConflict``. A refusal rolls everything back and, when
the command names a ``refusal``, leaves its evidence in the audit log
(``refusals.refusals_audited``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db import transaction
from django.utils.translation import gettext as _

from sogla.core.access import organisation_id_of
from sogla.core.audit import audit_batch
from sogla.core.errors import NotFound
from sogla.core.request_meta import RequestMeta
from sogla.documents.models import Document
from sogla.documents.services import document_files_sha256
from sogla.engine import errors as engine_errors
from sogla.engine.commands import Command, Start
from sogla.engine.run import Context, Result, handle
from sogla.orgs.models import User
from sogla.workflow import repository
from sogla.workflow.effects import EffectApplier
from sogla.workflow.errors import ProcessConflict
from sogla.workflow.models import Process, RouteTemplate
from sogla.workflow.repository import ConcurrentUpdate, Loaded
from sogla.workflow.resolver import Resolver, document_facts
from sogla.workflow.services.refusals import Refusal, engine_refusal, refusals_audited
from sogla.workflow.tenant import local_now, organisation_calendar

T = TypeVar("T")
NO_META = RequestMeta()


@dataclass(frozen=True)
class Event:
    """The audit event a command leaves: verb, payload, target (default: the process)."""

    verb: str
    payload: Mapping[str, Any]
    target: str = ""


@dataclass(frozen=True)
class Done:
    """A command carried out: what was loaded, the engine's result, the applier."""

    loaded: Loaded
    result: Result
    applier: EffectApplier


@dataclass(frozen=True)
class Answered(Generic[T]):
    """A command that ends before the engine: a repeated request, a timer fired
    already, a reminder (nothing for the engine to do)."""

    value: T


@dataclass(frozen=True)
class Step(Generic[T]):
    """What a command asks of the pipeline once its process is locked and loaded."""

    loaded: Loaded
    command: Command
    ctx: Context
    answer: Callable[[Done], T]
    event: Event | Callable[[Result], Event | None] | None = None
    template: RouteTemplate | None = None  # the route, when the command read it
    file_fields: frozenset[str] = frozenset()  # present files the engine was shown
    task_extra: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    fired_timer: str | None = None


def execute(
    prepare: Callable[[], Step[T] | Answered[T]],
    *,
    actor: User | None,
    meta: RequestMeta,
    refusal: Refusal | None = None,
    actor_label: str = "",
) -> T:
    """Run a command (see the module docstring); returns its answer. A guest's
    command has no ``actor`` and names the guest in ``actor_label``."""

    def attempt() -> T:
        step = prepare()
        if isinstance(step, Answered):
            return step.value
        return _carry_out(step, actor, meta, actor_label)

    return refusals_audited(
        lambda: with_retry(attempt), actor=actor, meta=meta, refusal=refusal
    )


def _carry_out(
    step: Step[T], actor: User | None, meta: RequestMeta, actor_label: str = ""
) -> T:
    loaded, ctx = step.loaded, step.ctx
    state = None if isinstance(step.command, Start) else loaded.state
    try:
        result = handle(loaded.definition, state, step.command, ctx)
    except engine_errors.EngineError as error:
        raise engine_refusal(error) from None
    repository.save(
        loaded,
        result.state,
        fired_timer=step.fired_timer,
        task_extra=step.task_extra,
        now=ctx.now,
    )
    applier = EffectApplier(
        loaded,
        actor,
        meta,
        template=step.template,
        file_fields=step.file_fields,
        actor_label=actor_label,
    )
    applier.know(ctx)
    event = step.event(result) if callable(step.event) else step.event
    if event is not None:
        applier.audit(event.verb, event.payload, target=event.target)
    applier.run(result.effects)
    return step.answer(Done(loaded, result, applier))


def with_retry(call: Callable[[], T]) -> T:
    """Run ``call`` in a transaction with its audit events; a lost compare-and-set
    is retried once, a second loss is a ``ProcessConflict``."""
    for attempt in (1, 2):
        try:
            # one command, one transaction: its audit events go in together
            with transaction.atomic(), audit_batch():
                return call()
        except ConcurrentUpdate:
            if attempt == 2:
                raise ProcessConflict(
                    _(
                        "Someone changed this approval at the same moment. "
                        "Reload the page and try again."
                    )
                ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def lock_and_load(
    process_id: int, org_id: int, command: Command | None = None
) -> Loaded:
    """The process row locked (``repository.lock_process``) and what ``command``
    needs of its state, with its document; NotFound outside the organisation."""
    try:
        process = repository.lock_process(process_id, org_id)
    except Process.DoesNotExist:
        raise NotFound() from None
    return repository.load(process, command)


def process_for(actor: User, process: Process | int) -> tuple[int, int]:
    """The organisation's and the process's ids; NotFound outside the actor's
    organisation."""
    org_id = organisation_id_of(actor)
    process_id = process if isinstance(process, int) else process.pk
    if not Process.objects.for_org(org_id).filter(pk=process_id).exists():
        raise NotFound()
    return org_id, process_id


def files_sha256(document: Document) -> str:
    """SHA-256 over the sorted hashes of the document's current file versions:
    kept on the document by the file services, computed when not known."""
    return document.files_sha256 or document_files_sha256(document.pk)


def command_context(
    loaded: Loaded,
    *,
    moment: datetime | None = None,
    with_files: bool = True,
    answers: Mapping[str, Any] | None = None,
) -> Context:
    """The engine's context at ``moment`` (default: the clock) in the organisation's
    zone; ``answers`` are the decision's cleaned fields, which the facts and the
    resolver read before they are written to the document."""
    document = loaded.document
    now = local_now(document.organisation, moment)
    resolver = Resolver(
        document,
        now.date(),
        answers=answers,
        definition=loaded.definition,
    )
    return Context(
        now=now,
        facts=document_facts(document, answers),
        calendar=organisation_calendar(document.organisation),
        resolve=resolver,
        files_sha256=files_sha256(document) if with_files else None,
        zone=resolver.zone,
    )


def the_process(done: Done) -> Process:
    """The answer of most commands: the process, as saved."""
    return done.loaded.process
