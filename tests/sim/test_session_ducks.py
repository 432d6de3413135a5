"""Focus events are about sessions: a session with two streams that a policy ducks gets one ``Ducked`` (with its
reason) and one ``Unducked``, while each stream still carries its gain; and a session's gain follows its streams'
ducks when one stops while ducked and starts again."""

from __future__ import annotations

import pytest

import audiolab
from audiolab import Role
from audiolab.events import Ducked, InterruptEvent, Unducked
from audiolab.focus import load_policy
from audiolab.tones import sine
from tests.scenarios.helpers import drain, gains_between, metered

pytestmark = pytest.mark.anyio

AMP = 0.25  # per stream: two streams of the same tone started together sum to 0.5
GUID = "{5E55104A-0000-4000-8000-000000000002}"

# a policy, the role that ducks music under it, the device that plays on, the gain music is ducked to
DUCKERS = [
    ("windows", Role.VOICE_COMMUNICATION, None, 0.2),
    ("harmonyos", Role.NAVIGATION, None, 0.2),
    ("wireplumber", Role.NAVIGATION, None, 0.3),
    ("pulseaudio", Role.RINGTONE, "speakers", 0.1),
]
SETTINGS = {"pulseaudio": {"role_cork": False}}  # else the ring corks the music


async def two_stream_music(lab: audiolab.Lab) -> tuple[audiolab.Playback, audiolab.Playback]:
    """Two music streams in one session (a cross-process session: two players, one session)."""
    first = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music", session_guid=GUID, cross_process=True)
    second = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music", session_guid=GUID, cross_process=True)
    assert first.session_id == second.session_id
    return first, second


def held(gains: list[float], level: float) -> bool:
    """Whether every metered gain is ``level`` (within 1 %)."""
    return min(gains) == pytest.approx(level, abs=0.01) and max(gains) == pytest.approx(level, abs=0.01)


def focus_events(events: list[audiolab.events.Event], session_id: str) -> list[audiolab.events.Event]:
    return [e for e in events if isinstance(e, (Ducked, Unducked)) and e.session_id == session_id]


@pytest.mark.parametrize("policy, role, device, gain", DUCKERS, ids=[d[0] for d in DUCKERS])
async def test_one_duck_of_a_two_stream_session_is_one_ducked_and_one_unducked(policy, role, device, gain):
    async with audiolab.open("sim", clock="virtual", policy=load_policy(policy, **SETTINGS.get(policy, {}))) as lab, lab.events() as events, \
            metered(lab) as frames:
        first, second = await two_stream_music(lab)
        await lab.sleep(1.0)
        trigger = await lab.play(sine(880, 0.5), role=role, app="Trigger", device=device)
        await lab.sleep(2.0)
        # each stream carries its gain; the session is heard at it
        for stream in (first, second):
            assert lab.sim.engine.focus.focus_of(first.session_id, stream.stream_id).gain == pytest.approx(gain)
        assert held(gains_between(frames, first.session_id, 2.5, 3.0, 2 * AMP), gain)
        await trigger.stop()
        await lab.sleep(2.0)
        assert held(gains_between(frames, first.session_id, 4.5, 5.0, 2 * AMP), 1.0)
        told = focus_events(drain(events), first.session_id)
    assert [type(e) for e in told] == [Ducked, Unducked]
    ducked, unducked = told
    assert ducked.gain == pytest.approx(gain) and ducked.cause_session_id == trigger.session_id
    assert ducked.why is not None and not ducked.why.released
    assert unducked.why is not None and unducked.why.released and unducked.why.label == ducked.why.label


async def test_a_stream_starting_in_a_ducked_session_adds_no_ducked():
    async with audiolab.open("sim", clock="virtual", policy="harmonyos") as lab, lab.events() as events:
        first = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music", session_guid=GUID, cross_process=True)
        await lab.play(sine(880, 0.5), role=Role.NAVIGATION, app="Maps")
        await lab.sleep(1.0)
        second = await lab.play(sine(440, AMP), role=Role.MUSIC, app="Music", session_guid=GUID, cross_process=True)
        await lab.sleep(1.0)
        assert lab.sim.engine.focus.focus_of(first.session_id, second.stream_id).gain == pytest.approx(0.2)
        told = focus_events(drain(events), first.session_id)
    assert [(type(e), e.gain) for e in told] == [(Ducked, pytest.approx(0.2))]


async def test_a_pause_of_a_two_stream_session_is_told_once():
    async with audiolab.open("sim", clock="virtual", policy="harmonyos") as lab, lab.events() as events:
        first, _ = await two_stream_music(lab)
        call = await lab.play(sine(350, 0.5), role=Role.VOICE_COMMUNICATION, app="Phone")
        await lab.sleep(1.0)
        await call.stop()
        await lab.sleep(1.0)
        hints = [e.hint.value for e in drain(events) if isinstance(e, InterruptEvent) and e.session_id == first.session_id]
    assert hints == ["pause", "resume"]


@pytest.mark.parametrize("policy, role, device, gain", DUCKERS, ids=[d[0] for d in DUCKERS])
async def test_a_session_stopped_while_ducked_comes_back_at_full_gain(policy, role, device, gain):
    async with audiolab.open("sim", clock="virtual", policy=load_policy(policy, **SETTINGS.get(policy, {}))) as lab, lab.events() as events, \
            metered(lab) as frames:
        music = await lab.play(sine(440, 2 * AMP), role=Role.MUSIC, app="Music")
        trigger = await lab.play(sine(880, 0.5), role=role, app="Trigger", device=device)
        await lab.sleep(2.0)
        await music.pause()  # its app pauses it while ducked: its stream releases focus
        await trigger.stop()
        await lab.sleep(1.0)
        await music.resume()  # at 3 s, nothing ducks it any more
        await lab.sleep(1.0)
        assert lab.sim.engine.focus.focus_of(music.session_id, music.stream_id).gain == 1.0
        assert held(gains_between(frames, music.session_id, 3.05, 4.0, 2 * AMP), 1.0)
        told = focus_events(drain(events), music.session_id)
    assert [(type(e), e.timestamp) for e in told] == [(Ducked, 0.0), (Unducked, 3.0)]
    assert told[1].fade_seconds == 0.0  # the session was silent meanwhile: it starts again at full gain
    assert told[1].why is not None and told[1].why.released and told[1].why.label == told[0].why.label


async def test_a_policy_switch_restates_a_two_stream_sessions_duck_once():
    async with audiolab.open("sim", clock="virtual", policy="harmonyos") as lab, lab.events() as events:
        first, _ = await two_stream_music(lab)
        await lab.play(sine(880, 0.5), role=Role.NAVIGATION, app="Maps")
        await lab.sleep(1.0)
        await lab.set_policy("wireplumber")
        await lab.sleep(1.0)
        await lab.set_policy("harmonyos")
        await lab.sleep(1.0)
        told = focus_events(drain(events), first.session_id)
    assert [(e.timestamp, e.gain, e.why.policy) for e in told] == [
        (0.0, pytest.approx(0.2), "harmonyos"), (1.0, pytest.approx(0.3), "wireplumber"),
        (2.0, pytest.approx(0.2), "harmonyos")]
