"""Android (phones), rule by rule. Each test names the AOSP file and the method or constant it checks
(frameworks/base services/core/java/com/android/server/audio/, commits in datasets/focus/android.json)."""

from __future__ import annotations

import anyio
import pytest

import audiolab
from audiolab import Role
from audiolab.events import InterruptEvent
from audiolab.focus import FocusAttributes, FocusEngine, PolicyError, load_policy
from audiolab.focus.explain import why_nothing
from audiolab.model import ForceType
from audiolab.tones import sine

from .conftest import kinds, req

# FocusRequester.focusLossForGainRequest(), written out from the source: (gain, holder's loss) -> new loss
LOSS_TABLE = {
    ("gain", "none"): "loss", ("gain", "loss_transient_can_duck"): "loss",
    ("gain", "loss_transient"): "loss", ("gain", "loss"): "loss",
    ("gain_transient", "none"): "loss_transient", ("gain_transient", "loss_transient_can_duck"): "loss_transient",
    ("gain_transient", "loss_transient"): "loss_transient", ("gain_transient", "loss"): "loss",
    ("gain_transient_exclusive", "none"): "loss_transient",
    ("gain_transient_exclusive", "loss_transient_can_duck"): "loss_transient",
    ("gain_transient_exclusive", "loss_transient"): "loss_transient", ("gain_transient_exclusive", "loss"): "loss",
    ("gain_transient_may_duck", "none"): "loss_transient_can_duck",
    ("gain_transient_may_duck", "loss_transient_can_duck"): "loss_transient_can_duck",
    ("gain_transient_may_duck", "loss_transient"): "loss_transient", ("gain_transient_may_duck", "loss"): "loss",
}


def asks(sid: str, role: Role = Role.MUSIC, gain: str | None = None, flags: tuple[str, ...] = (),
         sdk: int | None = None, app: str | None = None, stream: str = "s"):
    return req(sid, role, stream=stream, app=app or sid,
               attributes=FocusAttributes(gain=gain, flags=frozenset(flags), target_sdk=sdk))


@pytest.fixture
def engine() -> FocusEngine:
    return FocusEngine(load_policy("android"))


@pytest.mark.parametrize(("gain", "current"), sorted(LOSS_TABLE))
def test_loss_table_is_focusLossForGainRequest(gain, current):
    # FocusRequester.java, focusLossForGainRequest(): every (gain request, current loss) cell
    assert load_policy("android").loss_for(gain, current) == LOSS_TABLE[(gain, current)]


def test_a_loss_never_softens(engine):
    # FocusRequester.focusLossForGainRequest(): a MAY_DUCK request after a transient loss keeps LOSS_TRANSIENT
    engine.start(asks("music"), 0)
    engine.start(asks("alarm", Role.ALARM), 1)            # GAIN_TRANSIENT: music LOSS_TRANSIENT
    engine.start(asks("chat", Role.NOTIFICATION), 2)      # MAY_DUCK: would be CAN_DUCK, stays LOSS_TRANSIENT
    assert engine.system.stack() == (("music", "loss_transient"), ("alarm", "loss_transient_can_duck"),
                                     ("chat", "none"))
    assert engine.focus_of("music", "s").paused


def test_gain_is_a_definitive_loss_the_holder_leaves_the_stack(engine):
    # FocusRequester.handleFocusLossFromGain() returns true for AUDIOFOCUS_LOSS;
    # MediaFocusControl.propagateFocusLossFromGain_syncAf() removes that holder from the stack
    engine.start(asks("music"), 0)
    acts = engine.start(asks("game", Role.GAME), 1)
    assert kinds(acts) == [("Stop", "music"), ("Interrupt", "music")]
    assert acts[1].native == "AUDIOFOCUS_LOSS" and acts[1].force_type is ForceType.SHARE
    assert acts[0].reason.rule["loss"] == "loss" and acts[0].reason.rule["source"] == "FocusRequester.java"
    assert engine.system.stack() == (("game", "none"),)
    assert engine.stop(asks("game", Role.GAME), 2) == []  # nothing comes back


def test_transient_pauses_and_the_top_regains_on_abandon(engine):
    # MediaFocusControl.removeFocusStackEntry() -> notifyTopOfAudioFocusStack() -> handleFocusGain(GAIN)
    engine.start(asks("music"), 0)
    acts = engine.start(asks("alarm", Role.ALARM), 1)
    assert kinds(acts) == [("Pause", "music"), ("Interrupt", "music")]
    assert acts[1].native == "AUDIOFOCUS_LOSS_TRANSIENT"
    acts = engine.stop(asks("alarm", Role.ALARM), 2)
    assert kinds(acts) == [("Resume", "music"), ("Interrupt", "music")]
    assert acts[1].native == "AUDIOFOCUS_GAIN"


def test_only_the_new_top_regains_focus(engine):
    # MediaFocusControl.removeFocusStackEntry(): an entry below the top leaves without signalling anyone,
    # and on the top's abandon only the new top is told AUDIOFOCUS_GAIN (last in, first out)
    engine.start(asks("music"), 0)
    engine.start(asks("alarm", Role.ALARM), 1)
    engine.start(asks("timer", Role.ALARM), 2)
    assert engine.stop(asks("alarm", Role.ALARM), 3) == []   # not the top: no change for anyone
    assert kinds(engine.stop(asks("timer", Role.ALARM), 4)) == [("Resume", "music"), ("Interrupt", "music")]


def test_may_duck_the_framework_ducks_without_telling_the_app(engine):
    # FocusRequester.handleFocusLoss(): another uid, no PAUSES_ON_DUCKABLE_LOSS, SDK above N_MR1 ->
    # duckPlayers(); PlaybackActivityMonitor DUCK_VSHAPE 1.0 -> 0.2 over getFocusRampTimeMs(.., NOTIFICATION)
    engine.start(asks("music"), 0)
    acts = engine.start(asks("chat", Role.NOTIFICATION), 1)
    assert kinds(acts) == [("Duck", "music")]  # no Interrupt: the app is not told
    assert acts[0].gain == pytest.approx(0.2) and acts[0].fade_seconds == pytest.approx(0.5)
    assert acts[0].reason.rule["handled_by"] == "framework" and acts[0].reason.rule["rule"] == "handleFocusLoss"
    assert kinds(engine.stop(asks("chat", Role.NOTIFICATION), 2)) == [("Unduck", "music")]  # no GAIN either


@pytest.mark.parametrize("role", [Role.NAVIGATION, Role.ASSISTANT])
def test_strong_duck_for_navigation_and_assistant(engine, role):
    # PlaybackActivityMonitor.reqCausesStrongDuck(): MAY_DUCK from USAGE_ASSISTANCE_NAVIGATION_GUIDANCE or
    # USAGE_ASSISTANT -> STRONG_DUCK_VSHAPE to 0.017783 (-35 dB)
    engine.start(asks("music"), 0)
    acts = engine.start(asks("prompt", role), 1)
    assert kinds(acts) == [("Duck", "music")] and acts[0].gain == pytest.approx(0.017783)
    assert acts[0].reason.predicted_db == pytest.approx(-35, abs=0.01)


def test_strong_duck_needs_a_may_duck_request(engine):
    # reqCausesStrongDuck() is false unless the gain request is AUDIOFOCUS_GAIN_TRANSIENT_MAY_DUCK
    engine.start(asks("music"), 0)
    acts = engine.start(asks("prompt", Role.NAVIGATION, gain="gain_transient"), 1)
    assert kinds(acts) == [("Pause", "music"), ("Interrupt", "music")]


def test_strong_duck_can_be_switched_off():
    engine = FocusEngine(load_policy("android", strong_duck=False))
    engine.start(asks("music"), 0)
    assert engine.start(asks("prompt", Role.NAVIGATION), 1)[0].gain == pytest.approx(0.2)


def test_pauses_on_duckable_loss_the_app_is_told_and_pauses(engine):
    # FocusRequester.handleFocusLoss(): AUDIOFOCUS_FLAG_PAUSES_ON_DUCKABLE_LOSS -> not ducked by the framework
    engine.start(asks("music", flags=("pauses_on_duckable_loss",)), 0)
    acts = engine.start(asks("chat", Role.NOTIFICATION), 1)
    assert kinds(acts) == [("Pause", "music"), ("Interrupt", "music")]
    assert acts[1].native == "AUDIOFOCUS_LOSS_TRANSIENT_CAN_DUCK"
    assert "PAUSES_ON_DUCKABLE_LOSS" in acts[0].reason.rule["why_app"]


def test_force_duck_overrides_the_flag(engine):
    # handleFocusLoss(): forceDuck (accessibility) ducks even a holder that pauses on duckable loss
    engine.start(asks("music", flags=("pauses_on_duckable_loss",)), 0)
    acts = engine.start(asks("a11y", Role.ACCESSIBILITY, flags=("force_duck",)), 1)
    assert kinds(acts) == [("Duck", "music")]


def test_old_sdk_apps_are_told_and_duck_themselves(engine):
    # MediaFocusControl.DUCKING_IN_APP_SDK_LEVEL = N_MR1 (25): an app targeting <= 25 ducks itself
    engine.start(asks("music", sdk=25), 0)
    acts = engine.start(asks("chat", Role.NOTIFICATION), 1)
    assert kinds(acts) == [("Duck", "music"), ("Interrupt", "music")]
    assert acts[1].native == "AUDIOFOCUS_LOSS_TRANSIENT_CAN_DUCK" and "SDK 25" in acts[0].reason.rule["why_app"]
    engine2 = FocusEngine(load_policy("android"))
    engine2.start(asks("music", sdk=26), 0)
    assert kinds(engine2.start(asks("chat", Role.NOTIFICATION), 1)) == [("Duck", "music")]


def test_speech_is_not_ducked_by_the_framework(engine):
    # PlaybackActivityMonitor.duckPlayers(): CONTENT_TYPE_SPEECH -> false, the app is told (and pauses)
    engine.start(asks("podcast", Role.AUDIOBOOK), 0)
    acts = engine.start(asks("chat", Role.NOTIFICATION), 1)
    assert kinds(acts) == [("Pause", "podcast"), ("Interrupt", "podcast")]
    assert "CONTENT_TYPE_SPEECH" in acts[0].reason.rule["why_app"]


def test_same_app_is_told_not_ducked(engine):
    # handleFocusLoss(): a duck within the same uid is dispatched to the app
    engine.start(asks("m", app="App"), 0)
    acts = engine.start(asks("n", Role.NOTIFICATION, app="App"), 1)
    assert ("Interrupt", "m") in kinds(acts)
    assert acts[0].reason.rule["handled_by"] == "app"


def test_ring_locks_focus_requests_fail(engine):
    # MediaFocusControl.canReassignAudioFocus(): the telephony client on top -> AUDIOFOCUS_REQUEST_FAILED
    engine.start(asks("music"), 0)
    engine.start(asks("phone", Role.RINGTONE, app="Phone", stream="ring"), 1)
    acts = engine.start(asks("game", Role.GAME), 2)
    assert kinds(acts) == [("Deny", "game")]
    assert acts[0].reason.rule["rule"] == "canReassignAudioFocus" and acts[0].reason.rule["result"] == "failed"


def test_ring_and_call_are_one_telephony_client(engine):
    # MediaFocusControl.requestAudioFocus(): the same client on top asking again is granted, not locked out
    engine.start(asks("phone", Role.RINGTONE, app="Phone", stream="ring"), 1)
    assert engine.start(asks("phone", Role.VOICE_COMMUNICATION, app="Phone", stream="call"), 2) == []
    engine.stop(asks("phone", Role.RINGTONE, app="Phone", stream="ring"), 3)
    assert engine.system.stack() == (("Phone", "none"),)


def test_delay_ok_waits_below_the_lock_and_gains_after(engine):
    # MediaFocusControl.pushBelowLockedFocusOwners(): AUDIOFOCUS_REQUEST_DELAYED, no loss propagated now;
    # when the call abandons, the delayed requester is the new top and gets AUDIOFOCUS_GAIN
    engine.start(asks("music"), 0)
    engine.start(asks("phone", Role.VOICE_COMMUNICATION, app="Phone"), 1)
    acts = engine.start(asks("pod", Role.AUDIOBOOK, flags=("delay_ok",)), 2)
    assert kinds(acts) == [("Pause", "pod"), ("Interrupt", "pod")]
    assert acts[1].native == "AUDIOFOCUS_REQUEST_DELAYED" and acts[0].reason.rule["result"] == "delayed"
    assert engine.system.stack() == (("music", "loss_transient"), ("pod", "delayed"), ("Phone", "none"))
    acts = engine.stop(asks("phone", Role.VOICE_COMMUNICATION, app="Phone"), 3)
    assert kinds(acts) == [("Resume", "pod"), ("Interrupt", "pod")] and acts[1].native == "AUDIOFOCUS_GAIN"
    assert engine.focus_of("music", "s").paused  # the music is not the top: it stays paused


def test_flag_lock_locks_like_a_call(engine):
    # FocusRequester.isLockedFocusOwner(): AUDIOFOCUS_FLAG_LOCK
    engine.start(asks("music"), 0)
    engine.start(asks("car", Role.ALARM, flags=("lock",)), 1)
    assert kinds(engine.start(asks("game", Role.GAME), 2)) == [("Deny", "game")]


def test_a_stream_without_a_focus_request_is_left_out(engine):
    # no requestAudioFocus() (system sounds): nobody loses focus, and why_nothing says so
    engine.start(asks("music"), 0)
    assert engine.start(asks("click", Role.SYSTEM), 1) == []
    why = why_nothing(engine.policy, asks("music"), asks("click", Role.SYSTEM))
    assert why.rule["rule"] == "requestAudioFocus" and "without requesting audio focus" in why.text


def test_bad_attributes_and_settings_are_refused():
    with pytest.raises(ValueError, match="unknown gain"):
        FocusAttributes(gain="gain_forever")
    with pytest.raises(ValueError, match="unknown flag"):
        FocusAttributes(flags={"delay"})
    with pytest.raises(PolicyError, match="strong_duck"):
        load_policy("android", strong_duck="yes")
    with pytest.raises(PolicyError, match="target_sdk"):
        load_policy("android", target_sdk=0)


def test_the_simulated_service_delivers_focus_changes():
    # the simulated service as an Android phone: requestAudioFocus by playing with a gain type and flags,
    # abandonAudioFocus by stopping, the focus-change callbacks as InterruptEvents naming them
    async def main() -> list[tuple[str, str]]:
        async with audiolab.open(clock="virtual") as lab:
            await lab.set_policy("android")
            async with lab.events() as events:
                music = await lab.play(sine(440, 0.5), role=Role.MUSIC, app="Music")
                alarm = await lab.play(sine(880, 0.5), role=Role.ALARM, app="Clock",
                                       focus=FocusAttributes(gain="gain_transient_exclusive"))
                await lab.sleep(0.5)
                await alarm.stop()
                await lab.sleep(0.5)
                seen = []
                with anyio.move_on_after(1):
                    async for event in events:
                        if isinstance(event, InterruptEvent) and event.session_id == music.session_id:
                            seen.append((event.hint.value, event.native))
                        if len(seen) == 2:
                            break
                return seen

    assert anyio.run(main) == [("pause", "AUDIOFOCUS_LOSS_TRANSIENT"), ("resume", "AUDIOFOCUS_GAIN")]


def test_a_scripted_app_asks_with_a_gain_type_and_is_delayed_then_granted():
    # lab.sim.client(app).open_stream(focus=...): AUDIOFOCUS_FLAG_DELAY_OK during a call, then AUDIOFOCUS_GAIN
    async def main() -> list[str]:
        async with audiolab.open(clock="virtual") as lab:
            await lab.set_policy("android")
            call = lab.sim.client("Phone").open_stream(role=Role.VOICE_COMMUNICATION, start=True)
            async with lab.events() as events:
                pod = lab.sim.client("Podcast").open_stream(role=Role.AUDIOBOOK, start=True,
                                                            focus=FocusAttributes(flags=frozenset({"delay_ok"})))
                call.stop()
                told = []
                with anyio.move_on_after(1):
                    async for event in events:
                        if isinstance(event, InterruptEvent) and event.session_id == pod.session_id:
                            told.append(event.native)
                        if len(told) == 2:
                            break
                return told

    assert anyio.run(main) == ["AUDIOFOCUS_REQUEST_DELAYED", "AUDIOFOCUS_GAIN"]
