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
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from sogla.core.audit import audit_record
from sogla.core.request_meta import RequestMeta
from sogla.documents.models import Document
from sogla.documents.services import document_fields_set
from sogla.engine import effects as fx
from sogla.engine.definition import Action, Remind
from sogla.engine.run import Context
from sogla.engine.states import REVISION_STEP
from sogla.notifications.models import Notification
from sogla.notifications.services import notification_build, notifications_enqueue_many
from sogla.orgs.models import User
from sogla.workflow import field_reminders, filing, invitations, tenant
from sogla.workflow.models import Process, RouteTemplate, Task
from sogla.workflow.recipients import NoRecipient, Recipients
from sogla.workflow.repository import Loaded
from sogla.workflow.resolver import Resolver
from sogla.workflow.selectors.versions import approvals_given_on


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

    def flush(self, *, with_events: bool = False) -> None:
        """Queue the notices of ``notify`` calls so far, with one INSERT (with the
        command's audit events: ``notifications_enqueue_many``)."""
        notifications_enqueue_many(self.outbox, with_events=with_events)
        self.outbox.clear()

    # -- the effects -------------------------------------------------------------------

    def run(self, effects: Sequence[fx.Effect]) -> None:
        for effect in effects:
            kind = type(effect)
            if kind in HANDLERS:
                HANDLERS[kind](self, effect)
            elif kind not in ROWS_FROM_DIFF:
                raise TypeError(f"no handler for the effect {kind.__name__}")
        self.flush(with_events=True)  # nothing of the command reads them back

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
        if effect.kind == "approval_carried":
            self._approval_carried(effect)
        alert = self.loaded.definition.stall_alert
        extra: dict[str, Any] = (
            {"hours": alert.hours} if effect.kind == "stage_stalled" and alert else {}
        )
        if effect.kind == "sent_back" and effect.stage:
            extra = self.stage_names(effect.stage, "to")
        self.notify(
            effect.kind,
            effect.recipients,
            f"{effect.task_id or effect.stage or ''}:r{self.process.round}",
            {
                "task": self.loaded.task_pks.get(effect.task_id or ""),
                "stage": effect.stage,
                **extra,
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

    def _approval_carried(self, effect: fx.Notify) -> None:
        """An approval carried over to changed files: the history says on which
        versions it was given (the person is told by the notice that follows)."""
        pk = self.loaded.task_pks.get(effect.task_id or "")
        row = (
            Task.objects.filter(pk=pk or 0, organisation_id=self.org_id)
            .select_related("assignee")
            .first()
        )
        if row is None or row.decided_at is None:  # pragma: no cover - just saved
            return
        given = approvals_given_on(self.document.pk, self.org_id, [row.decided_at]).get(
            row.decided_at
        )
        changes = [
            {
                "name": c.name,
                "old": c.old.version if c.old else None,
                "new": c.new.version if c.new else None,
            }
            for c in (given.changes if given else ())
        ]
        self.audit(
            "task.approval_carried",
            {
                "task": pk,
                "person": effect.recipients[0] if effect.recipients else "",
                "name": row.assignee.short_name if row.assignee else row.guest_email,
                "changes": changes,
                "several_files": bool(given and given.several_files),
            },
            target=str(pk or ""),
        )

    def _approval_withdrawn(self, effect: fx.ApprovalWithdrawn) -> None:
        """A carried-over approval taken back: audited on the card's history."""
        task = self.loaded.task_pks.get(effect.task_id)
        self.audit(
            "task.approval_withdrawn",
            {
                "task": task,
                "by": effect.by,
                "comment": effect.comment,
                "reopened": self.loaded.task_pks.get(effect.reopened or ""),
            },
            target=str(task or ""),
        )

    def stage_names(self, key: str, prefix: str) -> dict[str, str]:
        """A stage's names for a notice or an event: ``<prefix>_ru``, ``_en``."""
        definition = self.loaded.definition
        index = definition.stage_index(key)
        if index is None:
            return {f"{prefix}_ru": key, f"{prefix}_en": key}
        name = definition.stages[index].name
        return {
            f"{prefix}_ru": name.ru or name.en or key,
            f"{prefix}_en": name.en or name.ru or key,
        }

    def _process_sent_back(self, effect: fx.ProcessSentBack) -> None:
        names = {
            **self.stage_names(effect.stage, "from"),
            **self.stage_names(effect.to_stage, "to"),
        }
        self.audit(
            "process.sent_back",
            {
                "round": effect.round,
                "stage": effect.stage,
                "step": effect.step,
                "to_stage": effect.to_stage,
                "task": self.loaded.task_pks.get(effect.task_id),
                "comment": effect.comment,
                **names,
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
            event = f"{effect.stage or 'finish'}.{effect.step or ''}"
            data: dict[str, Any] = {k: v for k, v in where.items() if v}
            kind = "route_notice"
            if action.invite is not None:
                invitation = self.invitation(action, event, where)
                if invitation is not None:
                    kind = "invitation"
                    data.update(invitation.as_context())
            self.notify(
                kind,
                action.notify,
                f"{event}:r{self.process.round}",
                data,
                route_words=True,
            )
        if action.remind:
            self.schedule_reminder(action.remind)
        if action.generate:
            self.audit("process.action_not_supported", {"action": "generate", **where})

    def invitation(
        self, action: Action, event: str, where: Mapping[str, Any]
    ) -> invitations.Invitation | None:
        """The action's calendar event with the people it notifies as attendees;
        None (audited) when the document does not say when it starts."""
        invite = action.invite
        if invite is None:  # pragma: no cover - the caller checked
            return None
        attendees: list[invitations.Person] = []
        for word in dict.fromkeys(action.notify or []):
            try:
                found = self.recipients.find(word, route_words=True)
            except NoRecipient:
                continue  # notify() records it
            attendees.extend(
                invitations.Person(user.get_full_name() or str(user), user.email)
                if user is not None
                else invitations.Person("", email)
                for user, email in found
            )
        organisation = self.process.organisation
        initiator = self.document.initiator
        language = organisation.language or "ru"
        try:
            built = invitations.build(
                invite,
                fields=self.document.fields or {},
                zone=zoneinfo.ZoneInfo(organisation.time_zone),
                uid=invitations.uid_for(self.process.pk, event, self.process.round),
                summary=invite.summary.get(language) or self.document.title,
                organizer=invitations.Person(
                    initiator.get_full_name() or str(initiator), initiator.email
                ),
                attendees=list(dict.fromkeys(attendees)),
                now=timezone.now(),
            )
        except invitations.NoStart as unknown:
            self.audit(
                "process.invitation_skipped",
                {"reason": unknown.reason, **{k: v for k, v in where.items() if v}},
            )
            return None
        self.audit(
            "process.invitation_sent",
            {
                "uid": built.uid,
                "start": built.start.isoformat(),
                "end": built.end.isoformat(),
                "summary": built.summary,
                "attendees": [p.email for p in attendees],
                **{k: v for k, v in where.items() if v},
            },
        )
        return built

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
    fx.ApprovalWithdrawn: EffectApplier._approval_withdrawn,
    fx.ProcessSentBack: EffectApplier._process_sent_back,
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
