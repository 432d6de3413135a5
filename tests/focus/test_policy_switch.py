"""Switching the policy re-evaluates focus for what plays now: the streams ask the new policy again in the
order they started, so what they end up with is what the new policy gives to the same starts."""

from __future__ import annotations

from audiolab.focus import FocusEngine, load_policy
from audiolab.focus.actions import Deny
from audiolab.model import InterruptHint, Role

from .conftest import kinds, req

MUSIC = req("music")
CALL = req("phone", Role.VOICE_COMMUNICATION, on_communications_device=True)
MAPS = req("maps", Role.NAVIGATION)
ASSISTANT = req("assistant", Role.ASSISTANT)


def engine_with(policy: str, *starts, **settings) -> FocusEngine:
    engine = FocusEngine(load_policy(policy, **settings))
    for t, request in enumerate(starts):
        engine.start(request, float(t))
    return engine


def state(engine: FocusEngine) -> dict[str, tuple[float, bool]]:
    return {r.session_id: (engine.focus_of(*r.key).gain, engine.focus_of(*r.key).paused) for r in engine.streams()}


def test_what_plays_ends_as_if_it_had_started_under_the_new_policy():
    for old, new in [("windows", "harmonyos"), ("harmonyos", "windows"), ("harmonyos", "wireplumber"),
                     ("none", "harmonyos"), ("harmonyos", "none"), ("windows", "pulseaudio")]:
        switched = engine_with(old, MUSIC, CALL)
        switched.set_policy(load_policy(new), 10.0)
        fresh = engine_with(new, MUSIC, CALL)
        assert state(switched) == state(fresh), (old, new)
        assert [r.key for r in switched.streams()] == [MUSIC.key, CALL.key]  # start order kept


def test_a_stream_paused_by_the_old_policy_resumes_when_the_new_one_lets_it_play():
    engine = engine_with("harmonyos", MUSIC, CALL)
    assert engine.focus_of(*MUSIC.key).paused
    acts = engine.set_policy(load_policy("none"), 5.0)
    assert kinds(acts) == [("Resume", "music"), ("Interrupt", "music")]
    assert acts[1].hint is InterruptHint.RESUME
    assert acts[0].reason.policy == "harmonyos" and acts[0].reason.released  # the old pause, released


def test_a_duck_that_holds_is_restated_with_the_new_policys_reason():
    engine = engine_with("harmonyos", MUSIC, MAPS)
    old_gain = engine.focus_of(*MUSIC.key).gain
    acts = engine.set_policy(load_policy("wireplumber", duck_level=old_gain), 5.0)
    ducks = [a for a in acts if a.kind == "Duck"]
    assert [(a.session_id, a.gain, a.reason.policy) for a in ducks] == [("music", old_gain, "wireplumber")]
    assert engine.set_policy(load_policy("wireplumber", duck_level=old_gain), 6.0) == []  # same rule: nothing


def test_a_playing_stream_the_new_policy_would_refuse_is_stopped_with_the_refusal():
    fresh = engine_with("harmonyos", CALL)
    refusal = fresh.start(ASSISTANT, 1.0)
    assert [type(a) for a in refusal] == [Deny]  # HarmonyOS refuses the assistant during a call
    engine = engine_with("none", CALL, ASSISTANT)
    acts = engine.set_policy(load_policy("harmonyos"), 5.0)
    assert kinds(acts) == [("Stop", "assistant"), ("Interrupt", "assistant")]
    assert acts[0].reason == refusal[0].reason and acts[0].cause_session_id == "phone"
    assert acts[1].hint is InterruptHint.STOP
    assert [r.session_id for r in engine.streams()] == ["phone"]


def test_a_setting_change_applies_to_the_call_that_plays():
    engine = engine_with("windows", MUSIC, CALL, ducking="reduce_80")
    acts = engine.set_policy(load_policy("windows", ducking="mute"), 5.0)
    assert [(a.kind, a.session_id, a.gain) for a in acts if a.kind == "Duck"] == [("Duck", "music", 0.0)]
