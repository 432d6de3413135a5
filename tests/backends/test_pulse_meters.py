"""Peak meters measured by the server, checked with known signals."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest

from tests.servers import AudioServer

from .conftest import Running, both, start_backend, stop_backend

pytestmark = [pytest.mark.anyio]


async def _peak_of(running: Running, session_id: str, timeout: float, wanted: float, tol: float) -> float:
    """Read meters every 50 ms until the session's peak is ``wanted`` (or time runs out); the last peak."""
    deadline = time.monotonic() + timeout
    peak = 0.0
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        peak = running.backend.read_meters().peaks.get(session_id, 0.0)
        if abs(peak - wanted) <= tol:
            return peak
    return peak


@both
@pytest.mark.parametrize("latency_msec", [20, None], ids=["low-latency", "large-buffer"])
async def test_tone_of_half_amplitude_meters_half(server, running: Running, latency_msec) -> None:  # type: ignore[no-untyped-def]
    server.play_tone(0.5, client_name="meter-tone", latency_msec=latency_msec)
    (session,) = await running.wait_sessions("meter-tone")
    await running.backend.start_meters()
    try:
        # A large-buffer client alone on a sink: first data only after the sink's next wake-up (see meters.py).
        peak = await _peak_of(running, session.id, 10.0, 0.5, 0.02)
        assert peak == pytest.approx(0.5, abs=0.02)
        frame = running.backend.read_meters()
        assert len(frame.channel_peaks[session.id]) == 2
        # Steady afterwards: every read over the next second sees the tone (on PipeWire too, where each meter
        # stream has a connection of its own: see meters.py).
        peaks = []
        for _ in range(10):
            await asyncio.sleep(0.1)
            peaks.append(running.backend.read_meters().peaks[session.id])
        hits = sum(abs(p - 0.5) <= 0.02 for p in peaks)
        assert max(peaks) == pytest.approx(0.5, abs=0.02)
        # The bug this guards against read mostly zeros; a starved 20 ms client may underrun once under load.
        assert hits >= 8, peaks
    finally:
        await running.backend.stop_meters()


@both
async def test_meter_is_after_volume_cubic(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    server.play_tone(0.5, client_name="quiet-tone")
    (session,) = await running.wait_sessions("quiet-tone")
    await running.backend.set_volume(session.id, 0.5)  # gain 0.5 ** 3 = 0.125
    await running.backend.start_meters()
    try:
        peak = await _peak_of(running, session.id, 8.0, 0.0625, 0.005)
        assert peak == pytest.approx(0.0625, abs=0.005)
        await running.backend.set_mute(session.id, True)
        peak = await _peak_of(running, session.id, 8.0, 0.0, 0.001)
        assert peak == pytest.approx(0.0, abs=0.001)
    finally:
        await running.backend.stop_meters()


@both
async def test_two_sessions_metered_apart_and_device_peak(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    server.play_tone(0.5, client_name="loud")
    server.play_tone(0.1, client_name="soft")
    (loud,) = await running.wait_sessions("loud")
    (soft,) = await running.wait_sessions("soft")
    await running.backend.start_meters()
    try:
        # Up to 8 s: a PipeWire meter stream that never delivers is reopened by the watchdog (see meters.py).
        assert await _peak_of(running, loud.id, 8.0, 0.5, 0.02) == pytest.approx(0.5, abs=0.02)
        assert await _peak_of(running, soft.id, 8.0, 0.1, 0.01) == pytest.approx(0.1, abs=0.01)
        frame = running.backend.read_meters()
        assert server.sink in frame.device_peaks
    finally:
        await running.backend.stop_meters()
    assert running.backend.statistics().meter_streams == 0


@pytest.mark.pipewire
@pytest.mark.parametrize("server", ["pipewire"], indirect=True)
async def test_pipewire_meter_streams_share_a_few_connections(server) -> None:  # type: ignore[no-untyped-def]
    """The pulse-protocol path on PipeWire (native_meters=False, also the fallback without libpipewire).
    pipewire-pulse serves about one record stream of a client per graph cycle (see meters.py): on PipeWire the
    two tones' meters share a connection of the meters' own (at most PIPEWIRE_STREAMS_PER_CONNECTION each) and
    get their peaks in batches; the sink's meter, the pacer, has one of its own; stop_meters closes them."""
    running = await start_backend(server.address, native_meters=False)
    try:
        await _share_a_few_connections(server, running)
    finally:
        await stop_backend(running)


async def _share_a_few_connections(server: AudioServer, running: Running) -> None:
    from audiolab.backends._pulse.mapping import METER_PROPERTY

    server.play_tone(0.5, client_name="first")
    server.play_tone(0.1, client_name="second")
    (first,) = await running.wait_sessions("first")
    (second,) = await running.wait_sessions("second")
    await running.backend.start_meters()
    try:
        assert running.backend._pipewire
        assert await _peak_of(running, first.id, 8.0, 0.5, 0.02) == pytest.approx(0.5, abs=0.02)
        assert await _peak_of(running, second.id, 8.0, 0.1, 0.01) == pytest.approx(0.1, abs=0.01)

        def meter_clients() -> list[str]:
            outputs = [o for o in _parse(server.pactl("list", "source-outputs")) if o.get(METER_PROPERTY) == "1"]
            return [o["client"] for o in outputs]

        deadline = time.monotonic() + 5
        while len(meter_clients()) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        clients = meter_clients()
        assert len(clients) == 3 and len(set(clients)) == 2, clients
        assert running.backend._metering.active is not None and running.backend._metering.active.connection_count == 2
        # Both tones keep being metered, over a second (a starved client may underrun once under load).
        frames = []
        for _ in range(10):
            await asyncio.sleep(0.1)
            frames.append(running.backend.read_meters())
        assert sum(abs(f.peaks[first.id] - 0.5) <= 0.02 for f in frames) >= 8, [f.peaks for f in frames]
        assert sum(abs(f.peaks[second.id] - 0.1) <= 0.01 for f in frames) >= 8, [f.peaks for f in frames]
        assert all(f.peaks[first.id] <= 0.52 and f.peaks[second.id] <= 0.11 for f in frames)
    finally:
        await running.backend.stop_meters()
    deadline = time.monotonic() + 5
    while "audiolab meter" in server.pactl("list", "clients") and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert "audiolab meter" not in server.pactl("list", "clients")


def _parse(text: str) -> list[dict[str, str]]:
    from tests.servers import _parse_pactl_list

    return _parse_pactl_list(text)


@both
async def test_capture_session_meters_what_it_records(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    """A recorder of the sink's monitor while a 0.5 tone plays: its capture session reads 0.5, and 0.5 times its
    own gain (0.5 ** 3) once its volume is 0.5."""
    from audiolab.model import Flow

    server.play_tone(0.5, client_name="played")
    server.record(client_name="recorder")
    (recorder,) = await running.wait_sessions("recorder")
    assert recorder.flow is Flow.CAPTURE
    await running.backend.start_meters()
    try:
        assert await _peak_of(running, recorder.id, 8.0, 0.5, 0.02) == pytest.approx(0.5, abs=0.02)
        await running.backend.set_volume(recorder.id, 0.5)
        assert await _peak_of(running, recorder.id, 8.0, 0.0625, 0.005) == pytest.approx(0.0625, abs=0.005)
    finally:
        await running.backend.stop_meters()


# --- the meters' watchdog, with fake streams (no server) ---------------------------------------------------


class _FakeStream:
    def __init__(self, *args: object) -> None:
        from audiolab.backends._pulse.peak_stream import STREAM_READY, Reading

        self.reading = Reading(last=(0.0, 0.0))
        self.samples = 0
        self.last_sample_at = float("-inf")
        self.current = STREAM_READY
        self.closed = False
        self.opened_at = T0

    def state(self) -> int:
        return self.current

    def close(self) -> None:
        self.closed = True


T0 = 1000.0
"""The meters module's clock while the watchdog is tested: every check() gets its time explicitly."""


def _watched(monkeypatch, expects: dict[int, bool]):  # type: ignore[no-untyped-def]
    from audiolab.backends._pulse import meters

    class Conn:
        connected = True

    monkeypatch.setattr(meters, "PeakStream", _FakeStream)
    monkeypatch.setattr(meters, "time", SimpleNamespace(monotonic=lambda: T0))  # the watch starts at T0 exactly
    pm = meters.PeakMeters(Conn(), 30, lambda exc: None, lambda t: expects.get(t.sink_input, False))  # type: ignore[arg-type]
    target = meters.MeterTarget("sink.monitor", 2, 7)
    pm.sync([target])
    return meters, pm, target


def test_watchdog_reopens_a_silent_uncorked_meter_with_bounded_backoff(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    meters, pm, target = _watched(monkeypatch, {7: True})
    t0 = T0
    first = pm._streams[target]
    pm.check(t0 + 0.4)
    assert pm.reopens == 0
    pm.check(t0 + 1.1)
    assert pm.reopens == 1 and first.closed and pm._streams[target] is not first
    assert pm._streams[target].reading is first.reading  # the held peak survives the reopen
    times, t = [], t0 + 1.1
    while t < t0 + 60:
        t += 0.25
        before = pm.reopens
        pm.check(t)
        if pm.reopens != before:
            times.append(round(t - t0, 2))
    assert pm.reopens == meters.MAX_REOPENS  # then it is left alone
    gaps = [round(b - a, 2) for a, b in zip([1.1, *times], times, strict=False)]
    assert gaps == [0.5, 0.5, 1.0, 2.0, 4.0]


def test_watchdog_leaves_corked_and_delivering_meters_alone(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    expects = {7: False}
    meters, pm, target = _watched(monkeypatch, expects)
    t0 = T0
    for k in range(40):
        pm.check(t0 + k * 0.25)
    assert pm.reopens == 0  # corked: silence is expected
    expects[7] = True
    stream = pm._streams[target]
    for k in range(40, 80):
        now = t0 + k * 0.25
        stream.samples += 1
        stream.last_sample_at = now
        pm.check(now)
    assert pm.reopens == 0  # delivering
    stream.current = meters.STREAM_FAILED
    pm.check(t0 + 80 * 0.25 + 1.1)
    assert pm.reopens == 1 and stream.closed  # a failed stream is reopened
