"""iOS / macOS AVAudioSession, rule by rule. Each test names the Apple page it checks (addresses in
datasets/focus/ios.json); rules Apple does not write down are marked not authoritative in the reasons."""

from __future__ import annotations

import anyio
import pytest

import audiolab
from audiolab import Role
from audiolab.focus import FocusAttributes, FocusEngine, PolicyError, load_policy
from audiolab.focus.explain import why_nothing
from audiolab.tones import sine

from .conftest import kinds, req


def session(sid: str, role: Role = Role.MUSIC, category: str | None = None, options: tuple[str, ...] | None = None,
            mode: str | None = None, notify: bool | None = None, stream: str = "s"):
    attrs = FocusAttributes(category=category, options=None if options is None else frozenset(options), mode=mode,
                            notify_others_on_deactivation=notify)
    return req(sid, role, stream=stream, app=sid, attributes=attrs)


@pytest.fixture
def engine() -> FocusEngine:
    return FocusEngine(load_policy("ios"))


def test_category_table_b1():
    # Audio Session Programming Guide, Table B-1: silenced by the switch; interrupts nonmixable apps; I/O
    cats = load_policy("ios").categories
    table = {name: (c.silenced_by_switch, c.interrupts_nonmixable, c.io) for name, c in cats.items()}
    assert table == {
        "ambient": (True, False, "output"), "soloAmbient": (True, True, "output"),
        "playback": (False, True, "output"), "record": (False, True, "input"),
        "playAndRecord": (False, True, "both"), "multiRoute": (False, True, "both"),
    }


def test_ambient_mixes_both_ways(engine):
    # category ambient: "mixes with other apps' audio" (its option mixWithOthers is implied)
    engine.start(session("music"), 0)
    assert engine.start(session("game", Role.GAME, "ambient"), 1) == []
    assert engine.system.active() == {"music": "playback", "game": "ambient"}
    why = why_nothing(engine.policy, session("music"), session("game", Role.GAME, "ambient"))
    assert why.rule["options"] == ("mixWithOthers",) and "mixes" in why.text


def test_nonmixable_activation_interrupts_nonmixable_sessions(engine):
    # Table B-1 "Interrupts nonmixable app's audio" for playback; interruptionNotification began
    engine.start(session("music"), 0)
    acts = engine.start(session("video", Role.MOVIE), 1)
    assert kinds(acts) == [("Pause", "music"), ("Interrupt", "music")]
    assert acts[1].native == "began" and acts[0].reason.rule["rule"] == "nonmixable"
    assert acts[0].reason.rule["page"].endswith("category-swift.struct/playback")
    assert engine.system.active() == {"video": "playback"}


def test_solo_ambient_interrupts_playback(engine):
    # soloAmbient (the default) is nonmixable
    engine.start(session("music"), 0)
    assert kinds(engine.start(session("app", Role.UNKNOWN), 1)) == [("Pause", "music"), ("Interrupt", "music")]


def test_mix_with_others_does_not_interrupt(engine):
    # mixWithOthers: "your app mixes its audio with audio playing in background apps"
    engine.start(session("music"), 0)
    assert engine.start(session("pod", Role.AUDIOBOOK, options=("mixWithOthers",)), 1) == []


def test_ended_should_resume_after_notify_others_on_deactivation(engine):
    # notifyOthersOnDeactivation: the sessions you interrupted may reactivate; ended carries shouldResume
    engine.start(session("music"), 0)
    engine.start(session("video", Role.MOVIE, notify=True), 1)
    acts = engine.stop(session("video", Role.MOVIE), 2)
    assert kinds(acts) == [("Resume", "music"), ("Interrupt", "music")]
    assert acts[1].native == "ended shouldResume"
    assert engine.system.active() == {"music": "playback"}


def test_no_ended_without_notify_others(engine):
    # interruptionNotification: a began has no guaranteed ended; without notifyOthersOnDeactivation none comes
    engine.start(session("music"), 0)
    engine.start(session("video", Role.MOVIE, notify=False), 1)
    assert engine.stop(session("video", Role.MOVIE), 2) == []
    assert engine.focus_of("music", "s").paused


def test_duck_others_from_activation_to_deactivation(engine):
    # duckOthers: "Ducking begins when you activate your app's audio session and ends when you deactivate"
    engine.start(session("music"), 0)
    acts = engine.start(session("maps", Role.NAVIGATION, "playback", ("duckOthers",)), 1)
    assert kinds(acts) == [("Duck", "music")] and acts[0].gain == pytest.approx(0.3)
    assert acts[0].reason.rule["authoritative"] is False  # Apple gives no level
    assert kinds(engine.stop(session("maps", Role.NAVIGATION), 2)) == [("Unduck", "music")]


def test_duck_level_is_a_setting():
    engine = FocusEngine(load_policy("ios", duck_gain=0.5))
    engine.start(session("music"), 0)
    assert engine.start(session("maps", Role.NAVIGATION), 1)[0].gain == pytest.approx(0.5)


def test_a_session_activated_while_another_ducks_is_ducked(engine):
    engine.start(session("maps", Role.NAVIGATION), 0)
    assert kinds(engine.start(session("game", Role.GAME), 1)) == [("Duck", "game")]


def test_interrupt_spoken_audio_pauses_spoken_sessions_only(engine):
    # interruptSpokenAudioAndMixWithOthers: interrupts sessions in the spokenAudio mode while active, then resumes
    engine.start(session("music"), 0)
    engine.start(session("pod", Role.AUDIOBOOK, options=("mixWithOthers",)), 1)  # mode spokenAudio
    acts = engine.start(session("maps", Role.NAVIGATION), 2)  # duckOthers + interruptSpokenAudio...
    assert sorted(kinds(acts)) == [("Duck", "music"), ("Interrupt", "pod"), ("Pause", "pod")]
    pause = next(a for a in acts if a.kind == "Pause")
    assert pause.reason.rule["rule"] == "interruptSpokenAudioAndMixWithOthers"
    acts = engine.stop(session("maps", Role.NAVIGATION), 3)
    assert sorted(kinds(acts)) == [("Interrupt", "pod"), ("Resume", "pod"), ("Unduck", "music")]


@pytest.mark.parametrize("option", ["mixWithOthers", "duckOthers", "interruptSpokenAudioAndMixWithOthers"])
@pytest.mark.parametrize("category", ["soloAmbient", "record"])
def test_options_only_with_playback_playandrecord_multiroute(engine, option, category):
    # each option page: "You can set this option only if the audio session category is playAndRecord,
    # playback, or multiRoute"; a bad configuration changes nothing
    with pytest.raises(PolicyError, match="only with playback"):
        engine.start(session("x", Role.MUSIC, category, (option,)), 0)
    assert engine.streams() == ()


def test_duck_others_implies_mix_with_others():
    # duckOthers: "Setting it implicitly sets the mixWithOthers option"
    config = load_policy("ios").config(session("maps", Role.MUSIC, "playback", ("duckOthers",)))
    assert config.options == frozenset({"duckOthers", "mixWithOthers"})


def test_a_call_interrupts_and_locks_out_nonmixable_and_recording(engine):
    # handling-audio-interruptions: a phone call interrupts the active session; setActive(_:options:):
    # activation fails against a higher-priority call when neither mixes, and for record/playAndRecord
    engine.start(session("music"), 0)
    engine.start(session("game", Role.GAME), 0.5)
    acts = engine.start(session("phone", Role.RINGTONE), 1)
    assert sorted(kinds(acts)) == [("Interrupt", "game"), ("Interrupt", "music"), ("Pause", "game"),
                                   ("Pause", "music")]
    assert acts[0].reason.rule["authoritative"] is False  # mixable sessions: not written down
    denied = engine.start(session("video", Role.MOVIE), 2)
    assert kinds(denied) == [("Deny", "video")] and denied[0].reason.rule["rule"] == "setActive"
    recorder = engine.start(session("memo", Role.RECORDING), 2)
    assert kinds(recorder) == [("Deny", "memo")] and "InsufficientPriority" in recorder[0].reason.text
    assert engine.start(session("chime", Role.NOTIFICATION), 3) == []  # ambient mixes: allowed


def test_silent_switch_silences_ambient_and_solo_ambient():
    # Table B-1 column "Silenced by the Ring/Silent switch": ambient and soloAmbient yes, playback no
    engine = FocusEngine(load_policy("ios", silent_switch=True))
    assert kinds(engine.start(session("game", Role.GAME), 0)) == [("Duck", "game")]
    assert engine.focus_of("game", "s").gain == 0.0
    assert engine.start(session("music"), 1) == []
    assert engine.focus_of("music", "s").gain == 1.0


def test_bad_attributes_are_refused():
    with pytest.raises(ValueError, match="unknown category"):
        FocusAttributes(category="loud")
    with pytest.raises(ValueError, match="unknown option"):
        FocusAttributes(options={"duck"})
    with pytest.raises(PolicyError, match="silent_switch"):
        load_policy("ios", silent_switch="on")


def test_playing_with_an_option_the_category_refuses_raises_and_leaves_nothing():
    # lab.play(..., focus=...) under iOS: a clear PolicyError, and no session or stream is left behind
    async def main() -> int:
        async with audiolab.open(clock="virtual") as lab:
            await lab.set_policy("ios")
            with pytest.raises(PolicyError, match="only with playback"):
                await lab.play(sine(440, 0.5), role=Role.RECORDING, app="Memo",
                               focus=FocusAttributes(category="record", options=frozenset({"duckOthers"})))
            await lab.sleep(0.1)
            return len([s for s in lab.snapshot() if s.app == "Memo" and s.streams])

    assert anyio.run(main) == 0
