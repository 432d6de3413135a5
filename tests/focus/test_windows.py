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


def test_communications_role_counts_and_new_streams_are_not_ducked():
    engine = FocusEngine(load_policy("windows"))
    engine.start(req("voip", Role.VOICE_COMMUNICATION), 0)  # role routes it to eCommunications
    assert engine.start(req("music"), 1) == []  # opened during the call: not attenuated
    acts = engine.start(req("sys", Role.SYSTEM), 2)  # system sounds are
    assert isinstance(acts[0], Duck) and acts[0].session_id == "sys"
    acts = engine.stop(req("voip", Role.VOICE_COMMUNICATION), 3)
    assert isinstance(acts[-1], Unduck) and acts[-1].session_id == "sys"
    assert [a.session_id for a in acts if isinstance(a, UnduckNotify)] == ["music", "sys"]


def test_capture_sessions_are_not_ducked():
    engine = FocusEngine(load_policy("windows"))
    engine.start(req("rec", Role.RECORDING, flow=Flow.CAPTURE), 0)
    assert engine.start(call(), 1) == []
