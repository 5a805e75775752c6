"""The worker's loop survives a failing sweep (a lost database, a bug) and goes on."""

from __future__ import annotations

import pytest

from sogla.site import worker as worker_module
from sogla.site.worker import Sweep, Worker

pytestmark = pytest.mark.django_db


def test_a_failing_sweep_is_logged_and_the_loop_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def sweep(_self: Worker, _now: object = None) -> Sweep:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return Sweep(timers=1)

    monkeypatch.setattr(Worker, "sweep", sweep)
    monkeypatch.setattr(worker_module, "_sleep_while", lambda _worker, _seconds: None)
    Worker(poll=0.01).run(max_sweeps=3)
    assert len(calls) == 3
    assert "sweep failed (1 in a row)" in caplog.text
