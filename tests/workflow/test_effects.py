"""The effect applier: every effect type of the engine is either applied by a
handler or written as rows from the state diff, never both, never neither."""

from __future__ import annotations

from typing import get_args

import pytest

from sogla.engine import effects as fx
from sogla.workflow.effects import HANDLERS, ROWS_FROM_DIFF, EffectApplier


def test_every_effect_type_is_in_exactly_one_channel() -> None:
    every = set(get_args(fx.Effect))
    assert len(every) == 21
    assert set(HANDLERS).isdisjoint(ROWS_FROM_DIFF)
    assert set(HANDLERS) | ROWS_FROM_DIFF == every


def test_an_effect_of_no_channel_is_refused_loudly() -> None:
    class Unknown:
        pass

    applier = EffectApplier.__new__(EffectApplier)  # run() needs nothing else here
    with pytest.raises(TypeError, match="Unknown"):
        applier.run([Unknown()])  # type: ignore[list-item]
