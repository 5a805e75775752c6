"""T06: process/task state x action -> allowed, or exactly this refusal, changing nothing.

The task under test is the lawyer's task of the first stage; the table below is the
expected answer for every cell. A refusal must leave the process version, every task
row, every timer and the audit log as they were, except for one
``task.decision_refused`` event per refused decision and one ``process.command_refused``
per refused command (written after the refusal in a
transaction of its own; a NotFound leaves no trace).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from sogla.core.errors import ApplicationError, NotFound, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.orgs.models import User
from sogla.workflow import services
from sogla.workflow.errors import TaskClosed, WorkflowError
from sogla.workflow.models import Process, Task, Timer
from tests.conftest import Tenant
from tests.workflow.conftest import (
    approve,
    decide,
    make_document,
    open_task,
    publish,
    route,
    stage,
    start,
)

pytestmark = pytest.mark.django_db

STATES = [
    "running_open",
    "running_done",
    "running_reassigned",
    "revision",
    "rejected",
    "cancelled",
    "approved",
]
ACTIONS = ["approve", "reject_no_comment", "resubmit", "cancel", "reassign", "stranger"]

OK = "ok"
CLOSED = "TaskClosed"
NOT_REVISION = "WorkflowError:process_not_in_revision"
NOT_RUNNING = "WorkflowError:process_not_running"
NOT_FOUND = "NotFound"

EXPECTED: dict[str, dict[str, str]] = {
    "running_open": {
        "approve": OK,
        "reject_no_comment": "ValidationFailed:comment",
        "resubmit": NOT_REVISION,
        "cancel": OK,
        "reassign": OK,
        "stranger": NOT_FOUND,
    },
    "running_done": {
        "approve": CLOSED,
        "reject_no_comment": CLOSED,
        "resubmit": NOT_REVISION,
        "cancel": OK,
        "reassign": CLOSED,
        "stranger": NOT_FOUND,
    },
    "running_reassigned": {
        "approve": CLOSED,
        "reject_no_comment": CLOSED,
        "resubmit": NOT_REVISION,
        "cancel": OK,
        "reassign": CLOSED,
        "stranger": NOT_FOUND,
    },
    "revision": {
        "approve": CLOSED,
        "reject_no_comment": CLOSED,
        "resubmit": OK,
        "cancel": OK,
        "reassign": CLOSED,
        "stranger": NOT_FOUND,
    },
    "rejected": {
        "approve": CLOSED,
        "reject_no_comment": CLOSED,
        "resubmit": NOT_REVISION,
        "cancel": NOT_RUNNING,
        "reassign": CLOSED,
        "stranger": NOT_FOUND,
    },
    "cancelled": {
        "approve": CLOSED,
        "reject_no_comment": CLOSED,
        "resubmit": NOT_REVISION,
        "cancel": NOT_RUNNING,
        "reassign": CLOSED,
        "stranger": NOT_FOUND,
    },
    "approved": {
        "approve": CLOSED,
        "reject_no_comment": CLOSED,
        "resubmit": NOT_REVISION,
        "cancel": NOT_RUNNING,
        "reassign": CLOSED,
        "stranger": NOT_FOUND,
    },
}


def prepare(
    tenant: Tenant, people: dict[str, User], template: Any, state: str
) -> tuple[Process, Task]:
    process = start(tenant, template, make_document(tenant))
    lawyer = open_task(process, people["lawyer"])
    cfo = open_task(process, people["cfo"])
    if state in ("running_done", "approved"):
        decide(people["lawyer"], lawyer)
    if state == "running_reassigned":
        services.task_reassign(
            actor=tenant.admin, task_id=lawyer.pk, to_user=people["ceo"]
        )
    if state == "revision":
        decide(people["cfo"], cfo, "return", comment="Fix it")
    if state == "rejected":
        decide(people["cfo"], cfo, "reject", comment="No")
    if state == "cancelled":
        services.process_cancel(actor=tenant.initiator, process=process, reason="Stop")
    if state == "approved":
        decide(people["cfo"], cfo)
        decide(people["ceo"], open_task(process, people["ceo"]))
    process.refresh_from_db()
    return process, Task.objects.get(pk=lawyer.pk)


def act(
    tenant: Tenant, people: dict[str, User], process: Process, task: Task, action: str
) -> Callable[[], Any]:
    actions: dict[str, Callable[[], Any]] = {
        "approve": lambda: decide(people["lawyer"], task, request_id=uuid.uuid4().hex),
        "reject_no_comment": lambda: decide(people["lawyer"], task, "reject"),
        "resubmit": lambda: services.process_resubmit(
            actor=tenant.initiator, process=process, comment="again"
        ),
        "cancel": lambda: services.process_cancel(
            actor=tenant.initiator, process=process, reason="Enough"
        ),
        "reassign": lambda: services.task_reassign(
            actor=tenant.admin, task_id=task.pk, to_user=tenant.colleague
        ),
        "stranger": lambda: decide(tenant.colleague, task),
    }
    return actions[action]


def outcome_of(call: Callable[[], Any]) -> str:
    try:
        call()
    except ValidationFailed as error:
        return "ValidationFailed:" + ",".join(p.field for p in error.problems)
    except TaskClosed:
        return CLOSED
    except WorkflowError as error:
        return f"WorkflowError:{error.code}"
    except NotFound:
        return NOT_FOUND
    except ApplicationError as error:  # pragma: no cover - reported in the table
        return f"{type(error).__name__}:{error.code}"
    return OK


def snapshot(process: Process) -> tuple[Any, ...]:
    return (
        Process.objects.filter(pk=process.pk).values_list("version", "status").get(),
        list(Task.objects.filter(process=process).order_by("id").values()),
        list(Timer.objects.filter(process=process).order_by("id").values()),
        AuditEvent.objects.filter(organisation_id=process.organisation_id)
        .exclude(verb__in=[REFUSED, COMMAND_REFUSED])
        .count(),
    )


REFUSED = "task.decision_refused"
COMMAND_REFUSED = "process.command_refused"
DECISIONS = {"approve", "reject_no_comment", "stranger"}


def refusals_recorded(process: Process) -> list[dict[str, Any]]:
    return [
        e.payload
        for e in AuditEvent.objects.filter(
            organisation_id=process.organisation_id, verb=REFUSED
        ).order_by("seq")
    ]


def _command_refusals(process: Process) -> int:
    return AuditEvent.objects.filter(
        organisation_id=process.organisation_id, verb=COMMAND_REFUSED
    ).count()


def test_t06_state_action_matrix(tenant_a: Tenant, people: dict[str, User]) -> None:
    template = publish(
        tenant_a,
        route(
            stage(
                "checks",
                approve("lawyer", {"user": people["lawyer"].username}),
                approve("cfo", {"user": people["cfo"].username}),
            ),
            stage("ceo", approve("ceo", {"user": people["ceo"].username})),
        ),
    )
    got: dict[str, dict[str, str]] = {}
    unchanged_refusals = refusals = 0
    decision_refusals = audited = 0
    command_refusals = commands_audited = 0
    wrong_trace: list[str] = []
    for state in STATES:
        for action in ACTIONS:
            process, task = prepare(tenant_a, people, template, state)
            before = snapshot(process)
            traces_before = len(refusals_recorded(process))
            commands_before = _command_refusals(process)
            result = outcome_of(act(tenant_a, people, process, task, action))
            got.setdefault(state, {})[action] = result
            traces = refusals_recorded(process)[traces_before:]
            if result != OK:
                refusals += 1
                unchanged_refusals += snapshot(process) == before
            if action in DECISIONS and result not in (OK, NOT_FOUND):
                decision_refusals += 1
                expected_code = result.split(":")[0]
                if (
                    len(traces) == 1
                    and traces[0]["task"] == task.pk
                    and traces[0]["code"]
                    == {
                        "TaskClosed": "task_closed",
                        "ValidationFailed": "invalid",
                    }.get(expected_code, traces[0]["code"])
                ):
                    audited += 1
                else:
                    wrong_trace.append(f"{state}/{action}: {traces}")
            elif traces:  # NotFound and other commands leave no decision trace
                wrong_trace.append(f"{state}/{action}: unexpected {traces}")
            if action not in DECISIONS and result not in (OK, NOT_FOUND):
                command_refusals += 1
                commands_audited += _command_refusals(process) == commands_before + 1
    cells = len(STATES) * len(ACTIONS)
    matching = sum(got[s][a] == EXPECTED[s][a] for s in STATES for a in ACTIONS)
    print(
        f"\nT06: cells {cells}, matching the table {matching}/{cells}, refusals "
        f"{refusals}, refusals that changed nothing {unchanged_refusals}/{refusals}, "
        f"refused decisions audited {audited}/{decision_refusals}, refused commands "
        f"audited {commands_audited}/{command_refusals}"
    )
    assert got == EXPECTED
    assert unchanged_refusals == refusals
    assert not wrong_trace, wrong_trace
    assert audited == decision_refusals > 0
    assert commands_audited == command_refusals
