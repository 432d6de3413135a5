"""A fake of the COM layer that behaves as the Core Audio documentation describes, for tests on any OS.

What it reproduces:

- notifications arrive on the fake's own thread (not the caller's), in order;
- a new session is announced through OnSessionCreated *before* the enumerator lists it, and only to managers
  whose enumerator was asked at least once (as Windows does);
- GetProcessId answers AUDCLNT_S_NO_SINGLE_PROCESS for a cross-process session; the system sounds session
  answers S_OK with pid 0 and IsSystemSoundsSession S_OK (S_FALSE for every other session);
- states Inactive -> Active -> Inactive, Expired when the last stream is released; disconnect reasons;
- duck / unduck notifications when a session on the default communications device starts / stops, with the
  number of active communications sessions;
- every change notifies every registered client with the event context of whoever made it.

What it checks: it counts live references and registrations, and records every protocol violation (a second
release, a call after release, a call from a thread not initialised for COM) in :attr:`FakeCom.violations`.

Tests act as other apps through :meth:`FakeCom.process` (streams that open, start, stop, release) and the
``*_elsewhere`` methods (changes made by another client, with its own event context).
"""

from __future__ import annotations

import itertools
import queue
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...model import NULL_GUID, DeviceRole, Flow, normalize_guid
from .com import (
    AUDCLNT_S_NO_SINGLE_PROCESS,
    S_FALSE,
    S_OK,
    ComApi,
    ComCallFailed,
    CreatedCallback,
    DuckCallback,
    EndpointInfo,
    Registration,
    SessionControl,
    SessionEvents,
    SessionManager,
    UnduckCallback,
)

E_INVALIDARG = 0x80070057 - (1 << 32)
SYSTEM_SOUNDS_GUID = "b1a6c8f2-3d4e-4f50-8a61-7c2d9e0f1a23"
INACTIVE, ACTIVE, EXPIRED = 0, 1, 2


def default_endpoints() -> tuple[EndpointInfo, ...]:
    """Speakers (default console device), a headset (default communications device), a microphone."""
    return (
        EndpointInfo("{0.0.0.00000000}.{5f3c1e2a-0000-4000-8000-000000000001}", "Speakers (Fake Audio)",
                     Flow.RENDER, 2, frozenset({DeviceRole.CONSOLE, DeviceRole.MULTIMEDIA})),
        EndpointInfo("{0.0.0.00000000}.{5f3c1e2a-0000-4000-8000-000000000002}", "Headset Earphone (Fake Audio)",
                     Flow.RENDER, 2, frozenset({DeviceRole.COMMUNICATIONS})),
        EndpointInfo("{0.0.1.00000000}.{5f3c1e2a-0000-4000-8000-000000000003}", "Microphone (Fake Audio)",
                     Flow.CAPTURE, 1, frozenset(DeviceRole)),
    )


class FakeComError(AssertionError):
    """A protocol violation: what would be a crash or a leak with real COM."""


# --- the audio engine's side ---------------------------------------------------------------------------------


@dataclass(eq=False)
class _Session:
    endpoint: EndpointInfo
    guid: str
    cross_process: bool
    pid: int
    process_name: str
    identifier: str
    instance_id: str
    channels: list[float]
    system_sounds: bool = False
    state: int = INACTIVE
    display_name: str = ""
    icon_path: str = ""
    grouping_param: str = NULL_GUID
    volume: float = 1.0
    muted: bool = False
    ducking_opt_out: bool = False
    listed: bool = False
    streams: list[FakeStream] = field(default_factory=list)
    events: list[_Registration] = field(default_factory=list)


class FakeStream:
    """A stream of a fake process (IAudioClient): start, stop, release; ``level`` is what it plays (0..1)."""

    def __init__(self, fake: FakeCom, session: _Session, level: float) -> None:
        self._fake = fake
        self._session = session
        self.level = level
        self.running = False
        self.released = False

    @property
    def session_id(self) -> str:
        """The instance identifier of the stream's session."""
        return self._session.instance_id

    def start(self) -> None:
        self._fake._stream_running(self, True)

    def stop(self) -> None:
        self._fake._stream_running(self, False)

    def release(self) -> None:
        self._fake._release_stream(self)


class FakeProcess:
    """Another app: a process with a pid and an executable name."""

    def __init__(self, fake: FakeCom, name: str, pid: int) -> None:
        self._fake = fake
        self.name = name
        self.pid = pid
        self.streams: list[FakeStream] = []

    def open_stream(
        self,
        endpoint_id: str | None = None,
        *,
        session_guid: str = NULL_GUID,
        cross_process: bool = False,
        display_name: str | None = None,
        level: float = 0.5,
        start: bool = False,
    ) -> FakeStream:
        """IAudioClient::Initialize on ``endpoint_id`` (the default console device of its flow when None)."""
        stream = self._fake._open_stream(self, endpoint_id, normalize_guid(session_guid), cross_process,
                                         display_name, level)
        self.streams.append(stream)
        if start:
            stream.start()
        return stream

    def exit(self) -> None:
        """The process ends: its streams are released."""
        for stream in list(self.streams):
            if not stream.released:
                stream.release()


# --- COM objects handed to the backend -----------------------------------------------------------------------


class _Owned:
    """One COM reference: counted while alive, released once."""

    def __init__(self, fake: FakeCom) -> None:
        self._fake = fake
        self._released = False
        fake._add_reference()

    def _check(self, what: str) -> None:
        self._fake._check_thread(what)
        if self._released:
            self._fake._violation(f"{what} on a released {type(self).__name__}")

    def release(self) -> None:
        self._fake._check_thread("Release")
        if self._released:
            self._fake._violation(f"second Release of a {type(self).__name__}")
        self._released = True
        self._fake._drop_reference()


class _Registration(Registration):
    def __init__(self, fake: FakeCom, kind: str, target: list[_Registration], callback: Any) -> None:
        self._fake = fake
        self.kind = kind
        self._target = target
        self.callback = callback
        self.active = True
        with fake._lock:
            target.append(self)
            fake._registrations += 1

    def unregister(self) -> None:
        self._fake._check_thread(f"Unregister {self.kind}")
        with self._fake._lock:
            if not self.active:
                self._fake._violation(f"second Unregister of a {self.kind} registration")
            self.active = False
            if self in self._target:
                self._target.remove(self)
            self._fake._registrations -= 1


class _Control(_Owned, SessionControl):
    def __init__(self, fake: FakeCom, session: _Session) -> None:
        super().__init__(fake)
        self._s = session

    def instance_identifier(self) -> str:
        self._check("GetSessionInstanceIdentifier")
        return self._s.instance_id

    def session_identifier(self) -> str:
        self._check("GetSessionIdentifier")
        return self._s.identifier

    def process_id(self) -> tuple[int, int]:
        self._check("GetProcessId")
        if self._s.system_sounds:
            return S_OK, 0
        if self._s.cross_process:
            return AUDCLNT_S_NO_SINGLE_PROCESS, self._s.pid  # the process that created it
        return S_OK, self._s.pid

    def is_system_sounds_session(self) -> int:
        self._check("IsSystemSoundsSession")
        return S_OK if self._s.system_sounds else S_FALSE

    def state(self) -> int:
        self._check("GetState")
        return self._s.state

    def display_name(self) -> str:
        self._check("GetDisplayName")
        return self._s.display_name

    def icon_path(self) -> str:
        self._check("GetIconPath")
        return self._s.icon_path

    def grouping_param(self) -> str:
        self._check("GetGroupingParam")
        return self._s.grouping_param

    def master_volume(self) -> float:
        self._check("GetMasterVolume")
        return self._s.volume

    def mute(self) -> bool:
        self._check("GetMute")
        return self._s.muted

    def channel_volumes(self) -> tuple[float, ...]:
        self._check("GetChannelVolume")
        return tuple(self._s.channels)

    def peaks(self) -> tuple[float, tuple[float, ...]]:
        self._check("GetPeakValue")
        return self._fake._peaks(self._s)

    def set_master_volume(self, level: float, context: str) -> None:
        self._check("SetMasterVolume")
        self._fake.set_volume_elsewhere(self._s.instance_id, level, context=context)

    def set_mute(self, muted: bool, context: str) -> None:
        self._check("SetMute")
        self._fake.set_mute_elsewhere(self._s.instance_id, muted, context=context)

    def set_channel_volume(self, channel: int, level: float, context: str) -> None:
        self._check("SetChannelVolume")
        self._fake.set_channel_volume_elsewhere(self._s.instance_id, channel, level, context=context)

    def set_display_name(self, name: str, context: str) -> None:
        self._check("SetDisplayName")
        self._fake.set_display_name_elsewhere(self._s.instance_id, name, context=context)

    def set_icon_path(self, path: str, context: str) -> None:
        self._check("SetIconPath")
        self._fake._set_property(self._s, "icon_path", path, context, "icon_path_changed")

    def set_grouping_param(self, grouping_param: str, context: str) -> None:
        self._check("SetGroupingParam")
        self._fake._set_property(self._s, "grouping_param", normalize_guid(grouping_param), context,
                                 "grouping_param_changed")

    def set_ducking_preference(self, opt_out: bool) -> None:
        self._check("SetDuckingPreference")
        self._s.ducking_opt_out = bool(opt_out)

    def register_events(self, events: SessionEvents) -> Registration:
        self._check("RegisterAudioSessionNotification")
        return _Registration(self._fake, "session events", self._s.events, events)


class _Manager(_Owned, SessionManager):
    def __init__(self, fake: FakeCom, endpoint: EndpointInfo) -> None:
        super().__init__(fake)
        self.endpoint = endpoint
        self.enumerated = False
        self.created: list[_Registration] = []

    def sessions(self) -> list[SessionControl]:
        self._check("GetSessionEnumerator")
        self.enumerated = True
        with self._fake._lock:
            listed = [s for s in self._fake._sessions.values() if s.endpoint.id == self.endpoint.id and s.listed]
        return [_Control(self._fake, s) for s in listed]

    def register_session_created(self, callback: CreatedCallback) -> Registration:
        self._check("RegisterSessionNotification")
        return _Registration(self._fake, "session created", self.created, callback)

    def register_duck(self, on_duck: DuckCallback, on_unduck: UnduckCallback) -> Registration:
        self._check("RegisterDuckNotification")
        return _Registration(self._fake, "duck", self._fake._duck_registrations, (on_duck, on_unduck))

    def release(self) -> None:
        super().release()
        with self._fake._lock:
            if self in self._fake._managers:
                self._fake._managers.remove(self)


# --- the fake itself -----------------------------------------------------------------------------------------


class FakeCom(ComApi):
    """The fake COM layer. Pass it as ``WasapiBackend(com=FakeCom())``."""

    def __init__(self, endpoints: Sequence[EndpointInfo] | None = None, *, system_sounds: bool = True) -> None:
        self._lock = threading.RLock()
        self._endpoints: dict[str, EndpointInfo] = {e.id: e for e in (endpoints or default_endpoints())}
        if not self._endpoints:
            raise ValueError("a FakeCom needs at least one endpoint")
        self._sessions: dict[tuple[str, str, bool, int], _Session] = {}
        self._managers: list[_Manager] = []
        self._duck_registrations: list[_Registration] = []
        self._processes: dict[int, FakeProcess] = {}
        self._pids = itertools.count(5000)
        self._com_threads: set[int] = set()
        self._references = 0
        self._registrations = 0
        self._communications_active = 0
        self.violations: list[str] = []
        self.other_context = str(uuid.uuid4())
        """The event context of changes made through the ``*_elsewhere`` methods."""
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._dispatch_loop, name="fake-com-notifications", daemon=True)
        self._thread.start()
        if system_sounds:
            self._add_system_sounds()

    # --- counters for tests ----------------------------------------------------------------------------------

    @property
    def references(self) -> int:
        """COM references handed out and not yet released."""
        return self._references

    @property
    def registrations(self) -> int:
        """Callback registrations not yet undone."""
        return self._registrations

    @property
    def endpoint_ids(self) -> tuple[str, ...]:
        """The ids of the active endpoints, in order (by default: speakers, headset, microphone)."""
        with self._lock:
            return tuple(self._endpoints)

    def default_endpoint_id(self, flow: Flow = Flow.RENDER, role: DeviceRole = DeviceRole.CONSOLE) -> str:
        with self._lock:
            return self._default_endpoint(flow, role).id

    @property
    def communications_sessions(self) -> int:
        return self._communications_active

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Block until every notification queued so far has been delivered (call it off the event loop)."""
        done = threading.Event()
        self._queue.put(done.set)
        if not done.wait(timeout):
            raise TimeoutError("the fake's notification thread is stuck")

    def close(self) -> None:
        """Stop the notification thread."""
        self._queue.put(None)
        self._thread.join(5.0)

    def __enter__(self) -> FakeCom:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- ComApi ------------------------------------------------------------------------------------------------

    def enter_thread(self) -> None:
        self._com_threads.add(threading.get_ident())

    def leave_thread(self) -> None:
        self._com_threads.discard(threading.get_ident())

    def endpoints(self) -> list[EndpointInfo]:
        self._check_thread("EnumAudioEndpoints")
        with self._lock:
            return list(self._endpoints.values())

    def open_manager(self, endpoint: EndpointInfo) -> SessionManager:
        self._check_thread("Activate(IAudioSessionManager2)")
        with self._lock:
            if endpoint.id not in self._endpoints:
                raise ComCallFailed("Activate", E_INVALIDARG)
            manager = _Manager(self, endpoint)
            self._managers.append(manager)
            return manager

    def process_name(self, pid: int) -> str:
        process = self._processes.get(pid)
        return process.name if process is not None else ""

    # --- acting as other apps -------------------------------------------------------------------------------

    def process(self, name: str, pid: int | None = None) -> FakeProcess:
        """A new app process (its pid is made up unless given)."""
        if not isinstance(name, str) or not name:
            raise ValueError("a process needs a non-empty name")
        process = FakeProcess(self, name, pid if pid is not None else next(self._pids))
        self._processes[process.pid] = process
        return process

    def session(self, instance_id: str) -> _Session:
        with self._lock:
            for session in self._sessions.values():
                if session.instance_id == instance_id:
                    return session
        raise KeyError(instance_id)

    def set_volume_elsewhere(self, instance_id: str, volume: float, *, context: str | None = None) -> None:
        session = self.session(instance_id)
        _check_level(volume, "SetMasterVolume")
        with self._lock:
            session.volume = float(volume)
            self._notify(session, "simple_volume_changed", session.volume, session.muted, self._ctx(context))

    def set_mute_elsewhere(self, instance_id: str, muted: bool, *, context: str | None = None) -> None:
        session = self.session(instance_id)
        with self._lock:
            session.muted = bool(muted)
            self._notify(session, "simple_volume_changed", session.volume, session.muted, self._ctx(context))

    def set_channel_volume_elsewhere(self, instance_id: str, channel: int, volume: float, *,
                                     context: str | None = None) -> None:
        session = self.session(instance_id)
        _check_level(volume, "SetChannelVolume")
        if not 0 <= channel < len(session.channels):
            raise ComCallFailed("SetChannelVolume", E_INVALIDARG)
        with self._lock:
            session.channels[channel] = float(volume)
            self._notify(session, "channel_volume_changed", tuple(session.channels), channel, self._ctx(context))

    def set_display_name_elsewhere(self, instance_id: str, name: str, *, context: str | None = None) -> None:
        self._set_property(self.session(instance_id), "display_name", name, self._ctx(context),
                           "display_name_changed")

    def disconnect_endpoint(self, endpoint_id: str, reason: int = 0) -> None:
        """The device goes away (reason 0, device removal): its sessions are disconnected and gone."""
        with self._lock:
            endpoint = self._endpoints.pop(endpoint_id)
            for key, session in list(self._sessions.items()):
                if session.endpoint.id == endpoint.id:
                    self._disconnect(key, session, reason)

    def restart_service(self) -> None:
        """The audio service stops: every session is disconnected with reason 1 (server shutdown)."""
        with self._lock:
            for key, session in list(self._sessions.items()):
                self._disconnect(key, session, 1)

    # --- internals --------------------------------------------------------------------------------------------

    def _ctx(self, context: str | None) -> str:
        return context if context is not None else self.other_context

    def _add_reference(self) -> None:
        with self._lock:
            self._references += 1

    def _drop_reference(self) -> None:
        with self._lock:
            self._references -= 1

    def _violation(self, message: str) -> None:
        self.violations.append(message)
        raise FakeComError(message)

    def _check_thread(self, what: str) -> None:
        ident = threading.get_ident()
        if ident not in self._com_threads and ident != self._thread.ident:
            self._violation(f"{what} called on thread {threading.current_thread().name!r}, not a COM thread")

    def _post(self, job: Callable[[], None]) -> None:
        self._queue.put(job)

    def _dispatch_loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            job()

    def _notify(self, session: _Session, method: str, *args: Any) -> None:
        registrations = list(session.events)

        def deliver() -> None:
            for registration in registrations:
                if registration.active:  # unregistered since: no more callbacks
                    getattr(registration.callback, method)(*args)

        self._post(deliver)

    def _announce(self, session: _Session) -> None:
        managers = [m for m in self._managers if m.endpoint.id == session.endpoint.id and m.enumerated]
        registrations = [r for m in managers for r in m.created]

        def deliver() -> None:
            for registration in registrations:
                if registration.active:
                    control = _Control(self, session)  # the receiver owns this reference
                    registration.callback(control)
            with self._lock:
                session.listed = True  # the enumerator lists it only after OnSessionCreated went out

        self._post(deliver)

    def _add_system_sounds(self) -> None:
        endpoint = self._default_endpoint(Flow.RENDER, DeviceRole.CONSOLE)
        identifier = f"{endpoint.id}|#%b{{{SYSTEM_SOUNDS_GUID.upper()}}}"
        session = _Session(endpoint, SYSTEM_SOUNDS_GUID, True, 0, "", identifier, identifier + "|1%b#",
                           [1.0] * endpoint.channels, system_sounds=True, listed=True)
        session.display_name = "@%SystemRoot%\\System32\\AudioSrv.Dll,-202"
        self._sessions[(endpoint.id, SYSTEM_SOUNDS_GUID, True, 0)] = session

    def _default_endpoint(self, flow: Flow, role: DeviceRole) -> EndpointInfo:
        for endpoint in self._endpoints.values():
            if endpoint.flow is flow and role in endpoint.default_for:
                return endpoint
        for endpoint in self._endpoints.values():
            if endpoint.flow is flow:
                return endpoint
        raise ValueError(f"no {flow.value} endpoint")

    def _open_stream(self, process: FakeProcess, endpoint_id: str | None, guid: str, cross_process: bool,
                     display_name: str | None, level: float) -> FakeStream:
        with self._lock:
            if endpoint_id is None:
                endpoint = self._default_endpoint(Flow.RENDER, DeviceRole.CONSOLE)
            elif endpoint_id in self._endpoints:
                endpoint = self._endpoints[endpoint_id]
            else:
                raise ValueError(f"no endpoint {endpoint_id!r}")
            key = (endpoint.id, guid, cross_process, 0 if cross_process else process.pid)
            session = self._sessions.get(key)
            if session is None:
                path = f"\\Device\\HarddiskVolume3\\Apps\\{process.name}.exe"
                identifier = f"{endpoint.id}|{'#' if cross_process else path}%b{{{guid.upper()}}}"
                instance = identifier + ("|1%b#" if cross_process else f"|1%b{process.pid}")
                session = _Session(endpoint, guid, cross_process, process.pid, process.name, identifier, instance,
                                   [1.0] * endpoint.channels)
                if display_name:
                    session.display_name = display_name
                self._sessions[key] = session
                self._announce(session)
            stream = FakeStream(self, session, level)
            session.streams.append(stream)
            return stream

    def _stream_running(self, stream: FakeStream, running: bool) -> None:
        with self._lock:
            if stream.released:
                raise ValueError("the stream was released")
            stream.running = running
            session = stream._session
            active = any(s.running for s in session.streams)
            self._set_state(session, ACTIVE if active else INACTIVE)

    def _release_stream(self, stream: FakeStream) -> None:
        with self._lock:
            if stream.released:
                return
            stream.running = False
            stream.released = True
            session = stream._session
            session.streams.remove(stream)
            if session.streams:
                self._set_state(session, ACTIVE if any(s.running for s in session.streams) else INACTIVE)
                return
            self._set_state(session, INACTIVE)
            self._set_state(session, EXPIRED)
            for key, value in list(self._sessions.items()):
                if value is session:
                    del self._sessions[key]

    def _set_state(self, session: _Session, state: int) -> None:
        if session.state == state:
            return
        was_active = session.state == ACTIVE
        session.state = state
        self._notify(session, "state_changed", state)
        communications = (session.endpoint.flow is Flow.RENDER
                          and DeviceRole.COMMUNICATIONS in session.endpoint.default_for)
        if communications and state == ACTIVE:
            self._communications_active += 1
            self._duck_notify(0, session.instance_id, self._communications_active)
        elif communications and was_active:
            self._communications_active -= 1
            self._duck_notify(1, session.instance_id)

    def _duck_notify(self, which: int, *args: Any) -> None:
        registrations = list(self._duck_registrations)

        def deliver() -> None:
            for registration in registrations:
                if registration.active:
                    registration.callback[which](*args)

        self._post(deliver)

    def _disconnect(self, key: tuple[str, str, bool, int], session: _Session, reason: int) -> None:
        self._notify(session, "disconnected", reason)
        for stream in session.streams:
            stream.running = False
            stream.released = True
        session.streams.clear()
        del self._sessions[key]

    def _set_property(self, session: _Session, name: str, value: str, context: str, method: str) -> None:
        if not isinstance(value, str):
            raise ComCallFailed(method, E_INVALIDARG)
        with self._lock:
            setattr(session, name, value)
            self._notify(session, method, value, context)

    def _peaks(self, session: _Session) -> tuple[float, tuple[float, ...]]:
        with self._lock:
            level = max((s.level for s in session.streams if s.running), default=0.0)
            gain = 0.0 if session.muted else session.volume
            peak = level * gain
            return peak, tuple(peak * c for c in session.channels)


def _check_level(value: float, method: str) -> None:
    if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ComCallFailed(method, E_INVALIDARG)
