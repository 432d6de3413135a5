"""Windows communications-activity ducking."""

from __future__ import annotations

import pytest

from audiolab.focus import Duck, DuckNotify, FocusEngine, Unduck, UnduckNotify, load_policy
from audiolab.model import Flow, Role

from .conftest import kinds, req


def call(sid="skype", stream="s"):
    return req(sid, Role.UNKNOWN, stream, on_communications_device=True)


@pytest.mark.parametrize("setting, gain", [("mute", 0.0), ("reduce_80", 0.2), ("reduce_50", 0.5)])
def test_ducking_settings(setting, gain):
    engine = FocusEngine(load_policy("windows", ducking=setting))
    engine.start(req("music"), 0)
    acts = engine.start(call(), 1)
    assert kinds(acts) == [("DuckNotify", "music"), ("Duck", "music")]
    duck = acts[1]
    assert duck.gain == pytest.approx(gain) and duck.fade_seconds == 1.0 and duck.cause_session_id == "skype"
    acts = engine.stop(call(), 9)
    assert kinds(acts) == [("UnduckNotify", "music"), ("Unduck", "music")]
    assert acts[1].fade_seconds == 1.0


def test_default_is_reduce_80():
    assert load_policy("windows").gain == pytest.approx(0.2)


def test_nothing_still_notifies():
    engine = FocusEngine(load_policy("windows", ducking="nothing"))
    engine.start(req("music"), 0)
    assert kinds(engine.start(call(), 1)) == [("DuckNotify", "music")]
    assert kinds(engine.stop(call(), 2)) == [("UnduckNotify", "music")]


def test_opted_out_session_is_notified_not_ducked():
    engine = FocusEngine(load_policy("windows"))
    engine.start(req("game", ducking_opt_out=True), 0)
    engine.start(req("music"), 0)
    acts = engine.start(call(), 1)
    assert kinds(acts) == [("DuckNotify", "game"), ("DuckNotify", "music"), ("Duck", "music")]


def test_two_overlapping_calls_count_and_restore_on_last():
    engine = FocusEngine(load_policy("windows"))
    engine.start(req("music"), 0)
    a = engine.start(call("teams"), 1)
    b = engine.start(call("skype"), 2)
    notes = [x for x in a + b if isinstance(x, DuckNotify)]
    assert [(n.communications_session_id, n.count) for n in notes] == [("teams", 1), ("skype", 2)]
    assert [x for x in b if isinstance(x, Duck)] == []  # already ducked
    first_end = engine.stop(call("teams"), 3)
    assert kinds(first_end) == [("UnduckNotify", "music")] and first_end[0].communications_session_id == "teams"
    last_end = engine.stop(call("skype"), 4)
    assert kinds(last_end) == [("UnduckNotify", "music"), ("Unduck", "music")]
    assert last_end[0].to_event().kind == "UnduckNotification"


def test_a_session_with_two_comm_streams_is_one_communications_session():
    engine = FocusEngine(load_policy("windows"))
    engine.start(req("music"), 0)
    engine.start(call("skype", "render"), 1)
    assert engine.start(req("skype", Role.UNKNOWN, "mic", flow=Flow.CAPTURE, on_communications_device=True), 1) == []
    assert engine.stop(call("skype", "render"), 2) == []
    assert kinds(engine.stop(req("skype", stream="mic"), 3)) == [("UnduckNotify", "music"), ("Unduck", "music")]


def test_streams_opened_during_a_call_are_not_ducked_except_system_sounds():
    engine = FocusEngine(load_policy("windows"))
    voip = req("voip", Role.VOICE_COMMUNICATION, on_communications_device=True)
    engine.start(voip, 0)
    assert engine.start(req("music"), 1) == []  # opened during the call: not attenuated
    acts = engine.start(req("sys", Role.SYSTEM), 2)  # system sounds are
    assert isinstance(acts[0], Duck) and acts[0].session_id == "sys"
    acts = engine.stop(voip, 3)
    assert isinstance(acts[-1], Unduck) and acts[-1].session_id == "sys"
    assert [a.session_id for a in acts if isinstance(a, UnduckNotify)] == ["music", "sys"]


def test_capture_sessions_are_not_ducked():
    engine = FocusEngine(load_policy("windows"))
    engine.start(req("rec", Role.RECORDING, flow=Flow.CAPTURE), 0)
    assert engine.start(call(), 1) == []


def test_ducking_follows_the_communications_device_not_the_role():
    """using-the-communication-device.md: a stream opened on the default communications device is a
    communications stream; a voice call on the speakers is an ordinary stream and ducks nobody."""
    engine = FocusEngine(load_policy("windows"))
    engine.start(req("music", device_id="speakers"), 0)
    on_speakers = req("voip", Role.VOICE_COMMUNICATION, device_id="speakers")
    assert engine.start(on_speakers, 1) == []
    engine.stop(on_speakers, 2)
    game_on_headset = req("game", Role.GAME, device_id="headset", on_communications_device=True)
    assert kinds(engine.start(game_on_headset, 3)) == [("DuckNotify", "music"), ("Duck", "music")]


def test_windows_reason_names_the_setting_the_device_and_the_count():
    engine = FocusEngine(load_policy("windows", ducking="reduce_50"))
    engine.start(req("music", device_id="speakers"), 0)
    acts = engine.start(req("skype", Role.VOICE_COMMUNICATION, device_id="headset", on_communications_device=True), 1)
    note, duck = acts
    assert duck.reason.rule["ducking"] == "reduce_50" and duck.reason.rule["gain"] == pytest.approx(0.5)
    assert duck.reason.rule["communications_device"] == "headset"
    assert duck.reason.rule["communications_sessions"] == 1 and duck.reason.rule["fade_seconds"] == 1.0
    assert duck.reason.predicted_gain == pytest.approx(0.5) and "by 50%" in duck.reason.text
    assert note.reason.rule["communications_session"] == "skype" and note.to_event().why == note.reason
    engine.start(req("teams", Role.VOICE_COMMUNICATION, device_id="headset", on_communications_device=True), 2)
    ends = engine.stop(req("skype", Role.VOICE_COMMUNICATION, device_id="headset"), 3)
    assert ends[0].reason.rule["communications_sessions"] == 1  # teams still on the line


def test_windows_do_nothing_reason_says_sounds_are_left_alone():
    from audiolab.focus.explain import why_nothing

    policy = load_policy("windows", ducking="nothing")
    call = req("skype", Role.VOICE_COMMUNICATION, device_id="headset", on_communications_device=True)
    why = why_nothing(policy, req("music", device_id="speakers"), call)
    assert why.rule["ducking"] == "nothing" and why.predicted_gain == 1.0 and "left alone" in why.text
    off_device = why_nothing(policy, req("music"), req("voip", Role.VOICE_COMMUNICATION, device_id="speakers"))
    assert off_device.rule["incoming_device"] == "speakers" and off_device.rule["communications_device"] is None
