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
(seen on PipeWire 0.3.65 with the null sink; not yet explained), which is why a meter holds its last peak
for HOLD_SECONDS before falling to 0.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .connection import Connection, c
from .mapping import METER_PROPERTY

HOLD_SECONDS = 0.5
"""A meter that got no new sample since the last read shows its last peak for this long, then 0."""

_FLAGS = c.PA_STREAM_DONT_MOVE | c.PA_STREAM_PEAK_DETECT | c.PA_STREAM_ADJUST_LATENCY
_MAX_CHANNELS = 8


@dataclass
class _Reading:
    pending: list[float] | None = None
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
                for i, v in enumerate(values):
                    ch = i % self.channels
                    v = abs(v)
                    if v > peaks[ch]:
                        peaks[ch] = v
                self.reading.pending = peaks
                self.reading.samples += frames
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
        """Per-channel peaks since the last take, or None when no new sample came (no hold)."""
        return None if self.reading.pending is None else self.take(now)

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


class PeakMeters:
    """The set of open peak streams, kept in step with the streams and sinks that exist."""

    def __init__(self, connection: Connection, rate: int, on_error: Callable[[BaseException], None]) -> None:
        self._connection = connection
        self._rate = rate
        self._on_error = on_error
        self._streams: dict[MeterTarget, PeakStream] = {}

    def sync(self, targets: Iterable[MeterTarget]) -> None:
        wanted = set(targets)
        for target in list(self._streams):
            if target not in wanted:
                self._streams.pop(target).close()
        for target in wanted:
            if target not in self._streams:
                try:
                    self._streams[target] = PeakStream(
                        self._connection, target.source, target.channels, self._rate, target.sink_input
                    )
                except (c.pa.CallError, OSError) as exc:  # the stream vanished meanwhile: next sync retries
                    self._on_error(exc)

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
        for stream in self._streams.values():
            stream.close()
        self._streams.clear()
