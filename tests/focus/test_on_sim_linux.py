"""PulseAudio role-ducking / role-cork and WirePlumber role priorities end to end on the simulated service,
measured on the meters."""

from __future__ import annotations

import pytest

import audiolab
from audiolab import Role, SessionState
from audiolab.model import StreamState
from audiolab.tones import sine
from tests.scenarios.helpers import gains_between, metered

pytestmark = pytest.mark.anyio

AMP = 0.5


def running(lab, playback) -> bool:
    return lab.sim.engine.stream(playback.stream_id).state is StreamState.RUNNING


@pytest.mark.parametrize("volume, gain", [("-20dB", 0.1), ("-6dB", 10 ** (-6 / 20)), ("50%", 0.125)])
async def test_role_ducking_volume_is_what_the_meters_show(volume, gain):
    async with audiolab.open("sim", clock="virtual", policy="pulseaudio") as lab, metered(lab) as frames:
        await lab.set_policy("pulseaudio", role_cork=False, volume=volume)
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        await lab.sleep(0.5)
        call = await lab.play(sine(350, AMP), role=Role.VOICE_COMMUNICATION, app="Phone", device="speakers")
        await lab.sleep(1)
        await call.stop()
        await lab.sleep(1)
        assert gains_between(frames, music.session_id, 0.6, 1.5, AMP) == pytest.approx([gain] * 90, abs=0.005)
        assert min(gains_between(frames, music.session_id, 1.6, 2.5, AMP)) == pytest.approx(1.0, abs=0.005)


async def test_role_ducking_is_per_sink_unless_global():
    async with audiolab.open("sim", clock="virtual", policy="pulseaudio") as lab, metered(lab) as frames:
        await lab.set_policy("pulseaudio", role_cork=False)
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        await lab.play(sine(350, AMP), role=Role.VOICE_COMMUNICATION, app="Phone")  # on the headset
        await lab.sleep(0.5)
        assert min(gains_between(frames, music.session_id, 0.1, 0.5, AMP)) == pytest.approx(1.0, abs=0.005)


async def test_role_cork_pauses_music_while_a_phone_stream_plays():
    async with audiolab.open("sim", clock="virtual", policy="pulseaudio") as lab, metered(lab) as frames:
        await lab.set_policy("pulseaudio", role_ducking=False)  # stock default.pa: role-cork only
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        game = await lab.play(sine(550, AMP), role=Role.GAME, app="Game")
        await lab.sleep(0.5)
        call = await lab.play(sine(350, AMP), role=Role.VOICE_COMMUNICATION, app="Phone", device="speakers")
        await lab.sleep(1)
        assert not running(lab, music) and lab.session(music.session_id).state is SessionState.INACTIVE
        assert running(lab, game)  # "game" is not in cork_roles (music,video)
        assert max(gains_between(frames, music.session_id, 0.6, 1.5, AMP)) == 0.0
        await call.stop()
        await lab.sleep(1)
        assert running(lab, music)
        assert min(gains_between(frames, music.session_id, 1.6, 2.5, AMP)) == pytest.approx(1.0, abs=0.005)


async def test_wireplumber_navigation_ducks_multimedia_to_the_duck_level_and_phone_corks_it():
    async with audiolab.open("sim", clock="virtual", policy="wireplumber") as lab, metered(lab) as frames:
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        await lab.sleep(0.5)
        nav = await lab.play(sine(880, AMP), role=Role.NAVIGATION, app="Maps")
        await lab.sleep(1)
        assert max(gains_between(frames, music.session_id, 0.6, 1.5, AMP)) == pytest.approx(0.3, abs=0.005)
        await nav.stop()
        call = await lab.play(sine(350, AMP), role=Role.VOICE_COMMUNICATION, app="Phone")
        await lab.sleep(1)
        assert not running(lab, music)
        await call.stop()
        await lab.sleep(0.5)
        assert running(lab, music)
