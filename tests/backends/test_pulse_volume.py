"""The volume scale conversion (no server needed)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audiolab.backends._pulse.ducking import expected_peaks
from audiolab.backends._pulse.volume import (
    PA_VOLUME_NORM,
    gain_from_level,
    levels_from_fractions,
    master_level,
    scaled_to,
)


def test_pactl_percent_is_audiolab_volume() -> None:
    # pulsectl hands the backend raw / PA_VOLUME_NORM: pactl's 50 % is 0.5 here.
    assert levels_from_fractions([PA_VOLUME_NORM / PA_VOLUME_NORM, (PA_VOLUME_NORM // 2) / PA_VOLUME_NORM, 0.0]) == (
        1.0, 0.5, 0.0)


def test_above_100_percent_is_capped() -> None:
    assert levels_from_fractions([1.5, 0.2]) == (1.0, 0.2)
    assert master_level([1.5, 0.2]) == 1.0


def test_cubic_gain_is_what_the_ducking_measurement_expects() -> None:
    assert gain_from_level(0.5) == pytest.approx(0.125)
    assert expected_peaks(0.8, 0.0, [0.5, 0.25], False) == [
        pytest.approx(0.8 * gain_from_level(0.5)), pytest.approx(0.8 * gain_from_level(0.25))]


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8), st.floats(0.0, 1.0))
@settings(deadline=None)  # pure arithmetic: a scheduler stall must not fail it
def test_scaling_keeps_balance(channels: list[float], level: float) -> None:
    scaled = scaled_to(channels, level)
    assert max(scaled) == pytest.approx(level)
    top = max(channels)
    if top > 0:
        for before, after in zip(channels, scaled, strict=True):
            assert after == pytest.approx(before / top * level)
