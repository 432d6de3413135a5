"""FakeCom: a fake of the wasapi backend's COM layer that behaves as the Core Audio documentation describes, for tests on any OS.

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
from typing import Any

from ..backends._wasapi.com import (
    ComApi,
    ComCallFailed,
    EndpointInfo,
    SessionManager,
)
from ..model import DeviceRole, Flow
from ._com_objects import (
    ACTIVE,
    E_INVALIDARG,
    EXPIRED,
    INACTIVE,
    SYSTEM_SOUNDS_GUID,
    FakeComError,
    FakeProcess,
    FakeStream,
    _check_level,
    _Control,
    _Manager,
    _Registration,
    _Session,
    default_endpoints,
)

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
