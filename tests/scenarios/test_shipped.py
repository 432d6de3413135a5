"""Every shipped scenario passes under its own policy and under every policy it is compared across."""

from __future__ import annotations

import numpy as np
import pytest

from audiolab.scenarios import load_scenario, run_scenario, shipped

FILES = shipped()


def test_at_least_eight_teaching_scenarios_are_shipped():
    names = {p.stem for p in FILES}
    assert len(names) >= 8
    assert {"music-navigation", "music-call", "alarm-during-call", "two-music-apps", "notification-during-game",
            "assistant-during-navigation", "idle-timeout", "windows-call-ducking"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_shipped_scenario_passes_under_its_policy(path):
    result = run_scenario(path)
    assert result.checks, "a teaching scenario checks something under its own policy"
    assert result.passed, "\n".join(c.describe() for c in result.failures)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_shipped_scenario_passes_under_every_compared_policy(path):
    scenario = load_scenario(path)
    for policy in scenario.policies:
        result = run_scenario(scenario, policy)
        assert result.passed, f"{policy}: " + "\n".join(c.describe() for c in result.failures)


def test_the_duck_is_measured_in_the_signal_not_copied_from_the_event():
    result = run_scenario("windows-call-ducking", "windows", every_block=True)  # a frame every 10 ms
    series = dict(result.gains["Music"])
    # the first call (mute) starts at 1.5: the gain falls linearly over 1 s
    assert series[1.5] == pytest.approx(1.0, abs=0.02)
    assert series[2.0] == pytest.approx(0.5, abs=0.02)
    assert series[2.5] == pytest.approx(0.0, abs=0.02)


def test_virtual_time_runs_far_faster_than_real_time():
    result = run_scenario("idle-timeout")
    assert result.virtual_seconds >= 60
    assert result.speedup > 5  # typically 30-80x; kept loose for loaded CI machines


def test_record_audio_returns_the_mix():
    result = run_scenario("music-navigation", record_audio=True)
    assert result.audio.shape[0] == pytest.approx(result.virtual_seconds * result.sample_rate, rel=0.01)
    rate = result.sample_rate
    second = result.audio[4 * rate: 5 * rate, 0].astype(float)  # t=4..5: music ducked under the prompt
    spectrum = np.abs(np.fft.rfft(second)) * 2 / rate  # 1 Hz bins, amplitude per partial
    assert spectrum[440] == pytest.approx(0.2 * 0.5, abs=0.005)  # the ducked music
    assert spectrum[880] == pytest.approx(0.5, abs=0.005)  # the navigation prompt


def test_transitions_name_cause_and_effect():
    result = run_scenario("music-call")
    texts = [t.text for t in result.transitions]
    assert "Ring (ringtone) pauses Music" in texts
    assert any(t.startswith("Music may resume (Call (voice call) ended") for t in texts)
    ducked = run_scenario("music-navigation").transitions
    assert [(t.subject, t.cause) for t in ducked if t.kind == "Ducked"] == [("Music", "Maps")]
