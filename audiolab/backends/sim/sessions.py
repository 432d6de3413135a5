"""The simulated service's sessions and streams, and the rules of a session's life.

A session starts Inactive, is Active while any of its streams runs, goes back to Inactive when the last
running stream stops and Expires after ``expire_after`` seconds inactive (leaving the enumeration); it ends
when its last stream is released or it is disconnected, and a render session then persists its volume and
mute. Every change is reported through ``emit``, in order.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..._exceptions import SessionNotFound, StreamNotFound
from ...events import (
    Event,
    SessionCreated,
    SessionDisconnected,
    SessionExpired,
    SessionRemoved,
    StateChanged,
    StreamsChanged,
)
from ...model import Device, DisconnectReason, Flow, Role, Session, SessionKey, SessionState, StreamState
from .audio import SimAudio
from .persistence import VolumeStore
from .records import SessionRecord, StreamRecord
from .scheduler import Scheduler

if TYPE_CHECKING:
    from ...audio.synth import Tone
    from ...focus.request import FocusAttributes

SYSTEM_SOUNDS_GUID = "5d0e2a51-ad0e-4b5c-9a63-3e5e6d1b7c11"
"""The fixed GUID of the simulated system sounds session (cross-process)."""

ALLOWED_TRANSITIONS = frozenset(
    {
        (SessionState.INACTIVE, SessionState.ACTIVE),
        (SessionState.ACTIVE, SessionState.INACTIVE),
        (SessionState.INACTIVE, SessionState.EXPIRED),
        (SessionState.EXPIRED, SessionState.ACTIVE),
        (SessionState.EXPIRED, SessionState.INACTIVE),
    }
)


class SessionTable:
    """Every session and stream of the service, with the state rules above."""

    def __init__(
        self,
        *,
        audio: SimAudio,
        scheduler: Scheduler,
        store: VolumeStore,
        emit: Callable[[Event], None],
        expire_after: float,
    ) -> None:
        self._audio = audio
        self._scheduler = scheduler
        self._store = store
        self._emit = emit
        self.expire_after = expire_after
        self._sessions: dict[str, SessionRecord] = {}
        self._by_identity: dict[tuple[SessionKey, Flow], str] = {}
        self._streams: dict[str, StreamRecord] = {}
        self._session_numbers = itertools.count(1)
        self._stream_numbers = itertools.count(1)
        self._app_last_run: dict[str, float] = {}

    @property
    def now(self) -> float:
        return self._scheduler.now

    # --- lookups -------------------------------------------------------------------------------------------

    def session(self, session_id: object) -> SessionRecord:
        """The session ``session_id`` if it is enumerable; SessionNotFound if unknown, expired or ended."""
        if not isinstance(session_id, str):
            raise TypeError(f"a session id is a str, not {type(session_id).__name__}")
        session = self._sessions.get(session_id)
        if session is None or session.state is SessionState.EXPIRED:
            raise SessionNotFound(f"no session {session_id!r} (unknown, expired or ended)")
        return session

    def stream(self, stream_id: str) -> StreamRecord:
        """The stream ``stream_id``; StreamNotFound once it is released."""
        stream = self._streams.get(stream_id)
        if stream is None:
            raise StreamNotFound(f"no stream {stream_id!r} (released, or the service restarted)")
        return stream

    def exists(self, session_id: str) -> bool:
        """Whether the session has not ended (an expired one still exists)."""
        return session_id in self._sessions

    def find_stream(self, stream_id: str) -> StreamRecord | None:
        return self._streams.get(stream_id)

    def owner(self, stream: StreamRecord) -> SessionRecord:
        """The session a live stream belongs to."""
        return self._sessions[stream.session_id]

    def by_identity(self, key: SessionKey, flow: Flow) -> SessionRecord | None:
        """The session a new stream with this key and flow joins, if it exists."""
        session_id = self._by_identity.get((key, flow))
        return None if session_id is None else self._sessions[session_id]

    def records(self) -> list[SessionRecord]:
        """Every session that exists, expired ones included."""
        return list(self._sessions.values())

    def streams_of(self, session: SessionRecord) -> list[StreamRecord]:
        return [self._streams[i] for i in session.stream_ids]

    def running_streams(self) -> list[StreamRecord]:
        return [s for s in self._streams.values() if s.state is StreamState.RUNNING]

    def app_is_running(self, app: str) -> bool:
        """Whether any stream of ``app`` runs."""
        return any(s.app == app and s.state is StreamState.RUNNING for s in self._streams.values())

    def last_run(self, app: str) -> float:
        """When a stream of ``app`` last started or stopped (-inf if never)."""
        return self._app_last_run.get(app, -math.inf)

    def frozen(self, s: SessionRecord) -> Session:
        """The public, immutable view of a session."""
        return Session(
            id=s.id,
            key=s.key,
            flow=s.flow,
            state=s.state,
            app=s.app,
            pid=s.pid,
            display_name=s.display_name,
            icon_path=s.icon_path,
            grouping_param=s.grouping_param,
            volume=s.volume,
            channel_volumes=tuple(s.channel_volumes),
            muted=s.muted,
            is_system_sounds=s.is_system_sounds,
            role=s.role,
            streams=tuple(self._streams[i].frozen() for i in s.stream_ids),
            ducking_opt_out=s.ducking_opt_out,
        )

    # --- creation ------------------------------------------------------------------------------------------

    def new_session(
        self,
        key: SessionKey,
        flow: Flow,
        app: str,
        pid: int | None,
        role: Role,
        device: Device,
        loopback: bool,
        is_system_sounds: bool = False,
    ) -> SessionRecord:
        """Create a session (Inactive, its persisted volume and mute restored); no event yet."""
        label = (app or "shared").replace(" ", "_")
        session_id = f"{label}@{device.id}#{next(self._session_numbers)}"
        persist_key = None
        if flow is Flow.RENDER and not loopback:
            owner = "*" if key.cross_process else f"app:{app}"
            persist_key = f"{device.id}|{key.guid}|{owner}"
        session = SessionRecord(
            id=session_id,
            key=key,
            flow=flow,
            app=app,
            pid=pid,  # a cross-process session reports the process that created it (GetProcessId)
            role=role,
            persist_key=persist_key,
            channel_volumes=[1.0] * device.channels,
            is_system_sounds=is_system_sounds,
        )
        stored = self._store.get(persist_key) if persist_key else None
        if stored is not None:
            session.volume, session.muted = stored.volume, stored.muted
        self._sessions[session_id] = session
        self._by_identity[(key, flow)] = session_id
        self.update_gain(session)
        self._schedule_expiry(session)
        return session

    def announce(self, session: SessionRecord) -> None:
        """Report a new session (SessionCreated, with its first streams)."""
        self._emit(SessionCreated(timestamp=self.now, session_id=session.id, session=self.frozen(session)))

    def ensure_system_sounds(self, device: Device) -> None:
        """Create the system sounds session on ``device`` unless it exists."""
        if any(s.is_system_sounds for s in self._sessions.values()):
            return
        key = SessionKey(SYSTEM_SOUNDS_GUID, True, None, device.id)
        session = self.new_session(key, Flow.RENDER, "System Sounds", None, Role.SYSTEM, device, False, True)
        session.display_name = "System Sounds"
        self.announce(session)

    def add_stream(
        self,
        session: SessionRecord,
        *,
        flow: Flow,
        pid: int,
        loopback: bool,
        name: str,
        role: Role,
        app: str,
        focus: FocusAttributes | None,
        tone: Tone | None,
    ) -> StreamRecord:
        """A new stream of ``session`` (stopped), playing ``tone`` when it runs; no event yet."""
        stream = StreamRecord(id=f"st{next(self._stream_numbers)}", session_id=session.id, flow=flow, pid=pid,
                              loopback=loopback, name=name, role=role, app=app, focus=focus)
        if tone is not None:
            self._audio.add_stream(stream.id, session.id, session.key.device_id, tone)
        self._streams[stream.id] = stream
        session.stream_ids.append(stream.id)
        return stream

    # --- changes -------------------------------------------------------------------------------------------

    def set_running(self, stream: StreamRecord, running: bool) -> None:
        """Start or stop a stream; its session goes Active with the first running stream and Inactive with
        the last one stopped."""
        new = StreamState.RUNNING if running else StreamState.STOPPED
        if stream.state is new:
            return
        stream.state = new
        self._audio.set_running(stream.id, running, self.now)
        self._app_last_run[stream.app] = self.now
        session = self._sessions[stream.session_id]
        self.emit_streams(session)
        any_running = any(self._streams[i].state is StreamState.RUNNING for i in session.stream_ids)
        if running and session.state is not SessionState.ACTIVE:
            self.set_state(session, SessionState.ACTIVE)
        elif not running and not any_running:
            self.set_state(session, SessionState.INACTIVE)

    def remove_stream(self, stream: StreamRecord) -> None:
        """Release a (stopped) stream; releasing the last stream of a session ends the session."""
        self._audio.remove_stream(stream.id)
        del self._streams[stream.id]
        session = self._sessions[stream.session_id]
        session.stream_ids.remove(stream.id)
        if session.stream_ids or session.is_system_sounds:
            self.emit_streams(session)
            return
        self._end_session(session)

    def drop(self, sessions: list[SessionRecord], reason: DisconnectReason) -> list[str]:
        """Disconnect and end ``sessions`` with all their streams; persist what they keep in one write.
        Returns the ids of the streams that vanished with them."""
        gone: list[str] = []
        with self._store.batch():
            for session in sessions:
                if session.state is not SessionState.EXPIRED:
                    self._emit(SessionDisconnected(timestamp=self.now, session_id=session.id, reason=reason))
                for stream_id in session.stream_ids:
                    self._audio.remove_stream(stream_id)
                    del self._streams[stream_id]
                    gone.append(stream_id)
                session.stream_ids.clear()
                self._end_session(session)
        return gone

    def emit_streams(self, session: SessionRecord) -> None:
        """Report the session's streams (StreamsChanged)."""
        streams = tuple(self._streams[i].frozen() for i in session.stream_ids)
        self._emit(StreamsChanged(timestamp=self.now, session_id=session.id, streams=streams))

    def set_state(self, session: SessionRecord, new: SessionState) -> None:
        """Move the session to ``new`` (one of the allowed transitions), and report it."""
        old = session.state
        if old is new:
            return
        assert (old, new) in ALLOWED_TRANSITIONS, (old, new)
        session.state = new
        self._emit(StateChanged(timestamp=self.now, session_id=session.id, old=old, new=new))
        if new is SessionState.INACTIVE:
            self._schedule_expiry(session)
        elif new is SessionState.EXPIRED:
            self._emit(SessionExpired(timestamp=self.now, session_id=session.id))

    def update_gain(self, session: SessionRecord) -> None:
        """Hand the session's volume, mute and channel volumes to its audio."""
        level = 0.0 if session.muted else session.volume
        self._audio.set_session_gain(session.id, tuple(level * c for c in session.channel_volumes), self.now)

    def _schedule_expiry(self, session: SessionRecord) -> None:
        if session.is_system_sounds:
            return
        session.inactive_generation += 1
        generation = session.inactive_generation

        def expire() -> None:
            if (
                self._sessions.get(session.id) is session
                and session.state is SessionState.INACTIVE
                and session.inactive_generation == generation
            ):
                self.set_state(session, SessionState.EXPIRED)

        self._scheduler.call_later(self.expire_after, expire)

    def _end_session(self, session: SessionRecord) -> None:
        if session.state is SessionState.ACTIVE:
            self.set_state(session, SessionState.INACTIVE)
        if session.state is SessionState.INACTIVE:
            session.inactive_generation += 1
            session.state = SessionState.EXPIRED
            self._emit(StateChanged(timestamp=self.now, session_id=session.id, old=SessionState.INACTIVE,
                                    new=SessionState.EXPIRED))
        del self._sessions[session.id]
        self._by_identity.pop((session.key, session.flow), None)
        self._audio.forget_session(session.id)
        self._emit(SessionRemoved(timestamp=self.now, session_id=session.id))
        if session.persist_key is not None:  # last: a failed write must not leave the session half-ended
            self._store.put(session.persist_key, session.volume, session.muted)
