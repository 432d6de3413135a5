"""Peak meters measured by the server itself, the way pavucontrol does it.

For each played stream (sink-input) audiolab opens a record stream on its sink's monitor source with the
monitor stream set to that sink-input (``pa_stream_set_monitor_stream``) and ``PA_STREAM_PEAK_DETECT``: the
server then resamples the stream's *rendered* audio (after its volume, mute and any ducking factor) to a few
samples per second, each the peak of its slice, per channel. Each sink also gets one meter on its monitor
source (the mixed device peak). All callbacks run on the event loop thread (pulsectl-asyncio's main loop).

Large-buffer clients (the finding behind ``start_meters`` keeping meters open). A sink runs at the lowest
latency any of its streams asks for. A client with a big buffer (``pacat`` reading a file, default 2 s
``tlength``) alone on a sink lets the sink run at ~2 s latency: the sink renders up to that much of the
stream ahead in one go and then sleeps. The per-stream monitor only receives data as the sink renders it, so a
meter stream opened right then gets nothing until the sink's next wake-up, up to the old latency later
(measured here: first sample 1.1-1.5 s after connecting on PulseAudio 16 with the null sink; a low-latency
client on the same sink makes it ~40 ms). The meter's own tiny ``fragsize`` with ``ADJUST_LATENCY`` does lower
the sink's latency, but only from that next wake-up on; after it the samples arrive steadily. So a short
one-off probe (``get_peak_sample(..., 0.8)``) of such a client reads nothing, while meters kept connected
work for every client: ``start_meters`` opens them all at once and keeps each open for the stream's life,
and a new stream gets its meter as soon as it appears. Expect the first frame of a large-buffer client up to
about 2 s after ``start_meters``. PipeWire's pulse server does not show the delay (its graph runs at the
quantum, not at the client's buffer size), but its per-stream monitor data sometimes pauses for 0.3-0.8 s
(seen on PipeWire 0.3.65 with the null sink), which is why a meter holds its last peak for HOLD_SECONDS
before falling to 0.

Stuck meter streams (the watchdog). On PipeWire 0.3.65 + WirePlumber 0.4.13 a per-stream meter sometimes
never delivers at all, or stops for good after a few samples, although the stream is READY and the graph
shows it linked and running (``pw-link -l``: ``tone:output_FL -> audiolab:input_FL``; ``pw-dump``: both
nodes "running"). Measured: about 1 run in 10 of two tones metered at once on an idle 2-core machine, 10 in
25 with a CPU hog beside it; closing that meter stream and opening a new one for the same sink-input makes it
deliver. Nothing tells the client (no state change, no error), so :class:`PeakMeters` watches its streams
every CHECK_SECONDS: a stream that FAILED or TERMINATED, or one that has delivered no sample for
STALL_SECONDS while its target should be producing data (``expects_data``: the sink-input is uncorked), is
closed and reopened. Reopens are bounded: from the fourth reopen without a sample in between on, each waits
twice as long, and after MAX_REOPENS the stream is left as it is until its target changes. Corked streams are never
reopened (they deliver nothing, by design).

One meter stream per client on PipeWire (the cause of the stalls above). pipewire-pulse 0.3.65 serves only one
record stream of a client on a given monitor source steadily: with a second one on the same connection (the
sink's device meter, a second tone's meter, or a second meter of the same sink-input) the other one gets nothing
or sporadic bursts. Measured with a 440 Hz pacat and 30 Hz meters over 6 s, with a CPU hog beside it: one
per-stream meter alone on its connection, ~46 samples/s and no gap over 40 ms (10 runs of 10); with the device
meter on the same connection, the per-stream meter got 0 to 18 samples in all (gaps up to 4.3 s; 8 runs of 8),
whichever of the two was opened first; two per-stream meters of two tones on one connection: the second got 0
to 3 samples. Neither dropping ADJUST_LATENCY, nor PA_STREAM_DONT_INHIBIT_AUTO_SUSPEND, nor another rate
changed that; each meter on a connection of its own made every stream deliver steadily (every run). So on
PipeWire (``own_connections``) every meter stream gets a connection of its own, opened asynchronously when its
target appears and closed with it; on PulseAudio all meters share the backend's connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from ..._exceptions import BackendDisconnected
from .connection import Connection, _libpulse, c
from .mapping import METER_PROPERTY

HOLD_SECONDS = 0.5
"""A meter that got no new sample since the last read shows its last peak for this long, then 0."""
STALL_SECONDS = 0.5
"""A meter stream whose target should be producing data but that delivered no sample for this long is
reopened (from the fourth reopen without a sample in between on, doubled each time)."""
CHECK_SECONDS = 0.1
"""How often the watchdog looks at the meter streams."""
MAX_REOPENS = 6
"""Reopens of one meter without any sample in between before the watchdog leaves it alone (after 0.5, 0.5, 0.5,
1, 2 and 4 s of silence: 8.5 s in all)."""

# pulsectl's binding has no pa_stream_get_state: bind it from the same libpulse.
_libpulse.pa_stream_get_state.restype = ctypes.c_int
_libpulse.pa_stream_get_state.argtypes = [ctypes.c_void_p]
STREAM_READY, STREAM_FAILED, STREAM_TERMINATED = 2, 3, 4

_FLAGS = c.PA_STREAM_DONT_MOVE | c.PA_STREAM_PEAK_DETECT | c.PA_STREAM_ADJUST_LATENCY
_MAX_CHANNELS = 8


@dataclass
class _Reading:
    pending: list[float] | None = None
    fresh: list[float] | None = None
    """Peaks since the last take_fresh (the ducking measurement's own cursor: it never steals take's peaks)."""
    last: tuple[float, ...] = ()
    last_time: float = -math.inf
    samples: int = 0


class PeakStream:
    """One server-side peak meter: a record stream on ``source``, optionally watching one sink-input."""

    def __init__(self, connection: Connection, source: str, channels: int, rate: int, sink_input: int | None) -> None:
        self.channels = max(1, min(channels, _MAX_CHANNELS))
        self.source = source
        self.sink_input = sink_input
        self.reading = _Reading(last=(0.0,) * self.channels)
        self.opened_at = time.monotonic()
        self.last_sample_at = -math.inf
        """When the last sample arrived (time.monotonic)."""
        self.samples = 0
        """Frames this stream delivered (the reading's count goes on across reopens)."""
        self._stream = None
        spec = c.PA_SAMPLE_SPEC(format=c.PA_SAMPLE_FLOAT32NE, rate=rate, channels=self.channels)
        props = c.pa.proplist_from_string(
            f'{METER_PROPERTY}="1" application.name="audiolab meter" application.id="org.audiolab.meter"'
        )
        try:
            stream = c.pa.stream_new_with_proplist(connection.context, "audiolab peak meter", ctypes.byref(spec), None, props)
        finally:
            c.pa.proplist_free(props)
        if not stream:
            raise OSError("pa_stream_new failed")
        self._stream = stream
        self._callback = c.PA_STREAM_REQUEST_CB_T(self._on_read)
        try:
            if sink_input is not None:
                c.pa.stream_set_monitor_stream(stream, sink_input)
            c.pa.stream_set_read_callback(stream, self._callback, None)
            attr = c.PA_BUFFER_ATTR(maxlength=2**32 - 1, fragsize=4 * self.channels)
            c.pa.stream_connect_record(stream, source.encode(), ctypes.byref(attr), _FLAGS)
        except BaseException:
            self.close()
            raise

    def _on_read(self, stream: object, nbytes: int, userdata: object) -> None:
        size = ctypes.c_int(nbytes)
        data = ctypes.c_void_p()
        try:
            c.pa.stream_peek(stream, ctypes.byref(data), ctypes.byref(size))
        except c.pa.CallError:
            return
        try:
            frames = size.value // (4 * self.channels)
            if data.value and frames:
                values = (ctypes.c_float * (frames * self.channels)).from_address(data.value)
                peaks = self.reading.pending or [0.0] * self.channels
                fresh = self.reading.fresh or [0.0] * self.channels
                for i, v in enumerate(values):
                    ch = i % self.channels
                    v = abs(v)
                    if v > peaks[ch]:
                        peaks[ch] = v
                    if v > fresh[ch]:
                        fresh[ch] = v
                self.reading.pending = peaks
                self.reading.fresh = fresh
                self.reading.samples += frames
                self.samples += frames
                self.last_sample_at = time.monotonic()
        finally:
            if size.value:
                with contextlib.suppress(c.pa.CallError):
                    c.pa.stream_drop(stream)

    def take(self, now: float) -> tuple[float, ...]:
        """Per-channel peaks since the last take (held for HOLD_SECONDS when nothing new came)."""
        reading = self.reading
        if reading.pending is not None:
            reading.last = tuple(min(1.0, v) for v in reading.pending)
            reading.last_time = now
            reading.pending = None
            return reading.last
        if now - reading.last_time <= HOLD_SECONDS:
            return reading.last
        return (0.0,) * self.channels

    def take_fresh(self, now: float) -> tuple[float, ...] | None:
        """Per-channel peaks since the last take_fresh, or None when no new sample came (no hold). Independent
        of :meth:`take`: one meter serves both the user's reads and the ducking measurement."""
        fresh, self.reading.fresh = self.reading.fresh, None
        return None if fresh is None else tuple(min(1.0, v) for v in fresh)

    def state(self) -> int | None:
        """libpulse's pa_stream_state_t of the stream (STREAM_READY...), None once closed."""
        if self._stream is None:
            return None
        return int(_libpulse.pa_stream_get_state(ctypes.cast(self._stream, ctypes.c_void_p)))

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        with contextlib.suppress(c.pa.CallError, ctypes.ArgumentError):
            c.pa.stream_set_read_callback(stream, c.PA_STREAM_REQUEST_CB_T(0), None)
        with contextlib.suppress(c.pa.CallError):
            c.pa.stream_disconnect(stream)
        c.pa.stream_unref(stream)


@dataclass(frozen=True)
class MeterTarget:
    """What should be metered: a sink-input on a sink (``sink_input`` set) or a whole sink."""

    source: str
    channels: int
    sink_input: int | None


@dataclass
class _Watch:
    """The watchdog's view of one meter: since when it should have delivered, and its reopens so far."""

    expected_since: float
    reopens: int = 0


class PeakMeters:
    """The set of open peak streams, kept in step with the streams and sinks that exist, with a watchdog
    that reopens streams that failed or stopped delivering (see the module docstring).

    ``expects_data(target)`` says whether the target should be producing samples now (its sink-input is
    uncorked); only then is a silent meter stream taken for stuck."""

    def __init__(
        self,
        connection: Connection,
        rate: int,
        on_error: Callable[[BaseException], None],
        expects_data: Callable[[MeterTarget], bool] = lambda target: target.sink_input is not None,
        *,
        connect: Callable[[], Awaitable[Connection]] | None = None,
    ) -> None:
        """``connect`` (PipeWire): opens a new connection; each meter stream then gets one of its own."""
        self._connection = connection
        self._connect = connect
        self._own: dict[MeterTarget, Connection] = {}
        self._connecting: dict[MeterTarget, asyncio.Task[None]] = {}
        self._rate = rate
        self._on_error = on_error
        self._expects_data = expects_data
        self._streams: dict[MeterTarget, PeakStream] = {}
        self._watch: dict[MeterTarget, _Watch] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self.reopens = 0
        """Meter streams the watchdog reopened (for statistics and tests)."""

    def _open(self, target: MeterTarget, reading: _Reading | None = None) -> bool:
        connection = self._connection
        if self._connect is not None:
            own = self._own.get(target)
            if own is None or not own.connected:
                self._start_connecting(target, reading)
                return False
            connection = own
        try:
            stream = PeakStream(connection, target.source, target.channels, self._rate, target.sink_input)
        except (c.pa.CallError, OSError, BackendDisconnected) as exc:  # gone meanwhile: next sync or check retries
            self._on_error(exc)
            return False
        if reading is not None:
            stream.reading = reading  # keep the held peak across a reopen
        self._streams[target] = stream
        return True

    def _start_connecting(self, target: MeterTarget, reading: _Reading | None) -> None:
        if target in self._connecting or self._closed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._connecting[target] = loop.create_task(self._connect_for(target, reading))

    async def _connect_for(self, target: MeterTarget, reading: _Reading | None) -> None:
        assert self._connect is not None
        try:
            connection = await self._connect()
        except Exception as exc:  # noqa: BLE001 - the watchdog's next check tries again
            self._on_error(exc)
            return
        finally:
            self._connecting.pop(target, None)
        if self._closed or target not in self._watch:
            connection.close()
            return
        old = self._own.pop(target, None)
        if old is not None:
            self._close_stream(target)
            old.close()
        self._own[target] = connection
        if target not in self._streams:
            self._open(target, reading)

    def _close_stream(self, target: MeterTarget) -> None:
        stream = self._streams.pop(target, None)
        if stream is not None:
            stream.close()

    def _forget(self, target: MeterTarget) -> None:
        self._close_stream(target)
        task = self._connecting.pop(target, None)
        if task is not None:
            task.cancel()
        own = self._own.pop(target, None)
        if own is not None:
            own.close()

    def sync(self, targets: Iterable[MeterTarget]) -> None:
        wanted = set(targets)
        for target in {*self._streams, *self._own, *self._connecting}:
            if target not in wanted:
                self._forget(target)
        for target in list(self._watch):
            if target not in wanted:
                del self._watch[target]
        now = time.monotonic()
        for target in wanted:
            if target not in self._watch:
                self._watch[target] = _Watch(now)
            if target not in self._streams:
                self._open(target)
        self._arm()

    # --- the watchdog ---------------------------------------------------------------------------------------

    def _arm(self) -> None:
        if self._closed or self._timer is not None or not self._watch:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the loop (a test driving sync by hand): check() is called explicitly
            return
        self._timer = loop.call_later(CHECK_SECONDS, self._tick)

    def _tick(self) -> None:
        self._timer = None
        try:
            self.check(time.monotonic())
        except Exception as exc:  # noqa: BLE001 - never let the watchdog break the loop
            self._on_error(exc)
        self._arm()

    def check(self, now: float) -> None:
        """Reopen every stream that failed, or that should deliver and has not for too long."""
        if self._closed or not self._connection.connected:
            return
        for target, watch in list(self._watch.items()):
            if target in self._connecting:
                watch.expected_since = now  # its connection is being opened: not stalled yet
                continue
            stream = self._streams.get(target)
            if stream is not None and stream.samples and stream.last_sample_at >= watch.expected_since:
                watch.reopens = 0  # it delivered since the last (re)open: healthy, the backoff starts over
            state = stream.state() if stream is not None else None
            dead = stream is None or state in (STREAM_FAILED, STREAM_TERMINATED)
            if not dead and not self._expects_data(target):
                watch.expected_since = now  # corked: silence is expected, and does not count
                continue
            quiet = now - max(watch.expected_since, stream.last_sample_at if stream is not None else -math.inf)
            if quiet < STALL_SECONDS * 2 ** max(0, watch.reopens - 2) or watch.reopens >= MAX_REOPENS:
                continue
            reading = None
            if stream is not None:
                reading = stream.reading
                self._streams.pop(target)
                stream.close()
            watch.reopens += 1
            watch.expected_since = now
            self.reopens += 1
            self._open(target, reading)

    def take(self, now: float) -> tuple[dict[int, tuple[float, ...]], dict[str, float]]:
        """Peaks since the last take: per sink-input index (per channel), and per sink monitor source."""
        per_input: dict[int, tuple[float, ...]] = {}
        per_source: dict[str, float] = {}
        for target, stream in self._streams.items():
            peaks = stream.take(now)
            if target.sink_input is None:
                per_source[target.source] = max(peaks, default=0.0)
            else:
                per_input[target.sink_input] = peaks
        return per_input, per_source

    def take_fresh(self, now: float) -> dict[int, tuple[float, ...]]:
        """Peaks per sink-input of the streams that delivered a new sample since the last take."""
        fresh = {}
        for target, stream in self._streams.items():
            if target.sink_input is not None and (peaks := stream.take_fresh(now)) is not None:
                fresh[target.sink_input] = peaks
        return fresh

    @property
    def open_count(self) -> int:
        return len(self._streams)

    def close(self) -> None:
        self._closed = True
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        for stream in self._streams.values():
            stream.close()
        self._streams.clear()
        self._watch.clear()
        for task in self._connecting.values():
            task.cancel()
        self._connecting.clear()
        for own in self._own.values():
            own.close()
        self._own.clear()
