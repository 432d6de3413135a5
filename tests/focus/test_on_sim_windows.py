"""Windows communications ducking end to end on the simulated service: the duck level and its 1 s fade
measured on the mixed signal, ducking opt-out, and duck notification counts."""

from __future__ import annotations

import numpy as np
import pytest

import audiolab
from audiolab import Role
from audiolab.events import Ducked, DuckNotification, Unducked, UnduckNotification
from audiolab.tones import sine
from tests.scenarios.helpers import drain, gains_between, metered
from tests.sinks import RecordingSink

pytestmark = pytest.mark.anyio

AMP = 0.5
BLOCK = 480  # 10 ms at 48 kHz


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.mark.parametrize("setting, gain", [("mute", 0.0), ("reduce_80", 0.2), ("reduce_50", 0.5), ("nothing", 1.0)])
async def test_call_ducks_music_with_a_one_second_fade_on_the_mixed_signal(setting, gain):
    sink = RecordingSink()
    async with audiolab.open("sim", clock="virtual", policy="windows", output=sink) as lab:
        await lab.set_policy("windows", ducking=setting)
        await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")  # on the speakers, which the sink records
        await lab.sleep(1.0)
        call = await lab.play(sine(350, AMP), role=Role.VOICE_COMMUNICATION, app="Phone")  # on the headset
        await lab.sleep(3.0)
        await call.stop()
        await lab.sleep(2.0)
    assert sink.closed
    env = sink.envelope() / AMP
    t = np.arange(len(env)) * 0.01  # block start times
    assert env[(t > 0.2) & (t < 0.99)].min() == pytest.approx(1.0, abs=0.01)
    ducked = env[(t > 2.1) & (t < 3.9)]
    assert ducked.max() == pytest.approx(gain, abs=0.01) and ducked.min() == pytest.approx(gain, abs=0.01)
    assert env[t > 5.1].min() == pytest.approx(1.0, abs=0.01)
    if gain == 1.0:
        return
    start, length = fade_timing(t, env, 1.0, 1.0, gain)
    assert start == pytest.approx(1.0, abs=0.02) and length == pytest.approx(1.0, abs=0.03)  # the 1 s fade
    start, length = fade_timing(t, env, 4.0, gain, 1.0)
    assert start == pytest.approx(4.0, abs=0.02) and length == pytest.approx(1.0, abs=0.03)


def fade_timing(t: np.ndarray, env: np.ndarray, after: float, level0: float, level1: float) -> tuple[float, float]:
    """When a fade from ``level0`` to ``level1`` starts and how long it takes, from the 10 % and 90 % points
    of the way (robust to the block resolution)."""
    done = (env[t >= after] - level0) / (level1 - level0)
    times = t[t >= after]
    t10, t90 = times[np.argmax(done >= 0.1)], times[np.argmax(done >= 0.9)]
    length = (t90 - t10) / 0.8
    return float(t10 - 0.1 * length), float(length)


async def test_ducked_event_and_meters_agree():
    async with audiolab.open("sim", clock="virtual", policy="windows") as lab, lab.events() as events, \
            metered(lab) as frames:
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        await lab.sleep(0.5)
        await lab.play(sine(350, AMP), role=Role.VOICE_COMMUNICATION, app="Phone")
        await lab.sleep(2)
        (ducked,) = [e for e in drain(events) if isinstance(e, Ducked)]
        assert ducked.gain == pytest.approx(0.2) and ducked.fade_seconds == 1.0
        assert gains_between(frames, music.session_id, 1.6, 2.5, AMP) == pytest.approx([0.2] * 90, abs=0.01)


async def test_opted_out_session_is_not_ducked_but_is_notified():
    async with audiolab.open("sim", clock="virtual", policy="windows") as lab, lab.events() as events, \
            metered(lab) as frames:
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        game = await lab.play(sine(550, AMP), role=Role.GAME, app="Game")
        lab.sim.engine.set_ducking_opt_out(game.session_id, True)
        # "the opt-out change does not take effect until the stream is stopped and started again"
        await game.pause()
        await game.resume()
        await lab.sleep(0.5)
        await lab.play(sine(350, AMP), role=Role.VOICE_COMMUNICATION, app="Phone")
        await lab.sleep(2)
        seen = drain(events)
        assert [e.session_id for e in seen if isinstance(e, Ducked)] == [music.session_id]
        notified = {e.session_id for e in seen if isinstance(e, DuckNotification)}
        assert notified == {music.session_id, game.session_id}
        assert min(gains_between(frames, game.session_id, 1.6, 2.5, AMP)) == pytest.approx(1.0, abs=0.01)
        assert max(gains_between(frames, music.session_id, 1.6, 2.5, AMP)) == pytest.approx(0.2, abs=0.01)


async def test_opting_out_takes_effect_only_after_the_stream_restarts():
    async with audiolab.open("sim", clock="virtual", policy="windows") as lab, lab.events() as events:
        game = await lab.play(sine(550, AMP), role=Role.GAME, app="Game")
        lab.sim.engine.set_ducking_opt_out(game.session_id, True)
        await lab.play(sine(350, AMP), role=Role.VOICE_COMMUNICATION, app="Phone")
        await lab.sleep(0.1)
        assert [e.session_id for e in drain(events) if isinstance(e, Ducked)] == [game.session_id]


async def test_two_overlapping_calls_count_one_then_two_and_unduck_after_the_last():
    async with audiolab.open("sim", clock="virtual", policy="windows") as lab, lab.events() as events, \
            metered(lab) as frames:
        music = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music")
        await lab.sleep(0.5)
        teams = await lab.play(sine(350, AMP), role=Role.VOICE_COMMUNICATION, app="Teams")
        await lab.sleep(1)
        skype = await lab.play(sine(360, AMP), role=Role.VOICE_COMMUNICATION, app="Skype")
        await lab.sleep(1)
        notes = [e for e in drain(events) if isinstance(e, DuckNotification) and e.session_id == music.session_id]
        assert [(n.communications_session_id, n.count) for n in notes] == [(teams.session_id, 1), (skype.session_id, 2)]
        await teams.stop()
        await lab.sleep(2)
        seen = drain(events)
        assert [e.communications_session_id for e in seen if isinstance(e, UnduckNotification)] == [teams.session_id]
        assert not [e for e in seen if isinstance(e, Unducked)]
        assert max(gains_between(frames, music.session_id, 3.0, 4.5, AMP)) == pytest.approx(0.2, abs=0.01)
        await skype.stop()
        await lab.sleep(2)
        seen = drain(events)
        assert [type(e) for e in seen if e.session_id == music.session_id] == [UnduckNotification, Unducked]
        assert min(gains_between(frames, music.session_id, 5.6, 6.5, AMP)) == pytest.approx(1.0, abs=0.01)
