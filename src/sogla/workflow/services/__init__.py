"""Commands on routes and processes: each one transaction, ``actor`` keyword-only.

``from sogla.workflow import services`` is the public surface; the modules behind it:

- ``pipeline``: ``execute``, the one way a process command runs (lock, load,
  context, engine, save, audit, effects; one retry on a concurrent update);
- ``decisions``: ``task_decide``, ``guest_task_decide``, ``task_file_add``;
- ``processes``: ``process_start``, ``process_resubmit``, ``process_remind``,
  ``process_cancel``;
- ``assignments``: ``task_reassign``, ``step_resolve``;
- ``withdrawals``: ``task_withdraw`` (take back an approval carried over to a
  new round);
- ``participants``: ``step_edit`` (people and deadlines changed while a round runs);
- ``delegation``: ``delegations_sync`` (open tasks follow delegations, and come
  back), ``delegations_sync_due`` (the worker's sweep);
- ``rescheduling``: ``deadlines_reschedule`` (a changed working calendar moves the
  deadlines of open tasks; run by the calendar's save);
- ``timers``: ``timers_fire_due`` (the worker's sweep), ``timer_fire``;
- ``routes``: route templates and versions (administrators);
- ``refusals``: what a refusal says and the evidence it leaves.

Beside the package: ``workflow.effects`` applies the engine's effects,
``workflow.recipients`` finds who a notice goes to, ``workflow.filing`` files a
document, ``workflow.field_reminders`` schedules field-date reminders, and
``workflow.repository`` loads and saves a process's state.
"""

from sogla.workflow.field_reminders import field_reminder_at
from sogla.workflow.services.assignments import step_resolve, task_reassign
from sogla.workflow.services.decisions import (
    guest_task_decide,
    task_decide,
    task_file_add,
)
from sogla.workflow.services.delegation import (
    delegations_sync,
    delegations_sync_due,
)
from sogla.workflow.services.participants import step_edit
from sogla.workflow.services.pipeline import files_sha256
from sogla.workflow.services.processes import (
    RoundEdits,
    process_cancel,
    process_remind,
    process_resubmit,
    process_start,
)
from sogla.workflow.services.rescheduling import deadlines_reschedule
from sogla.workflow.services.routes import (
    org_facts,
    route_problems,
    route_template_create,
    route_version_publish,
    route_version_save_draft,
)
from sogla.workflow.services.timers import timer_fire, timers_fire_due
from sogla.workflow.services.withdrawals import task_withdraw
from sogla.workflow.tenant import calendar_cache_clear, organisation_calendar

__all__ = [
    "RoundEdits",
    "calendar_cache_clear",
    "deadlines_reschedule",
    "delegations_sync",
    "delegations_sync_due",
    "field_reminder_at",
    "files_sha256",
    "guest_task_decide",
    "org_facts",
    "organisation_calendar",
    "process_cancel",
    "process_remind",
    "process_resubmit",
    "process_start",
    "route_problems",
    "route_template_create",
    "route_version_publish",
    "route_version_save_draft",
    "step_edit",
    "step_resolve",
    "task_decide",
    "task_file_add",
    "task_reassign",
    "task_withdraw",
    "timer_fire",
    "timers_fire_due",
]
