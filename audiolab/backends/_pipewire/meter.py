"""Native PipeWire peak meters: one capture stream of audiolab's own per metered node, outside pipewire-pulse.

Why: over the pulse protocol every per-stream meter is a record stream inside pipewire-pulse, which costs it
~1.3 MB and a graph-to-main-loop hand-over per graph cycle each, and pipewire-pulse 0.3.65 serves ~128 streams in
all (see :mod:`.._pulse.meters` and :mod:`.._pulse.meter_view`). Here audiolab is a PipeWire client itself: one
``pw_thread_loop`` and one core connection to the PipeWire daemon, and per metered node a ``pw_stream`` capture
stream with ``target.object`` = that node. pipewire-pulse's sink-input index *is* the stream node's global id, so
a :class:`MeterTarget` names its node directly; a sink's monitor is its sink node captured with
``stream.capture.sink``. WirePlumber links the stream to its target's output ports (beside the link to the sink),
so the meter reads what the stream renders, after its volume and mute.

The stream asks for interleaved F32 at the graph rate with the target's channel count and PulseAudio's default
positions (so nothing is resampled or remixed; ``stream.dont-remix`` too). Its process callback runs on the
thread loop's thread, not in the graph's realtime thread (no ``PW_STREAM_FLAG_RT_PROCESS``): the data thread only
queues the buffer and wakes the loop, so a slow Python callback never delays the graph; if it falls behind,
buffers are dropped for the meter alone. The callback takes the peak per channel of each buffer.

The streams are marked: ``audiolab.meter`` (mapping.METER_PROPERTY, which pipewire-pulse passes on as a
source-output property, so the session list leaves them out), ``node.passive`` (they never keep a target or the
graph running), ``node.dont-reconnect`` (a meter whose target goes away is not moved to the default source), and
no ``media.role`` (no role-based policy touches them).

Measured on the test server (PipeWire 0.3.65, WirePlumber 0.4.13, 2 cores shared with other test runs):

- 40 pacat tones (50 ms buffers): 40 of 40 read within 0.02 on every read from 3 s after ``start_meters`` on,
  still after 30 s; pipewire-pulse +25 MB RSS once (it mirrors the 41 meter nodes as source-outputs), then
  flat, +1-3 % of a core; the PipeWire daemon +64 MB (1.6 MB a meter: nodes, ports, links, buffers) and +4 %
  of a core; audiolab itself ~13 % of a core (about 3,500 process callbacks a second at the 512-frame
  quantum those clients ask for, ~40 us each, of which the peaks take ~10: the rest is ctypes and the GIL).
- 100 pacat tones with 2 s buffers (paplay's): every tone read right once linked (87 of 100 still unlinked 3 s
  after ``start_meters``, all right 20 s later); the PipeWire daemon +200 MB. 100 pacat tones with 50 ms buffers
  already overload pipewire-pulse 0.3.65 without meters ("loop_invoke() queue full"); adding 101 meter nodes
  to that graph stopped it (every meter, the sink's too, read 0), while the sink's meter alone read the mix:
  such a server is past what it can play, metered or not.
- Under WirePlumber 0.4's endpoints policy the per-stream meter streams are never linked (they read 0 in 3 runs
  of 3; no crash either): that policy routes streams to endpoints and ignores ``target.object`` naming a stream
  node, so there the backend meters the endpoint sinks only (see meter_view).
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .._pulse.mapping import METER_PROPERTY
from .._pulse.meters import MeterTarget, split_peaks
from .._pulse.peak_stream import HOLD_SECONDS, Reading
from . import lib
from .pod import audio_f32_format

__all__ = ["NativeMeters", "NativeUnavailable"]

NativeUnavailable = lib.NativeUnavailable

_memory = ctypes.pythonapi.PyMemoryView_FromMemory  # a view of the mapped buffer, no copy (cheaper than ctypes arrays)
_memory.restype = ctypes.py_object
_memory.argtypes = [ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_int]
_READ_ONLY = 0x100  # PyBUF_READ

REOPEN_SECONDS = 1.0
"""A meter stream in the error state (or disconnected) is reopened after this long, while its target is wanted."""
SILENT_SECONDS = 5.0
"""A meter stream linked (streaming) this long without one buffer while its target plays is reopened (seen: 1 of
100 streams linked at once never delivered). WirePlumber 0.4 takes seconds to link many streams at once (2 s
for 40, 10 s for 100 here), so this counts from the streaming state, not from the stream's creation."""
MAX_REOPENS = 3
"""Reopens of one meter stream in a row (failed, or silent while streaming); then it is left as it is until its
target changes (a dead PipeWire connection is not retried forever: the backend notices its server's loss)."""
LATENCY_FRAMES = 2048
"""The latency the meter streams ask for: the largest default quantum, so a meter never lowers the graph's."""


@dataclass(eq=False)
class _Stream:
    """One native meter stream and what it measured."""

    target: MeterTarget
    channels: int
    handle: int
    hook: lib.SpaHook
    reading: Reading
    opened_at: float
    samples: int = 0
    state: int = lib.STATE_CONNECTING
    error: str = ""
    streaming_since: float | None = None
    """When it was last seen streaming without having delivered (for the silence check)."""
    reopens: int = 0
    """Reopens of its target in a row before this stream (it delivered nothing in between)."""


class NativeMeters:
    """The meter service of one PipeWire server through libpipewire: :class:`MeterTarget` in, peaks out (the
    same interface as :class:`.._pulse.meters.PeakMeters`). Raises NativeUnavailable when libpipewire cannot be
    loaded or the PipeWire daemon does not answer at ``remote`` (a socket name or path; None: libpipewire's
    default, ``PIPEWIRE_REMOTE`` or ``pipewire-0`` in ``PIPEWIRE_RUNTIME_DIR``/``XDG_RUNTIME_DIR``)."""

    def __init__(self, rate: int, remote: str | None = None, on_error: Callable[[BaseException], None] = lambda e: None,
                 expects_data: Callable[[MeterTarget], bool] = lambda target: target.sink_input is not None,
                 *, hold: float = HOLD_SECONDS) -> None:
        """``expects_data(target)``: whether the target plays now (an uncorked sink-input), so a meter of it
        that never delivers is taken for stuck and reopened."""
        self._lib = lib.load()
        self._rate = rate
        self._hold = hold
        self._on_error = on_error
        self._expects_data = expects_data
        self._lock = threading.Lock()
        """Guards the readings between the loop thread (callbacks) and the caller's thread."""
        self._streams: dict[MeterTarget, _Stream] = {}
        self._by_key: dict[int, _Stream] = {}
        self._next_key = 1
        self._closed = False
        self.reopens = 0
        """Meter streams reopened after an error (for statistics and tests)."""
        self._events = lib.StreamEvents(version=lib.STREAM_EVENTS_VERSION, state_changed=lib.STATE_CB(self._on_state),
                                        process=lib.PROCESS_CB(self._on_process))
        self._loop = self._lib.pw_thread_loop_new(b"audiolab-meters", None)
        if not self._loop:
            raise NativeUnavailable("pw_thread_loop_new failed")
        self._context = self._lib.pw_context_new(self._lib.pw_thread_loop_get_loop(self._loop), None, 0)
        if not self._context:
            self._lib.pw_thread_loop_destroy(self._loop)
            raise NativeUnavailable("pw_context_new failed")
        if self._lib.pw_thread_loop_start(self._loop) < 0:
            self._destroy()
            raise NativeUnavailable("pw_thread_loop_start failed")
        props = {"application.name": "audiolab meter", METER_PROPERTY: "1"}
        if remote is not None:
            props["remote.name"] = remote
        self._core = None
        with self._locked():
            self._core = self._lib.pw_context_connect(self._context, lib.properties(props), 0)
        if not self._core:
            self._destroy()
            where = remote or "libpipewire's default remote"
            raise NativeUnavailable(f"no PipeWire daemon answered at {where}")

    def _locked(self) -> _LoopLock:
        return _LoopLock(self._lib, self._loop)

    # --- callbacks (the loop thread, the loop lock held) ----------------------------------------------------

    def _on_state(self, key: int | None, old: int, state: int, error: bytes | None) -> None:
        stream = self._by_key.get(key or 0)
        if stream is not None:
            stream.state = state
            stream.error = (error or b"").decode(errors="replace")

    def _on_process(self, key: int | None) -> None:
        stream = self._by_key.get(key or 0)
        if stream is None:
            return
        buffer = self._lib.pw_stream_dequeue_buffer(stream.handle)
        if not buffer:
            return
        try:
            address, frames = lib.audio_of(buffer, stream.channels)
            if frames <= 0:
                return
            view = _memory(address, frames * stream.channels * 4, _READ_ONLY)
            magnitudes = np.abs(np.frombuffer(view, np.float32))
            # one strided max per channel: 4-5x cheaper than a reduction over axis 0 of a (frames, 2) array
            peaks = [float(magnitudes[ch::stream.channels].max()) for ch in range(stream.channels)]
            with self._lock:
                reading = stream.reading
                pending, fresh = reading.pending, reading.fresh
                reading.pending = peaks if pending is None else list(map(max, pending, peaks))
                reading.fresh = peaks if fresh is None else list(map(max, fresh, peaks))
                reading.samples += frames
                stream.samples += frames
        finally:
            self._lib.pw_stream_queue_buffer(stream.handle, buffer)

    # --- streams --------------------------------------------------------------------------------------------

    def _open(self, target: MeterTarget, reading: Reading | None = None) -> None:
        channels = max(1, min(target.channels, 8))
        props = {
            "media.type": "Audio", "media.category": "Capture", "media.name": "audiolab peak meter",
            "node.name": "audiolab-meter", "application.name": "audiolab meter",
            "application.id": "org.audiolab.meter", METER_PROPERTY: "1",
            "node.passive": "true", "node.dont-reconnect": "true", "stream.dont-remix": "true",
            "node.latency": f"{LATENCY_FRAMES}/{self._rate}",
        }
        if target.sink_input is not None:
            props["target.object"] = str(target.sink_input)
        elif target.source.endswith(".monitor"):
            props["target.object"] = target.source.removesuffix(".monitor")
            props["stream.capture.sink"] = "true"
        else:
            props["target.object"] = target.source
        key, self._next_key = self._next_key, self._next_key + 1
        pod = audio_f32_format(self._rate, channels)
        pod_buffer = ctypes.create_string_buffer(pod, len(pod))  # alive until pw_stream_connect has copied it
        params = (ctypes.c_void_p * 1)(ctypes.addressof(pod_buffer))
        flags = lib.FLAG_AUTOCONNECT | lib.FLAG_MAP_BUFFERS | lib.FLAG_DONT_RECONNECT
        with self._locked():
            handle = self._lib.pw_stream_new(self._core, b"audiolab peak meter", lib.properties(props))
            if not handle:
                raise NativeUnavailable("pw_stream_new failed")
            stream = _Stream(target, channels, handle, lib.SpaHook(), reading or Reading(last=(0.0,) * channels),
                             time.monotonic())
            self._by_key[key] = stream
            self._lib.pw_stream_add_listener(handle, ctypes.byref(stream.hook), ctypes.byref(self._events), key)
            result = self._lib.pw_stream_connect(handle, lib.DIRECTION_INPUT, lib.ID_ANY, flags, params, 1)
            if result < 0:
                del self._by_key[key]
                self._lib.pw_stream_destroy(handle)
                raise NativeUnavailable(f"pw_stream_connect failed ({result})")
        self._streams[target] = stream

    def _close(self, stream: _Stream) -> None:
        with self._locked():
            for key, known in list(self._by_key.items()):
                if known is stream:
                    del self._by_key[key]
            self._lib.pw_stream_destroy(stream.handle)

    def sync(self, targets: Iterable[MeterTarget]) -> None:
        """Meter exactly ``targets`` from now on: open what is new, close what is gone, reopen what failed."""
        wanted = set(targets)
        for target in [t for t in self._streams if t not in wanted]:
            self._close(self._streams.pop(target))
        for target in wanted:
            if target not in self._streams:
                self._try_open(target)
        self.check(time.monotonic())

    def check(self, now: float) -> None:
        """Reopen the streams that ended in an error (or were disconnected) more than REOPEN_SECONDS ago, and
        those streaming for SILENT_SECONDS without a buffer while their target plays; MAX_REOPENS in a row."""
        for target, stream in list(self._streams.items()):
            if stream.reopens >= MAX_REOPENS:
                continue
            if stream.state in (lib.STATE_ERROR, lib.STATE_UNCONNECTED):
                if now - stream.opened_at >= REOPEN_SECONDS:
                    self._reopen(stream)
                continue
            if stream.samples or stream.state != lib.STATE_STREAMING or not self._expects_data(target):
                stream.streaming_since = None
            elif stream.streaming_since is None:
                stream.streaming_since = now
            elif now - stream.streaming_since >= SILENT_SECONDS:
                self._reopen(stream)

    def _reopen(self, stream: _Stream) -> None:
        self._close(self._streams.pop(stream.target))
        self.reopens += 1
        if self._try_open(stream.target, stream.reading):
            self._streams[stream.target].reopens = 0 if stream.samples else stream.reopens + 1

    def _try_open(self, target: MeterTarget, reading: Reading | None = None) -> bool:
        try:
            self._open(target, reading)
        except NativeUnavailable as exc:  # the next sync or check tries again
            self._on_error(exc)
            return False
        return True

    @property
    def delivering(self) -> int:
        """Meter streams that delivered audio since they were opened."""
        return sum(1 for stream in self._streams.values() if stream.samples)

    # --- readings -------------------------------------------------------------------------------------------

    def take(self, now: float) -> tuple[dict[int, tuple[float, ...]], dict[str, tuple[float, ...]]]:
        """Peaks per channel since the last take: per sink-input index, and per metered source (streams that
        failed are reopened first)."""
        self.check(now)
        with self._lock:
            return split_peaks([(target, stream.reading.take(now, self._hold)) for target, stream in self._streams.items()])

    def take_fresh(self, now: float) -> dict[int, tuple[float, ...]]:
        """Peaks per sink-input of the streams that delivered a new sample since the last take_fresh."""
        fresh = {}
        with self._lock:
            for target, stream in self._streams.items():
                if target.sink_input is not None and (peaks := stream.reading.take_fresh()) is not None:
                    fresh[target.sink_input] = peaks
        return fresh

    def states(self) -> dict[MeterTarget, int]:
        """Each meter stream's pw_stream_state (lib.STATE_STREAMING...)."""
        return {target: stream.state for target, stream in self._streams.items()}

    @property
    def open_count(self) -> int:
        """Meter streams open now."""
        return len(self._streams)

    @property
    def connection_count(self) -> int:
        """Connections of the meters' own: the one PipeWire core connection."""
        return 0 if self._closed else 1

    def close(self) -> None:
        """Destroy every meter stream, the core connection and the loop thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for stream in self._streams.values():
            self._close(stream)
        self._streams.clear()
        self._destroy()

    def _destroy(self) -> None:
        if getattr(self, "_core", None):
            with self._locked():
                self._lib.pw_core_disconnect(self._core)
            self._core = None
        self._lib.pw_thread_loop_stop(self._loop)
        self._lib.pw_context_destroy(self._context)
        self._lib.pw_thread_loop_destroy(self._loop)


class _LoopLock:
    """``with`` the thread loop's lock held (ctypes releases the GIL while waiting for it)."""

    def __init__(self, library: ctypes.CDLL, loop: int) -> None:
        self._lib, self._loop = library, loop

    def __enter__(self) -> None:
        self._lib.pw_thread_loop_lock(self._loop)

    def __exit__(self, *exc: object) -> None:
        self._lib.pw_thread_loop_unlock(self._loop)
