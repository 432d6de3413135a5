"""The why on every focus event: the Reason value, its content per policy, and where it is shown."""

from __future__ import annotations

import json
import math

import pytest

from audiolab import Reason
from audiolab.events import FOCUS_EVENT_TYPES, Ducked, FocusDenied, event_from_dict, event_to_dict
from audiolab.focus import FocusEngine, Pause, load_policy
from audiolab.focus.explain import why_nothing
from audiolab.model import ConcurrencyMode, DeactivationReason, Role
from audiolab.scenarios import run_scenario
from audiolab.scenarios.shipped import resolve, shipped

from .conftest import kinds, req

PHONE = Role.VOICE_COMMUNICATION


# --- the value ---------------------------------------------------------------------------------------------


def test_reason_round_trips_through_json():
    why = Reason(policy="pulseaudio", kind="pulseaudio", text="a phone stream ducks music.", version="x@1",
                 rule={"module": "module-role-ducking", "group": 0, "global": False, "roles": ["music", "video"]},
                 predicted_gain=0.027, label="module-role-ducking group 0")
    back = Reason.from_dict(json.loads(json.dumps(why.to_dict())))
    assert back == why and back.rule["roles"] == ("music", "video")
    assert back.release().released and str(back.release()).startswith("no longer applies: ")
    assert why.predicted_db == pytest.approx(-31.4, abs=0.05)


@pytest.mark.parametrize("bad", [
    {"kind": "x", "text": "t"},  # no policy
    {"policy": "p", "kind": "x", "text": "t", "rule": []},
    {"policy": "p", "kind": "x", "text": "t", "predicted_gain": "0.5"},
    {"policy": "p", "kind": "x", "text": "t", "rule": {"a": {"nested": 1}}},
    "not an object",
])
def test_malformed_reasons_are_refused(bad):
    with pytest.raises((TypeError, ValueError)):
        Reason.from_dict(bad)


def test_a_reason_is_immutable_and_its_gain_bounded():
    why = Reason(policy="p", kind="none", text="t", rule={"a": 1})
    with pytest.raises(TypeError):
        why.rule["a"] = 2  # type: ignore[index]
    with pytest.raises(ValueError):
        Reason(policy="p", kind="none", text="t", predicted_gain=1.5)


def test_focus_events_carry_the_reason_through_event_to_dict():
    engine = FocusEngine(load_policy("harmonyos"))
    engine.start(req("player", Role.MUSIC), 0)
    duck = engine.start(req("maps", Role.NAVIGATION), 1)[0].to_event()
    assert isinstance(duck, Ducked) and duck.why is not None
    data = json.loads(json.dumps(event_to_dict(duck)))
    assert data["why"]["rule"]["action"] == "DUCK" and data["why"]["kind"] == "harmonyos"
    assert event_from_dict(data) == duck
    old = {k: v for k, v in data.items() if k != "why"}  # an event written before reasons existed
    assert event_from_dict(old).why is None


# --- HarmonyOS ---------------------------------------------------------------------------------------------


def test_harmonyos_reason_names_the_policy_version_and_table():
    engine = FocusEngine(load_policy("harmonyos"))
    engine.start(req("music", Role.MUSIC), 0)
    acts = engine.start(req("phone", PHONE), 1)
    pause = next(a for a in acts if isinstance(a, Pause))
    why = pause.reason
    assert (why.policy, why.kind) == ("harmonyos", "harmonyos")
    assert why.version == "eclipse-oniro-mirrors/multimedia_audio_framework@52141b7cdd5c"
    assert why.rule["table"] == "audio_interrupt_policy_config.xml"
    assert (why.rule["incoming"], why.rule["action"], why.rule["action_on"]) == (
        "STREAM_VOICE_COMMUNICATION", "PAUSE", "existing")
    assert why.predicted_gain == 0.0 and why.label == "VOICE_COMMUNICATION over MUSIC: PAUSE"


def test_harmonyos_timeout_reason_gives_the_idle_time():
    engine = FocusEngine(load_policy("harmonyos"))
    engine.activate_session("Music", ConcurrencyMode.DEFAULT, 0)
    acts = engine.deactivate_session("Music", 61, DeactivationReason.TIMEOUT, idle_seconds=60.0)
    why = acts[0].to_event().why
    assert why.rule == {"deactivation": "TIMEOUT", "app": "Music", "idle_seconds": 60.0}
    assert "no running stream for 60 s" in why.text


def test_harmonyos_mix_with_others_reason_says_the_strategy_changed_the_cell():
    engine = FocusEngine(load_policy("harmonyos"))
    engine.start(req("music", Role.MUSIC, app="Music"), 0)
    engine.activate_session("Maps", ConcurrencyMode.MIX_WITH_OTHERS, 0)
    assert engine.start(req("maps", Role.NAVIGATION, app="Maps"), 1) == []  # both play
    why = why_nothing(load_policy("harmonyos"), req("music", Role.MUSIC), req("maps", Role.NAVIGATION))
    assert why.rule["action"] == "DUCK"  # what the table alone would do


# --- PulseAudio --------------------------------------------------------------------------------------------


def test_pulseaudio_cork_reason_names_the_module_arguments_and_group():
    engine = FocusEngine(load_policy("pulseaudio", role_ducking=False, cork_trigger_roles="phone/alarm",
                                     cork_roles="music/game"))
    engine.start(req("game", Role.GAME, device_id="sink0"), 0)
    acts = engine.start(req("clock", Role.ALARM, device_id="sink0"), 1)
    assert kinds(acts)[0] == ("Pause", "game")
    why = acts[0].reason
    assert why.rule["module"] == "module-role-cork" and why.rule["group"] == 1
    assert why.rule["arguments"] == "trigger_roles=phone/alarm cork_roles=music/game global=0"
    assert why.rule["trigger_role"] == "alarm" and why.predicted_gain == 0.0
    assert acts[1].kind == "Interrupt" and acts[1].to_event().why == why  # a cork is reported as a pause


def test_pulseaudio_global_ducking_reason_says_any_device():
    engine = FocusEngine(load_policy("pulseaudio", role_cork=False, volume="30%", global_=True))
    engine.start(req("music", device_id="speakers"), 0)
    acts = engine.start(req("phone", PHONE, device_id="headset"), 1)
    why = acts[0].reason
    assert why.rule["global"] is True and "any device" in why.text
    assert why.predicted_gain == pytest.approx(0.027) and why.predicted_db == pytest.approx(-31.4, abs=0.05)


def test_pulseaudio_why_nothing_names_the_device_rule():
    policy = load_policy("pulseaudio")
    why = why_nothing(policy, req("music", device_id="speakers"), req("call", PHONE, device_id="headset"))
    assert why.rule["global"] is False and why.rule["trigger_device"] == "headset"
    assert why.rule["device"] == "speakers" and "acts per device" in why.text
    unrelated = why_nothing(policy, req("music", device_id="s"), req("nav", Role.NAVIGATION, device_id="s"))
    assert unrelated.rule["trigger_role"] == "navigation" and "not a trigger" in unrelated.text


# --- WirePlumber -------------------------------------------------------------------------------------------


def test_wireplumber_duck_reason_names_both_sinks_and_the_level():
    engine = FocusEngine(load_policy("wireplumber", duck_level=0.25))
    engine.start(req("music", Role.MUSIC), 0)
    acts = engine.start(req("maps", Role.NAVIGATION), 1)
    why = acts[0].reason
    assert (why.rule["winner"], why.rule["winner_priority"]) == ("navigation", 30)
    assert (why.rule["loser"], why.rule["loser_priority"]) == ("multimedia", 10)
    assert why.rule["action"] == "duck" and why.predicted_gain == 0.25
    assert why.rule["winner_roles"] == ("Navigation", "GPS")


def test_wireplumber_cork_reason():
    engine = FocusEngine(load_policy("wireplumber"))
    engine.start(req("music", Role.MUSIC), 0)
    acts = engine.start(req("call", PHONE), 1)
    assert kinds(acts)[0] == ("Pause", "music")
    why = acts[0].reason
    assert why.rule["action"] == "cork" and why.rule["winner"] == "communication" and "link is cut" in why.text


def test_wireplumber_same_priority_mixes_and_says_why():
    why = why_nothing(load_policy("wireplumber"), req("a", Role.MUSIC), req("b", Role.GAME))
    assert why.rule["action"] == "mix" and why.rule["winner"] == why.rule["loser"] == "multimedia"


# --- every event of every shipped scenario -------------------------------------------------------------------


@pytest.mark.parametrize("path", shipped(), ids=lambda p: p.stem)
def test_every_focus_event_of_every_shipped_scenario_carries_a_reason(path):
    scenario = resolve(path)
    seen = 0
    for policy in scenario.policies:
        result = run_scenario(scenario, policy)
        focus_events = [e for e in result.events if isinstance(e, FOCUS_EVENT_TYPES)]
        missing = [e for e in focus_events if e.why is None]
        assert not missing, f"{scenario.name} under {policy}: {missing[:3]}"
        seen += len(focus_events)
        assert all(e.why.kind == load_policy(policy).kind for e in focus_events)
        for event in focus_events:
            if isinstance(event, Ducked) and not event.why.released:
                assert event.why.predicted_gain == pytest.approx(event.gain)
            if isinstance(event, FocusDenied):
                assert event.why.rule.get("action") == "DENY"
    assert seen, f"{scenario.name}: no focus event under any of its policies"


def test_predicted_gain_is_never_nan():
    why = why_nothing(load_policy("windows", ducking="mute"), req("m"), req("c", PHONE, on_communications_device=True))
    assert why.predicted_gain == 0.0 and not math.isnan(why.predicted_db or 0.0)
