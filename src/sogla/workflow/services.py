"""Commands on routes and processes: each one transaction, ``actor`` keyword-only.

A process command locks the process row (PostgreSQL), loads the partial state the
command needs (``repository.load``), calls the pure engine, writes what changed with
a compare-and-set on ``Process.version`` and applies every effect (task and timer
rows, notifications into the outbox, document status and fields, route actions,
audit events) in the same transaction. A lost compare-and-set is retried once; a
second loss is a ``ProcessConflict``.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
import time
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sogla.core.access import organisation_id_of
from sogla.core.audit import audit_batch, audit_record
from sogla.core.errors import (
    ApplicationError,
    FieldProblem,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from sogla.core.prepared import Prepared
from sogla.core.request_meta import RequestMeta
from sogla.documents import naming
from sogla.documents.fields import clean_values
from sogla.documents.models import (
    Counterparty,
    Document,
    DocumentType,
    FieldDef,
    FieldKind,
    FileVersion,
    Folder,
    StatusDef,
    StatusMeaning,
)
from sogla.documents.services import (
    NewFile,
    document_fields_set,
    document_files_sha256,
    document_missing_required,
    file_add_for_step,
    folder_ensure,
    naming_values,
)
from sogla.documents.uploads import CheckedUpload
from sogla.engine import effects as fx
from sogla.engine import errors as engine_errors
from sogla.engine.calendar import WorkCalendar
from sogla.engine.commands import (
    Cancel,
    Command,
    Decide,
    Reassign,
    ResolveStep,
    Resubmit,
    RoundChanges,
    Start,
    TimerFired,
)
from sogla.engine.conditions import parse_condition
from sogla.engine.definition import (
    OrgFacts,
    Remind,
    RouteDefinition,
    StepDef,
    validate_route,
)
from sogla.engine.run import Context, Result, handle
from sogla.engine.states import REVISION_STEP, Participant, TaskRun
from sogla.engine.states import TaskState as EngineTaskState
from sogla.notifications.models import Notification
from sogla.notifications.services import (
    notification_build,
    notifications_enqueue_many,
)
from sogla.orgs.access import is_org_admin, manager_of
from sogla.orgs.calendars import work_calendar
from sogla.orgs.models import Department, Organisation, Role, User
from sogla.workflow import repository
from sogla.workflow.definitions import definition_for
from sogla.workflow.errors import ProcessConflict, TaskClosed, WorkflowError
from sogla.workflow.incidents import timer_failed
from sogla.workflow.labels import outcome_label
from sogla.workflow.models import (
    FIELD_REMINDER,
    Channel,
    Process,
    ProcessStatus,
    RouteTemplate,
    RouteVersion,
    RouteVersionStatus,
    Task,
    TaskState,
    Timer,
    TimerState,
)
from sogla.workflow.refs import ref_user_id
from sogla.workflow.repository import ConcurrentUpdate, Loaded
from sogla.workflow.resolver import Resolver, document_facts
from sogla.workflow.state_rows import task_columns

T = TypeVar("T")
NO_META = RequestMeta()


# --- small helpers ----------------------------------------------------------------------


def _not_found() -> NotFound:
    return NotFound()


def _with_retry(call: Callable[[], T]) -> T:
    """Run a transaction; a lost compare-and-set is retried once."""
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


def files_sha256(document: Document) -> str:
    """SHA-256 over the sorted hashes of the document's current file versions:
    kept on the document by the file services, computed when not known."""
    return document.files_sha256 or document_files_sha256(document.pk)


_calendars: dict[int, tuple[float, WorkCalendar]] = {}
_calendars_lock = threading.Lock()
CALENDAR_TTL = 300.0


def organisation_calendar(organisation: Organisation) -> WorkCalendar:
    """The working calendar, cached for a few minutes per organisation."""
    cached = _calendars.get(organisation.pk)
    if cached is not None and time.monotonic() - cached[0] < CALENDAR_TTL:
        return cached[1]
    calendar = work_calendar(organisation)
    with _calendars_lock:
        _calendars[organisation.pk] = (time.monotonic(), calendar)
    return calendar


def calendar_cache_clear() -> None:
    _calendars.clear()


def _local_now(organisation: Organisation, now: datetime | None = None) -> datetime:
    try:
        zone = zoneinfo.ZoneInfo(organisation.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return (now or timezone.now()).astimezone(zone)


_document_with_relations = Prepared(
    lambda document_id, organisation_id: Document.objects.select_related(
        "doc_type",
        "status",
        "organisation",
        "initiator__department",
        "counterparty",
    ).filter(pk=document_id, organisation_id=organisation_id),
    arity=2,
)


def _document_for_process(document_id: int, organisation_id: int) -> Document:
    return _document_with_relations.get(document_id, organisation_id)


def _context(
    document: Document,
    now: datetime,
    *,
    with_files: bool = True,
    answers: Mapping[str, Any] | None = None,
) -> Context:
    """The engine's context; ``answers`` are the decision's cleaned fields, which the
    facts and the resolver read before they are written to the document."""
    resolver = Resolver(document, now.date(), answers=answers)
    return Context(
        now=now,
        facts=document_facts(document, answers),
        calendar=organisation_calendar(document.organisation),
        resolve=resolver,
        files_sha256=files_sha256(document) if with_files else None,
        zone=resolver.zone,
    )


def _user_participant(user: User) -> Participant:
    return Participant.user(user.pk)


def _is_route_manager(actor: User, template: RouteTemplate) -> bool:
    return is_org_admin(actor) or (
        template.owner_id is not None and template.owner_id == actor.pk
    )


# --- engine errors -> application errors -------------------------------------------------


def _refusal(error: engine_errors.EngineError) -> Exception:
    code = error.code
    E = engine_errors.EngineErrorCode
    if code is E.OUTCOME_NOT_ALLOWED:
        return ValidationFailed.single(
            "outcome", "not_allowed", _("This decision is not possible in this step.")
        )
    if code is E.COMMENT_REQUIRED:
        return ValidationFailed.single(
            "comment", "required", _("A comment is required for this decision.")
        )
    if code is E.FIELDS_REQUIRED:
        return ValidationFailed(
            FieldProblem(name, "required", _("This field is required."))
            for name in error.fields
        )
    if code is E.FIELD_NOT_ALLOWED:
        return ValidationFailed(
            FieldProblem(
                name, "unknown_field", _("This step does not fill this field.")
            )
            for name in error.fields
        )
    if code is E.REQUEST_ID_REUSED:
        return ValidationFailed.single(
            "request_id",
            "reused",
            _("This request id was already used for another decision."),
        )
    messages = {
        E.PROCESS_NOT_RUNNING: _("The approval is not in progress."),
        E.PROCESS_FINISHED: _("The approval has already finished."),
        E.PROCESS_NOT_IN_REVISION: _("The document is not returned for revision."),
        E.TASK_NOT_OPEN: _("Task already closed."),
        E.TASK_NOT_DECIDABLE: _("This task ends when the document is resubmitted."),
        E.STEP_NOT_FOUND: _("There is no such step in the current stage."),
        E.STEP_NOT_FAILED: _("Only a step that could not start can be resolved."),
        E.EDIT_NOT_ALLOWED: _("This route does not let the initiator change it."),
        E.ALREADY_ASSIGNED: _("This person already has a task in the step."),
        E.NO_PARTICIPANTS: _("Choose at least one person."),
        E.PROCESS_ALREADY_STARTED: _("The approval has already started."),
        E.PROCESS_NOT_STARTED: _("The approval has not started."),
    }
    if code is E.TASK_NOT_FOUND:
        return _not_found()
    return WorkflowError(messages.get(code, error.message), code=code.value)


def _handle(
    definition: RouteDefinition,
    state: Any,
    command: Command,
    ctx: Context,
) -> Result:
    try:
        return handle(definition, state, command, ctx)
    except engine_errors.EngineError as error:
        raise _refusal(error) from None


# --- applying effects ------------------------------------------------------------------

_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")


_PARTY_SEGMENTS = frozenset({"{counterparty}", "{counterparty.name}"})


class _NoRecipient(Exception):
    """A notify target that reaches nobody; ``reason`` goes to the audit log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Apply:
    """Everything one command's effects need, and the audit trail it builds."""

    process: Process
    document: Document
    loaded: Loaded
    actor: User | None
    meta: RequestMeta
    template: RouteTemplate | None = None
    users: dict[int, User] = field(default_factory=dict)
    file_fields: frozenset[str] = frozenset()  # present files the engine was shown
    outbox: list[Notification] = field(default_factory=list)  # see flush()

    def __post_init__(self) -> None:
        # People already read in this command need no second query in _user.
        initiator = self.document.initiator
        if initiator.is_active and initiator.organisation_id == self.org_id:
            self.users.setdefault(initiator.pk, initiator)

    def know(self, ctx: Context) -> None:
        """Remember the people the command's resolver assigned (active, ours)."""
        if isinstance(ctx.resolve, Resolver):
            for user_id, user in ctx.resolve.users.items():
                self.users.setdefault(user_id, user)

    @property
    def org_id(self) -> int:
        return self.process.organisation_id

    def audit(self, verb: str, payload: Mapping[str, Any], *, target: str = "") -> None:
        audit_record(
            organisation_id=self.org_id,
            verb=verb,
            actor=self.actor,
            target_type="process",
            target_id=target or str(self.process.pk),
            document_id=self.document.pk,
            payload={"process": self.process.pk, **payload},
            request_meta=self.meta,
        )

    def notify(
        self,
        kind: str,
        recipients: Sequence[str],
        event: str,
        data: Mapping[str, Any],
        *,
        route_words: bool = False,
    ) -> int:
        """Queue one notice per person or address; returns how many were queued.

        ``recipients`` are the engine's participant refs (``user:<id>``,
        ``guest:<e-mail>``) or, with ``route_words``, what a route author writes:
        ``initiator``, ``owner``, ``role:<key>``, ``user:<username>``,
        ``field:<key>`` (a user or users field, or a string field holding e-mail
        addresses). A target that reaches nobody is recorded as
        ``process.notify_unresolved``, never dropped silently.
        """
        queued = 0
        for recipient in dict.fromkeys(recipients):
            try:
                found = self._recipients(recipient, route_words=route_words)
            except _NoRecipient as nobody:
                self.audit(
                    "process.notify_unresolved",
                    {"target": recipient, "kind": kind, "reason": nobody.reason},
                )
                continue
            for user, email in found:
                who = f"u{user.pk}" if user is not None else email
                semantic = f"{self.process.pk}:{kind}:{event}:{who}"
                digest = hashlib.sha256(semantic.encode()).hexdigest()[:40]
                self.outbox.append(
                    notification_build(
                        organisation_id=self.org_id,
                        kind=f"workflow.{kind}",
                        recipient_user=user,
                        recipient_email=email,
                        document_id=self.document.pk,
                        context={
                            "process": self.process.pk,
                            "document": self.document.pk,
                            "number": self.document.number,
                            "title": self.document.title,
                            **data,
                        },
                        idempotency_key=f"wf:{self.process.pk}:{digest}",
                    )
                )
                queued += 1
        return queued

    def flush(self) -> None:
        """Queue the notices of ``notify`` calls so far, with one INSERT."""
        notifications_enqueue_many(self.outbox)
        self.outbox.clear()

    def _user(self, user_id: int) -> User | None:
        if user_id not in self.users:
            found = User.objects.filter(
                pk=user_id, organisation_id=self.org_id, is_active=True
            ).first()
            if found is None:
                return None
            self.users[user_id] = found
        return self.users[user_id]

    def _recipients(
        self, word: str, *, route_words: bool = False
    ) -> list[tuple[User | None, str]]:
        """The people or addresses of one target; ``_NoRecipient`` when nobody."""
        found: list[tuple[User | None, str]]
        if word == "initiator":
            user = self._user(self.process.initiator_id)
            if user is None:
                raise _NoRecipient("the initiator is not active")
            return [(user, "")]
        if word == "owner":
            found = self._owners()
            if not found:
                raise _NoRecipient("the route has no owner and there is no admin")
            return found
        kind, _sep, name = word.partition(":")
        if kind == "user" and name:
            if route_words:
                named = User.objects.filter(
                    organisation_id=self.org_id, username=name, is_active=True
                ).first()
            else:
                user_id = ref_user_id(word)
                named = self._user(user_id) if user_id else None
            if named is None:
                raise _NoRecipient(f'no active user "{name}"')
            return [(named, "")]
        if kind == "guest" and "@" in name:
            return [(None, name)]
        if kind == "role" and name:
            holders = User.objects.filter(
                organisation_id=self.org_id,
                is_active=True,
                roles__key=name,
                roles__organisation_id=self.org_id,
            ).distinct()
            found = [(u, "") for u in holders]
            if not found:
                raise _NoRecipient(f'nobody holds the role "{name}"')
            return found
        if kind == "field" and name:
            return self._field_recipients(name)
        if kind == "manager" and name:
            user_id = ref_user_id(name)
            person = self._user(user_id) if user_id else None
            boss = manager_of(person) if person is not None else None
            if boss is None or not boss.is_active:
                raise _NoRecipient("the assignee has no active manager")
            return [(boss, "")]
        raise _NoRecipient("unknown notify target")

    def _field_recipients(self, key: str) -> list[tuple[User | None, str]]:
        definition = FieldDef.objects.filter(
            doc_type_id=self.document.doc_type_id, key=key
        ).first()
        if definition is None:
            raise _NoRecipient(f'no field "{key}" in this document type')
        value = (self.document.fields or {}).get(key)
        if value in (None, "", []):
            raise _NoRecipient(f'the field "{key}" is empty')
        if definition.kind in (FieldKind.USER, FieldKind.USERS):
            ids = value if isinstance(value, list) else [value]
            people = [self._user(int(i)) for i in ids if isinstance(i, int)]
            found: list[tuple[User | None, str]] = [
                (u, "") for u in people if u is not None
            ]
        elif definition.kind == FieldKind.STRING and isinstance(value, str):
            found = [
                (None, address.lower())
                for address in re.split(r"[,;\s]+", value)
                if _EMAIL.fullmatch(address)
            ]
        else:
            raise _NoRecipient(f'the field "{key}" names neither people nor e-mail')
        if not found:
            raise _NoRecipient(f'the field "{key}" names nobody active')
        return found

    def _owners(self) -> list[tuple[User | None, str]]:
        template = self.template or self.process.route_version.template
        if template.owner_id is not None:
            owner = self._user(template.owner_id)
            if owner is not None:
                return [(owner, "")]
        admins = User.objects.filter(
            organisation_id=self.org_id, is_active=True, is_staff=True
        ).order_by("pk")[:5]
        return [(u, "") for u in admins]

    # -- the effects -------------------------------------------------------------------

    def run(self, effects: Sequence[fx.Effect]) -> None:
        task_pks = self.loaded.task_pks
        state = self.process
        for effect in effects:
            if isinstance(effect, fx.OpenTask):
                due = effect.due_at.isoformat() if effect.due_at else None
                self.notify(
                    "task_assigned" if effect.step != REVISION_STEP else "returned",
                    [effect.participant.ref],
                    effect.task_id,
                    {
                        "task": task_pks.get(effect.task_id),
                        "stage": effect.stage,
                        "step": effect.step,
                        "due_at": due,
                    },
                )
            elif isinstance(effect, fx.Notify):
                if effect.kind == "returned":
                    continue  # the initiator's revision task carries the notice
                self.notify(
                    effect.kind,
                    effect.recipients,
                    f"{effect.task_id or effect.stage or ''}:r{state.round}",
                    {
                        "task": task_pks.get(effect.task_id or ""),
                        "stage": effect.stage,
                        **self.stall_hours(effect.kind),
                        **{k: str(v) for k, v in effect.data.items()},
                    },
                    # the stall alert's list is written by the route's author
                    route_words=effect.kind == "stage_stalled",
                )
            elif isinstance(effect, fx.SetStatus):
                self.set_status(effect.key, effect.meaning)
            elif isinstance(effect, fx.SetFields):
                self.set_fields(effect.values)
            elif isinstance(effect, fx.RunAction):
                self.run_action(effect)
            elif isinstance(effect, fx.ReportUnresolved):
                self.audit(
                    "process.step_unresolved",
                    {
                        "stage": effect.stage,
                        "step": effect.step,
                        "reason": effect.reason,
                    },
                )
                self.notify(
                    "step_unresolved",
                    ["owner"],
                    f"{effect.stage}.{effect.step}:r{state.round}",
                    {
                        "stage": effect.stage,
                        "step": effect.step,
                        "reason": effect.reason,
                    },
                )
            elif isinstance(effect, fx.DeadlineUnknown):
                self.audit(
                    "process.deadline_unknown",
                    {
                        "stage": effect.stage,
                        "step": effect.step,
                        "reason": effect.reason,
                    },
                )
            elif isinstance(effect, fx.ProcessReturned):
                self.audit(
                    "process.returned",
                    {
                        "round": effect.round,
                        "stage": effect.stage,
                        "step": effect.step,
                        "task": task_pks.get(effect.task_id),
                        "comment": effect.comment,
                    },
                )
            elif isinstance(effect, fx.ProcessFinished):
                self.audit(
                    "process.finished",
                    {"status": effect.status, "round": state.round},
                )
        self.flush()

    def set_status(self, key: str | None, meaning: str | None) -> None:
        statuses = StatusDef.objects.filter(doc_type_id=self.document.doc_type_id)
        if key:
            status = statuses.filter(key=key).first()
        else:
            status = statuses.filter(meaning=meaning).order_by("order", "id").first()
        if status is None or status.pk == self.document.status_id:
            return
        Document.objects.filter(pk=self.document.pk).update(
            status=status, updated_at=timezone.now()
        )
        self.document.status = status

    def set_fields(self, values: Mapping[str, Any]) -> None:
        values = {k: v for k, v in values.items() if k not in self.file_fields}
        if not values:
            return
        document_fields_set(
            actor=self.actor, document=self.document, values=values, meta=self.meta
        )
        self.document.refresh_from_db(fields=["fields", "title", "counterparty"])

    def filing_values(self, template: str) -> dict[str, object]:
        """What a ``file_to`` path may name: the document's naming values (as in
        titles), ``{department}`` = the initiator's department and
        ``{<user field>.department}`` = the department of the person in the field."""
        document = self.document
        values = naming_values(document)
        initiator = document.initiator
        if initiator.department_id is not None and initiator.department is not None:
            values["department"] = initiator.department.name
        wanted = {
            name.rpartition(".")[0]
            for name in naming.placeholders(template)
            if name.endswith(".department")
        }
        ids = {
            key: value
            for key in wanted
            if isinstance(value := (document.fields or {}).get(key), int)
        }
        if ids:
            people = {
                u.pk: u
                for u in User.objects.filter(
                    organisation_id=self.org_id, pk__in=ids.values()
                ).select_related("department")
            }
            for key, user_id in ids.items():
                person = people.get(user_id)
                if person is not None and person.department is not None:
                    values[f"{key}.department"] = person.department.name
        party = document.counterparty if document.counterparty_id else None
        values["counterparty.name"] = party.name if party is not None else ""
        return values

    def file_into(self, template: str, where: Mapping[str, Any]) -> None:
        """File the document into the rendered folder, creating it on first use.

        When a path segment is the counterparty (``{counterparty}``), that folder is
        the counterparty's: it is remembered on the counterparty when first used,
        and reused later (even after the counterparty is renamed) when it sits in
        the same parent folder.
        """
        values = self.filing_values(template)
        parts = template.split("/")
        rendered = [naming.render(part, values) for part in parts]
        path = naming.safe_folder_path("/".join(rendered))
        party = self.document.counterparty if self.document.counterparty_id else None
        at = next(
            (i for i, part in enumerate(parts) if part.strip() in _PARTY_SEGMENTS),
            None,
        )
        payload: dict[str, Any] = {}
        if party is not None and at is not None and rendered[at].strip():
            party_path = naming.safe_folder_path("/".join(rendered[: at + 1]))
            rest = naming.safe_folder_path("/".join(rendered[at + 1 :]))
            remembered = (
                Folder.objects.filter(
                    pk=party.folder_id, organisation_id=self.org_id
                ).first()
                if party.folder_id is not None
                else None
            )
            if remembered is not None and (
                remembered.path.rpartition("/")[0] == party_path.rpartition("/")[0]
            ):
                party_path = remembered.path
            party_folder = folder_ensure(organisation=self.org_id, path=party_path)
            if party_folder is not None and remembered is None:
                Counterparty.objects.filter(pk=party.pk).update(folder=party_folder)
                party.folder = party_folder
                payload["counterparty_folder"] = party_folder.path
            path = f"{party_path}/{rest}" if rest else party_path
        folder = folder_ensure(organisation=self.org_id, path=path)
        if folder is not None:
            Document.objects.filter(pk=self.document.pk).update(folder=folder)
            self.document.folder = folder
            self.audit("process.filed", {"folder": folder.path, **payload, **where})

    def run_action(self, effect: fx.RunAction) -> None:
        action = effect.action
        where = {"stage": effect.stage, "step": effect.step}
        if action.set_status:
            self.set_status(action.set_status, None)
        if action.set_field:
            self.set_fields(action.set_field)
        if action.file_to:
            self.file_into(action.file_to, where)
        if action.notify:
            self.notify(
                "route_notice",
                action.notify,
                f"{effect.stage or 'finish'}.{effect.step or ''}:r{self.process.round}",
                {k: v for k, v in where.items() if v},
                route_words=True,
            )
        if action.remind:
            self.schedule_reminder(action.remind)
        if action.generate:
            self.audit("process.action_not_supported", {"action": "generate", **where})

    def stall_hours(self, kind: str) -> dict[str, int]:
        alert = self.loaded.definition.stall_alert
        return {"hours": alert.hours} if kind == "stage_stalled" and alert else {}

    def schedule_reminder(self, remind: Remind) -> None:
        """A field-date reminder: one per document, field and lead time.

        A new approval of the same document replaces the pending one; an empty or
        past date is recorded on the card, not ignored.
        """
        engine_id = f"{FIELD_REMINDER}:{remind.before_field}:{remind.days}"
        Timer.objects.filter(
            organisation_id=self.org_id,
            process__document_id=self.document.pk,
            kind=FIELD_REMINDER,
            engine_id=engine_id,
            state=TimerState.PENDING,
        ).update(state=TimerState.CANCELLED)
        at, problem = field_reminder_at(self.document, remind)
        if at is None:
            self.audit(
                "process.reminder_skipped",
                {"field": remind.before_field, "reason": problem},
            )
            return
        Timer.objects.create(
            organisation_id=self.org_id,
            process=self.process,
            engine_id=engine_id,
            kind=FIELD_REMINDER,
            target=remind.before_field,
            due_at=at,
            payload=remind.model_dump(),
        )
        self.audit(
            "process.reminder_scheduled",
            {"field": remind.before_field, "at": at.isoformat(), "days": remind.days},
        )


# --- route templates and versions ---------------------------------------------------------


@transaction.atomic
def route_template_create(
    *,
    actor: User,
    doc_type: DocumentType,
    key: str,
    name_ru: str,
    name_en: str = "",
    owner: User | None = None,
    suggest_when: Mapping[str, Any] | None = None,
    order: int = 0,
    meta: RequestMeta = NO_META,
) -> RouteTemplate:
    """A new route for a document type (administrators)."""
    org_id = organisation_id_of(actor)
    if not is_org_admin(actor):
        raise PermissionDenied(_("Only an administrator may change routes."))
    if doc_type.organisation_id != org_id:
        raise _not_found()
    problems = []
    if not naming_key_ok(key):
        problems.append(
            FieldProblem(
                "key", "invalid", _("Use lower-case letters, digits, - and _.")
            )
        )
    elif RouteTemplate.objects.for_org(org_id).filter(key=key).exists():
        problems.append(
            FieldProblem("key", "duplicate", _("A route with this key already exists."))
        )
    if not name_ru.strip() and not name_en.strip():
        problems.append(
            FieldProblem("name_ru", "required", _("This field is required."))
        )
    if owner is not None and owner.organisation_id != org_id:
        problems.append(FieldProblem("owner", "invalid", _("No such person.")))
    if suggest_when is not None:
        try:
            parse_condition(suggest_when)
        except ValueError:
            problems.append(
                FieldProblem("suggest_when", "invalid", _("This condition is invalid."))
            )
    if problems:
        raise ValidationFailed(problems)
    template = RouteTemplate.objects.create(
        organisation_id=org_id,
        key=key,
        name_ru=name_ru.strip()[:200],
        name_en=name_en.strip()[:200],
        doc_type=doc_type,
        owner=owner,
        suggest_when=dict(suggest_when) if suggest_when is not None else None,
        order=order,
    )
    audit_record(
        organisation_id=org_id,
        verb="route.created",
        actor=actor,
        target_type="route",
        target_id=template.pk,
        payload={"key": key, "doc_type": doc_type.key},
        request_meta=meta,
    )
    return template


def naming_key_ok(key: str) -> bool:
    return bool(re.fullmatch(r"[a-z][a-z0-9_-]{0,59}", key))


def _template_for_admin(actor: User, template: RouteTemplate) -> int:
    org_id = organisation_id_of(actor)
    if template.organisation_id != org_id:
        raise _not_found()
    if not is_org_admin(actor):
        raise PermissionDenied(_("Only an administrator may change routes."))
    return org_id


@transaction.atomic
def route_version_save_draft(
    *,
    actor: User,
    template: RouteTemplate,
    definition: Mapping[str, Any],
    meta: RequestMeta = NO_META,
) -> RouteVersion:
    """Save the template's draft (creating it with the next number if none)."""
    org_id = _template_for_admin(actor, template)
    RouteTemplate.objects.select_for_update().filter(pk=template.pk).first()
    draft = RouteVersion.objects.filter(
        template=template, status=RouteVersionStatus.DRAFT
    ).first()
    if draft is None:
        last = RouteVersion.objects.filter(template=template).aggregate(
            n=Max("number")
        )["n"]
        draft = RouteVersion(
            organisation_id=org_id,
            template=template,
            number=(last or 0) + 1,
            created_by=actor,
        )
    draft.definition = dict(definition)
    draft.save()
    audit_record(
        organisation_id=org_id,
        verb="route.draft_saved",
        actor=actor,
        target_type="route",
        target_id=template.pk,
        payload={"version": draft.number},
        request_meta=meta,
    )
    return draft


def org_facts(template: RouteTemplate) -> OrgFacts:
    """What a definition of this template is checked against."""
    org_id = template.organisation_id
    fields = dict(
        FieldDef.objects.filter(doc_type_id=template.doc_type_id).values_list(
            "key", "kind"
        )
    )
    return OrgFacts(
        roles=frozenset(Role.objects.for_org(org_id).values_list("key", flat=True)),
        usernames=frozenset(
            User.objects.filter(organisation_id=org_id).values_list(
                "username", flat=True
            )
        ),
        departments=frozenset(
            Department.objects.for_org(org_id).values_list("code", flat=True)
        ),
        statuses=frozenset(
            StatusDef.objects.filter(doc_type_id=template.doc_type_id).values_list(
                "key", flat=True
            )
        ),
        fields=fields,
    )


def route_problems(template: RouteTemplate, definition: Mapping[str, Any]) -> list[str]:
    """Every problem of a definition for this template, each with its path."""
    return [str(p) for p in validate_route(definition, org_facts(template))]


@transaction.atomic
def route_version_publish(
    *, actor: User, version: RouteVersion, meta: RequestMeta = NO_META
) -> RouteVersion:
    """Publish a draft after validating it; a published version never changes."""
    template = version.template
    org_id = _template_for_admin(actor, template)
    version = RouteVersion.objects.select_for_update().get(
        pk=version.pk, organisation_id=org_id
    )
    if version.status != RouteVersionStatus.DRAFT:
        raise WorkflowError(
            _("This version is already published and cannot change."),
            code="already_published",
        )
    problems = validate_route(version.definition, org_facts(template))
    if problems:
        raise ValidationFailed(
            FieldProblem(p.path or "definition", "invalid", p.message) for p in problems
        )
    version.status = RouteVersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor
    version.save(update_fields=["status", "published_at", "published_by"])
    audit_record(
        organisation_id=org_id,
        verb="route.published",
        actor=actor,
        target_type="route",
        target_id=template.pk,
        payload={"version": version.number, "key": template.key},
        request_meta=meta,
    )
    return version


def route_version_latest_published(template: RouteTemplate) -> RouteVersion | None:
    return (
        RouteVersion.objects.filter(
            template=template, status=RouteVersionStatus.PUBLISHED
        )
        .order_by("-number")
        .first()
    )


# --- processes -------------------------------------------------------------------------


def process_start(
    *,
    actor: User,
    document: Document,
    template: RouteTemplate,
    meta: RequestMeta = NO_META,
    now: datetime | None = None,
) -> Process:
    """Start ``template``'s latest published version on a draft document.

    ``now`` (default: the clock) is the moment the engine sees; the demo uses it to
    lay out processes that started days ago.
    """
    return _with_retry(lambda: _process_start(actor, document, template, meta, now))


def _process_start(
    actor: User,
    document: Document,
    template: RouteTemplate,
    meta: RequestMeta,
    moment: datetime | None = None,
) -> Process:
    org_id = organisation_id_of(actor)
    if document.organisation_id != org_id or template.organisation_id != org_id:
        raise _not_found()
    document = (
        Document.objects.select_for_update(of=("self",))
        .select_related(
            "doc_type",
            "status",
            "organisation",
            "initiator__department",
            "counterparty",
        )
        .get(pk=document.pk, organisation_id=org_id)
    )
    if document.initiator_id != actor.pk and not is_org_admin(actor):
        raise PermissionDenied(
            _("Only the initiator or an administrator may start the approval.")
        )
    if document.archived_at is not None:
        raise WorkflowError(_("The document is archived."), code="archived")
    if Process.objects.filter(
        document=document, status__in=[ProcessStatus.RUNNING, ProcessStatus.REVISION]
    ).exists():
        raise WorkflowError(
            _("The document is already being approved."), code="already_running"
        )
    if document.status.meaning != StatusMeaning.DRAFT:
        raise WorkflowError(
            _("Only a draft can be sent for approval."), code="not_draft"
        )
    if template.doc_type_id != document.doc_type_id or not template.is_active:
        raise ValidationFailed.single(
            "template", "invalid", _("This route is not available for the document.")
        )
    version = route_version_latest_published(template)
    if version is None:
        raise ValidationFailed.single(
            "template", "not_published", _("This route has no published version yet.")
        )
    missing = document_missing_required(document)
    if missing:
        raise ValidationFailed(missing)
    now = _local_now(document.organisation, moment)
    definition = definition_for(version)
    ctx = _context(document, now)
    result = _handle(
        definition, None, Start(Participant.user(document.initiator_id)), ctx
    )
    try:
        with transaction.atomic():
            process = Process.objects.create(
                organisation_id=org_id,
                document=document,
                route_version=version,
                status=ProcessStatus.RUNNING,
                initiator_id=document.initiator_id,
                started_at=now,
            )
    except IntegrityError:
        raise WorkflowError(
            _("The document is already being approved."), code="already_running"
        ) from None
    process.route_version = version
    loaded = repository.insert_started(process, result.state)
    apply = _Apply(process, document, loaded, actor, meta, template=template)
    apply.audit(
        "process.started",
        {
            "route": template.key,
            "version": version.number,
            "initiator": document.initiator_id,
            "files_sha256": ctx.files_sha256,
        },
    )
    apply.run(result.effects)
    return process


@dataclass(frozen=True)
class _Locked:
    process: Process
    loaded: Loaded
    document: Document


def _lock_and_load(
    process_id: int, org_id: int, command: Command | None = None, *, task_id: str = ""
) -> _Locked:
    try:
        process = repository.lock_process(process_id, org_id)
    except Process.DoesNotExist:
        raise _not_found() from None
    return _load_locked(process, org_id, command, task_id=task_id)


def _load_locked(
    process: Process, org_id: int, command: Command | None = None, *, task_id: str = ""
) -> _Locked:
    loaded = repository.load(process, command, task_id=task_id)
    document = _document_for_process(process.document_id, org_id)
    return _Locked(process, loaded, document)


def _user_name(ref: str | None) -> str:
    user_id = ref_user_id(ref)
    if user_id is None:
        return (ref or "").partition(":")[2] or _("someone")
    user = User.objects.filter(pk=user_id).first()
    return user.short_name if user is not None else _("someone")


def _closed_message(loaded: Loaded, task: TaskRun) -> TaskClosed:
    """ "Task already closed", naming who decided."""
    if task.state is EngineTaskState.DONE or task.state is EngineTaskState.CARRIED_OVER:
        return TaskClosed(
            _("Task already closed: %(name)s already decided (%(outcome)s).")
            % {
                "name": _user_name(task.decided_by),
                "outcome": outcome_label(task.outcome or ""),
            }
        )
    if task.state is EngineTaskState.CLOSED_BY_QUORUM:
        decider = (
            Task.objects.filter(
                process=loaded.process,
                round=task.round,
                stage_key=task.stage,
                step_key=task.step,
                state=TaskState.DONE,
            )
            .order_by("decided_at", "id")
            .values_list("decided_by_ref", flat=True)
            .first()
        )
        return TaskClosed(
            _("Task already closed: %(name)s has already decided for this step.")
            % {"name": _user_name(decider)}
        )
    reasons = {
        "returned": _("the document was returned for revision"),
        "rejected": _("the document was rejected"),
        "cancelled": _("the approval was cancelled"),
        "reassigned": _("the task was given to someone else"),
        "stage finished": _("the stage has finished"),
        "process finished": _("the approval has finished"),
    }
    reason = reasons.get(task.closed_reason or "", task.closed_reason or "")
    return TaskClosed(_("Task already closed: %(reason)s.") % {"reason": reason})


def _task_row_for(actor: User, task_id: int | str) -> Task:
    org_id = organisation_id_of(actor)
    try:
        task = Task.objects.for_org(org_id).get(pk=int(task_id))
    except (Task.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    if actor.pk not in (task.assignee_id, task.on_behalf_of_id):
        raise _not_found()
    return task


def _task_locked_for(actor: User, task_id: int | str) -> Task:
    """``_task_row_for`` with the task's process locked (``repository.lock_task``)."""
    org_id = organisation_id_of(actor)
    try:
        task = repository.lock_task(int(task_id), org_id)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    if actor.pk not in (task.assignee_id, task.on_behalf_of_id):
        raise _not_found()
    return task


def _as_read(value: Any) -> Any:
    """A value as the database hands it back (aware times in UTC)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


def _task_as_written(
    row: Task, process: Process, task: TaskRun, extra: Mapping[str, Any]
) -> Task:
    """The task row after ``repository.save`` wrote ``task`` and ``extra``, without
    reading it back: every engine column comes from ``task``, the rest from
    ``extra`` (channel, ip, user agent)."""
    for name, value in {**task_columns(task), **extra}.items():
        setattr(row, name, _as_read(value))
    row.process = process
    return row


def task_decide(
    *,
    actor: User,
    task_id: int | str,
    outcome: str,
    comment: str = "",
    request_id: str,
    fields: Mapping[str, Any] | None = None,
    channel: str = Channel.WEB,
    meta: RequestMeta = NO_META,
    now: datetime | None = None,
) -> Task:
    """Record the actor's decision on their task; the same request id again is harmless.

    ``now`` (default: the clock) is the moment the engine sees (see process_start).

    Refusals change nothing: NotFound (not the actor's task, another organisation),
    TaskClosed ("Task already closed", naming who decided), ValidationFailed naming
    ``outcome``, ``comment``, ``request_id`` or a field key.
    """
    request_id = (request_id or "").strip()[:100]

    def call() -> Task:
        if channel not in Channel.values:
            raise ValidationFailed.single("channel", "invalid", _("Unknown channel."))
        return _with_retry(
            lambda: _task_decide(
                actor,
                task_id,
                outcome,
                comment,
                request_id,
                fields or {},
                channel,
                meta,
                now,
            )
        )

    return _refusals_audited(
        call,
        actor=actor,
        task_id=task_id,
        meta=meta,
        payload={"outcome": outcome, "request_id": request_id, "channel": channel},
    )


def _refusals_audited(
    call: Callable[[], T],
    *,
    actor: User,
    task_id: int | str,
    meta: RequestMeta,
    payload: Mapping[str, Any],
) -> T:
    """Run a decision; a refusal leaves ``task.decision_refused`` in the audit log.

    The decision's own transaction has already rolled back when the event is written
    in a transaction of its own, so a refusal still changes nothing else. Only the
    actor's own task in their organisation is recorded: NotFound (somebody else's
    task, another organisation, an unknown id) leaves no trace, as it reveals nothing.
    """
    try:
        return call()
    except NotFound:
        raise
    except ApplicationError as error:
        _record_refusal(actor, task_id, error, meta, payload)
        raise


def _record_refusal(
    actor: User,
    task_id: int | str,
    error: ApplicationError,
    meta: RequestMeta,
    payload: Mapping[str, Any],
) -> None:
    if actor.organisation_id is None:
        return
    try:
        row = (
            Task.objects.for_org(actor.organisation_id)
            .filter(Q(assignee=actor) | Q(on_behalf_of=actor))
            .values("pk", "engine_id", "process_id", "process__document_id")
            .get(pk=int(task_id))
        )
    except (Task.DoesNotExist, ValueError, TypeError):
        return
    _audit_refusal(
        actor,
        error,
        meta,
        verb="task.decision_refused",
        target=("task", row["pk"]),
        payload={
            "document": row["process__document_id"],
            "process": row["process_id"],
            "task": row["pk"],
            "task_ref": row["engine_id"],
            **payload,
        },
    )


def _audit_refusal(
    actor: User,
    error: ApplicationError,
    meta: RequestMeta,
    *,
    verb: str,
    target: tuple[str, int],
    payload: Mapping[str, Any],
) -> None:
    """The evidence of a refused command, in a transaction of its own (the command's
    has rolled back). Not on the card's history: only what happened goes there."""
    if actor.organisation_id is None:
        return
    fields = (
        sorted({p.field for p in error.problems})
        if isinstance(error, ValidationFailed)
        else []
    )
    with transaction.atomic():
        audit_record(
            organisation_id=actor.organisation_id,
            verb=verb,
            actor=actor,
            target_type=target[0],
            target_id=target[1],
            payload={
                **payload,
                "code": error.code,
                "fields": fields,
                "message": str(error.message),
            },
            request_meta=meta,
        )


def _command_refusals_audited(
    call: Callable[[], T],
    *,
    actor: User,
    process_id: int,
    command: str,
    meta: RequestMeta,
) -> T:
    """Run a process command (resubmit, cancel, reassign, resolve); a refusal leaves
    ``process.command_refused`` in the audit log, as refused decisions do. The
    process is already known to be in the actor's organisation; NotFound leaves no
    trace."""
    try:
        return call()
    except NotFound:
        raise
    except ApplicationError as error:
        _audit_refusal(
            actor,
            error,
            meta,
            verb="process.command_refused",
            target=("process", process_id),
            payload={"process": process_id, "command": command},
        )
        raise
        fields = (
            sorted({p.field for p in error.problems})
            if isinstance(error, ValidationFailed)
            else []
        )
        with transaction.atomic():
            audit_record(
                organisation_id=actor.organisation_id,
                verb="process.command_refused",
                actor=actor,
                target_type="process",
                target_id=process_id,
                payload={
                    "process": process_id,
                    "command": command,
                    "code": error.code,
                    "fields": fields,
                    "message": str(error.message),
                },
                request_meta=meta,
            )
        raise


def _clean_decision_fields(
    document: Document, step: StepDef | None, raw: Mapping[str, Any]
) -> dict[str, Any]:
    if not raw:
        return {}
    allowed = set(step.fields) if step else set()
    unknown = [k for k in raw if k not in allowed]
    if unknown:
        raise ValidationFailed(
            FieldProblem(k, "unknown_field", _("This step does not fill this field."))
            for k in unknown
        )
    defs = list(
        FieldDef.objects.filter(doc_type_id=document.doc_type_id, key__in=list(raw))
    )
    for definition in defs:  # the step decides what is required, not the type
        definition.required = False
        definition.required_when = None
    return clean_values(organisation_id=document.organisation_id, fields=defs, raw=raw)


def _step_files(document: Document, step: StepDef | None) -> dict[str, str]:
    """The step's file fields that have a current file: key -> its latest sha256."""
    if step is None or not step.fields:
        return {}
    rows = FileVersion.objects.filter(
        file__document_id=document.pk,
        file__archived_at=None,
        file__field_key__in=list(step.fields),
    ).values_list("file__field_key", "version", "sha256")
    latest: dict[str, tuple[int, str]] = {}
    for key, version, sha in rows:
        if key not in latest or version > latest[key][0]:
            latest[key] = (version, sha)
    return {key: sha for key, (_v, sha) in sorted(latest.items())}


def _task_decide(
    actor: User,
    task_id: int | str,
    outcome: str,
    comment: str,
    request_id: str,
    raw_fields: Mapping[str, Any],
    channel: str,
    meta: RequestMeta,
    moment: datetime | None = None,
) -> Task:
    row = _task_locked_for(actor, task_id)
    locked = _load_locked(row.process, row.organisation_id, task_id=row.engine_id)
    loaded = locked.loaded
    task = loaded.state.tasks[row.engine_id]
    if request_id and task.request_id == request_id and task.outcome == outcome:
        return Task.objects.get(pk=row.pk)  # a harmless repeat
    if task.state is not EngineTaskState.OPEN:
        raise _closed_message(loaded, task)
    document = locked.document
    step = loaded.definition.step(task.stage, task.step)
    values = _clean_decision_fields(document, step, raw_fields)
    attached = _step_files(document, step)
    now = _local_now(document.organisation, moment)
    ctx = _context(document, now, answers=values)
    command = Decide(
        task.id,
        Participant.user(actor.pk),
        outcome,
        comment=comment.strip(),
        request_id=request_id,
        files_sha256=ctx.files_sha256,
        # A file field counts as filled when the document has a current file for it
        # (uploaded with task_file_add); the engine sees its hash, never writes it.
        fields={**values, **attached},
    )
    result = _handle(loaded.definition, loaded.state, command, ctx)
    extra = {
        task.id: {
            "channel": channel,
            "ip": meta.ip[:45],
            "user_agent": meta.user_agent[:500],
        }
    }
    repository.save(loaded, result.state, task_extra=extra, now=now)
    apply = _Apply(
        locked.process, document, loaded, actor, meta, file_fields=frozenset(attached)
    )
    apply.know(ctx)
    apply.audit(
        "task.decided",
        {
            "task": row.pk,
            "task_ref": task.id,
            "round": task.round,
            "stage": task.stage,
            "step": task.step,
            "outcome": outcome,
            "comment": comment.strip(),
            "files_sha256": ctx.files_sha256,
            "request_id": request_id,
            "channel": channel,
            "on_behalf_of": task.on_behalf_of.id if task.on_behalf_of else None,
            "fields": dict(values),
            "files": attached,
        },
        target=str(row.pk),
    )
    apply.run(result.effects)
    return _task_as_written(
        row, locked.process, result.state.tasks[task.id], extra[task.id]
    )


RESULT_FILE_KINDS = frozenset({"task", "request_info"})


def task_file_add(
    *,
    actor: User,
    task_id: int | str,
    upload: CheckedUpload,
    field_key: str = "",
    meta: RequestMeta = NO_META,
) -> FileVersion:
    """Attach a task's result file while the approval runs (S3 "Provide the act").

    The actor must hold the open ``task`` or ``request_info`` task (or be the person
    it is delegated from); ``field_key`` must be one of the step's fields (or '' for
    the type's general files). The version goes in through
    ``documents.services.file_add_for_step`` (no draft check) and is audited as
    ``document.file_version_added`` with the task. A required file field of the step
    then counts as filled when the task is done.
    """
    with transaction.atomic():
        row = _task_row_for(actor, task_id)
        repository.lock_process(row.process_id, row.organisation_id)
        row = Task.objects.select_related("process__route_version").get(pk=row.pk)
        if row.kind not in RESULT_FILE_KINDS:
            raise PermissionDenied(_("Files can be attached only to a task's result."))
        if row.state != TaskState.OPEN:
            raise TaskClosed(_("Task already closed."))
        definition = definition_for(row.process.route_version)
        step = definition.step(row.stage_key, row.step_key)
        if field_key and (step is None or field_key not in step.fields):
            raise ValidationFailed.single(
                field_key, "unknown_field", _("This step does not fill this field.")
            )
        document = _document_for_process(row.process.document_id, row.organisation_id)
        return file_add_for_step(
            actor=actor,
            document=document,
            new=NewFile(upload=upload, field_key=field_key),
            context={"task": row.pk, "task_ref": row.engine_id},
            meta=meta,
        )


@dataclass(frozen=True)
class RoundEdits:
    """The initiator's changes for the next round, keyed by ``"stage.step"``."""

    add: Mapping[str, Sequence[User]] = field(default_factory=dict)
    remove: Mapping[str, Sequence[User]] = field(default_factory=dict)
    due: Mapping[str, datetime] = field(default_factory=dict)


def _round_changes(org_id: int, edits: RoundEdits | None) -> RoundChanges:
    if edits is None:
        return RoundChanges()
    problems = []
    for key, users in [*edits.add.items(), *edits.remove.items()]:
        if any(u.organisation_id != org_id or not u.is_active for u in users):
            problems.append(FieldProblem(key, "invalid", _("No such person.")))
    if problems:
        raise ValidationFailed(problems)
    return RoundChanges(
        add={k: [_user_participant(u) for u in v] for k, v in edits.add.items()},
        remove={k: [f"user:{u.pk}" for u in v] for k, v in edits.remove.items()},
        due=dict(edits.due),
    )


def _process_for(actor: User, process: Process | int) -> tuple[int, int]:
    org_id = organisation_id_of(actor)
    process_id = process if isinstance(process, int) else process.pk
    if not Process.objects.for_org(org_id).filter(pk=process_id).exists():
        raise _not_found()
    return org_id, process_id


def process_resubmit(
    *,
    actor: User,
    process: Process | int,
    comment: str = "",
    changes: RoundEdits | None = None,
    meta: RequestMeta = NO_META,
) -> Process:
    """The initiator sends a returned document again: a new round starts."""
    org_id, process_id = _process_for(actor, process)
    round_changes = _round_changes(org_id, changes)

    def call() -> Process:
        command = Resubmit(Participant.user(actor.pk), comment.strip(), round_changes)
        locked = _lock_and_load(process_id, org_id, command)
        if locked.process.initiator_id != actor.pk:
            raise PermissionDenied(_("Only the initiator may resubmit the document."))
        now = _local_now(locked.document.organisation)
        ctx = _context(locked.document, now)
        result = _handle(locked.loaded.definition, locked.loaded.state, command, ctx)
        repository.save(locked.loaded, result.state, now=now)
        apply = _Apply(locked.process, locked.document, locked.loaded, actor, meta)
        apply.audit(
            "process.resubmitted",
            {
                "round": result.state.round,
                "comment": comment.strip(),
                "files_sha256": ctx.files_sha256,
                "changes": bool(round_changes),
            },
        )
        apply.run(result.effects)
        return locked.process

    return _command_refusals_audited(
        lambda: _with_retry(call),
        actor=actor,
        process_id=process_id,
        command="resubmit",
        meta=meta,
    )


def process_remind(
    *, actor: User, process: Process | int, meta: RequestMeta = NO_META
) -> int:
    """The initiator reminds the people the approval waits on ("Remind", UI.md).

    Only people with an open task get it, at most once a day each (the outbox's
    idempotency key carries the local date: a second click the same day sends
    nothing). Returns how many were reminded now.
    """
    org_id, process_id = _process_for(actor, process)

    def call() -> int:
        locked = _lock_and_load(process_id, org_id)
        if locked.process.initiator_id != actor.pk:
            raise PermissionDenied(_("Only the initiator may send reminders."))
        if locked.process.status != ProcessStatus.RUNNING:
            raise WorkflowError(_("Nobody is asked now: the approval is not running."))
        today = _local_now(locked.document.organisation).date().isoformat()
        apply = _Apply(locked.process, locked.document, locked.loaded, actor, meta)
        open_tasks = [
            t
            for t in locked.loaded.state.tasks.values()
            if t.state is EngineTaskState.OPEN
        ]
        before = Notification.objects.filter(
            organisation_id=org_id, kind="workflow.nudge", document=locked.document
        ).count()
        for task in open_tasks:
            apply.notify(
                "nudge",
                [task.participant.ref],
                f"{task.id}:{today}",
                {"task": locked.loaded.task_pks.get(task.id), "stage": task.stage},
            )
        apply.flush()
        sent = (
            Notification.objects.filter(
                organisation_id=org_id, kind="workflow.nudge", document=locked.document
            ).count()
            - before
        )
        if sent:
            apply.audit("process.reminded", {"people": sent})
        return sent

    return _command_refusals_audited(
        lambda: _with_retry(call),
        actor=actor,
        process_id=process_id,
        command="remind",
        meta=meta,
    )


def process_cancel(
    *,
    actor: User,
    process: Process | int,
    reason: str,
    meta: RequestMeta = NO_META,
) -> Process:
    """The initiator or an administrator stops the approval; a reason is required."""
    org_id, process_id = _process_for(actor, process)

    def call() -> Process:
        if not reason.strip():
            raise ValidationFailed.single(
                "reason", "required", _("Say why the approval is cancelled.")
            )
        command = Cancel(Participant.user(actor.pk), reason.strip())
        locked = _lock_and_load(process_id, org_id, command)
        if locked.process.initiator_id != actor.pk and not is_org_admin(actor):
            raise PermissionDenied(
                _("Only the initiator or an administrator may cancel the approval.")
            )
        now = _local_now(locked.document.organisation)
        ctx = _context(locked.document, now, with_files=False)
        result = _handle(locked.loaded.definition, locked.loaded.state, command, ctx)
        repository.save(locked.loaded, result.state, now=now)
        apply = _Apply(locked.process, locked.document, locked.loaded, actor, meta)
        apply.audit("process.cancelled", {"reason": reason.strip()})
        apply.run(result.effects)
        return locked.process

    return _command_refusals_audited(
        lambda: _with_retry(call),
        actor=actor,
        process_id=process_id,
        command="cancel",
        meta=meta,
    )


def task_reassign(
    *,
    actor: User,
    task_id: int | str,
    to_user: User,
    meta: RequestMeta = NO_META,
) -> Task:
    """The route owner or an administrator gives an open task to someone else."""
    org_id = organisation_id_of(actor)
    try:
        row = (
            Task.objects.for_org(org_id)
            .select_related("process__route_version__template")
            .get(pk=int(task_id))
        )
    except (Task.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    template = row.process.route_version.template
    if not _is_route_manager(actor, template):
        raise _not_found()

    def call() -> Task:
        if to_user.organisation_id != org_id or not to_user.is_active:
            raise ValidationFailed.single("to_user", "invalid", _("No such person."))
        command = Reassign(
            row.engine_id, Participant.user(to_user.pk), Participant.user(actor.pk)
        )
        locked = _lock_and_load(row.process_id, org_id, command)
        task = locked.loaded.state.tasks[row.engine_id]
        if task.state is not EngineTaskState.OPEN:
            raise _closed_message(locked.loaded, task)
        now = _local_now(locked.document.organisation)
        ctx = _context(locked.document, now, with_files=False)
        result = _handle(locked.loaded.definition, locked.loaded.state, command, ctx)
        repository.save(locked.loaded, result.state, now=now)
        apply = _Apply(
            locked.process, locked.document, locked.loaded, actor, meta, template
        )
        new_ids = [t for t in result.state.tasks if t not in locked.loaded.state.tasks]
        apply.audit(
            "task.reassigned",
            {
                "task": row.pk,
                "from": task.participant.ref,
                "to": f"user:{to_user.pk}",
                "new_task": locked.loaded.task_pks.get(new_ids[0]) if new_ids else None,
            },
            target=str(row.pk),
        )
        apply.run(result.effects)
        new_pk = locked.loaded.task_pks[new_ids[0]] if new_ids else row.pk
        return Task.objects.get(pk=new_pk)

    return _command_refusals_audited(
        lambda: _with_retry(call),
        actor=actor,
        process_id=row.process_id,
        command="reassign",
        meta=meta,
    )


def step_resolve(
    *,
    actor: User,
    process: Process | int,
    stage: str,
    step: str,
    users: Sequence[User] | None = None,
    meta: RequestMeta = NO_META,
) -> Process:
    """Fix a step nobody could be assigned to: give it to ``users`` or try again."""
    org_id, process_id = _process_for(actor, process)
    template = (
        RouteTemplate.objects.filter(versions__processes__pk=process_id)
        .select_related(None)
        .first()
    )
    if template is None or not _is_route_manager(actor, template):
        raise _not_found()
    if users is not None and any(
        u.organisation_id != org_id or not u.is_active for u in users
    ):
        raise ValidationFailed.single("users", "invalid", _("No such person."))

    def call() -> Process:
        command = ResolveStep(
            stage,
            step,
            Participant.user(actor.pk),
            [Participant.user(u.pk) for u in users] if users is not None else None,
        )
        locked = _lock_and_load(process_id, org_id, command)
        now = _local_now(locked.document.organisation)
        ctx = _context(locked.document, now)
        result = _handle(locked.loaded.definition, locked.loaded.state, command, ctx)
        repository.save(locked.loaded, result.state, now=now)
        apply = _Apply(
            locked.process, locked.document, locked.loaded, actor, meta, template
        )
        apply.audit(
            "process.step_resolved",
            {
                "stage": stage,
                "step": step,
                "users": [u.pk for u in users] if users is not None else None,
            },
        )
        apply.run(result.effects)
        return locked.process

    return _with_retry(call)


# --- timers ---------------------------------------------------------------------------


def field_reminder_at(
    document: Document, remind: Remind, now: datetime | None = None
) -> tuple[datetime | None, str]:
    """When a field-date reminder is due (9 o'clock local), or None and why not."""
    moment = _local_now(document.organisation, now)
    raw = (document.fields or {}).get(remind.before_field)
    if raw in (None, ""):
        return None, f'the date field "{remind.before_field}" is empty'
    try:
        day = date.fromisoformat(str(raw)[:10])
    except ValueError:
        return None, f'the field "{remind.before_field}" is not a date'
    if day < moment.date():
        return None, f'the date in "{remind.before_field}" has passed'
    calendar = organisation_calendar(document.organisation)
    at = datetime.combine(
        day - timedelta(days=remind.days), calendar.day_starts, moment.tzinfo
    )
    return max(at, moment), ""


def _lock_for_timer(process_id: int, organisation_id: int) -> Process | None:
    """The process row, or None when another worker or a decision holds it.

    On PostgreSQL a busy process is skipped (``SKIP LOCKED``): its timers are
    picked up by the next sweep, and two workers never wait on each other.
    """
    rows = Process.objects.select_related("route_version").filter(
        pk=process_id, organisation_id=organisation_id
    )
    if connection.features.has_select_for_update:
        rows = rows.select_for_update(of=("self",), skip_locked=True)
    return rows.first()


def _claim_timer(timer_id: int) -> Timer | None:
    row = Timer.objects.filter(pk=timer_id, state=TimerState.PENDING)
    if connection.features.has_select_for_update:
        row = row.select_for_update(skip_locked=True)
    return row.first()


TIMER_AUDIT = {"due": "task.overdue", "escalate": "task.escalated"}


def timer_fire(*, timer_id: int, now: datetime | None = None) -> bool:
    """Fire one timer; False when it was no longer pending (fired twice: no-op)."""
    timer = (
        Timer.objects.filter(pk=timer_id)
        .values("process_id", "organisation_id")
        .first()
    )
    if timer is None:
        return False

    def call() -> bool:
        process = _lock_for_timer(timer["process_id"], timer["organisation_id"])
        if process is None:
            return False
        claimed = _claim_timer(timer_id)
        if claimed is None:
            return False
        document = _document_for_process(process.document_id, process.organisation_id)
        moment = _local_now(document.organisation, now)
        if claimed.kind == FIELD_REMINDER:
            return _field_reminder_fire(claimed, process, document, moment)
        command = TimerFired(claimed.engine_id)
        loaded = repository.load(process, command)
        if claimed.engine_id not in loaded.state.timers:
            # Not in the state (the process ended): just close the row.
            Timer.objects.filter(pk=claimed.pk).update(
                state=TimerState.CANCELLED, fired_at=moment
            )
            return False
        ctx = _context(document, moment, with_files=False)
        result = _handle(loaded.definition, loaded.state, command, ctx)
        repository.save(loaded, result.state, fired_timer=claimed.engine_id, now=moment)
        apply = _Apply(process, document, loaded, None, NO_META)
        apply.know(ctx)
        apply.run(result.effects)
        verb = TIMER_AUDIT.get(claimed.kind)
        if verb is not None:
            task = result.state.tasks[claimed.target]
            apply.audit(
                verb,
                {
                    "task": loaded.task_pks.get(task.id),
                    "assignee": task.participant.ref,
                },
                target=str(loaded.task_pks.get(task.id, process.pk)),
            )
        return True

    return _with_retry(call)


def _field_reminder_fire(
    timer: Timer, process: Process, document: Document, moment: datetime
) -> bool:
    """Send a field-date reminder, or move it when the date was changed since."""
    remind = Remind.model_validate(timer.payload)
    at, problem = field_reminder_at(document, remind, moment)
    apply = _Apply(process, document, repository.load(process), None, NO_META)
    if at is None:
        Timer.objects.filter(pk=timer.pk).update(
            state=TimerState.CANCELLED, fired_at=moment
        )
        apply.audit(
            "process.reminder_skipped",
            {"field": remind.before_field, "reason": problem},
        )
        return False
    if at > moment:  # the date moved later: wait for the new moment
        Timer.objects.filter(pk=timer.pk).update(due_at=at)
        return False
    day = str((document.fields or {}).get(remind.before_field))[:10]
    labels = dict(
        FieldDef.objects.filter(doc_type_id=document.doc_type_id, key=timer.target)
        .values("label_ru", "label_en")
        .first()
        or {}
    )
    data = {"field": remind.before_field, "date": day, "days": remind.days, **labels}
    event = f"{timer.engine_id}:{day}"
    if not apply.notify("field_reminder", remind.notify, event, data, route_words=True):
        apply.notify("field_reminder", ["initiator"], event, data)
    apply.flush()
    Timer.objects.filter(pk=timer.pk).update(state=TimerState.FIRED, fired_at=moment)
    apply.audit("process.reminder_sent", {"field": remind.before_field, "date": day})
    return True


def timers_fire_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Fire up to ``limit`` due pending timers, oldest first; returns how many fired.

    Each timer fires in its own transaction: its process row is locked (skipped when
    busy) and the timer is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` on
    PostgreSQL, so several workers can sweep at once and a timer fires once in
    effect. The query reads the ``(state, due_at)`` index: pending timers that are
    not due cost nothing. The oldest ``limit`` are taken in a random order, so that
    two workers sweeping at once mostly take different timers instead of queuing
    behind each other on the same ones.
    """
    moment = now or timezone.now()
    due = list(
        Timer.objects.filter(state=TimerState.PENDING, due_at__lte=moment)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    random.shuffle(due)
    fired = 0
    for timer_id in due:
        try:
            fired += timer_fire(timer_id=timer_id, now=moment)
        except ProcessConflict:
            continue  # a decision changed the process meanwhile: the next sweep
        except DatabaseError:
            raise  # not the timer's fault: the worker backs off and sweeps again
        except Exception as error:  # a poison timer must not stop the others (T46)
            timer_failed(timer_id, error, moment)
    return fired


__all__ = [
    "RoundEdits",
    "field_reminder_at",
    "files_sha256",
    "process_cancel",
    "process_remind",
    "process_resubmit",
    "process_start",
    "route_problems",
    "route_template_create",
    "route_version_publish",
    "route_version_save_draft",
    "step_resolve",
    "task_decide",
    "task_file_add",
    "task_reassign",
    "timer_fire",
    "timers_fire_due",
]
