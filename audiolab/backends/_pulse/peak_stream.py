"""One server-side peak meter: a libpulse record stream with PEAK_DETECT, the way pavucontrol meters.

The stream records from a source (a sink's monitor, or a capture device) and, with
``pa_stream_set_monitor_stream``, only one sink-input's *rendered* audio (after its volume, mute and any ducking
factor). With ``PA_STREAM_PEAK_DETECT`` the server resamples to ``rate`` samples per second, each the peak of its
slice, per channel, and sends them ``fragment_frames`` at a time. Callbacks run on the event loop thread
(pulsectl-asyncio's main loop); the read callback only folds the samples into a :class:`Reading`.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import time
from dataclasses import dataclass

from pulsectl import _pulsectl as c

from .connection import Connection, _libpulse
from .mapping import METER_PROPERTY

HOLD_SECONDS = 0.5
"""A meter that got no new sample since the last read shows its last peak for this long, then 0."""

# pulsectl's binding has no pa_stream_get_state: bind it from the same libpulse.
_libpulse.pa_stream_get_state.restype = ctypes.c_int
_libpulse.pa_stream_get_state.argtypes = [ctypes.c_void_p]
STREAM_READY, STREAM_FAILED, STREAM_TERMINATED = 2, 3, 4

_FLAGS = c.PA_STREAM_DONT_MOVE | c.PA_STREAM_PEAK_DETECT | c.PA_STREAM_ADJUST_LATENCY
_MAX_CHANNELS = 8


@dataclass
class Reading:
    """What one meter measured: peaks not yet taken, and the last peak shown (held across reopens)."""

    pending: list[float] | None = None
    fresh: list[float] | None = None
    """Peaks since the last take_fresh (the ducking measurement's own cursor: it never steals take's peaks)."""
    last: tuple[float, ...] = ()
    last_time: float = -math.inf
    samples: int = 0

    def take(self, now: float, hold: float = HOLD_SECONDS) -> tuple[float, ...]:
        """Per-channel peaks since the last take (the last ones for ``hold`` seconds when nothing new came)."""
        if self.pending is not None:
            self.last = tuple(min(1.0, v) for v in self.pending)
            self.last_time = now
            self.pending = None
            return self.last
        if now - self.last_time <= hold:
            return self.last
        return (0.0,) * len(self.last)

    def take_fresh(self) -> tuple[float, ...] | None:
        """Per-channel peaks since the last take_fresh, or None when no new sample came (no hold)."""
        fresh, self.fresh = self.fresh, None
        return None if fresh is None else tuple(min(1.0, v) for v in fresh)


class PeakStream:
    """One server-side peak meter: a record stream on ``source``, optionally watching one sink-input."""

    def __init__(
        self,
        connection: Connection,
        source: str,
        channels: int,
        rate: int,
        sink_input: int | None,
        fragment_frames: int = 1,
    ) -> None:
        """``rate`` peak samples per second; the server sends them ``fragment_frames`` at a time."""
        self.channels = max(1, min(channels, _MAX_CHANNELS))
        self.source = source
        self.sink_input = sink_input
        self.reading = Reading(last=(0.0,) * self.channels)
        self.opened_at = time.monotonic()
        """When it was created (time.monotonic)."""
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
            attr = c.PA_BUFFER_ATTR(maxlength=2**32 - 1, fragsize=4 * self.channels * max(1, fragment_frames))
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
                    peaks[ch] = max(peaks[ch], v)
                    fresh[ch] = max(fresh[ch], v)
                self.reading.pending = peaks
                self.reading.fresh = fresh
                self.reading.samples += frames
                self.samples += frames
                self.last_sample_at = time.monotonic()
        finally:
            if size.value:
                with contextlib.suppress(c.pa.CallError):
                    c.pa.stream_drop(stream)

    def take(self, now: float, hold: float = HOLD_SECONDS) -> tuple[float, ...]:
        """Per-channel peaks since the last take (held for ``hold`` seconds when nothing new came)."""
        return self.reading.take(now, hold)

    def take_fresh(self, now: float) -> tuple[float, ...] | None:
        """Per-channel peaks since the last take_fresh, or None when no new sample came (no hold). Independent
        of :meth:`take`: one meter serves both the user's reads and the ducking measurement."""
        return self.reading.take_fresh()

    def state(self) -> int | None:
        """libpulse's pa_stream_state_t of the stream (STREAM_READY...), None once closed."""
        if self._stream is None:
            return None
        return int(_libpulse.pa_stream_get_state(ctypes.cast(self._stream, ctypes.c_void_p)))

    def close(self) -> None:
        """Disconnect and release the record stream (idempotent)."""
        stream, self._stream = self._stream, None
        if stream is None:
            return
        with contextlib.suppress(c.pa.CallError, ctypes.ArgumentError):
            c.pa.stream_set_read_callback(stream, c.PA_STREAM_REQUEST_CB_T(0), None)
        with contextlib.suppress(c.pa.CallError):
            c.pa.stream_disconnect(stream)
        c.pa.stream_unref(stream)
