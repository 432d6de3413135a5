"""PulseAudio and PipeWire (through pipewire-pulse): ``audiolab.open(backend="pulse")``.

Talks to whatever PulseAudio-protocol server ``server=`` names, else ``$PULSE_SERVER``, else libpulse's
default. Runs on asyncio (pulsectl-asyncio drives libpulse from the asyncio loop; the only thread of its own
is native PipeWire meters' libpipewire loop); a Lab under trio runs it on an asyncio loop in a thread of its own
(see :mod:`._bridge`).

- Sessions: one client's streams on one device (see :mod:`._pulse.mapping` for ids and multi-stream rules);
  volumes in audiolab's scale = pactl's % / 100 (see :mod:`._pulse.volume`).
- Events: one server subscription. An event only marks its object dirty; the :meth:`run` pump re-queries
  each dirty object once per loop iteration, so a burst of changes costs one query per object, then diffs
  the sessions and emits typed events. Volume/mute changes made through this backend carry
  ``Origin.THIS_CLIENT``; any other change ``Origin.OTHER_CLIENT`` (another client, or a server module such
  as module-role-cork: the protocol does not say which).
- Meters: one meter service per sink-input, recorded source and sink. On PipeWire (the server's name says
  "PipeWire") native meters (:mod:`._pipewire.meter`): capture streams of audiolab's own through libpipewire,
  outside pipewire-pulse. On PulseAudio, with ``native_meters=False``, or when libpipewire cannot be loaded or
  its daemon not reached (``statistics().meter_path`` says which and why), server-side peak detection over the
  pulse protocol (:mod:`._pulse.meters`); on PipeWire those streams share connections, 8 each, with peaks in
  batches, and stay within what pipewire-pulse can serve (:mod:`._pulse.meter_view`).
- The mirror (:mod:`._pulse.mirror`, one reducer over typed reads) and origin tracking (:mod:`._pulse.control`).
- Tones: :meth:`play` starts each tone in a process of its own (a PulseAudio client of its own, so a session
  of its own with the role and name asked for; see :mod:`audiolab.audio.player`). While tones play, their
  gain is measured from their own meters and reported as ``Ducked`` / ``Unducked`` (see
  :mod:`._pulse.ducking`): module-role-ducking's attenuation is invisible in the stream volume.
- Faults: when the server goes away, :meth:`run` raises :class:`BackendDisconnected` at once (the Lab ends
  every subscription with it) and nothing more is emitted. With ``reconnect=True`` the backend instead emits
  the end of every session, waits for the server to come back and emits ``SessionCreated`` for each session
  it then finds.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .._exceptions import (
    AudiolabError,
    BackendDisconnected,
    BackendUnavailable,
    ClosedResourceError,
    NotSupported,
    SessionNotFound,
)
from .._server_gain import ServerGain
from ..audio.playback import Playback, PlayRequest
from ..audio.player import ToneProcess
from ..audio.player import kill as kill_tone_process
from ..clock import Clock
from ..events import ChannelVolumeChanged, Ducked, Event, PolicyChanged, SessionCreated, Unducked, VolumeChanged
from ..focus.in_force import PolicyInForce
from ..model import Flow, MeterFrame, Origin, Session, SessionState, check_level
from ..reason import Reason
from ._base import Backend, Capability, EventSink
from ._pipewire.meter import NativeMeters, NativeUnavailable
from ._pipewire.remote import pipewire_remote
from ._pulse.connection import (
    FACILITY_CLIENT,
    FACILITY_MODULE,
    FACILITY_SINK,
    FACILITY_SINK_INPUT,
    FACILITY_SOURCE,
    FACILITY_SOURCE_OUTPUT,
    TYPE_NEW,
    TYPE_REMOVE,
    Connection,
    describe_address,
    pulsectl,
    server_address,
)
from ._pulse.control import Origins
from ._pulse.ducking import (
    GRACE_SECONDS,
    Causes,
    GainTracker,
    expected_peaks,
    measurable,
    measured_gain_db,
    trigger_roles_from_modules,
    why_measured,
)
from ._pulse.endpoints import endpoint_gain
from ._pulse.mapping import (
    RawClient,
    RawDevice,
    RawStream,
    diff_sessions,
    is_own,
    session_id_of,
)
from ._pulse.meter_view import compose_frame, plan_meters
from ._pulse.meters import MeterTarget, PeakMeters
from ._pulse.mirror import ClientRead, DeviceRead, Loaded, Mirror, Read, StreamRead, StreamUnread
from ._pulse.playback import PulsePlayback
from ._pulse.policy import read_policy
from ._pulse.settling import Settling
from ._pulse.volume import scaled_to

__all__ = ("PulseBackend", "PulseStatistics")

_LIST_THRESHOLD = 16
"""More dirty objects of one kind than this are re-read with one list query instead of one query each."""
_MAX_PREFETCHED = 256
"""New streams read ahead of the pump at most at once (a burst beyond that is read by the pump only)."""
NATIVE_METER_RATE = 48000
"""The rate native meter streams ask for: PipeWire's default graph rate (at another rate the meter's own copy
is resampled, which moves a peak by well under the 0.02 the meters are tested to)."""
_RECONNECT_DELAYS = (0.1, 0.2, 0.5, 1.0)

# facility -> (info query, list query, flow)
_STREAM_FACILITIES = {
    FACILITY_SINK_INPUT: ("sink_input_info", "sink_input_list", Flow.RENDER),
    FACILITY_SOURCE_OUTPUT: ("source_output_info", "source_output_list", Flow.CAPTURE),
}
_DEVICE_FACILITIES = {
    FACILITY_SINK: ("sink_info", "sink_list", Flow.RENDER),
    FACILITY_SOURCE: ("source_info", "source_list", Flow.CAPTURE),
}


@dataclass(frozen=True)
class PulseStatistics:
    """Counters of a pulse backend: its connection and the server events and queries it handled."""

    connected: bool
    server: str | None
    server_events: int
    """Subscription events received from the server."""
    queries: int
    """Info/list queries sent to the server (initial enumeration included)."""
    flushes: int
    events_emitted: int
    meter_streams: int
    reconnects: int
    meter_path: str = ""
    """How meters are taken: "native PipeWire", or "pulse protocol" (with why, when native was tried)."""


@dataclass
class _Measured:
    """A tone this backend plays, and the state of its gain measurement."""

    playback: PulsePlayback
    measure_from: float
    measure_until: float | None
    tracker: GainTracker = field(default_factory=GainTracker)
    expected: tuple[float, ...] = ()
    seen_change: float = 0.0
    grace_until: float = 0.0
    ducked_to: float = 1.0
    """The gain of its last measured duck (for the rise an unduck measures)."""
    duck_why: Reason | None = None
    """Its last duck's reason: an unduck releases it (the trigger may be gone by then)."""


def _change_db(gain: float) -> float:
    return 20 * math.log10(gain) if gain > 0 else -math.inf


def _retrieve(task: asyncio.Future[object]) -> None:
    """A read-ahead's outcome is looked at later or never: mark its exception retrieved."""
    if not task.cancelled():
        task.exception()


class PulseBackend(Backend):
    """The PulseAudio / PipeWire backend. Options: ``server`` (a server string such as
    ``unix:/run/user/1000/pulse/native``), ``reconnect`` (default False), ``meter_rate`` (peak samples per
    second the server sends per stream, default 30), ``client_name``, ``native_meters`` (default True: on PipeWire
    meter through libpipewire, see :mod:`._pipewire.meter`; False, or when libpipewire cannot be used: through
    pipewire-pulse, see :mod:`._pulse.meters`)."""

    name = "pulse"
    capabilities = frozenset({Capability.CHANNEL_VOLUME, Capability.METERS, Capability.CLIENTS, Capability.PLAY})
    asyncio_only: ClassVar[bool] = True

    def __init__(
        self,
        *,
        server: str | None = None,
        clock: Clock | None = None,
        reconnect: bool = False,
        meter_rate: int = 30,
        client_name: str = "audiolab",
        native_meters: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(clock=clock, **options)
        if server is not None and not isinstance(server, str):
            raise TypeError("server must be a PulseAudio server string")
        if isinstance(meter_rate, bool) or not isinstance(meter_rate, int) or not 1 <= meter_rate <= 1000:
            raise ValueError("meter_rate must be an int in 1..1000")
        if not isinstance(native_meters, bool):
            raise TypeError("native_meters must be True or False")
        self._server = server
        self._reconnect = bool(reconnect)
        self._meter_rate = meter_rate
        self._client_name = client_name
        self._conn: Connection | None = None
        self._emit: EventSink | None = None
        self._closed = False
        self._lost = False
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._own_client: int | None = None
        self._pipewire = False
        self._mirror = Mirror()
        self._dirty: dict[int, set[int]] = {}
        self._origins = Origins()
        self._meters: PeakMeters | NativeMeters | None = None
        self._native_failure: str | None = None if native_meters else "turned off (native_meters=False)"
        """Why the native PipeWire meters could not be used (then the pulse-protocol meters are)."""
        self._meters_left_out: Mapping[int, str] = {}
        self._prefetched: dict[tuple[Flow, int], asyncio.Future[object]] = {}
        """New streams' first readings (see _prefetch), taken by the pump's next re-read of them."""
        self._settle_timer: asyncio.TimerHandle | None = None
        self._recheck = False
        """A settling deadline passed: the next flush rebuilds the sessions even with nothing to re-read."""
        self._reconnecting_meters = False
        """Meters were on when the server went away: they restart with the connection (reads see no sessions)."""
        self._meter_sequence = 0
        self._server_events = self._flushes = self._emitted = self._reconnects = 0
        self._old_queries = 0
        self._playbacks: dict[int, _Measured] = {}
        self._starting_pids: set[int] = set()
        """Tone processes still starting (before ``ready``): aclose kills them."""
        self._starting: set[ToneProcess] = set()
        """Tone processes started whose session play() is still waiting for: aclose closes them."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._measure_task: asyncio.Task[None] | None = None
        self._duck_meters: PeakMeters | NativeMeters | None = None
        self._causes: Causes | None = None
        self._policy: PolicyInForce | None = None

    # The mirror's tables, read-only views for the control, meter and ducking code here.
    @property
    def _clients(self) -> dict[int, RawClient]:
        return self._mirror.clients

    @property
    def _devices(self) -> dict[tuple[Flow, int], RawDevice]:
        return self._mirror.devices

    @property
    def _streams(self) -> dict[tuple[Flow, int], RawStream]:
        return self._mirror.streams

    @property
    def _sessions(self) -> dict[str, Session]:
        return self._mirror.sessions

    @property
    def _settling(self) -> Settling:
        return self._mirror.settling

    # --- lifecycle ------------------------------------------------------------------------------------------

    @classmethod
    async def probe(cls) -> bool:
        """True when a PulseAudio-protocol server answers (at $PULSE_SERVER or the default place)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        conn = Connection(None, "audiolab-probe")
        try:
            await conn.connect(timeout=1.0)
        except BackendUnavailable:
            return False
        finally:
            conn.close()
        return True

    async def start(self, emit: EventSink) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise BackendUnavailable("the pulse backend runs on asyncio (pulsectl-asyncio); run it under asyncio") from None
        if self._closed:
            raise ClosedResourceError("this backend is closed")
        self._emit = emit
        await self._connect()

    async def _connect(self) -> None:
        conn = Connection(self._server, self._client_name)
        try:
            await conn.connect()  # it closes itself when the server does not answer; a cancel must too
            self._own_client = self._mirror.own_client = conn.own_client_index()
            info = await conn.query("server_info")
            self._pipewire = "pipewire" in (getattr(info, "server_name", "") or "").lower()
            self._settling.pipewire = self._pipewire
            # Subscribe before the first enumeration, so nothing that happens in between is missed.
            await conn.subscribe(self._on_server_event, self._on_lost)
            self._conn = conn
            self._lost = False
            await self._load_everything()
            self._policy = await read_policy(conn)
        except BaseException:
            self._conn = None
            conn.close()
            raise

    async def _load_everything(self) -> None:
        conn = self._require()
        clients, sinks, sources, inputs, outputs = await asyncio.gather(
            conn.query("client_list"),
            conn.query("sink_list"),
            conn.query("source_list"),
            conn.query("sink_input_list"),
            conn.query("source_output_list"),
        )
        self._mirror.apply(Loaded(clients, sinks, sources, inputs, outputs), time.monotonic())  # type: ignore[arg-type]
        # The lists are answered one after another: a client can name itself between the client list and the
        # stream list (a new pacat is "Native client (UNIX socket client)" until then). Whatever changed while
        # they were read is re-read now, so the first sessions reported are consistent.
        dirty, self._dirty = self._dirty, {}
        if dirty:
            await self._refresh(dirty)
            await self._fill_missing()
        self._mirror.settle()

    async def run(self) -> None:
        """The event pump (the Lab runs it in its task group). Raises BackendDisconnected when the server
        goes away, unless ``reconnect=True``."""
        while not self._closed:
            await self._wake.wait()
            self._wake.clear()
            if self._lost:
                self._drop_connection()
                if not self._reconnect:
                    raise BackendDisconnected(f"the PulseAudio server at {self._address()} went away")
                await self._reconnect_loop()
                continue
            # One more loop iteration lets the rest of a burst of server events arrive before re-querying.
            await asyncio.sleep(0)
            try:
                async with self._lock:
                    await self._flush()
            except BackendDisconnected:
                self._lost = True
                self._wake.set()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        timer, self._settle_timer = self._settle_timer, None
        if timer is not None:
            timer.cancel()
        await self._stop_playbacks()
        self._drop_connection()
        self._mirror.sessions = {}

    async def _stop_playbacks(self) -> None:
        """Stop every tone (their processes are reaped), those still starting too, and end the tasks that watched
        them. play() calls still starting then raise ClosedResourceError."""
        for pid in list(self._starting_pids):
            kill_tone_process(pid)
        await asyncio.gather(*(p.close() for p in list(self._starting)), return_exceptions=True)
        await asyncio.gather(*(m.playback.stop() for m in list(self._playbacks.values())), return_exceptions=True)
        tasks = [*self._tasks, *([self._measure_task] if self._measure_task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._measure_task = None

    def _drop_connection(self) -> None:
        if self._meters is not None:
            self._meters.close()
        duck, self._duck_meters = self._duck_meters, None
        if duck is not None:
            duck.close()
        for early in self._prefetched.values():
            early.cancel()
        self._prefetched.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            self._old_queries += conn.queries
            conn.close()

    async def _reconnect_loop(self) -> None:
        now = self.clock.now()
        gone = self._mirror.clear(now)
        self._dirty.clear()
        self._origins.clear()
        self._send(gone)
        meters, self._meters = self._meters, None
        self._reconnecting_meters = meters is not None
        if isinstance(meters, NativeMeters):
            meters.close()  # its thread and PipeWire connection are its own: they do not end with the server's
        attempt = 0
        while not self._closed:
            await asyncio.sleep(_RECONNECT_DELAYS[min(attempt, len(_RECONNECT_DELAYS) - 1)])
            attempt += 1
            try:
                await self._connect()
            except (BackendUnavailable, BackendDisconnected):
                continue
            self._reconnects += 1
            fresh = diff_sessions({}, self._sessions, self.clock.now(), lambda sid: Origin.UNKNOWN)
            self._send(fresh)
            if self._reconnecting_meters:
                await self.start_meters()
            self._reconnecting_meters = False
            return

    def _address(self) -> str:
        conn = self._conn
        return describe_address((conn.address if conn else None) or server_address(self._server))

    def _require(self) -> Connection:
        if self._closed:
            raise ClosedResourceError("the pulse backend is closed")
        if self._conn is None or self._lost:
            raise BackendDisconnected(f"the PulseAudio server at {self._address()} went away")
        return self._conn

    # --- server events -> typed events ----------------------------------------------------------------------

    def _on_server_event(self, facility: int, kind: int, index: int) -> None:
        self._server_events += 1
        if kind == TYPE_REMOVE:
            self._forget(facility, index)
        elif kind == TYPE_NEW and facility in _STREAM_FACILITIES:
            self._prefetch(facility, index)
        self._dirty.setdefault(facility, set()).add(index)
        self._wake.set()

    def _prefetch(self, facility: int, index: int) -> None:
        """Read a new stream at once, before the pump's re-read: a stream that lives a few ms (a 30 ms sound) is
        often gone by then, and is still reported from this reading (see :mod:`._pulse.settling`)."""
        conn = self._conn
        info_q, _, flow = _STREAM_FACILITIES[facility]
        if conn is None or len(self._prefetched) >= _MAX_PREFETCHED:
            return
        key = (flow, index)
        if key in self._prefetched:
            # PipeWire reuses an index at once: a second "new" before the pump read the first means the first
            # stream is gone; report it now, or the new reading would take its place unseen.
            self._gone_before_read("stream", flow, index)
            if key in self._streams:  # its early reading was stored: it is gone too (its "remove" came before)
                self._mirror.apply(StreamRead(flow, index, None), time.monotonic())
        task = asyncio.ensure_future(conn.query(info_q, index))
        self._prefetched[key] = task
        task.add_done_callback(_retrieve)

    def _drop_prefetched(self, flow: Flow | None, index: int) -> None:
        early = self._prefetched.pop((flow, index), None) if flow is not None else None
        if early is not None:
            early.cancel()

    def _gone_before_read(self, what: str, flow: Flow | None, index: int) -> None:
        """A stream the server announced was gone when the pump read it: it is still reported, from its reading
        ahead when that got it, else as an unread stream (see :mod:`._pulse.settling`)."""
        if what != "stream" or flow is None:
            return
        early = self._prefetched.pop((flow, index), None)
        if early is None or (flow, index) in self._streams:
            return
        if early.done() and not early.cancelled() and early.exception() is None:
            self._store(what, flow, index, early.result())  # the next store (None) reports it, then gone
        else:
            early.cancel()
            self._mirror.apply(StreamUnread(flow, index), time.monotonic())

    def _forget(self, facility: int, index: int) -> None:
        if facility in _STREAM_FACILITIES:
            self._mirror.apply(StreamRead(_STREAM_FACILITIES[facility][2], index, None), time.monotonic())
        elif facility in _DEVICE_FACILITIES:
            self._mirror.apply(DeviceRead(_DEVICE_FACILITIES[facility][2], index, None), time.monotonic())
        elif facility == FACILITY_CLIENT:
            self._mirror.apply(ClientRead(index, None), time.monotonic())

    def _on_lost(self) -> None:
        if not self._closed:
            self._lost = True
            self._wake.set()

    async def _flush(self) -> list[Event]:
        """Re-read every dirty object once, rebuild the sessions, emit the differences."""
        if (not self._dirty and not self._recheck) or self._conn is None:
            return []
        dirty, self._dirty = self._dirty, {}
        self._recheck = False
        if dirty:
            self._flushes += 1
            await self._refresh(dirty)
            await self._fill_missing()
        events = self._rebuild()
        if FACILITY_MODULE in dirty or (self._pipewire and FACILITY_SINK in dirty):
            await self._refresh_policy()
        return events

    async def _refresh_policy(self) -> None:
        """Re-read the policy in force (a module was loaded or unloaded); report it when it changed."""
        policy = await read_policy(self._require())
        if policy != self._policy:
            self._policy = policy
            self._send([PolicyChanged(timestamp=self.clock.now(), session_id="", policy=policy)])

    def policy_in_force(self) -> PolicyInForce | None:
        return self._policy

    def measures_itself(self, session_id: str) -> bool:
        """True for the session of a tone this backend plays: it measures that tone's gain itself, knowing
        its amplitude (a Lab's duck detector leaves it alone)."""
        for index in list(self._playbacks):  # a copy: the trio bridge calls this from its own thread
            stream = self._streams.get((Flow.RENDER, index))
            if stream is not None and session_id_of(stream) == session_id:
                return True
        return False

    def endpoint_gain(self, session_id: str) -> ServerGain | None:
        """The gain of the WirePlumber 0.4 role endpoint the session plays on (its monitor volume, where that
        policy ducks), or None; the duck detector measures with it (see :mod:`._pulse.endpoints`)."""
        session = self._sessions.get(session_id)
        return endpoint_gain(session, self._streams, self._devices) if session is not None else None

    async def _refresh(self, dirty: dict[int, set[int]]) -> None:
        conn = self._require()
        jobs = []
        for facility, indices in dirty.items():
            if facility in _STREAM_FACILITIES:
                info_q, list_q, flow = _STREAM_FACILITIES[facility]
                jobs.append(self._refresh_kind(conn, indices, info_q, list_q, flow, "stream"))
            elif facility in _DEVICE_FACILITIES:
                info_q, list_q, flow = _DEVICE_FACILITIES[facility]
                jobs.append(self._refresh_kind(conn, indices, info_q, list_q, flow, "device"))
            elif facility == FACILITY_CLIENT:
                jobs.append(self._refresh_kind(conn, indices, "client_info", "client_list", None, "client"))
        await asyncio.gather(*jobs)

    async def _refresh_kind(
        self, conn: Connection, indices: set[int], info_q: str, list_q: str, flow: Flow | None, what: str
    ) -> None:
        if len(indices) > _LIST_THRESHOLD:
            infos = list(await conn.query(list_q))  # type: ignore[call-overload]
            seen = {info.index for info in infos}
            for index in indices - seen:
                self._gone_before_read(what, flow, index)
                self._store(what, flow, index, None)
            for info in infos:
                self._drop_prefetched(flow, info.index)
                self._store(what, flow, info.index, info)
            return

        async def one(index: int) -> None:
            try:
                info = await conn.query(info_q, index)
            except SessionNotFound:
                info = None
                self._gone_before_read(what, flow, index)
            else:
                self._drop_prefetched(flow, index)
            self._store(what, flow, index, info)

        await asyncio.gather(*(one(i) for i in indices))

    def _store(self, what: str, flow: Flow | None, index: int, info: Any) -> None:
        """Hand one answer of the server to the mirror's reducer."""
        if what == "client":
            read: Read = ClientRead(index, info)
        else:
            assert flow is not None
            read = DeviceRead(flow, index, info) if what == "device" else StreamRead(flow, index, info)
        self._mirror.apply(read, time.monotonic())

    async def _fill_missing(self) -> None:
        """Streams can name a client or device this backend has not read yet: read those now."""
        dirty: dict[int, set[int]] = {}
        clients, devices = self._mirror.missing()
        if clients:
            dirty[FACILITY_CLIENT] = clients
        for flow, index in devices:
            dirty.setdefault(FACILITY_SINK if flow is Flow.RENDER else FACILITY_SOURCE, set()).add(index)
        if dirty:
            await self._refresh(dirty)

    def _rebuild(self) -> list[Event]:
        mono = time.monotonic()
        events = self._mirror.rebuild(self.clock.now(), mono, self._origin_of)
        self._send(events)
        self._arm_settling(mono)
        if self._meters is not None:
            self._sync_meters()
        return events

    def _arm_settling(self, mono: float) -> None:
        """Wake the pump when the next settling deadline passes (see :mod:`._pulse.settling`)."""
        deadline = self._settling.next_deadline()
        if deadline is None or self._settle_timer is not None or self._closed:
            return

        def due() -> None:
            self._settle_timer = None
            self._recheck = True
            self._wake.set()

        self._settle_timer = asyncio.get_running_loop().call_later(max(0.0, deadline - mono) + 0.001, due)

    def _send(self, events: Iterable[Event]) -> None:
        if self._emit is None:
            return
        for event in events:
            if self._causes is not None:
                self._causes.observe(event, self._sessions)
            self._origins.note_sent(event)
            self._emitted += 1
            self._emit(event)

    def _origin_of(self, session_id: str) -> Origin:
        return self._origins.origin_of(session_id, self._streams, time.monotonic())

    # --- snapshot and control -------------------------------------------------------------------------------

    def snapshot(self) -> list[Session]:
        if self._closed:
            raise ClosedResourceError("the pulse backend is closed")
        return list(self._sessions.values())

    def session(self, session_id: str) -> Session:
        if self._closed:
            raise ClosedResourceError("the pulse backend is closed")
        try:
            return self._sessions[session_id]
        except (KeyError, TypeError):
            raise SessionNotFound(f"no session {session_id!r}") from None

    def _session_streams(self, session_id: str) -> list[RawStream]:
        self._require()
        self.session(session_id)
        streams = [
            s for s in self._streams.values() if not is_own(s, self._own_client) and session_id_of(s) == session_id
        ]
        if not streams:
            raise SessionNotFound(f"no session {session_id!r}")
        return sorted(streams, key=lambda s: s.index)

    async def set_volume(self, session_id: str, volume: float) -> None:
        level = check_level(volume)
        streams = self._session_streams(session_id)
        await self._apply(session_id, [(s, scaled_to(s.volumes, level), None) for s in streams], None)

    async def set_channel_volume(self, session_id: str, channel: int, volume: float) -> None:
        if isinstance(channel, bool) or not isinstance(channel, int):
            raise TypeError(f"channel must be an int, not {type(channel).__name__}")
        level = check_level(volume, "channel volume")
        streams = self._session_streams(session_id)
        channels = len(self.session(session_id).channel_volumes)
        if not 0 <= channel < channels:
            raise ValueError(f"channel must be in 0..{channels - 1}, got {channel}")
        changes: list[tuple[RawStream, list[float] | None, bool | None]] = []
        for s in streams:
            if channel < len(s.volumes):
                values = list(s.volumes)
                values[channel] = level
                changes.append((s, values, None))
        await self._apply(session_id, changes, channel)

    async def set_mute(self, session_id: str, muted: bool) -> None:
        if not isinstance(muted, bool):
            raise TypeError(f"muted must be a bool, not {type(muted).__name__}")
        streams = self._session_streams(session_id)
        await self._apply(session_id, [(s, None, muted) for s in streams], None)

    async def _apply(
        self, session_id: str, changes: list[tuple[RawStream, list[float] | None, bool | None]], channel: int | None
    ) -> None:
        """Send the changes, then re-read the streams, so the new state and its event (origin THIS_CLIENT) are
        in place when the call returns. Like Windows, a change that leaves the value as it was still emits
        its event (VolumeChanged, or ChannelVolumeChanged for ``channel``)."""
        conn = self._require()
        mono = time.monotonic()
        wanted = ChannelVolumeChanged if channel is not None else VolumeChanged
        sent_before = self._origins.sent(session_id, wanted)
        calls = []
        for stream, volumes, muted in changes:
            self._origins.expect(stream, tuple(volumes) if volumes is not None else None, muted, mono)
            render = stream.flow is Flow.RENDER
            if volumes is not None:
                method = "sink_input_volume_set" if render else "source_output_volume_set"
                calls.append(conn.call(method, stream.index, pulsectl.PulseVolumeInfo(list(volumes))))
            if muted is not None:
                calls.append(conn.call("sink_input_mute" if render else "source_output_mute", stream.index, muted))
        results = await asyncio.gather(*calls, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        try:
            async with self._lock:
                for stream, _, _ in changes:
                    facility = FACILITY_SINK_INPUT if stream.flow is Flow.RENDER else FACILITY_SOURCE_OUTPUT
                    self._dirty.setdefault(facility, set()).add(stream.index)
                await self._flush()
        finally:
            for stream, _, _ in changes:
                self._origins.settled(stream)
        if failures:
            if session_id not in self._sessions:
                raise SessionNotFound(f"session {session_id!r} ended") from failures[0]
            error = failures[0]
            if isinstance(error, AudiolabError):
                raise error
            raise AudiolabError(f"the PulseAudio server refused the change: {error}") from error
        session = self._sessions.get(session_id)
        if session is None:
            return
        # Sent once (see _pulse/control.py): here only for a change that left the value as it was (no notice).
        if self._origins.sent(session_id, wanted) == sent_before:
            now = self.clock.now()
            if channel is not None:
                event: Event = ChannelVolumeChanged(timestamp=now, session_id=session_id,
                                                    channel_volumes=session.channel_volumes, channel=channel,
                                                    origin=Origin.THIS_CLIENT)
            else:
                event = VolumeChanged(timestamp=now, session_id=session_id, volume=session.volume,
                                      muted=session.muted, origin=Origin.THIS_CLIENT)
            self._send([event])

    # --- meters ---------------------------------------------------------------------------------------------

    async def start_meters(self) -> None:
        conn = self._require()
        if self._meters is None:
            self._meters = self._new_meters(conn)
            self._sync_meters()

    def _new_meters(self, conn: Connection) -> PeakMeters | NativeMeters:
        """On PipeWire native meters (:mod:`._pipewire.meter`) when libpipewire can be loaded and the daemon
        behind pipewire-pulse answers; else (and on PulseAudio) pulse-protocol meters."""
        if self._pipewire and self._native_failure is None:
            try:
                return NativeMeters(NATIVE_METER_RATE, pipewire_remote(conn.address),
                                    expects_data=self._meter_expects_data)
            except NativeUnavailable as exc:
                self._native_failure = str(exc)
        return PeakMeters(conn, self._meter_rate, lambda exc: None, self._meter_expects_data,
                          connect=self._meter_connection if self._pipewire else None)

    async def _meter_connection(self) -> Connection:
        """A connection for one meter stream (PipeWire: see :mod:`._pulse.meters`)."""
        conn = Connection(self._conn.address if self._conn else self._server, f"{self._client_name} meter")
        try:
            await conn.connect()
        except BaseException:
            conn.close()
            raise
        return conn

    def _meter_expects_data(self, target: MeterTarget) -> bool:
        """Whether a meter's target should be producing samples now (for the meters' watchdog): an uncorked
        sink-input. Device meters are only reopened when their stream fails (an idle sink sends nothing)."""
        if target.sink_input is None:
            return False
        stream = self._streams.get((Flow.RENDER, target.sink_input))
        return stream is not None and not stream.corked

    def _sync_meters(self) -> None:
        assert self._meters is not None
        plan = plan_meters(self._streams.values(), self._devices, self._own_client, pipewire=self._pipewire,
                           first=self._playbacks, native=isinstance(self._meters, NativeMeters))
        self._meters_left_out = plan.left_out
        self._meters.sync(plan.targets)

    async def stop_meters(self) -> None:
        self._reconnecting_meters = False
        meters, self._meters = self._meters, None
        if meters is not None:
            meters.close()

    def _meter_path(self) -> str:
        if isinstance(self._meters, NativeMeters):
            return "native PipeWire"
        if self._native_failure is not None:
            return f"pulse protocol (native PipeWire meters unavailable: {self._native_failure})"
        return "pulse protocol"

    def read_meters(self) -> MeterFrame:
        if self._meters is None:
            if self._reconnecting_meters:
                return MeterFrame(self.clock.now(), {}, {}, {})  # no sessions while the server is away
            raise AudiolabError("meters are not started (call start_meters first)")
        per_input, per_source = self._meters.take(time.monotonic())
        self._meter_sequence += 1
        return compose_frame(self.clock.now(), self._meter_sequence, self._sessions.values(), per_input, per_source,
                             self._streams, self._devices, self._meters_left_out)

    # --- tones --------------------------------------------------------------------------------------------

    async def play(self, request: PlayRequest) -> Playback:
        """Play a tone from a process of its own: its own client, sink-input and session. Returns once the
        stream plays and its session is known (``playback.session_id``; its SessionCreated already sent)."""
        conn = self._require()
        if request.cross_process or request.session_guid is not None:
            raise NotSupported("PulseAudio sessions are per client: tones cannot share a session here")
        tone = request.timed_tone
        if self._causes is None:
            modules = await conn.query("module_list")
            roles = trigger_roles_from_modules((m.name, m.argument or "") for m in modules)  # type: ignore[attr-defined]
            self._causes = Causes(roles)
            self._causes_seed()
        pids: list[int] = []

        def spawned(pid: int) -> None:
            pids.append(pid)
            self._starting_pids.add(pid)

        try:
            player = await ToneProcess.start(
                tone,
                app=request.app_name,
                media_name=request.display_name or request.app_name,
                role=request.role.pulse_media_role,
                server=conn.address,
                device=request.device,
                on_spawn=spawned,
            )
        except AudiolabError as exc:
            self._raise_if_closed(exc)  # aclose killed the starting child: say so, not "exited early"
            raise
        finally:
            self._starting_pids.difference_update(pids)
        self._starting.add(player)
        try:
            self._require()  # closed (or lost) while the child started
            session_id = await self._session_of_stream(player.sink_input)
            self._require()
        except BaseException as exc:
            await player.close()
            if isinstance(exc, Exception):
                self._raise_if_closed(exc)
            raise
        finally:
            self._starting.discard(player)
        playback = PulsePlayback(request, session_id, player, self._playback_ended)
        now = time.monotonic()
        ends = None if tone.duration is None else now + tone.duration - tone.fade_out - GRACE_SECONDS
        if measurable(tone):
            self._playbacks[player.sink_input] = _Measured(playback, now + tone.fade_in + GRACE_SECONDS, ends)
        else:
            self._playbacks[player.sink_input] = _Measured(playback, float("inf"), None)
        task = asyncio.get_running_loop().create_task(playback.watch())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if self._measure_task is None or self._measure_task.done():
            self._measure_task = asyncio.get_running_loop().create_task(self._measure_loop())
        return playback

    def _raise_if_closed(self, exc: BaseException) -> None:
        if self._closed and not isinstance(exc, ClosedResourceError):
            raise ClosedResourceError("the pulse backend was closed while the tone started") from exc

    def _causes_seed(self) -> None:
        """Sessions already playing count as started now (for naming causes)."""
        assert self._causes is not None
        now = self.clock.now()
        for session in self._sessions.values():
            self._causes.observe(SessionCreated(timestamp=now, session_id=session.id, session=session), self._sessions)

    async def _session_of_stream(self, index: int, timeout: float = 5.0, playing_within: float = 1.0) -> str:
        """The session of our new sink-input, once it plays. pipewire-pulse shows a new stream corked for a
        moment before it runs, so wait (up to ``playing_within``) for it to be reported running."""
        stream_id = f"pulse:sink-input/{index}"
        deadline = time.monotonic() + timeout
        found_at: float | None = None
        while True:
            self._require()  # closed or lost meanwhile: a _flush without a connection finds nothing, forever
            async with self._lock:
                self._dirty.setdefault(FACILITY_SINK_INPUT, set()).add(index)
                await self._flush()
            for session in self._sessions.values():
                if any(member.id == stream_id for member in session.streams):
                    now = time.monotonic()
                    found_at = now if found_at is None else found_at
                    if session.state is SessionState.ACTIVE or now - found_at > playing_within:
                        return session.id
            if time.monotonic() > deadline:
                raise AudiolabError(f"the tone's stream {stream_id} did not show up on the server")
            await asyncio.sleep(0.02)

    def _playback_ended(self, playback: PulsePlayback) -> None:
        measured = self._playbacks.get(playback.sink_input)
        if measured is not None and measured.playback is playback:
            del self._playbacks[playback.sink_input]

    async def _measure_loop(self) -> None:
        """Measure every measurable tone's gain from its meter while tones play; emit (Un)Ducked. The meter is
        the user's one when meters are on (:meth:`PeakMeters.take_fresh` does not disturb read_meters), else a
        meter of its own per measurable tone."""
        period = 1.0 / min(self._meter_rate, 50)
        while self._playbacks and not self._closed:
            await asyncio.sleep(period)
            if self._conn is None or self._lost:
                continue
            if self._meters is not None:
                # The user's meters run: they meter every tone already (one meter per tone, not two).
                duck, self._duck_meters = self._duck_meters, None
                if duck is not None:
                    duck.close()
                fresh = self._meters.take_fresh(time.monotonic())
            else:
                if self._duck_meters is None:
                    self._duck_meters = self._new_meters(self._conn)
                self._duck_meters.sync(self._duck_targets())
                fresh = self._duck_meters.take_fresh(time.monotonic())
            events: list[Event] = []
            for index, measured in list(self._playbacks.items()):
                event = self._measure(index, measured, fresh.get(index))
                if event is not None:
                    events.append(event)
            self._send(events)
        duck, self._duck_meters = self._duck_meters, None
        if duck is not None:
            duck.close()

    def _duck_targets(self) -> list[MeterTarget]:
        targets = []
        for index, measured in self._playbacks.items():
            stream = self._streams.get((Flow.RENDER, index))
            device = self._devices.get((Flow.RENDER, stream.device)) if stream else None
            if stream is not None and device is not None and device.monitor_source and measured.measure_from < float("inf"):
                targets.append(MeterTarget(device.monitor_source, len(stream.volumes) or 2, index))
        return targets

    def _measure(self, index: int, measured: _Measured, peaks: tuple[float, ...] | None) -> Event | None:
        stream = self._streams.get((Flow.RENDER, index))
        playback = measured.playback
        if stream is None or measured.measure_from == float("inf"):
            return None
        mono = time.monotonic()
        silent = stream.corked or playback.corked
        expected = tuple(
            round(e, 7)
            for e in expected_peaks(playback.amplitude, playback.request.tone.pan, stream.volumes, stream.muted or silent)
        )
        if expected != measured.expected or playback.changed_at != measured.seen_change:
            measured.expected, measured.seen_change = expected, playback.changed_at
            measured.grace_until = mono + GRACE_SECONDS
            measured.tracker.reset()
            return None
        if peaks is None or mono < max(measured.grace_until, measured.measure_from):
            return None
        if measured.measure_until is not None and mono > measured.measure_until:
            return None
        gain_db = measured_gain_db(peaks, expected)
        if gain_db is None:
            return None
        now = self.clock.now()
        transition = measured.tracker.feed(now, gain_db)
        if transition is None:
            return None
        sid = session_id_of(stream)
        assert self._causes is not None
        if transition.ducked:
            cause = self._causes.of_duck(sid, transition.started)
            why = why_measured(self._policy, self._sessions, sid, cause, True, transition.gain)
            measured.ducked_to, measured.duck_why = transition.gain, why
            return Ducked(timestamp=now, session_id=sid, gain=transition.gain, cause_session_id=cause,
                          fade_seconds=transition.fade_seconds, why=why, measured_db=_change_db(transition.gain))
        cause = self._causes.of_unduck(sid, transition.started)
        if measured.duck_why is not None:
            why = measured.duck_why.release()
        else:
            why = why_measured(self._policy, self._sessions, sid, cause, False, transition.gain)
        rise = transition.gain / measured.ducked_to if measured.ducked_to > 0 else math.inf
        measured.ducked_to, measured.duck_why = 1.0, None
        return Unducked(timestamp=now, session_id=sid, gain=transition.gain, cause_session_id=cause,
                        fade_seconds=transition.fade_seconds, why=why, measured_db=_change_db(rise))

    # --- introspection --------------------------------------------------------------------------------------

    def statistics(self) -> PulseStatistics:
        conn = self._conn
        return PulseStatistics(
            connected=conn is not None and not self._lost,
            server=conn.address if conn else self._server,
            server_events=self._server_events,
            queries=self._old_queries + (conn.queries if conn else 0),
            flushes=self._flushes,
            events_emitted=self._emitted,
            meter_streams=self._meters.open_count if self._meters else 0,
            reconnects=self._reconnects,
            meter_path=self._meter_path(),
        )

