"""Due times, reminders, overdue notices, stall alerts and wait steps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sogla.engine import effects as fx
from sogla.engine.calendar import WorkCalendar
from sogla.engine.states import ProcessStatus, StepState, TimerKind
from tests.engine.builders import T0, Harness, approve, route, seq, stage, wait


def test_working_days_deadline_sets_a_due_and_a_reminder_timer() -> None:
    h = Harness(route(stage("s", approve("a", due={"working_days": 2}))))
    h.start()
    t = h.only()
    due = datetime(2025, 3, 5, 18, 0, tzinfo=UTC)  # Monday + 2 working days, day end
    assert t.due_at == due
    assert h.of(fx.SetTimer) == [
        fx.SetTimer(f"due:{t.id}", TimerKind.DUE, due, t.id),
        fx.SetTimer(
            f"remind:{t.id}", TimerKind.REMINDER, due - timedelta(hours=24), t.id
        ),
    ]


def test_working_days_skip_holidays() -> None:
    h = Harness(
        route(stage("s", approve("a", due={"working_days": 1}))),
        calendar=WorkCalendar(holidays=frozenset({date(2025, 3, 4)})),
    )
    h.start()
    assert h.only().due_at == datetime(2025, 3, 5, 18, 0, tzinfo=UTC)


def test_hours_deadline_reminds_halfway_when_short() -> None:
    h = Harness(route(stage("s", approve("a", due={"hours": 4}))))
    h.start()
    t = h.only()
    assert t.due_at == T0 + timedelta(hours=4)
    assert h.s.timers[f"remind:{t.id}"].at == T0 + timedelta(hours=2)


def test_field_deadline_is_the_end_of_that_working_day() -> None:
    h = Harness(
        route(stage("s", approve("a", due={"field": "control_date"}))),
        facts={"control_date": "2025-03-20"},
    )
    h.start()
    assert h.only().due_at == datetime(2025, 3, 20, 18, 0, tzinfo=UTC)


def test_an_empty_deadline_field_is_reported_not_ignored() -> None:
    h = Harness(route(stage("s", approve("a", due={"field": "control_date"}))))
    h.start()
    assert h.only().due_at is None
    assert (
        fx.DeadlineUnknown("s", "a", 'the deadline field "control_date" is empty')
        in h.effects
    )


def test_overdue_and_reminder_timers_notify_the_participant() -> None:
    h = Harness(route(stage("s", approve("a", due={"hours": 48}))))
    h.start()
    t = h.only()
    h.later(hours=24)
    h.fire(f"remind:{t.id}")
    assert h.effects == (fx.Notify("reminder", ("user:a",), task_id=t.id, stage="s"),)
    h.later(hours=24)
    h.fire(f"due:{t.id}")
    assert h.effects == (fx.Notify("overdue", ("user:a",), task_id=t.id, stage="s"),)
    assert h.s.tasks[t.id].overdue is True
    assert h.s.timers == {}
    h.fire(f"due:{t.id}")  # fired twice: a no-op
    assert h.effects == ()


def test_a_decision_cancels_its_timers() -> None:
    h = Harness(route(*seq("x"), stage("s", approve("a", due={"hours": 48}))))
    h.start()
    h.decide("x")
    t = h.only()
    h.decide(t)
    assert fx.CancelTimer(f"due:{t.id}") in h.effects
    assert fx.CancelTimer(f"remind:{t.id}") in h.effects
    assert h.s.timers == {}


def test_quorum_closure_cancels_the_other_tasks_timers() -> None:
    from tests.engine.builders import Directory

    h = Harness(
        route(stage("s", approve("t", "role:team", due={"hours": 10}))),
        directory=Directory(roles={"team": ["a", "b"]}),
    )
    h.start()
    b = h.task_of("b")
    h.decide("a")
    assert fx.CancelTimer(f"due:{b.id}") in h.effects
    assert h.s.timers == {}


def test_stall_alert_timer_per_stage_notifies_and_is_cancelled_at_stage_end() -> None:
    h = Harness(
        route(
            *seq("a", "b"),
            stall_alert={"hours": 24, "notify": ["initiator", "role:head"]},
        )
    )
    h.start()
    assert h.s.timers["stall:1:a"].at == T0 + timedelta(hours=24)
    h.decide("a")
    assert fx.CancelTimer("stall:1:a") in h.effects
    assert "stall:1:b" in h.s.timers
    h.later(hours=25)
    h.fire("stall:1:b")
    assert h.effects == (
        fx.Notify("stage_stalled", ("initiator", "role:head"), stage="b"),
    )
    assert h.s.status is ProcessStatus.RUNNING


def test_a_wait_step_waits_for_its_date_then_completes() -> None:
    h = Harness(
        route(*seq("a"), stage("w", wait("until", "control_date")), *seq("b")),
        facts={"control_date": date(2025, 4, 1)},
    )
    h.start()
    h.decide("a")
    at = datetime(2025, 4, 1, 18, 0, tzinfo=UTC)
    assert fx.SetTimer("wait:1:w:until", TimerKind.WAIT, at, "1:w:until") in h.effects
    assert h.open() == []
    h.now = at
    h.fire("wait:1:w:until")
    assert h.s.steps["1:w:until"].state is StepState.DONE
    assert h.only().participant.id == "b"


def test_a_wait_step_with_an_empty_date_fails_with_a_reason() -> None:
    h = Harness(route(stage("w", wait("until", "control_date")), *seq("b")))
    h.start()
    assert h.s.steps["1:w:until"].state is StepState.FAILED
    assert (
        fx.ReportUnresolved("w", "until", 'the date field "control_date" is empty')
        in h.effects
    )
    assert h.s.status is ProcessStatus.RUNNING
    h.facts["control_date"] = "2025-03-10"
    h.resolve("w", "until")
    assert "wait:1:w:until" in h.s.timers


def test_a_wait_step_with_a_bad_date_says_so() -> None:
    h = Harness(
        route(stage("w", wait("until", "control_date"))), facts={"control_date": "soon"}
    )
    h.start()
    assert (
        h.s.steps["1:w:until"].reason == 'the date field "control_date" is not a date'
    )


def test_a_pending_wait_is_cancelled_when_the_process_is_cancelled() -> None:
    h = Harness(route(stage("w", wait("until", "d"))), facts={"d": "2025-05-01"})
    h.start()
    h.cancel()
    assert fx.CancelTimer("wait:1:w:until") in h.effects
    assert h.s.timers == {}
