"""The volume scale conversion (no server needed)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audiolab.backends._pulse.volume import (
    PA_VOLUME_NORM,
    gain_from_level,
    level_from_pulse,
    master_level,
    pulse_from_level,
    scaled_to,
)


def test_pactl_percent_is_audiolab_volume() -> None:
    assert level_from_pulse(PA_VOLUME_NORM) == 1.0
    assert level_from_pulse(PA_VOLUME_NORM // 2) == 0.5
    assert pulse_from_level(0.3) == round(0.3 * 65536)
    assert level_from_pulse(0) == 0.0


def test_above_100_percent_is_capped() -> None:
    assert level_from_pulse(int(1.5 * PA_VOLUME_NORM)) == 1.0
    assert master_level([1.5, 0.2]) == 1.0


def test_cubic_gain() -> None:
    assert gain_from_level(0.5) == pytest.approx(0.125)


@given(st.floats(0.0, 1.0))
def test_round_trip(level: float) -> None:
    assert abs(level_from_pulse(pulse_from_level(level)) - level) <= 0.5 / PA_VOLUME_NORM


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8), st.floats(0.0, 1.0))
def test_scaling_keeps_balance(channels: list[float], level: float) -> None:
    scaled = scaled_to(channels, level)
    assert max(scaled) == pytest.approx(level)
    top = max(channels)
    if top > 0:
        for before, after in zip(channels, scaled):
            assert after == pytest.approx(before / top * level)
