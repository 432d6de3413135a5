"""PulseAudio and PipeWire (through pipewire-pulse): ``audiolab.open(backend="pulse")``.

Talks to whatever PulseAudio-protocol server ``server=`` names, else ``$PULSE_SERVER``, else libpulse's
default. Runs on asyncio (pulsectl-asyncio drives libpulse from the asyncio loop; the only thread of its own
is native PipeWire meters' libpipewire loop); a Lab under trio runs it on an asyncio loop in a thread of its own
(see :mod:`._bridge`).

- Sessions: one client's streams on one device (see :mod:`._pulse.mapping` for ids and multi-stream rules);
  volumes in audiolab's scale = pactl's % / 100 (see :mod:`._pulse.volume`).
- Events: one server subscription. An event only marks its object dirty (:mod:`._pulse.reads`); the
  :meth:`run` pump re-queries each dirty object once per loop iteration, so a burst of changes costs one query per object, then diffs
  the sessions and emits typed events. Volume/mute changes made through this backend carry
  ``Origin.THIS_CLIENT`` (:mod:`._pulse.controls`); any other change ``Origin.OTHER_CLIENT`` (another client, or a server module such
  as module-role-cork: the protocol does not say which).
- Meters (:mod:`._pulse.metering`): one meter service per sink-input, recorded source and sink. On PipeWire (the server's name says
  "PipeWire") native meters (:mod:`._pipewire.meter`): capture streams of audiolab's own through libpipewire,
  outside pipewire-pulse. On PulseAudio, with ``native_meters=False``, or when libpipewire cannot be loaded or
  its daemon not reached (``statistics().meter_path`` says which and why), server-side peak detection over the
  pulse protocol (:mod:`._pulse.meters`); on PipeWire those streams share connections, 8 each, with peaks in
  batches, and stay within what pipewire-pulse can serve (:mod:`._pulse.meter_view`).
- The mirror (:mod:`._pulse.mirror`, one reducer over typed reads) and origin tracking (:mod:`._pulse.control`).
- Tones: :meth:`play` starts each tone in a process of its own (a PulseAudio client of its own, so a session
  of its own with the role and name asked for; see :mod:`audiolab.audio.player`). While tones play, their
  gain is measured from their own meters and reported as ``Ducked`` / ``Unducked`` (see
  :mod:`._pulse.tones` and :mod:`._pulse.ducking`): module-role-ducking's attenuation is invisible in the stream volume.
- Faults: when the server goes away, :meth:`run` raises :class:`BackendDisconnected` at once (the Lab ends
  every subscription with it) and nothing more is emitted. With ``reconnect=True`` the backend instead emits
  the end of every session, waits for the server to come back and emits ``SessionCreated`` for each session
  it then finds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from .._by_fields import by_fields
from .._exceptions import (
    AudiolabError,
    BackendDisconnected,
    BackendUnavailable,
    ClosedResourceError,
    SessionNotFound,
)
from .._server_gain import ServerGain
from ..audio.playback import Playback, PlayRequest
from ..clock import Clock
from ..events import Event, PolicyChanged
from ..focus.in_force import PolicyInForce
from ..model import Flow, MeterFrame, Origin, Session, SessionState
from ._base import Backend, Capability, EventSink
from ._pulse.connection import (
    FACILITY_MODULE,
    FACILITY_SINK,
    Connection,
    describe_address,
    server_address,
)
from ._pulse.control import Origins
from ._pulse.controls import Controls, ControlWiring
from ._pulse.endpoints import endpoint_gain
from ._pulse.mapping import (
    RawStream,
    diff_sessions,
)
from ._pulse.metering import Metering
from ._pulse.mirror import Loaded, Mirror
from ._pulse.policy import read_policy
from ._pulse.reads import Reads
from ._pulse.tones import Tones, ToneWiring

__all__ = ("PulseBackend", "PulseStatistics")

_RECONNECT_DELAYS = (0.1, 0.2, 0.5, 1.0)


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
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
        **options: object,
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
        self._client_name = client_name
        self._conn: Connection | None = None
        self._emit: EventSink | None = None
        self._closed = False
        self._lost = False
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._pipewire = False
        self._mirror = Mirror()
        self._reads = Reads(self._mirror, lambda: self._conn, self._require)
        self._origins = Origins()
        self._metering = Metering(
            self._mirror,
            meter_rate=meter_rate,
            client_name=client_name,
            native=native_meters,
            address=lambda: self._conn.address if self._conn else self._server,
            first=lambda: self._tones.playing,
        )
        self._settle_timer: asyncio.TimerHandle | None = None
        self._recheck = False
        """A settling deadline passed: the next flush rebuilds the sessions even with nothing to re-read."""
        self._flushes = self._emitted = self._reconnects = 0
        self._old_queries = 0
        self._policy: PolicyInForce | None = None
        self._controls = Controls(self._mirror, self._origins, self.clock,
                                  ControlWiring(self._require, self.session, self._reread, self._send))
        wiring = ToneWiring(
            require=self._require,
            connected=lambda: None if self._lost else self._conn,
            closed=lambda: self._closed,
            user_meters=lambda: self._metering.active,
            new_meters=self._metering.new,
            send=self._send,
            policy=lambda: self._policy,
        )
        self._tones = Tones(self._mirror, self.clock, meter_rate, wiring, self._session_of_stream)

    # The mirror's tables (read-only here: the mirror's reducer changes them).
    @property
    def _streams(self) -> dict[tuple[Flow, int], RawStream]:
        return self._mirror.streams

    @property
    def _sessions(self) -> dict[str, Session]:
        return self._mirror.sessions

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
            self._mirror.own_client = conn.own_client_index()
            info = await conn.query("server_info")
            self._pipewire = "pipewire" in (getattr(info, "server_name", "") or "").lower()
            self._mirror.settling.pipewire = self._metering.pipewire = self._pipewire
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
        dirty = self._reads.take()
        if dirty:
            await self._reads.refresh(dirty)
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
        await self._tones.stop()
        self._drop_connection()
        self._mirror.sessions = {}

    def _drop_connection(self) -> None:
        self._metering.connection_dropped()
        self._tones.close_duck_meters()
        self._reads.drop()
        conn, self._conn = self._conn, None
        if conn is not None:
            self._old_queries += conn.queries
            conn.close()

    async def _reconnect_loop(self) -> None:
        now = self.clock.now()
        gone = self._mirror.clear(now)
        self._reads.take()  # what was dirty went with the server
        self._origins.clear()
        self._send(gone)
        self._metering.suspend()
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
            self._metering.resume(self._require())
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
        self._reads.on_server_event(facility, kind, index)
        self._wake.set()

    def _on_lost(self) -> None:
        if not self._closed:
            self._lost = True
            self._wake.set()

    async def _flush(self) -> list[Event]:
        """Re-read every dirty object once, rebuild the sessions, emit the differences."""
        if (not self._reads.dirty and not self._recheck) or self._conn is None:
            return []
        dirty = self._reads.take()
        self._recheck = False
        if dirty:
            self._flushes += 1
            await self._reads.refresh(dirty)
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
        return self._tones.measures_itself(session_id)

    def endpoint_gain(self, session_id: str) -> ServerGain | None:
        """The gain of the WirePlumber 0.4 role endpoint the session plays on (its monitor volume, where that
        policy ducks), or None; the duck detector measures with it (see :mod:`._pulse.endpoints`)."""
        session = self._sessions.get(session_id)
        return endpoint_gain(session, self._streams, self._mirror.devices) if session is not None else None

    def _rebuild(self) -> list[Event]:
        mono = time.monotonic()
        events = self._mirror.rebuild(self.clock.now(), mono, self._origin_of)
        self._send(events)
        self._arm_settling(mono)
        self._metering.sync()
        return events

    def _arm_settling(self, mono: float) -> None:
        """Wake the pump when the next settling deadline passes (see :mod:`._pulse.settling`)."""
        deadline = self._mirror.settling.next_deadline()
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
            self._tones.observe(event)
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

    async def set_volume(self, session_id: str, volume: float) -> None:
        await self._controls.set_volume(session_id, volume)

    async def set_channel_volume(self, session_id: str, channel: int, volume: float) -> None:
        await self._controls.set_channel_volume(session_id, channel, volume)

    async def set_mute(self, session_id: str, muted: bool) -> None:
        await self._controls.set_mute(session_id, muted)

    async def _reread(self, streams: list[RawStream]) -> None:
        """Re-read the streams a control call changed and emit what changed, before the call returns."""
        async with self._lock:
            for stream in streams:
                self._reads.mark_stream(stream.flow, stream.index)
            await self._flush()

    # --- meters ---------------------------------------------------------------------------------------------

    async def start_meters(self) -> None:
        self._metering.start(self._require())

    async def stop_meters(self) -> None:
        self._metering.stop()

    def read_meters(self) -> MeterFrame:
        return self._metering.read(self.clock.now())

    # --- tones (see :mod:`._pulse.tones`) -------------------------------------------------------------------

    async def play(self, request: PlayRequest) -> Playback:
        """Play a tone from a process of its own: its own client, sink-input and session. Returns once the
        stream plays and its session is known (``playback.session_id``; its SessionCreated already sent)."""
        return await self._tones.play(request)

    async def _session_of_stream(self, index: int, timeout: float = 5.0, playing_within: float = 1.0) -> str:
        """The session of our new sink-input, once it plays. pipewire-pulse shows a new stream corked for a
        moment before it runs, so wait (up to ``playing_within``) for it to be reported running."""
        stream_id = f"pulse:sink-input/{index}"
        deadline = time.monotonic() + timeout
        found_at: float | None = None
        while True:
            self._require()  # closed or lost meanwhile: a _flush without a connection finds nothing, forever
            async with self._lock:
                self._reads.mark_stream(Flow.RENDER, index)
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

    # --- introspection --------------------------------------------------------------------------------------

    def statistics(self) -> PulseStatistics:
        conn = self._conn
        return PulseStatistics(
            connected=conn is not None and not self._lost,
            server=conn.address if conn else self._server,
            server_events=self._reads.server_events,
            queries=self._old_queries + (conn.queries if conn else 0),
            flushes=self._flushes,
            events_emitted=self._emitted,
            meter_streams=self._metering.open_count,
            reconnects=self._reconnects,
            meter_path=self._metering.path(),
        )

