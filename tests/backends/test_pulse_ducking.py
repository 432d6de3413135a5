"""Measured ducking: module-role-ducking's hidden attenuation and module-role-cork's corking, seen on the
server's own meters and streams; and the hysteresis that keeps meter noise from flapping (no server)."""

from __future__ import annotations

import asyncio
import math

import pytest

from audiolab.audio.playback import PlayRequest
from audiolab.backends._pulse.ducking import GainTracker, expected_peaks, measured_gain_db, trigger_roles_from_modules
from audiolab.model import Role, SessionState
from audiolab.tones import sine
from tests.servers import pulseaudio_server

from .conftest import start_backend, stop_backend

pytestmark = [pytest.mark.anyio]

DUCK_30 = "module-role-ducking trigger_roles=phone ducking_roles=music volume=30%"
CUBIC_30_DB = 20 * math.log10(0.3**3)  # -31.37 dB: PulseAudio's software volume is cubic


# --- the measurement logic, on synthetic samples ----------------------------------------------------------


def feed(tracker: GainTracker, samples: list[float], t0: float = 0.0, dt: float = 1 / 30) -> list:  # type: ignore[type-arg]
    out = []
    for i, db in enumerate(samples):
        transition = tracker.feed(t0 + i * dt, db)
        if transition is not None:
            out.append(transition)
    return out


def test_noise_below_the_threshold_never_flaps() -> None:
    tracker = GainTracker()
    noise = [(-1.2 if i % 3 == 0 else 0.3) for i in range(300)]
    assert feed(tracker, noise) == []
    assert feed(tracker, [0, -3, 0, 0, -3, 0, 0]) == []  # short dips are not confirmed


def test_a_fade_is_timed_from_first_drop_to_settling() -> None:
    tracker = GainTracker()
    ramp = [0.0] * 5 + [-2.0 * k for k in range(1, 16)] + [-31.4] * 10  # 15 samples of fade at 30 Hz
    (duck,) = feed(tracker, ramp)
    assert duck.ducked and 20 * math.log10(duck.gain) == pytest.approx(-31.4, abs=0.1)
    assert duck.fade_seconds == pytest.approx(15 / 30, abs=1 / 30)
    (unduck,) = feed(tracker, [-31.4, 0.1, -0.1, 0.0, 0.0, 0.1], t0=10.0)
    assert not unduck.ducked and unduck.fade_seconds == pytest.approx(0.0, abs=1e-9)


def test_a_dropout_is_not_ducking_but_lasting_silence_is() -> None:
    """A starved player meters silent for a moment (no transition); a duck to 0 % stays silent (one, timed
    from its own samples, reported once the silence has lasted DROPOUT_SECONDS)."""
    from audiolab.backends._pulse.ducking import DROPOUT_SECONDS

    tracker = GainTracker()
    dropout = [0.0] * 10 + [-200.0] * int(0.6 * 30) + [0.0] * 10  # 0.6 s of underrun
    assert feed(tracker, dropout) == []
    assert feed(tracker, [0.0] * 5 + [-200.0] * 5 + [-3.0] + [-200.0] * 5 + [0.0] * 5, t0=5.0) == []
    silence = [0.0] * 3 + [-20.0, -60.0] + [-200.0] * (3 * 30)
    (duck,) = feed(tracker, silence, t0=20.0)
    assert duck.ducked and duck.gain == pytest.approx(1e-6) and duck.started == pytest.approx(20.0 + 3 / 30)
    assert duck.settled - duck.started < DROPOUT_SECONDS  # the fade is the samples', not the wait's
    (unduck,) = feed(tracker, [0.0] * 6, t0=30.0)
    assert not unduck.ducked


def test_a_level_that_never_settles_keeps_a_bounded_window() -> None:
    from audiolab.backends._pulse.ducking import RUN_WINDOW

    tracker = GainTracker()
    wander = [-10.0 - 5.0 * (i % 2) for i in range(20 * RUN_WINDOW)]  # away, but never within SETTLE_DB
    assert feed(tracker, wander) == []
    assert len(tracker._run) <= RUN_WINDOW
    # It still settles afterwards, timed from the first changed sample.
    (duck,) = feed(tracker, [-20.0] * 10, t0=len(wander) / 30)
    assert duck.ducked and 20 * math.log10(duck.gain) == pytest.approx(-20.0, abs=0.01)
    assert duck.started == 0.0


def test_stopped_trigger_sessions_are_pruned() -> None:
    from types import SimpleNamespace

    from audiolab.backends._pulse.ducking import CAUSE_WINDOW, STOPPED_KEEP, Causes
    from audiolab.events import SessionCreated, SessionRemoved

    causes = Causes()
    t = 0.0
    for i in range(2000):  # a long day of calls: each a trigger session that started and ended
        session = SimpleNamespace(id=f"s{i}", role=Role.VOICE_COMMUNICATION, state=SessionState.ACTIVE, muted=False)
        causes.observe(SessionCreated(timestamp=t, session_id=session.id, session=session), {})  # type: ignore[arg-type]
        t += 1.0
        causes.observe(SessionRemoved(timestamp=t, session_id=session.id), {})
    assert len(causes._stopped) <= STOPPED_KEEP + 1
    assert not causes._active and not causes._roles
    assert causes.of_unduck("music", t) == "s1999"  # the recent ones still name the cause
    assert causes.of_unduck("music", t + CAUSE_WINDOW + 1) is None


def test_expected_peaks_are_cubic_and_muted_is_zero() -> None:
    assert expected_peaks(0.5, 0.0, [0.5, 1.0], False) == [pytest.approx(0.0625), pytest.approx(0.5)]
    assert expected_peaks(0.5, 0.0, [1.0, 1.0], True) == [0.0, 0.0]
    assert measured_gain_db([0.25, 0.25], [0.5, 0.5]) == pytest.approx(-6.02, abs=0.01)
    assert measured_gain_db([0.1], [0.0]) is None


def test_trigger_roles_from_module_arguments() -> None:
    assert trigger_roles_from_modules([("module-role-ducking", "trigger_roles=phone,alarm/event ducking_roles=x")]) == {
        "phone", "alarm", "event"}
    assert trigger_roles_from_modules([("module-role-cork", "")]) == {"phone"}
    assert trigger_roles_from_modules([]) == {"phone"}


# --- on a real PulseAudio ---------------------------------------------------------------------------------


@pytest.mark.pulse
async def test_role_ducking_is_measured_with_its_cause() -> None:
    with pulseaudio_server(modules=[DUCK_30]) as server:
        running = await start_backend(server.address)
        try:
            music = await running.backend.play(PlayRequest(sine(440, 0.5), Role.MUSIC, "Ducked Music"))
            await running.backend.set_volume(music.session_id, 0.8)  # not ducking: expected follows the volume
            await asyncio.sleep(0.8)
            phone = await running.backend.play(PlayRequest(sine(600, 0.3), Role.VOICE_COMMUNICATION, "Caller"))
            duck = await running.recorder.wait("Ducked", lambda e: e.session_id == music.session_id, timeout=8)
            assert duck.attenuation_db == pytest.approx(CUBIC_30_DB, abs=1.0)
            assert duck.cause_session_id == phone.session_id
            assert 0.0 <= duck.fade_seconds < 1.5
            # The rule that did it, read from the loaded module, and the measured change.
            assert duck.why is not None and duck.why.kind == "pulseaudio" and not duck.why.released
            assert duck.why.rule["module"] == "module-role-ducking"
            assert duck.measured_db == pytest.approx(CUBIC_30_DB, abs=1.0)
            # The reported volume does not show it (that is why it is measured).
            assert running.backend.session(music.session_id).volume == pytest.approx(0.8, abs=1e-3)
            await phone.stop()
            unduck = await running.recorder.wait("Unducked", lambda e: e.session_id == music.session_id, timeout=8)
            assert 20 * math.log10(unduck.gain) == pytest.approx(0.0, abs=1.0)
            assert unduck.cause_session_id == phone.session_id
            assert unduck.why is not None and unduck.why.released and unduck.why.rule == duck.why.rule
            assert unduck.measured_db == pytest.approx(-CUBIC_30_DB, abs=1.0)  # the rise back
            assert len(running.recorder.of("Ducked", music.session_id)) == 1
            assert not running.recorder.of("Ducked", phone.session_id)
            await music.stop()
        finally:
            await stop_backend(running)


@pytest.mark.pulse
async def test_with_meters_on_ducking_reads_the_main_meters() -> None:
    """While the user's meters run, each tone has one meter (not a second one for ducking); the ducking
    measurement reads it without taking the user's peaks away."""
    from audiolab.backends._pulse.mapping import METER_PROPERTY
    from tests.servers import _parse_pactl_list

    with pulseaudio_server(modules=[DUCK_30]) as server:
        running = await start_backend(server.address)
        try:
            await running.backend.start_meters()
            music = await running.backend.play(PlayRequest(sine(440, 0.5), Role.MUSIC, "Metered Music"))
            await asyncio.sleep(0.8)  # the music plays undisturbed before the call (its level is the reference)
            phone = await running.backend.play(PlayRequest(sine(600, 0.3), Role.VOICE_COMMUNICATION, "Metered Caller"))
            duck = await running.recorder.wait("Ducked", lambda e: e.session_id == music.session_id, timeout=8)
            assert duck.attenuation_db == pytest.approx(CUBIC_30_DB, abs=1.0)
            assert duck.cause_session_id == phone.session_id
            assert running.backend._tones.duck_meters is None
            outputs = [o for o in _parse_pactl_list(server.pactl("list", "source-outputs"))
                       if o.get(METER_PROPERTY) == "1"]
            watched = [o.get("stream.monitor-stream", o.get("monitor-stream")) for o in outputs]
            assert len(outputs) == 3, watched  # the sink's meter and one per tone
            # The user's reads still see the ducked music: 0.5 x 0.3 ** 3.
            want = 0.5 * 0.3**3
            for _ in range(100):
                await asyncio.sleep(0.05)
                peak = running.backend.read_meters().peaks.get(music.session_id, 0.0)
                if abs(peak - want) <= 0.002:
                    break
            assert peak == pytest.approx(want, abs=0.002)
            await phone.stop()
            unduck = await running.recorder.wait("Unducked", lambda e: e.session_id == music.session_id, timeout=8)
            assert 20 * math.log10(unduck.gain) == pytest.approx(0.0, abs=1.0)
            await music.stop()
        finally:
            await stop_backend(running)


@pytest.mark.pulse
async def test_no_policy_no_ducking_reported(pa_server) -> None:  # type: ignore[no-untyped-def]
    running = await start_backend(pa_server.address)
    try:
        music = await running.backend.play(PlayRequest(sine(440, 0.5), Role.MUSIC, "Plain Music"))
        await asyncio.sleep(0.6)
        phone = await running.backend.play(PlayRequest(sine(600, 0.3), Role.VOICE_COMMUNICATION, "Plain Caller"))
        await running.backend.set_volume(music.session_id, 0.5)
        await music.set_amplitude(0.2)
        await asyncio.sleep(1.2)
        await phone.stop()
        await music.stop()
        assert not running.recorder.of("Ducked") and not running.recorder.of("Unducked")
    finally:
        await stop_backend(running)


@pytest.mark.pulse
async def test_role_cork_corks_and_uncorks_the_music_session() -> None:
    with pulseaudio_server(modules=["module-role-cork trigger_roles=phone cork_roles=music"]) as server:
        running = await start_backend(server.address)
        try:
            music = await running.backend.play(PlayRequest(sine(440, 0.5), Role.MUSIC, "Corked Music"))
            sid = music.session_id
            phone = await running.backend.play(PlayRequest(sine(600, 0.3), Role.VOICE_COMMUNICATION, "Cork Caller"))
            await running.recorder.wait("StateChanged", lambda e: e.session_id == sid and e.new is SessionState.INACTIVE)
            assert running.backend.session(sid).muted  # the module mutes as it asks for the cork
            await phone.stop()
            await running.recorder.wait("StateChanged", lambda e: e.session_id == sid and e.new is SessionState.ACTIVE)
            await asyncio.sleep(0.1)
            assert not running.backend.session(sid).muted
            assert not running.recorder.of("Ducked", sid)  # corked and muted is not "ducked"
            await music.stop()
        finally:
            await stop_backend(running)
