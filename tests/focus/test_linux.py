"""PulseAudio role-ducking/role-cork and WirePlumber role priorities."""

from __future__ import annotations

import math

import pytest

from audiolab.focus import Duck, FocusEngine, Pause, PolicyError, Resume, Unduck, load_policy, pulse_volume_to_gain
from audiolab.model import Role

from .conftest import kinds, req

PHONE = Role.VOICE_COMMUNICATION  # media.role "phone"


def test_pulse_volume_conversion():
    assert pulse_volume_to_gain("-20dB") == pytest.approx(0.1)
    assert pulse_volume_to_gain("30%") == pytest.approx(0.027)
    assert 20 * math.log10(pulse_volume_to_gain("30%")) == pytest.approx(-31.37, abs=0.01)
    assert pulse_volume_to_gain(65536) == 1.0
    assert pulse_volume_to_gain("32768") == pytest.approx(0.125)
    assert pulse_volume_to_gain(0.25) == 0.25  # a float is already linear
    for bad in ("loud", "5dB", "150%", -1, 1.5, True):
        with pytest.raises(PolicyError):
            pulse_volume_to_gain(bad)


def test_role_ducking_default_volume():
    engine = FocusEngine(load_policy("pulseaudio", role_cork=False))
    engine.start(req("music", device_id="sink0"), 0)
    acts = engine.start(req("phone", PHONE, device_id="sink0"), 1)
    assert kinds(acts) == [("Duck", "music")] and acts[0].gain == pytest.approx(0.1)
    why = acts[0].reason
    assert why.rule["module"] == "module-role-ducking" and why.rule["group"] == 0
    assert why.rule["arguments"] == "trigger_roles=phone ducking_roles=music,video volume=-20dB global=0"
    assert (why.rule["trigger_role"], why.rule["target_role"], why.rule["device"]) == ("phone", "music", "sink0")
    assert why.predicted_gain == pytest.approx(0.1)
    assert kinds(engine.stop(req("phone", PHONE), 2)) == [("Unduck", "music")]


def test_role_ducking_volume_setting_and_late_streams():
    engine = FocusEngine(load_policy("pulseaudio", role_cork=False, ducking_volume="30%"))
    engine.start(req("phone", PHONE), 0)
    acts = engine.start(req("video", Role.MOVIE), 1)  # a stream starting during the trigger is ducked too
    assert isinstance(acts[0], Duck) and acts[0].gain == pytest.approx(0.027)
    assert engine.start(req("game", Role.GAME), 2) == []  # not in ducking_roles


def test_role_ducking_is_per_sink_unless_global():
    engine = FocusEngine(load_policy("pulseaudio", role_cork=False))
    engine.start(req("music", device_id="hdmi"), 0)
    assert engine.start(req("phone", PHONE, device_id="headset"), 1) == []
    engine = FocusEngine(load_policy("pulseaudio", role_cork=False, global_=True))
    engine.start(req("music", device_id="hdmi"), 0)
    assert kinds(engine.start(req("phone", PHONE, device_id="headset"), 1)) == [("Duck", "music")]


def test_role_ducking_groups_and_any_role():
    engine = FocusEngine(
        load_policy(
            "pulseaudio",
            role_cork=False,
            trigger_roles="phone/navigation",
            ducking_roles="any_role/music",
            volume="-20dB/-6dB",
        )
    )
    engine.start(req("music"), 0)
    engine.start(req("game", Role.GAME), 0)
    acts = engine.start(req("maps", Role.NAVIGATION), 1)
    assert kinds(acts) == [("Duck", "music")] and acts[0].gain == pytest.approx(10 ** (-6 / 20))
    acts = engine.start(req("phone", PHONE), 2)  # any_role: everything not a phone trigger
    assert {(a.session_id, round(a.gain, 3)) for a in acts} == {("music", 0.1), ("game", 0.1), ("maps", 0.1)}


def test_role_cork_defaults():
    engine = FocusEngine(load_policy("pulseaudio", role_ducking=False))
    engine.start(req("music"), 0)
    acts = engine.start(req("phone", PHONE), 1)
    assert isinstance(acts[0], Pause) and acts[0].mechanism == "cork" and acts[0].cause_session_id == "phone"
    acts = engine.stop(req("phone", PHONE), 2)
    assert isinstance(acts[0], Resume) and acts[0].mechanism == "cork"


def test_pulse_group_count_mismatch_is_an_error():
    with pytest.raises(PolicyError, match="same number of '/' groups"):
        load_policy("pulseaudio", trigger_roles="phone/event")


def test_wireplumber_priorities():
    engine = FocusEngine(load_policy("wireplumber"))
    engine.start(req("music"), 0)
    assert engine.start(req("ding", Role.NOTIFICATION), 1) == []  # notification: lower action mix
    acts = engine.start(req("maps", Role.NAVIGATION), 2)
    assert kinds(acts) == [("Duck", "music"), ("Duck", "ding")] and acts[0].gain == pytest.approx(0.3)
    acts = engine.start(req("call", PHONE), 3)  # communication corks everything below it
    assert [(a.kind, a.session_id) for a in acts if isinstance(a, Pause)] == [("Pause", "music"), ("Pause", "ding"), ("Pause", "maps")]
    assert all(a.mechanism == "unlink" for a in acts if isinstance(a, Pause))
    acts = engine.stop(req("call", PHONE), 4)  # navigation is the priority link again: ducks the rest
    assert ("Resume", "maps") in kinds(acts) and engine.focus_of("music", "s").gain == pytest.approx(0.3)
    acts = engine.stop(req("maps", Role.NAVIGATION), 5)
    assert [type(a) for a in acts] == [Unduck, Unduck]


def test_wireplumber_same_priority_mixes_and_duck_level():
    engine = FocusEngine(load_policy("wireplumber", duck_level=0.5))
    engine.start(req("a", Role.MUSIC), 0)
    assert engine.start(req("b", Role.MOVIE), 1) == []
    acts = engine.start(req("maps", Role.NAVIGATION), 2)
    assert {a.gain for a in acts} == {0.5}


def test_none_mixes_everything():
    engine = FocusEngine(load_policy("none"))
    for i, role in enumerate(Role):
        assert engine.start(req(f"s{i}", role), i) == []
    assert FocusEngine().policy.kind == "none"
