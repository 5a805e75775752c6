"""Due times, reminders, overdue notices, stall alerts and wait steps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sogla.engine import effects as fx
from sogla.engine.calendar import WorkCalendar
from sogla.engine.states import ProcessStatus, StepState, TimerKind
from tests.engine.builders import T0, Harness, approve, route, seq, stage, step, wait


def test_working_days_deadline_sets_a_due_and_a_reminder_timer() -> None:
    h = Harness(route(stage("s", approve("a", due={"working_days": 2}))))
    h.start()
    t = h.only()
    due = datetime(2025, 3, 5, 18, 0, tzinfo=UTC)  # Monday + 2 working days, day end
    assert t.due_at == due
    assert h.of(fx.SetTimer) == [
        fx.SetTimer(f"due:{t.id}", TimerKind.DUE, due, t.id),
        # 80% of the time is Wednesday 06:48: the reminder waits for 9 o'clock
        fx.SetTimer(
            f"remind:{t.id}",
            TimerKind.REMINDER,
            datetime(2025, 3, 5, 9, 0, tzinfo=UTC),
            t.id,
        ),
    ]


def test_working_days_skip_holidays() -> None:
    h = Harness(
        route(stage("s", approve("a", due={"working_days": 1}))),
        calendar=WorkCalendar(holidays=frozenset({date(2025, 3, 4)})),
    )
    h.start()
    assert h.only().due_at == datetime(2025, 3, 5, 18, 0, tzinfo=UTC)


def test_hours_deadline_reminds_after_80_percent_when_short() -> None:
    h = Harness(route(stage("s", approve("a", due={"hours": 4}))))
    h.start()
    t = h.only()
    assert t.due_at == T0 + timedelta(hours=4)
    assert h.s.timers[f"remind:{t.id}"].at == T0 + timedelta(hours=3, minutes=12)


def test_a_long_deadline_reminds_one_working_day_before() -> None:
    h = Harness(route(stage("s", approve("a", due={"working_days": 10}))))
    h.start()
    t = h.only()
    assert t.due_at == datetime(2025, 3, 17, 18, 0, tzinfo=UTC)
    # one working day before a Monday deadline is the Friday
    assert h.s.timers[f"remind:{t.id}"].at == datetime(2025, 3, 14, 18, 0, tzinfo=UTC)


def test_remind_before_and_no_reminder_are_configurable() -> None:
    h = Harness(
        route(
            stage(
                "s",
                approve("a", due={"working_days": 3, "remind_before": {"hours": 2}}),
                approve("b", due={"working_days": 3, "reminder": False}),
            )
        )
    )
    h.start()
    a, b = (t for t in h.s.tasks.values())
    assert a.due_at is not None
    assert h.s.timers[f"remind:{a.id}"].at == a.due_at - timedelta(hours=2)
    assert f"remind:{b.id}" not in h.s.timers
    assert f"due:{b.id}" in h.s.timers


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
    assert h.effects == (
        fx.Notify("overdue", ("user:a", "initiator"), task_id=t.id, stage="s"),
    )
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


def test_escalation_tells_the_manager_after_the_delay_unless_decided() -> None:
    h = Harness(
        route(
            stage(
                "s",
                approve("a", due={"hours": 8, "escalate_after": {"working_days": 1}}),
                approve("b", due={"hours": 8, "escalate_after": {"working_days": 1}}),
            )
        )
    )
    h.start()
    a, b = h.task_of("a"), h.task_of("b")
    h.later(hours=8)
    h.fire(f"due:{a.id}")
    h.fire(f"due:{b.id}")
    # 18:00 Monday + one working day = 18:00 Tuesday
    at = datetime(2025, 3, 4, 18, 0, tzinfo=UTC)
    assert h.s.timers[f"escalate:{a.id}"].at == at
    h.decide(b)  # decided late: no escalation for b
    assert fx.CancelTimer(f"escalate:{b.id}") in h.effects
    h.now = at
    h.fire(f"escalate:{a.id}")
    assert h.effects == (
        fx.Notify("escalated", ("manager:user:a",), task_id=a.id, stage="s"),
    )
    assert not [t for t in h.s.timers if t.startswith("escalate:")]


def test_the_route_sets_a_default_escalation() -> None:
    h = Harness(
        route(
            stage("s", approve("a", due={"hours": 8})),
            escalate_after={"hours": 4},
        )
    )
    h.start()
    t = h.only()
    h.later(hours=8)
    h.fire(f"due:{t.id}")
    # 18:00 Monday + 4 working hours = 13:00 Tuesday (the night does not count)
    assert h.s.timers[f"escalate:{t.id}"].at == datetime(2025, 3, 4, 13, 0, tzinfo=UTC)


def test_no_escalation_without_a_delay() -> None:
    h = Harness(route(stage("s", approve("a", due={"hours": 8}))))
    h.start()
    t = h.only()
    h.later(hours=8)
    h.fire(f"due:{t.id}")
    assert h.s.timers == {}


def test_deadlines_end_at_the_assignees_working_day_in_their_time_zone() -> None:
    vladivostok = ZoneInfo("Asia/Vladivostok")  # UTC+10
    h = Harness(
        route(stage("s", approve("a", due={"working_days": 1}), approve("b", due={"working_days": 1}))),
        zones={"a": vladivostok},
    )  # fmt: skip
    h.start()  # Monday 10:00 UTC = Monday 20:00 in Vladivostok
    a, b = h.task_of("a"), h.task_of("b")
    assert b.due_at == datetime(2025, 3, 4, 18, 0, tzinfo=UTC)
    assert a.due_at == datetime(2025, 3, 4, 18, 0, tzinfo=vladivostok)
    assert a.due_at is not None
    assert b.due_at is not None
    assert b.due_at - a.due_at == timedelta(hours=10)


def test_a_wait_step_can_wait_a_length_of_time_or_a_date_plus_days() -> None:
    h = Harness(
        route(
            stage("w", step("pause", "wait", wait_for={"working_days": 2})),
            stage("v", wait("until", "control_date", wait_offset_days=-7)),
            *seq("b"),
        ),
        facts={"control_date": date(2025, 4, 8)},
    )
    h.start()
    assert h.s.timers["wait:1:w:pause"].at == datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
    h.now = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
    h.fire("wait:1:w:pause")
    assert h.s.timers["wait:1:v:until"].at == datetime(2025, 4, 1, 18, 0, tzinfo=UTC)


def test_a_reminder_fired_after_the_deadline_stays_silent() -> None:
    h = Harness(route(stage("s", approve("a", due={"hours": 8}))))
    h.start()
    t = h.only()
    h.later(hours=9)  # the worker was down past the deadline
    h.fire(f"remind:{t.id}")
    assert h.effects == ()
    h.fire(f"due:{t.id}")
    assert h.of(fx.Notify)[0].kind == "overdue"


def test_an_hours_deadline_counts_working_hours_only() -> None:
    friday = datetime(2025, 3, 7, 16, 0, tzinfo=UTC)
    h = Harness(route(stage("s", approve("a", due={"hours": 4}))))
    h.now = friday
    h.start()
    # 2 hours on Friday, 2 on Monday morning
    assert h.only().due_at == datetime(2025, 3, 10, 11, 0, tzinfo=UTC)


def test_working_hours_arithmetic_both_ways() -> None:
    cal = WorkCalendar(holidays=frozenset({date(2025, 3, 10)}))
    friday = datetime(2025, 3, 7, 16, 0, tzinfo=UTC)
    assert cal.add_working_hours(friday, 4) == datetime(2025, 3, 11, 11, 0, tzinfo=UTC)
    assert cal.subtract_working_hours(datetime(2025, 3, 11, 11, 0, tzinfo=UTC), 4) == (
        friday
    )
    night = datetime(2025, 3, 4, 23, 0, tzinfo=UTC)
    assert cal.add_working_hours(night, 1) == datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
    assert cal.add_working_hours(friday, 0) == friday
