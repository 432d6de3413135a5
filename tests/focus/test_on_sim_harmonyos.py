"""The HarmonyOS policy end to end on the simulated service, through the Lab: table spot checks measured on
the meters, concurrency modes through the session manager, and the 60 s idle timeout."""

from __future__ import annotations

import pytest

import audiolab
from audiolab import ConcurrencyMode, DeactivationReason, FocusDeniedError, Role
from audiolab.events import Ducked, FocusDenied, InterruptEvent, SessionDeactivated
from audiolab.model import InterruptHint, StreamState
from audiolab.tones import sine
from tests.scenarios.helpers import drain, gains_between, metered

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return request.param

AMP = 0.5


def lab_on(policy: str = "harmonyos", **options):
    return audiolab.open("sim", clock="virtual", policy=policy, **options)


def running(lab, playback) -> bool:
    return lab.sim.engine.stream(playback.stream_id).state is StreamState.RUNNING


async def test_music_plus_navigation_ducks_the_music_on_the_meters():
    async with lab_on() as lab, lab.events() as events, metered(lab) as frames:
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        await lab.sleep(1)
        nav = await lab.play(sine(880, AMP), role=Role.NAVIGATION, app="Maps", duration=2)
        await lab.sleep(1)
        ducked = [e for e in drain(events) if isinstance(e, Ducked)]
        assert [(e.session_id, e.cause_session_id) for e in ducked] == [(music.session_id, nav.session_id)]
        assert ducked[0].gain == pytest.approx(0.2)
        await lab.sleep(2)
        before = gains_between(frames, music.session_id, 0.5, 1.0, AMP)
        during = gains_between(frames, music.session_id, 1.2, 2.9, AMP)
        after = gains_between(frames, music.session_id, 3.2, 4.0, AMP)
        assert min(before) == pytest.approx(1.0, abs=0.01)
        assert max(during) == pytest.approx(0.2, abs=0.01) and min(during) == pytest.approx(0.2, abs=0.01)
        assert min(after) == pytest.approx(1.0, abs=0.01)


async def test_voice_call_pauses_music_and_it_resumes_after():
    async with lab_on() as lab, lab.events() as events, metered(lab) as frames:
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        await lab.sleep(1)
        call = await lab.play(sine(350, AMP), role=Role.VOICE_COMMUNICATION, app="Phone")
        await lab.sleep(2)
        assert lab.session(music.session_id).state is audiolab.SessionState.INACTIVE
        assert not running(lab, music)
        hints = [e.hint for e in drain(events) if isinstance(e, InterruptEvent) and e.session_id == music.session_id]
        assert hints == [InterruptHint.PAUSE]
        await call.stop()
        await lab.sleep(1)
        assert lab.session(music.session_id).state is audiolab.SessionState.ACTIVE
        assert max(gains_between(frames, music.session_id, 1.1, 2.9, AMP)) == 0.0
        assert min(gains_between(frames, music.session_id, 3.1, 4.0, AMP)) == pytest.approx(1.0, abs=0.01)


async def test_music_paused_by_a_ringtone_stays_paused_during_the_call_that_stops_the_ring():
    # Regression: the call stops the ringtone; the music must not resume under the call (the table says the
    # call pauses music), only when the call ends.
    async with lab_on() as lab, metered(lab) as frames:
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        await lab.sleep(1)
        await lab.play(sine(480, AMP), role=Role.RINGTONE, app="Ringer")
        await lab.sleep(1)
        call = await lab.play(sine(350, AMP), role=Role.VOICE_COMMUNICATION, app="Phone")
        await lab.sleep(2)
        assert not running(lab, music)
        assert max(gains_between(frames, music.session_id, 1.1, 3.9, AMP)) == 0.0
        await call.stop()
        await lab.sleep(1)
        assert running(lab, music)


async def test_assistant_during_a_call_is_denied():
    async with lab_on() as lab, lab.events() as events:
        await lab.play(sine(350, AMP), role=Role.VOICE_COMMUNICATION, app="Phone")
        await lab.sleep(0.5)
        with pytest.raises(FocusDeniedError):
            await lab.play(sine(660, AMP), role=Role.ASSISTANT, app="Assistant")
        denied = [e for e in drain(events) if isinstance(e, FocusDenied)]
        assert len(denied) == 1 and denied[0].cause_session_id.startswith("Phone@")
        assert not [s for s in lab.snapshot() if s.app == "Assistant" and s.state is audiolab.SessionState.ACTIVE]


# --- concurrency modes through the session manager -----------------------------------------------------


async def test_mix_with_others_lets_a_movie_play_over_music():
    async with lab_on() as lab, metered(lab) as frames:
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        await lab.session_manager("Video").activate(ConcurrencyMode.MIX_WITH_OTHERS)
        await lab.play(sine(660, AMP), role=Role.MOVIE, app="Video")
        await lab.sleep(1)
        assert running(lab, music)
        assert min(gains_between(frames, music.session_id, 0.2, 1.0, AMP)) == pytest.approx(1.0, abs=0.01)


async def test_duck_others_turns_the_movies_stop_into_a_duck():
    async with lab_on() as lab, metered(lab) as frames:
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        await lab.session_manager("Game").activate(ConcurrencyMode.DUCK_OTHERS)
        await lab.play(sine(660, AMP), role=Role.MOVIE, app="Game")
        await lab.sleep(1)
        assert running(lab, music)
        assert max(gains_between(frames, music.session_id, 0.2, 1.0, AMP)) == pytest.approx(0.2, abs=0.01)


async def test_pause_others_pauses_and_deactivate_resumes():
    async with lab_on() as lab:
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        shorts = lab.session_manager("Shorts")
        await shorts.activate(ConcurrencyMode.PAUSE_OTHERS)
        assert shorts.is_activated()
        clip = await lab.play(sine(660, AMP), role=Role.MOVIE, app="Shorts", duration=1)
        await lab.sleep(2)
        assert clip.finished and not running(lab, music)  # the session keeps focus between clips
        await shorts.deactivate()
        await lab.sleep(0.1)
        assert running(lab, music) and not shorts.is_activated()


async def test_default_mode_movie_stops_music_for_good():
    async with lab_on() as lab:
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        await lab.session_manager("Video").activate(ConcurrencyMode.DEFAULT)
        movie = await lab.play(sine(660, AMP), role=Role.MOVIE, app="Video")
        await lab.sleep(1)
        await movie.stop()
        await lab.sleep(1)
        assert not running(lab, music)


async def test_idle_timeout_deactivates_with_timeout_and_releases_what_it_held():
    async with lab_on() as lab, lab.events() as events:
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        nav_session = lab.session_manager("Maps")
        await nav_session.activate(ConcurrencyMode.DUCK_OTHERS)
        async with nav_session.deactivations() as deactivations:
            prompt = await lab.play(sine(880, AMP), role=Role.MOVIE, app="Maps", duration=2)
            await lab.sleep(59)
            assert nav_session.is_activated()  # idle for 57 s only
            assert lab.sim.engine.audio.focus_gain(music.session_id, lab.clock.now()) == pytest.approx(0.2)
            await lab.sleep(4)  # 60 s after the prompt ended
            assert prompt.finished and not nav_session.is_activated()
            event = await deactivations.__anext__()
        assert event.reason is DeactivationReason.TIMEOUT and event.timestamp == pytest.approx(62.0, abs=0.02)
        kinds = [e.kind for e in drain(events) if e.session_id == music.session_id and e.timestamp > 61]
        assert "Unducked" in kinds and running(lab, music)


async def test_idle_timeout_stops_what_the_session_paused():
    async with lab_on() as lab:
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        shorts = lab.session_manager("Shorts")
        await shorts.activate(ConcurrencyMode.PAUSE_OTHERS)
        async with lab.events() as events:
            await lab.play(sine(660, AMP), role=Role.MOVIE, app="Shorts", duration=1)
            await lab.sleep(62)
            seen = drain(events)
        assert not shorts.is_activated()
        deact = [e for e in seen if isinstance(e, SessionDeactivated)]
        assert [e.reason for e in deact] == [DeactivationReason.TIMEOUT]
        stops = [e for e in seen if isinstance(e, InterruptEvent) and e.hint is InterruptHint.STOP]
        assert [e.session_id for e in stops] == [music.session_id]
        assert not running(lab, music)
