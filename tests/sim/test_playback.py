"""Tones through their own sessions on the simulated service, measured with known signals."""

from __future__ import annotations

import wave

import anyio
import numpy as np
import pytest

import audiolab
from audiolab import ClosedResourceError, Role, SessionState
from audiolab.tones import sine
from tests.sinks import RecordingSink

pytestmark = pytest.mark.anyio


async def peaks_after(lab, seconds: float) -> audiolab.MeterFrame:
    async with lab.meters(rate=10) as frames:
        await lab.sleep(seconds)
        return await frames.receive()


async def test_each_playback_is_a_session_of_its_own():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        a = await lab.play(sine(440), role=Role.MUSIC, app="Player")
        b = await lab.play(sine(550), role=Role.MUSIC, app="Player")
        assert a.session_id != b.session_id
        sessions = {s.id: s for s in lab.snapshot()}
        assert sessions[a.session_id].pid != sessions[b.session_id].pid
        assert sessions[a.session_id].role is Role.MUSIC
        assert sessions[a.session_id].state is SessionState.ACTIVE


async def test_playbacks_share_a_session_only_when_asked():
    guid = "3f1a2b4c-0000-4000-8000-000000000001"
    async with audiolab.open(clock="virtual", policy="none") as lab:
        a = await lab.play(sine(440), app="Choir", session_guid=guid, cross_process=True)
        b = await lab.play(sine(550), app="Choir", session_guid=guid, cross_process=True)
        assert a.session_id == b.session_id
        assert len(lab.session(a.session_id).streams) == 2


async def test_sine_of_amplitude_half_meters_half_then_quarter_at_volume_half_then_zero_muted():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        tone = await lab.play(sine(440, amplitude=0.5), role=Role.MUSIC)
        frame = await peaks_after(lab, 0.5)
        assert frame.peaks[tone.session_id] == pytest.approx(0.5, abs=0.01)
        assert frame.channel_peaks[tone.session_id] == pytest.approx((0.5, 0.5), abs=0.01)
        await lab.set_volume(tone.session_id, 0.5)
        await lab.sleep(0.1)
        frame = await peaks_after(lab, 0.5)
        assert frame.peaks[tone.session_id] == pytest.approx(0.25, abs=0.01)
        await lab.set_mute(tone.session_id, True)
        await lab.sleep(0.1)
        frame = await peaks_after(lab, 0.5)
        assert frame.peaks[tone.session_id] == pytest.approx(0.0, abs=1e-6)


async def test_two_sessions_mix_to_the_sample_wise_sum():
    alone = RecordingSink()
    async with audiolab.open(clock="virtual", policy="none", output=alone) as lab:
        await lab.play(sine(440, 0.3), app="A")
        await lab.sleep(0.2)
    other = RecordingSink()
    async with audiolab.open(clock="virtual", policy="none", output=other) as lab:
        await lab.play(sine(660, 0.3), app="B")
        await lab.sleep(0.2)
    both = RecordingSink()
    async with audiolab.open(clock="virtual", policy="none", output=both) as lab:
        await lab.play(sine(440, 0.3), app="A")
        await lab.play(sine(660, 0.3), app="B")
        await lab.sleep(0.2)
    n = min(len(alone.signal), len(other.signal), len(both.signal))
    assert n >= 9000
    np.testing.assert_allclose(both.signal[:n], alone.signal[:n] + other.signal[:n], atol=1e-5)
    assert alone.closed and both.closed


async def test_a_volume_step_makes_no_click():
    rec = RecordingSink()
    async with audiolab.open(clock="virtual", policy="none", output=rec) as lab:
        tone = await lab.play(sine(100, 1.0), app="Loud")
        await lab.sleep(0.1)
        await lab.set_volume(tone.session_id, 0.0)
        await lab.sleep(0.1)
    left = rec.signal[:, 0]
    jumps = np.abs(np.diff(left))
    # A 100 Hz full-scale sine moves by at most 2*pi*100/48000 per sample; the 5 ms ramp adds at most 1/240.
    assert jumps.max() <= 2 * np.pi * 100 / 48000 + 1 / 240 + 1e-6
    assert np.abs(left[-480:]).max() == 0.0


async def test_wav_output_of_a_440_hz_tone_peaks_at_440_hz(tmp_path):
    path = tmp_path / "mix.wav"
    async with audiolab.open(clock="virtual", policy="none", output=path) as lab:
        await lab.play(sine(440, 0.5), app="A")
        await lab.sleep(1.0)
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (48000, 2, 2)
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2) / 32768
    spectrum = np.abs(np.fft.rfft(data[:, 0] * np.hanning(len(data))))
    freqs = np.fft.rfftfreq(len(data), 1 / 48000)
    assert freqs[spectrum.argmax()] == pytest.approx(440, abs=1.5)
    assert np.abs(data).max() == pytest.approx(0.5, abs=0.01)
    assert not (tmp_path / "mix.wav.part").exists()


async def test_pause_makes_the_session_inactive_and_resume_active_again():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        tone = await lab.play(sine(440, 0.5))
        await tone.pause()
        assert lab.session(tone.session_id).state is SessionState.INACTIVE
        frame = await peaks_after(lab, 0.3)
        assert frame.peaks[tone.session_id] == 0.0
        await tone.resume()
        assert lab.session(tone.session_id).state is SessionState.ACTIVE
        frame = await peaks_after(lab, 0.3)
        assert frame.peaks[tone.session_id] == pytest.approx(0.5, abs=0.01)


async def test_amplitude_change_reaches_the_meter():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        tone = await lab.play(sine(440, 0.5))
        await lab.sleep(0.2)
        await tone.set_amplitude(0.2)
        await lab.sleep(0.1)
        frame = await peaks_after(lab, 0.3)
        assert frame.peaks[tone.session_id] == pytest.approx(0.2, abs=0.01)
        with pytest.raises(ValueError):
            await tone.set_amplitude(2.0)


async def test_a_tone_with_a_duration_ends_by_itself():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        tone = await lab.play(sine(440, 0.5), duration=0.5)
        await lab.sleep(0.6)
        assert tone.finished
        assert lab.session(tone.session_id).state is SessionState.INACTIVE
        with pytest.raises(ClosedResourceError):
            await tone.pause()


async def test_leaving_the_block_stops_the_tone_and_ends_its_session():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        async with lab.play(sine(440)) as tone:
            sid = tone.session_id
        assert tone.finished
        assert sid not in {s.id for s in lab.snapshot()}


async def test_an_exception_stops_the_tone():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        with pytest.raises(RuntimeError):
            async with lab.play(sine(440)) as tone:
                raise RuntimeError("boom")
        assert tone.finished and tone.session_id not in {s.id for s in lab.snapshot()}


async def test_cancelling_the_owning_task_stops_the_tone():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        started: list = []

        async def owner() -> None:
            async with lab.play(sine(440)) as tone:
                started.append(tone)
                await tone.wait()

        async with anyio.create_task_group() as tg:
            tg.start_soon(owner)
            await anyio.wait_all_tasks_blocked()
            tg.cancel_scope.cancel()
        assert started[0].finished
        assert started[0].session_id not in {s.id for s in lab.snapshot()}


async def test_closing_the_lab_stops_every_tone():
    lab = audiolab.open(clock="virtual", policy="none")
    async with lab:
        tones = [await lab.play(sine(440 + 10 * i)) for i in range(3)]
    assert all(t.finished for t in tones)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"tone": "440"}, TypeError), ({"role": "music"}, TypeError), ({"duration": -1}, ValueError),
     ({"duration": float("nan")}, ValueError), ({"device": "microphone"}, ValueError),
     ({"device": "nowhere"}, ValueError), ({"session_guid": "x"}, ValueError)],
)
async def test_bad_play_arguments_start_nothing(kwargs, error):
    async with audiolab.open(clock="virtual", policy="none") as lab:
        before = lab.snapshot()
        args = {"tone": sine(440), **kwargs}
        with pytest.raises(error):
            await lab.play(args.pop("tone"), **args)
        assert lab.snapshot() == before


async def test_a_finished_tone_leaving_its_block_ends_its_session():
    async with audiolab.open(clock="virtual", policy="none") as lab, lab.events() as events:
        async with lab.play(sine(440), duration=0.5) as tone:
            await lab.sleep(1.0)
            assert tone.finished and not tone.released
        assert tone.released
        kinds = []
        while True:
            try:
                event = events.receive_nowait()
            except anyio.WouldBlock:
                break
            if event.session_id == tone.session_id:
                kinds.append(event.kind)
        assert kinds[-1] == "SessionRemoved"
        assert not lab.sim.engine.stream_listeners  # nothing left listening


async def test_a_tone_end_wakes_its_waiter_at_its_own_virtual_time():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        tone = await lab.play(sine(440), duration=0.5)
        woke: list[float] = []

        async def waiter() -> None:
            await tone.wait()
            woke.append(lab.clock.now())

        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await anyio.wait_all_tasks_blocked()
            await lab.sleep(10.0)  # one long advance
        assert woke == [pytest.approx(0.5, abs=0.011)]


async def test_a_restart_finishes_every_playback():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        tone = await lab.play(sine(440))
        lab.sim.restart()
        assert tone.finished
        with anyio.fail_after(1):
            await tone.wait()
        await tone.stop()  # releasing what is already gone is fine


async def test_a_removed_device_finishes_its_playbacks_and_closes_its_sink(tmp_path):
    sink = RecordingSink()
    async with audiolab.open(clock="virtual", policy="none", output=sink, output_device="headset") as lab:
        tone = await lab.play(sine(440), device="headset")
        lab.sim.engine.disconnect_device("headset")
        assert tone.finished and sink.closed
        await lab.sleep(0.5)  # no device left to render for: nothing breaks


async def test_a_lab_is_opened_once():
    lab = audiolab.open(clock="virtual")
    async with lab:
        with pytest.raises(ClosedResourceError, match="opened once"):
            async with lab:
                pass
    with pytest.raises(ClosedResourceError, match="opened once"):
        async with lab:
            pass
