"""The pulse backend under trio: it runs on an asyncio loop in a thread of its own (audiolab/backends/_bridge.py).

The contract suite runs on both servers under trio too (tests/contract), and so does the server-killed test
(test_pulse_faults.py); these are the bridge's own checks: known signals through it, cancellation across it,
and that closing leaves no thread and no process.
"""

from __future__ import annotations

import threading

import anyio
import pytest

import audiolab
from audiolab import SessionNotFound
from audiolab.audio.player import live_pids
from audiolab.backends._bridge import BridgedBackend
from audiolab.tones import sine
from tests.processes import gone_within

pytestmark = [pytest.mark.anyio, pytest.mark.pulse, pytest.mark.parametrize("anyio_backend", ["trio"])]


def bridge_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "audiolab-asyncio-backend"]


async def test_a_tone_meters_its_amplitude_through_the_bridge_and_closing_leaves_nothing(pa_server) -> None:  # type: ignore[no-untyped-def]
    async with audiolab.open("pulse", server=pa_server.address) as lab:
        assert isinstance(lab.backend, BridgedBackend) and bridge_threads()
        async with lab.events() as events:
            tone = await lab.play(sine(440, 0.5), app="Trio Tone")
            assert lab.session(tone.session_id).app == "Trio Tone"  # the mirror has it when play() returns
            # What the duck detector asks of the backend crosses the bridge too.
            assert lab.backend.measures_itself(tone.session_id) and not lab.backend.measures_itself("pulse:nothing")
            assert lab.backend.endpoint_gain(tone.session_id) is None  # no WirePlumber 0.4 endpoints here
            async with lab.meters(rate=30) as frames:
                peak = 0.0
                with anyio.fail_after(10):
                    async for frame in frames:
                        peak = frame.peaks.get(tone.session_id, 0.0)
                        if abs(peak - 0.5) <= 0.02:
                            break
                # Read again at once, nothing newer pumped over yet: the held peaks, not an empty frame.
                again = lab.backend.read_meters()
                assert again.peaks[tone.session_id] == pytest.approx(0.5, abs=0.02)
                assert len(again.channel_peaks[tone.session_id]) == 2
            assert peak == pytest.approx(0.5, abs=0.02)
            await lab.set_volume(tone.session_id, 0.5)
            assert lab.session(tone.session_id).volume == pytest.approx(0.5)  # in place when the call returns
            with anyio.fail_after(5):
                async for event in events:
                    if event.kind == "VolumeChanged" and event.session_id == tone.session_id:
                        break
            with pytest.raises(ValueError):
                await lab.set_volume(tone.session_id, 1.5)  # raised over there, the same error here
            with pytest.raises(SessionNotFound):
                await lab.set_mute("no-such-session", True)
            pid = tone.pid  # type: ignore[attr-defined]
    assert tone.finished and tone.released  # the Lab's close stopped it over there
    assert await gone_within(pid, 5.0)
    assert not live_pids()
    assert not bridge_threads()


async def test_cancelling_a_trio_task_cancels_its_tone_over_there(pa_server) -> None:  # type: ignore[no-untyped-def]
    async with audiolab.open("pulse", server=pa_server.address) as lab:
        tone = await lab.play(sine(440, 0.3), app="Cancelled")
        with anyio.move_on_after(0.3):
            await tone.wait()  # cancelling the waiter stops the tone (Playback.wait's rule), across the bridge
        assert tone.finished and tone.released
        with anyio.fail_after(5):
            while tone.session_id in {s.id for s in lab.snapshot()}:
                await anyio.sleep(0.02)
        assert not live_pids()


async def test_bad_options_raise_here_and_leave_no_thread() -> None:
    with pytest.raises(TypeError):
        async with audiolab.open("pulse", bogus=1):
            pass
    assert not bridge_threads()


async def test_auto_finds_the_server_under_trio_too(pa_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PULSE_SERVER", pa_server.address)
    async with audiolab.open("auto") as lab:
        assert lab.backend_name == "pulse" and lab.picked_because == "pulse answered on this machine"
    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent/native")
    async with audiolab.open("auto") as lab:
        assert lab.backend_name == "sim"
    assert not [t for t in threading.enumerate() if t.name.startswith("audiolab-asyncio")]
