"""T09 (reduced): random command sequences through the services, checked step by step
against the pure engine run on the *whole* state in memory.

The services load a partial state per command; if they ever loaded too little, the
rows would drift from the reference. Invariants after every step: the rows equal the
reference (status, round, stage, every task's state and outcome); a running process
has an open task or a failed step; a finished one has no open task and no pending
timer; a terminal status never changes; the audit chain verifies.
"""

from __future__ import annotations

import random
import uuid
from functools import partial
from typing import Any

import pytest
from django.utils import timezone

from sogla.core.audit import audit_verify
from sogla.core.errors import ApplicationError
from sogla.engine.commands import Cancel, Decide, Reassign, Resubmit
from sogla.engine.errors import EngineError
from sogla.engine.run import Context, handle
from sogla.engine.states import Participant, ProcessState
from sogla.orgs.models import Role, User
from sogla.workflow import repository, services
from sogla.workflow.definitions import definition_for
from sogla.workflow.models import Process, StepRun, Task, Timer
from sogla.workflow.resolver import Resolver, document_facts
from sogla.workflow.state_rows import task_run
from tests.conftest import Tenant
from tests.workflow.conftest import approve, make_document, publish, route, stage, start

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

SEQUENCES = 20
STEPS = 25
OUTCOMES = ["approve"] * 6 + ["approve_with_remarks", "return", "return", "reject"]


def reference_start(process: Process) -> ProcessState:
    """The engine's full state rebuilt from every row (the reference's start)."""
    loaded = repository.load(process)
    state = loaded.state
    state.tasks = {
        t.engine_id: task_run(t) for t in Task.objects.filter(process=process)
    }
    state.open_tasks = [i for i, t in state.tasks.items() if t.state.value == "open"]
    return state


def rows_view(process: Process) -> tuple[Any, ...]:
    process.refresh_from_db()
    tasks = sorted(
        Task.objects.filter(process=process).values_list(
            "engine_id", "state", "outcome"
        )
    )
    return process.status, process.round, process.stage_index, tasks


def reference_view(state: ProcessState) -> tuple[Any, ...]:
    tasks = sorted((t.id, t.state.value, t.outcome or "") for t in state.tasks.values())
    return state.status.value, state.round, state.stage_index, tasks


def rows_invariants_hold(process: Process, finished_as: str | None) -> bool:
    """The rows' own invariants: a running process can move on (an open task or a
    failed step), a stopped one has no pending timer, a finished one no open task
    and it stays finished as it was."""
    ok = True
    if process.status == "running":
        ok &= Task.objects.filter(process=process, state="open").exists() or (
            StepRun.objects.filter(process=process, state="failed").exists()
        )
    else:
        ok &= not Timer.objects.filter(process=process, state="pending").exists()
    if process.status in ("approved", "rejected", "cancelled"):
        ok &= not Task.objects.filter(process=process, state="open").exists()
        if finished_as is not None:
            ok &= process.status == finished_as
    return ok


def test_t09_random_sequences_match_the_engine_on_the_whole_state(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    role = Role.objects.create(
        organisation=tenant_a.org, key="legal", name_ru="Юристы", name_en="Legal"
    )
    role.members.add(people["lawyer"], people["cfo"])
    template = publish(
        tenant_a,
        route(
            stage(
                "checks",
                approve("legal", {"role": "legal"}),
                approve("head", {"manager_of": "initiator"}),
            ),
            stage("ceo", approve("ceo", {"user": people["ceo"].username})),
            on_return={"restart": "first_stage", "reask": "not_approved"},
        ),
    )
    definition = definition_for(template.versions.get(status="published"))
    users = {u.pk: u for u in User.objects.filter(organisation=tenant_a.org)}
    steps = violations = accepted = 0
    for seed in range(SEQUENCES):
        rng = random.Random(seed)
        document = make_document(tenant_a)
        process = start(tenant_a, template, document)
        ref = reference_start(process)
        finished_as: str | None = None
        for _step in range(STEPS):
            steps += 1
            if finished_as is not None and rng.random() < 0.7:
                # Keep late decisions and cancels on a finished process rare: go on
                # with a new document.
                document = make_document(tenant_a)
                process = start(tenant_a, template, document)
                ref = reference_start(process)
                finished_as = None
            document.refresh_from_db()
            ctx = Context(
                now=timezone.now(),
                facts=document_facts(document),
                resolve=Resolver(document),
                files_sha256=services.files_sha256(document),
            )
            open_rows = list(
                Task.objects.filter(process=process, state="open").exclude(
                    kind="revision"
                )
            )
            closed_rows = list(
                Task.objects.filter(process=process).exclude(state="open")
            )
            choice = rng.random()
            command: Any = None
            call: Any = None
            if process.status == "revision" and choice < 0.8:
                actor = users[process.initiator_id]
                command = Resubmit(Participant.user(actor.pk), "again")
                call = partial(
                    services.process_resubmit,
                    actor=actor,
                    process=process,
                    comment="again",
                )
            elif open_rows and choice < 0.75:
                row = rng.choice(open_rows)
                assert row.assignee_id is not None
                actor = users[row.assignee_id]
                outcome = rng.choice(OUTCOMES)
                comment = "" if outcome == "approve" else "because"
                request_id = uuid.uuid4().hex
                command = Decide(
                    row.engine_id,
                    Participant.user(actor.pk),
                    outcome,
                    comment,
                    request_id,
                    ctx.files_sha256,
                )
                call = partial(
                    services.task_decide,
                    actor=actor,
                    task_id=row.pk,
                    outcome=outcome,
                    comment=comment,
                    request_id=request_id,
                )
            elif open_rows and choice < 0.85:
                row = rng.choice(open_rows)
                to = rng.choice([people["ceo"], tenant_a.colleague, people["head"]])
                command = Reassign(
                    row.engine_id,
                    Participant.user(to.pk),
                    Participant.user(tenant_a.admin.pk),
                )
                call = partial(
                    services.task_reassign,
                    actor=tenant_a.admin,
                    task_id=row.pk,
                    to_user=to,
                )
            elif closed_rows and choice < 0.95:
                row = rng.choice(closed_rows)
                if row.assignee_id is None:
                    continue
                actor = users[row.assignee_id]
                request_id = uuid.uuid4().hex
                command = Decide(
                    row.engine_id,
                    Participant.user(actor.pk),
                    "approve",
                    "",
                    request_id,
                    ctx.files_sha256,
                )
                call = partial(
                    services.task_decide,
                    actor=actor,
                    task_id=row.pk,
                    outcome="approve",
                    request_id=request_id,
                )
            elif choice < 0.97 or process.status != "running":
                continue
            else:
                actor = users[process.initiator_id]
                command = Cancel(Participant.user(actor.pk), "stop")
                call = partial(
                    services.process_cancel, actor=actor, process=process, reason="stop"
                )
            try:
                ref = handle(definition, ref, command, ctx).state
                expected_ok = True
            except EngineError:
                expected_ok = False
            try:
                call()
                got_ok = True
                accepted += 1
            except ApplicationError:
                got_ok = False
            ok = got_ok == expected_ok and rows_view(process) == reference_view(ref)
            ok &= rows_invariants_hold(process, finished_as)
            if process.status in ("approved", "rejected", "cancelled"):
                finished_as = process.status
            if not ok:
                violations += 1
                pytest.fail(
                    f"seed {seed}: {command!r} services ok={got_ok} engine ok={expected_ok}\n"
                    f"rows {rows_view(process)}\nref  {reference_view(ref)}"
                )
    chain = audit_verify(tenant_a.org.pk)
    print(
        f"\nT09 (reduced): sequences {SEQUENCES}, steps {steps} ({accepted} accepted), invariant "
        f"violations {violations}, audit chain intact {chain.intact} ({chain.events} events)"
    )
    assert chain.intact
