"""The pulse-protocol meter service: server-side peak meters for every stream and device, one set per backend.

Used on PulseAudio, and on PipeWire only when the native meters (:mod:`.._pipewire.meter`, which hold at 100
streams without costing pipewire-pulse a stream each) cannot be used or are turned off (``native_meters=False``).

For each played stream (sink-input) audiolab opens a record stream on its sink's monitor source with the
monitor stream set to that sink-input (``pa_stream_set_monitor_stream``) and ``PA_STREAM_PEAK_DETECT``: the
server then resamples the stream's *rendered* audio (after its volume, mute and any ducking factor) to a few
samples per second, each the peak of its slice, per channel. Each sink also gets one meter on its monitor
source (the mixed device peak). All callbacks run on the event loop thread (pulsectl-asyncio's main loop). The record stream itself is
:class:`.peak_stream.PeakStream`.

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

Connections and batches on PipeWire (what holds at 40+ streams). pipewire-pulse 0.3.65 hands a client's
record data to it from its main loop, once per graph cycle and stream (``do_process_done``), and a stream whose
client already has a message waiting to be written is skipped for that cycle: so per client connection about one
record stream is served per graph cycle, and the stream served first in the graph order wins whenever it has
data. With one peak sample per message (pavucontrol's ``fragsize``, one frame) at 30 samples per second, a
connection serves about three streams; the rest starve (pavucontrol's method: 7-14 of 30 tones read right). A
connection per stream (audiolab until 2026-11) reads right up to ~40 but costs the server a PipeWire client per
meter (+2 MB RSS each, beside the ~1.3 MB every record stream costs) and, at 25-30 streams with the watchdog
reopening the streams that starved while their connections were still being made, collapsed (5 of 30 right,
125 reopens, 836 "loop_invoke() queue full" warnings, 65 -> 333 MB in 6 s). What holds:

- the per-stream meters share connections, at most PIPEWIRE_STREAMS_PER_CONNECTION each, and the server sends
  their peaks in batches of PIPEWIRE_BATCH_SECONDS (a ``fragsize`` of several frames), so each is ready a few
  times a second and a connection's streams all get served;
- each sink's own meter is the *pacer*: one sample a message (so it asks for a 33 ms latency) alone on its
  connection. A batch's length is also the latency a record stream asks for, so without it a graph of
  large-buffer clients (paplay, pacat's default 2 s) runs at 170 ms quanta, ~6 cycles a second, too few to serve
  eight streams a connection (17-19 of 40 tones read right); with it the graph runs at ~21 ms quanta while
  meters are on, as it does under pavucontrol's meters, which costs the server more cycles for such clients;
- at most MAX_CREATING streams are created at once, and the watchdog leaves a stream alone while it is created.

Measured with 40 pacat tones on the test server, 50 ms or 2 s buffers: 40 of 40 read right from 0.3-1 s on,
with 6 connections. pipewire-pulse's per-stream monitor still, now and then, never delivers or stops for good
(READY, linked, no error): the watchdog above reopens such a stream on its connection, within the PipeWire
hold time. On PulseAudio every meter shares the backend's connection and samples come one at a time (the
server serves every stream).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from pulsectl import _pulsectl as c

from ..._by_fields import by_fields
from ..._exceptions import AudiolabError, BackendDisconnected
from .connection import Connection
from .peak_stream import (
    HOLD_SECONDS,
    STREAM_FAILED,
    STREAM_READY,
    STREAM_TERMINATED,
    PeakStream,
    Reading,
)

_SETTLED = (STREAM_READY, STREAM_FAILED, STREAM_TERMINATED)

__all__ = ["HOLD_SECONDS", "STREAM_READY", "MeterTarget", "PeakMeters", "split_peaks"]

STALL_SECONDS = 0.5
"""A meter stream whose target should be producing data but that delivered no sample for this long (or four
batches, when longer) is reopened (from the fourth reopen without a sample in between on, doubled each time)."""
CHECK_SECONDS = 0.1
"""How often the watchdog looks at the meter streams."""
MAX_REOPENS = 6
"""Reopens of one meter without any sample in between before the watchdog leaves it alone (after 0.5, 0.5, 0.5,
1, 2 and 4 s of silence: 8.5 s in all)."""
CREATE_SECONDS = 10.0
"""A meter stream still being created after this long is reopened. Until then it is not taken for stalled:
pipewire-pulse takes seconds to create dozens of streams at once, and reopening them then only adds to its work
(the collapse described above)."""
MAX_CREATING = 8
"""Meter streams being created at once; more wait for the watchdog's next check (a burst of dozens of stream
creations is what fills pipewire-pulse's loop queue)."""
PIPEWIRE_STREAMS_PER_CONNECTION = 8
"""Meter streams sharing one connection on PipeWire (see the module docstring)."""
PIPEWIRE_BATCH_SECONDS = 0.25
"""On PipeWire the server sends each stream's peak samples this many seconds' worth at a time."""
PIPEWIRE_HOLD_SECONDS = 2.0
"""On PipeWire a meter with no new sample shows its last peak this long (HOLD_SECONDS elsewhere): long enough
for the watchdog to notice a stalled stream and for its new stream to deliver (measured 1.2-1.5 s), so a stall
does not show as silence. A playing stream that goes quiet still sends samples (zeros) and reads 0 at once; a
corked one sends none, and the frame shows it as 0 from the mirror (see meter_view)."""


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class MeterTarget:
    """What should be metered: a sink-input on a sink (``sink_input`` set) or a whole source."""

    source: str
    channels: int
    sink_input: int | None


def split_peaks(
    peaks: Iterable[tuple[MeterTarget, tuple[float, ...]]],
) -> tuple[dict[int, tuple[float, ...]], dict[str, tuple[float, ...]]]:
    """Meter peaks per sink-input index (stream meters) and per source (device meters)."""
    per_input: dict[int, tuple[float, ...]] = {}
    per_source: dict[str, tuple[float, ...]] = {}
    for target, values in peaks:
        if target.sink_input is None:
            per_source[target.source] = values
        else:
            per_input[target.sink_input] = values
    return per_input, per_source


@dataclass
class _Watch:
    """The watchdog's view of one meter: since when it should have delivered, and its reopens so far."""

    expected_since: float
    reopens: int = 0
    creating: bool = False
    """Its stream was seen still being created (its silence counts from when it is READY)."""


@dataclass(eq=False)
class _Pool:
    """One connection and the meter targets whose streams live on it."""

    connection: Connection | None
    owned: bool
    """A connection of the meters' own (PipeWire), closed with its last stream; else the backend's."""
    targets: set[MeterTarget] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    """The connection being opened."""
    pacer: bool = False
    """It carries one device meter only (PipeWire)."""


class PeakMeters:
    """The meter service of one backend: the open peak streams, kept in step with the streams and devices
    that exist, spread over connections (PipeWire), with a watchdog that reopens streams that failed or
    stopped delivering (see the module docstring).

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
        per_connection: int = PIPEWIRE_STREAMS_PER_CONNECTION,
        batch_seconds: float = PIPEWIRE_BATCH_SECONDS,
    ) -> None:
        """``connect`` (PipeWire): opens a new connection; meter streams then share connections of their own,
        ``per_connection`` each, and get their samples ``batch_seconds`` at a time."""
        self._connection = connection
        self._connect = connect
        self._rate = rate
        self._frames = max(1, round(rate * batch_seconds)) if connect is not None else 1
        batch = self._frames / rate
        self._hold = PIPEWIRE_HOLD_SECONDS if connect is not None else HOLD_SECONDS
        self._stall = max(STALL_SECONDS, 4 * batch)
        self._limit = per_connection if connect is not None else math.inf
        self._pools: list[_Pool] = [] if connect is not None else [_Pool(connection, owned=False)]
        self._pool_of: dict[MeterTarget, _Pool] = {}
        self._deferred: set[MeterTarget] = set()
        """Targets waiting for other meter streams to finish being created (MAX_CREATING)."""
        self._held: dict[MeterTarget, Reading] = {}
        """Readings of streams waiting for their connection (kept across a reopen)."""
        self._on_error = on_error
        self._expects_data = expects_data
        self._streams: dict[MeterTarget, PeakStream] = {}
        self._watch: dict[MeterTarget, _Watch] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self.reopens = 0
        """Meter streams the watchdog reopened (for statistics and tests)."""

    # --- streams and their connections ---------------------------------------------------------------------

    def _pool_for(self, target: MeterTarget) -> _Pool:
        pool = self._pool_of.get(target)
        if pool is None:
            pacer = self._paces(target)
            pool = None if pacer else next((p for p in self._pools if not p.pacer and len(p.targets) < self._limit), None)
            if pool is None:
                pool = _Pool(None, owned=True, pacer=pacer)
                self._pools.append(pool)
            pool.targets.add(target)
            self._pool_of[target] = pool
        return pool

    def _open(self, target: MeterTarget, reading: Reading | None = None) -> bool:
        pool = self._pool_for(target)
        connection = pool.connection
        if connection is None or not connection.connected:
            if reading is not None:
                self._held[target] = reading
            if pool.owned:
                self._start_connecting(pool)
            return False
        if self._creating() >= MAX_CREATING:
            if reading is not None:
                self._held[target] = reading
            self._deferred.add(target)
            return False
        self._deferred.discard(target)
        reading = self._held.pop(target, reading)
        try:
            frames = 1 if self._paces(target) else self._frames
            stream = PeakStream(connection, target.source, target.channels, self._rate, target.sink_input, frames)
        except (c.pa.CallError, OSError, BackendDisconnected) as exc:  # gone meanwhile: next sync or check retries
            self._on_error(exc)
            return False
        if reading is not None:
            stream.reading = reading  # keep the held peak across a reopen
        self._streams[target] = stream
        return True

    def _paces(self, target: MeterTarget) -> bool:
        """Whether ``target``'s stream is a pacer: a device meter on PipeWire, one sample a message, alone on its
        connection (see the module docstring)."""
        return self._connect is not None and target.sink_input is None

    def _creating(self) -> int:
        return sum(1 for stream in self._streams.values() if stream.state() not in _SETTLED)

    def _start_connecting(self, pool: _Pool) -> None:
        if pool.task is not None or self._closed or self._connect is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        old, pool.connection = pool.connection, None
        if old is not None:  # lost: its streams are dead, they are reopened on the new connection
            for target in pool.targets:
                stream = self._streams.pop(target, None)
                if stream is not None:
                    self._held[target] = stream.reading
                    stream.close()
            old.close()
        pool.task = loop.create_task(self._connect_pool(pool))

    async def _connect_pool(self, pool: _Pool) -> None:
        assert self._connect is not None
        try:
            connection = await self._connect()
        except (AudiolabError, OSError) as exc:  # the watchdog's next check tries again
            self._on_error(exc)
            return
        finally:
            pool.task = None
        if self._closed or pool not in self._pools:
            connection.close()
            return
        pool.connection = connection
        now = time.monotonic()
        for target in list(pool.targets):
            if target not in self._streams:
                if target in self._watch:
                    self._watch[target].expected_since = now
                self._open(target)

    def _forget(self, target: MeterTarget) -> None:
        stream = self._streams.pop(target, None)
        if stream is not None:
            stream.close()
        self._held.pop(target, None)
        self._deferred.discard(target)
        self._watch.pop(target, None)
        pool = self._pool_of.pop(target, None)
        if pool is None:
            return
        pool.targets.discard(target)
        if pool.owned and not pool.targets:
            self._close_pool(pool)

    def _close_pool(self, pool: _Pool) -> None:
        self._pools.remove(pool)
        if pool.task is not None:
            pool.task.cancel()
            pool.task = None
        if pool.connection is not None:
            pool.connection.close()
            pool.connection = None

    def sync(self, targets: Iterable[MeterTarget]) -> None:
        """Meter exactly ``targets`` from now on: open what is new, close what is gone."""
        wanted = set(targets)
        for target in [t for t in self._pool_of if t not in wanted]:
            self._forget(target)
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
        except Exception as exc:  # noqa: BLE001  (a timer callback: nothing must escape into the loop)
            self._on_error(exc)
        self._arm()

    def check(self, now: float) -> None:
        """Reopen every stream that failed, or that should deliver and has not for too long."""
        if self._closed or not self._connection.connected:
            return
        for pool in self._pools:
            if pool.owned and (pool.connection is None or not pool.connection.connected):
                self._start_connecting(pool)
        for target in list(self._deferred):
            if not self._open(target):
                break
        for target, watch in list(self._watch.items()):
            if target in self._deferred:
                watch.expected_since = now  # waiting for its turn to be created: not stalled
                continue
            opening = self._pool_of.get(target)
            if opening is not None and (opening.connection is None or opening.task is not None):
                watch.expected_since = now  # its connection is being opened: not stalled yet
                continue
            stream = self._streams.get(target)
            if stream is not None and stream.samples and stream.last_sample_at >= watch.expected_since:
                watch.reopens = 0  # it delivered since the last (re)open: healthy, the backoff starts over
            state = stream.state() if stream is not None else None
            dead = stream is None or state in (STREAM_FAILED, STREAM_TERMINATED)
            if stream is not None and not dead and state != STREAM_READY:
                if now - stream.opened_at < CREATE_SECONDS:
                    watch.creating = True
                    continue  # still being created: its silence starts counting once it is READY
                dead = True
            elif watch.creating and state == STREAM_READY:
                watch.creating = False
                watch.expected_since = now
            if not dead and not self._expects_data(target):
                watch.expected_since = now  # corked: silence is expected, and does not count
                continue
            quiet = now - max(watch.expected_since, stream.last_sample_at if stream is not None else -math.inf)
            if quiet < self._stall * 2 ** max(0, watch.reopens - 2) or watch.reopens >= MAX_REOPENS:
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

    # --- readings -------------------------------------------------------------------------------------------

    def take(self, now: float) -> tuple[dict[int, tuple[float, ...]], dict[str, tuple[float, ...]]]:
        """Peaks per channel since the last take: per sink-input index, and per metered source."""
        return split_peaks((target, stream.take(now, self._hold)) for target, stream in self._streams.items())

    def take_fresh(self, now: float) -> dict[int, tuple[float, ...]]:
        """Peaks per sink-input of the streams that delivered a new sample since the last take."""
        fresh = {}
        for target, stream in self._streams.items():
            if target.sink_input is not None and (peaks := stream.take_fresh(now)) is not None:
                fresh[target.sink_input] = peaks
        return fresh

    @property
    def open_count(self) -> int:
        """Meter streams open now."""
        return len(self._streams)

    @property
    def connection_count(self) -> int:
        """Connections of the meters' own (PipeWire) open or being opened."""
        return sum(1 for pool in self._pools if pool.owned)

    def close(self) -> None:
        """Close every meter stream and connection of the meters' own; the service is done."""
        self._closed = True
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        for stream in self._streams.values():
            stream.close()
        self._streams.clear()
        self._watch.clear()
        self._held.clear()
        self._deferred.clear()
        for pool in [p for p in self._pools if p.owned]:
            self._close_pool(pool)
        self._pool_of.clear()
