"""Applying the engine's effects, in the transaction that saved the state.

The engine returns a new state and a list of effects (``engine.effects``). They
reach the database through two channels, and every effect type goes through
exactly one of them (a test checks it):

- ``ROWS_FROM_DIFF``: effects whose rows ``repository.save`` writes from the
  difference between the loaded state and the result (tasks opened, closed or
  carried over, timers set or cancelled, stages and steps opened, skipped or
  finished). Nothing more is done for them here.
- ``HANDLERS``: effects applied by ``EffectApplier`` (effect type -> method):
  notices into the outbox (one INSERT per command, ``flush``), the document's
  status and fields, route actions (``file_to`` in ``filing``, ``remind`` in
  ``field_reminders``), and audit events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from sogla.core.audit import audit_record
from sogla.core.request_meta import RequestMeta
from sogla.documents.models import Document
from sogla.documents.services import document_fields_set
from sogla.engine import effects as fx
from sogla.engine.definition import Remind
from sogla.engine.run import Context
from sogla.engine.states import REVISION_STEP
from sogla.notifications.models import Notification
from sogla.notifications.services import notification_build, notifications_enqueue_many
from sogla.orgs.models import User
from sogla.workflow import field_reminders, filing, tenant
from sogla.workflow.models import Process, RouteTemplate
from sogla.workflow.recipients import NoRecipient, Recipients
from sogla.workflow.repository import Loaded
from sogla.workflow.resolver import Resolver


@dataclass
class EffectApplier:
    """Everything one command's effects need, and the audit trail it builds."""

    loaded: Loaded
    actor: User | None
    meta: RequestMeta
    template: RouteTemplate | None = None
    file_fields: frozenset[str] = frozenset()  # present files the engine was shown
    actor_label: str = ""  # a guest's e-mail when there is no actor
    outbox: list[Notification] = field(default_factory=list)  # see flush()
    recipients: Recipients = field(init=False)

    def __post_init__(self) -> None:
        self.recipients = Recipients(self.process, self.document, self.template)

    @property
    def process(self) -> Process:
        return self.loaded.process

    @property
    def document(self) -> Document:
        return self.loaded.document

    @property
    def org_id(self) -> int:
        return self.process.organisation_id

    def know(self, ctx: Context) -> None:
        """Remember the people the command's resolver assigned (active, ours)."""
        if isinstance(ctx.resolve, Resolver):
            for user_id, user in ctx.resolve.users.items():
                self.recipients.users.setdefault(user_id, user)

    def audit(self, verb: str, payload: Mapping[str, Any], *, target: str = "") -> None:
        audit_record(
            organisation_id=self.org_id,
            verb=verb,
            actor=self.actor,
            actor_label=self.actor_label,
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

        ``recipients`` are targets of ``Recipients.find`` (participant refs, or a
        route author's words with ``route_words``). A target that reaches nobody
        is recorded as ``process.notify_unresolved``, never dropped silently.
        """
        queued = 0
        for recipient in dict.fromkeys(recipients):
            try:
                found = self.recipients.find(recipient, route_words=route_words)
            except NoRecipient as nobody:
                self.audit(
                    "process.notify_unresolved",
                    {"target": recipient, "kind": kind, "reason": nobody.reason},
                )
                continue
            for user, email in found:
                self.outbox.append(self._notice(kind, event, data, user, email))
                queued += 1
        return queued

    def _notice(
        self,
        kind: str,
        event: str,
        data: Mapping[str, Any],
        user: User | None,
        email: str,
    ) -> Notification:
        who = f"u{user.pk}" if user is not None else email
        semantic = f"{self.process.pk}:{kind}:{event}:{who}"
        digest = hashlib.sha256(semantic.encode()).hexdigest()[:40]
        return notification_build(
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

    def flush(self) -> None:
        """Queue the notices of ``notify`` calls so far, with one INSERT."""
        notifications_enqueue_many(self.outbox)
        self.outbox.clear()

    # -- the effects -------------------------------------------------------------------

    def run(self, effects: Sequence[fx.Effect]) -> None:
        for effect in effects:
            kind = type(effect)
            if kind in HANDLERS:
                HANDLERS[kind](self, effect)
            elif kind not in ROWS_FROM_DIFF:
                raise TypeError(f"no handler for the effect {kind.__name__}")
        self.flush()

    def _open_task(self, effect: fx.OpenTask) -> None:
        due = effect.due_at.isoformat() if effect.due_at else None
        self.notify(
            "task_assigned" if effect.step != REVISION_STEP else "returned",
            [effect.participant.ref],
            effect.task_id,
            {
                "task": self.loaded.task_pks.get(effect.task_id),
                "stage": effect.stage,
                "step": effect.step,
                "due_at": due,
            },
        )

    def _notify(self, effect: fx.Notify) -> None:
        if effect.kind == "returned":
            return  # the initiator's revision task carries the notice
        alert = self.loaded.definition.stall_alert
        hours = (
            {"hours": alert.hours} if effect.kind == "stage_stalled" and alert else {}
        )
        self.notify(
            effect.kind,
            effect.recipients,
            f"{effect.task_id or effect.stage or ''}:r{self.process.round}",
            {
                "task": self.loaded.task_pks.get(effect.task_id or ""),
                "stage": effect.stage,
                **hours,
                **{k: str(v) for k, v in effect.data.items()},
            },
            # the stall alert's list is written by the route's author
            route_words=effect.kind == "stage_stalled",
        )

    def _set_status(self, effect: fx.SetStatus) -> None:
        self.set_status(effect.key, effect.meaning)

    def _set_fields(self, effect: fx.SetFields) -> None:
        self.set_fields(effect.values)

    def _report_unresolved(self, effect: fx.ReportUnresolved) -> None:
        where = {"stage": effect.stage, "step": effect.step, "reason": effect.reason}
        self.audit("process.step_unresolved", where)
        self.notify(
            "step_unresolved",
            ["owner"],
            f"{effect.stage}.{effect.step}:r{self.process.round}",
            where,
        )

    def _deadline_unknown(self, effect: fx.DeadlineUnknown) -> None:
        self.audit(
            "process.deadline_unknown",
            {"stage": effect.stage, "step": effect.step, "reason": effect.reason},
        )

    def _process_returned(self, effect: fx.ProcessReturned) -> None:
        self.audit(
            "process.returned",
            {
                "round": effect.round,
                "stage": effect.stage,
                "step": effect.step,
                "task": self.loaded.task_pks.get(effect.task_id),
                "comment": effect.comment,
            },
        )

    def _deadline_moved(self, effect: fx.DeadlineMoved) -> None:
        """The calendar (or a person, ``by``) moved a task's deadline: audited, and
        its holder told."""
        task = self.loaded.task_pks.get(effect.task_id)
        moved = {
            "was": effect.was.isoformat() if effect.was else None,
            "due_at": effect.now.isoformat(),
        }
        by = {"by": effect.by} if effect.by else {}
        self.audit(
            "task.deadline_changed" if effect.by else "task.deadline_moved",
            {"task": task, "assignee": effect.participant.ref, **moved, **by},
            target=str(task or ""),
        )
        self.notify(
            "deadline_moved",
            [effect.participant.ref],
            f"{effect.task_id}:{effect.now.isoformat()}",
            {"task": task, **moved, **by},
        )

    def _process_finished(self, effect: fx.ProcessFinished) -> None:
        self.audit(
            "process.finished", {"status": effect.status, "round": self.process.round}
        )

    def set_status(self, key: str | None, meaning: str | None) -> bool:
        """The document's status: the type's status ``key``; failing that, its first
        status of that ``meaning`` (in the type's order). The finish (``success``
        alone) keeps a success status the route already set, so it does not undo a
        step's ``on_done: {set_status: "signed"}``. True when the status changed."""
        statuses = tenant.statuses(self.document.doc_type_id)
        current = next((s for s in statuses if s.pk == self.document.status_id), None)
        finish = key is None and meaning == "success"
        if finish and current is not None and current.meaning == meaning:
            return False
        status = next((s for s in statuses if key and s.key == key), None) or next(
            (s for s in statuses if meaning and s.meaning == meaning), None
        )
        if status is None or status.pk == self.document.status_id:
            return False
        Document.objects.filter(pk=self.document.pk).update(
            status=status, updated_at=timezone.now()
        )
        self.document.status = status
        return True

    def set_fields(self, values: Mapping[str, Any]) -> None:
        values = {k: v for k, v in values.items() if k not in self.file_fields}
        if not values:
            return
        document_fields_set(
            actor=self.actor, document=self.document, values=values, meta=self.meta
        )
        self.document.refresh_from_db(fields=["fields", "title", "counterparty"])

    def run_action(self, effect: fx.RunAction) -> None:
        action = effect.action
        where = {"stage": effect.stage, "step": effect.step}
        changed = bool(action.set_status) and self.set_status(action.set_status, None)
        if changed and effect.on_done:
            status = self.document.status
            self.audit(
                "process.status_set",
                {
                    "status": action.set_status,
                    "name_ru": status.name_ru,
                    "name_en": status.name_en,
                    **{k: v for k, v in where.items() if v},
                },
            )
        if action.set_field:
            self.set_fields(action.set_field)
        if action.file_to:
            filed = filing.file_into(self.document, action.file_to)
            if filed is not None:
                self.audit("process.filed", {**filed, **where})
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

    def schedule_reminder(self, remind: Remind) -> None:
        """A field-date reminder (``field_reminders.schedule``), on the card."""
        at, problem = field_reminders.schedule(self.process, self.document, remind)
        if at is None:
            self.audit(
                "process.reminder_skipped",
                {"field": remind.before_field, "reason": problem},
            )
            return
        self.audit(
            "process.reminder_scheduled",
            {"field": remind.before_field, "at": at.isoformat(), "days": remind.days},
        )


# Effect type -> what the applier does with it.
HANDLERS: dict[type[Any], Callable[[EffectApplier, Any], None]] = {
    fx.OpenTask: EffectApplier._open_task,
    fx.Notify: EffectApplier._notify,
    fx.SetStatus: EffectApplier._set_status,
    fx.SetFields: EffectApplier._set_fields,
    fx.RunAction: EffectApplier.run_action,
    fx.ReportUnresolved: EffectApplier._report_unresolved,
    fx.DeadlineUnknown: EffectApplier._deadline_unknown,
    fx.ProcessReturned: EffectApplier._process_returned,
    fx.ProcessFinished: EffectApplier._process_finished,
    fx.DeadlineMoved: EffectApplier._deadline_moved,
}

# Effect types whose rows ``repository.save`` writes from the state diff.
ROWS_FROM_DIFF: frozenset[type[Any]] = frozenset(
    {
        fx.CarryOver,
        fx.CloseTask,
        fx.SetTimer,
        fx.CancelTimer,
        fx.RoundStarted,
        fx.StageOpened,
        fx.StageSkipped,
        fx.StageFinished,
        fx.StepSkipped,
        fx.StepFinished,
    }
)
