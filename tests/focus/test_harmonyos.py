"""HarmonyOS default table, concurrency modes and audio-session semantics."""

from __future__ import annotations

import pytest

from audiolab.focus import (
    DeactivateSession,
    Deny,
    Duck,
    FocusEngine,
    Interrupt,
    Pause,
    Resume,
    Stop,
    Unduck,
    load_policy,
)
from audiolab.model import ConcurrencyMode as CM
from audiolab.model import DeactivationReason, ForceType, InterruptHint, Role

from .conftest import kinds, req


@pytest.fixture
def engine() -> FocusEngine:
    return FocusEngine(load_policy("harmonyos"))


def test_table_spot_checks_match_the_xml():
    p = load_policy("harmonyos")
    def act(existing, incoming):
        r = p.rule(existing, incoming)
        return (r.action, r.on)

    assert act("STREAM_MUSIC", "STREAM_NAVIGATION") == ("DUCK", "existing")
    assert act("STREAM_MUSIC", "STREAM_VOICE_CALL") == ("PAUSE", "existing")
    assert act("STREAM_MUSIC", "STREAM_VOICE_COMMUNICATION") == ("PAUSE", "existing")
    assert p.rule("STREAM_VOICE_CALL", "STREAM_VOICE_ASSISTANT").deny
    assert p.rule("STREAM_VOICE_COMMUNICATION", "STREAM_VOICE_ASSISTANT").deny
    assert act("STREAM_MUSIC", "STREAM_MOVIE") == ("STOP", "existing")
    assert act("STREAM_NAVIGATION", "STREAM_VOICE_COMMUNICATION") == ("STOP", "existing")
    assert all(r.force is ForceType.FORCE for r in p.table.values())  # the XML has no is_forced="false"


def test_role_mapping_follows_openharmony_stream_map():
    p = load_policy("harmonyos")
    assert p.focus_type(Role.AUDIOBOOK) == "STREAM_SPEECH"
    assert p.focus_type(Role.VOICE_COMMUNICATION) == "STREAM_VOICE_COMMUNICATION"
    assert p.focus_type(Role.ASSISTANT) == "STREAM_VOICE_ASSISTANT"
    assert p.focus_type(Role.RECORDING) == "SOURCE_TYPE_MIC"
    assert p.focus_type(Role.UNKNOWN) == "STREAM_MUSIC"
    assert p.focus_type(Role.MUSIC, "STREAM_USAGE_VOICE_MODEM_COMMUNICATION") == "STREAM_VOICE_CALL"
    for role in Role:
        p.focus_type(role)  # every role maps


def test_navigation_ducks_music_and_restores(engine):
    music, nav = req("player", Role.MUSIC), req("maps", Role.NAVIGATION)
    assert engine.start(music, 0) == []
    acts = engine.start(nav, 1)
    duck = acts[0]
    assert isinstance(duck, Duck) and duck.gain == pytest.approx(0.2) and duck.session_id == "player"
    assert duck.cause_session_id == "maps"
    rule = duck.reason.rule
    assert (rule["incoming"], rule["existing"]) == ("STREAM_NAVIGATION", "STREAM_MUSIC")
    assert (rule["incoming_usage"], rule["existing_usage"]) == ("STREAM_USAGE_NAVIGATION", "STREAM_USAGE_MUSIC")
    assert (rule["action"], rule["action_on"], rule["force"]) == ("DUCK", "existing", "FORCE")
    assert duck.reason.kind == "harmonyos" and duck.reason.predicted_gain == pytest.approx(0.2)
    assert "STREAM_NAVIGATION starting while STREAM_MUSIC plays -> DUCK the existing stream" in duck.reason.text
    assert isinstance(acts[1], Interrupt) and acts[1].hint is InterruptHint.DUCK
    acts = engine.stop(nav, 2)
    assert isinstance(acts[0], Unduck) and acts[0].cause_session_id == "maps"
    assert acts[1].hint is InterruptHint.UNDUCK
    assert engine.focus_of("player", "s").gain == 1.0


def test_voice_call_pauses_music_then_resume_is_share(engine):
    music, call = req("player"), req("voip", Role.VOICE_COMMUNICATION)
    engine.start(music, 0)
    acts = engine.start(call, 1)
    assert [type(a) for a in acts] == [Pause, Interrupt]
    assert acts[1].hint is InterruptHint.PAUSE and acts[1].force_type is ForceType.FORCE
    acts = engine.stop(call, 5)
    assert isinstance(acts[0], Resume) and acts[0].force_type is ForceType.SHARE
    assert acts[1].hint is InterruptHint.RESUME and acts[1].force_type is ForceType.SHARE


def test_assistant_denied_during_call(engine):
    engine.start(req("phone", Role.MUSIC, usage="STREAM_USAGE_VOICE_MODEM_COMMUNICATION"), 0)
    acts = engine.start(req("assistant", Role.ASSISTANT), 1)
    assert len(acts) == 1 and isinstance(acts[0], Deny) and acts[0].cause_session_id == "phone"
    rule = acts[0].reason.rule
    assert rule["action"] == "DENY" and rule["incoming"] == "STREAM_VOICE_ASSISTANT"
    assert rule["existing_usage"] == "STREAM_USAGE_VOICE_MODEM_COMMUNICATION"
    assert "denied focus" in acts[0].reason.text
    assert [r.session_id for r in engine.streams()] == ["phone"]
    assert acts[0].to_event().kind == "FocusDenied"


def test_movie_stops_music_for_good(engine):
    music, movie = req("player"), req("video", Role.MOVIE)
    engine.start(music, 0)
    acts = engine.start(movie, 1)
    assert kinds(acts) == [("Stop", "player"), ("Interrupt", "player")]
    assert engine.stop(movie, 2) == []  # no resume after STOP
    assert engine.stop(music, 3) == []  # already forgotten


def test_same_app_streams_share_focus_unless_independent(engine):
    engine.start(req("app", Role.MUSIC, "a"), 0)
    assert engine.start(req("app", Role.MOVIE, "b"), 1) == []
    assert kinds(engine.start(req("app", Role.MOVIE, "c", independent=True), 2))[0] == ("Stop", "app")


def test_nested_ducks_stay_until_both_stop(engine):
    music = req("player")
    nav1, nav2 = req("maps", Role.NAVIGATION), req("maps2", Role.NAVIGATION)
    engine.start(music, 0)
    engine.start(nav1, 1)
    engine.start(nav2, 2)
    assert engine.stop(nav1, 3) == []  # still ducked by nav2
    assert engine.focus_of("player", "s").gain == pytest.approx(0.2)
    assert isinstance(engine.stop(nav2, 4)[0], Unduck)


def test_duck_then_pause_unwinds_in_order(engine):
    music = req("player")
    nav, alarm = req("maps", Role.NAVIGATION), req("clock", Role.ALARM)
    engine.start(music, 0)
    engine.start(nav, 1)
    engine.start(alarm, 2)  # pauses the music, lets the navigation play
    f = engine.focus_of("player", "s")
    assert f.paused and f.gain == pytest.approx(0.2)
    acts = engine.stop(nav, 3)
    assert Unduck in [type(a) for a in acts] and Resume not in [type(a) for a in acts]
    assert engine.focus_of("player", "s").paused
    assert [type(a) for a in engine.stop(alarm, 4) if a.session_id == "player"] == [Resume, Interrupt]


# --- concurrency modes ---------------------------------------------------------------------------------


def test_mix_with_others_incoming_does_not_touch_music(engine):
    engine.start(req("player"), 0)
    engine.activate_session("video", CM.MIX_WITH_OTHERS, 0)
    assert engine.start(req("video", Role.MOVIE), 1) == []


def test_mix_with_others_existing_survives_same_type_only(engine):
    engine.activate_session("player", CM.MIX_WITH_OTHERS, 0)
    engine.start(req("player"), 0)
    assert engine.start(req("video", Role.MOVIE), 1) == []  # MEDIA vs MEDIA: mixes
    acts = engine.start(req("maps", Role.NAVIGATION), 2)  # NAVIGATION is another session type
    assert isinstance(acts[0], Duck)


def test_duck_others_turns_stop_into_duck(engine):
    engine.start(req("player"), 0)
    engine.activate_session("game", CM.DUCK_OTHERS, 0)
    acts = engine.start(req("game", Role.MOVIE), 1)
    assert isinstance(acts[0], Duck)
    rule = acts[0].reason.rule
    assert rule["action"] == "STOP" and rule["effective_action"] == "DUCK"  # the table entry, then what applied
    assert "DUCK_OTHERS turns STOP into DUCK" in str(rule["strategy"])
    assert acts[0].reason.predicted_gain == pytest.approx(0.2)
    assert engine.stop(req("game", Role.MOVIE), 2) == []  # the activated session keeps focus
    assert isinstance(engine.deactivate_session("game", 3)[0], Unduck)


def test_pause_others_turns_stop_into_pause_and_resumes(engine):
    engine.start(req("player"), 0)
    engine.activate_session("shorts", CM.PAUSE_OTHERS, 0)
    acts = engine.start(req("shorts", Role.MOVIE), 1)
    assert isinstance(acts[0], Pause)
    engine.deactivate_session("shorts", 2)
    assert isinstance(engine.stop(req("shorts", Role.MOVIE), 3)[0], Resume)


def test_pause_others_is_best_effort(engine):
    # A strategy only softens the table: music + game mix by default, PAUSE_OTHERS does not pause them,
    # and a voice call is never paused by an app's PAUSE_OTHERS.
    engine.start(req("call", Role.VOICE_COMMUNICATION), 0)
    engine.activate_session("shorts", CM.PAUSE_OTHERS, 0)
    assert engine.start(req("shorts", Role.MOVIE), 1) == []
    assert not engine.focus_of("call", "s").paused


def test_per_stream_strategy_overrides(engine):
    engine.start(req("player"), 0)
    assert engine.start(req("video", Role.MOVIE, concurrency=CM.MIX_WITH_OTHERS), 1) == []


def test_strategy_cannot_mix_recording_with_call(engine):
    engine.start(req("call", usage="STREAM_USAGE_VOICE_MODEM_COMMUNICATION"), 0)
    engine.activate_session("rec", CM.MIX_WITH_OTHERS, 0)
    acts = engine.start(req("rec", Role.RECORDING), 1)
    assert isinstance(acts[0], Deny)


# --- audio session lifecycle ---------------------------------------------------------------------------


def test_session_keeps_focus_between_clips(engine):
    music = req("player")
    engine.start(music, 0)
    engine.activate_session("shorts", CM.PAUSE_OTHERS, 0)
    clip1, clip2 = req("shorts", Role.MOVIE, "c1"), req("shorts", Role.MOVIE, "c2")
    engine.start(clip1, 1)
    assert engine.stop(clip1, 2) == []  # silent wait: music stays paused
    assert engine.focus_of("player", "s").paused
    assert engine.start(clip2, 3) == []  # focus handed to the next clip
    assert engine.stop(clip2, 4) == []
    acts = engine.deactivate_session("shorts", 5)
    assert isinstance(acts[0], Resume) and acts[0].session_id == "player"
    assert not engine.is_session_activated("shorts")


def test_timeout_unducks(engine):
    engine.start(req("player"), 0)
    engine.activate_session("nav", CM.DUCK_OTHERS, 0)
    clip = req("nav", Role.MOVIE)
    engine.start(clip, 1)
    engine.stop(clip, 2)
    assert engine.focus_of("player", "s").gain == pytest.approx(0.2)
    acts = engine.deactivate_session("nav", 62, DeactivationReason.TIMEOUT)
    assert isinstance(acts[0], DeactivateSession) and acts[0].deactivation is DeactivationReason.TIMEOUT
    assert [type(a) for a in acts[1:]] == [Unduck, Interrupt]


def test_timeout_stops_what_the_session_paused(engine):
    engine.start(req("player"), 0)
    engine.activate_session("shorts", CM.PAUSE_OTHERS, 0)
    clip = req("shorts", Role.MOVIE)
    engine.start(clip, 1)
    engine.stop(clip, 2)
    acts = engine.deactivate_session("shorts", 62, DeactivationReason.TIMEOUT)
    assert kinds(acts) == [("DeactivateSession", "shorts"), ("Stop", "player"), ("Interrupt", "player")]
    assert acts[0].to_event().reason is DeactivationReason.TIMEOUT
    assert engine.streams() == ()


def test_lower_priority_deactivation_when_last_stream_is_stopped(engine):
    engine.activate_session("player", CM.DEFAULT, 0)
    engine.start(req("player"), 0)
    acts = engine.start(req("video", Role.MOVIE), 1)
    deact = [a for a in acts if isinstance(a, DeactivateSession)]
    assert len(deact) == 1 and deact[0].deactivation is DeactivationReason.LOWER_PRIORITY
    assert deact[0].cause_session_id == "video"
    assert not engine.is_session_activated("player")
    assert any(isinstance(a, Stop) for a in acts)
