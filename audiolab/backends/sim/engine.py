"""The simulated audio service: endpoint devices, streams, sessions and their rules, driven by a clock.

It reproduces the Windows session model (see docs in shared/reference/windows):

- a client opens a stream on a device and assigns it, at open time and for good, to the session named by
  (session GUID, cross-process flag); process-specific sessions are also keyed by the client's pid, and every
  session by its device; render and capture (loopback counts as capture) never share a session;
- a session starts Inactive, is Active while any of its streams runs, goes back to Inactive when the last
  running stream stops and Expires after ``expire_after`` seconds inactive (leaving the enumeration); it ends
  when its last stream is released;
- render sessions keep volume and mute across restarts (see :mod:`.persistence`); capture ones do not;
- the system sounds session always exists on the default render device.

The engine is synchronous and single-threaded: every call happens on the event loop thread, and time only
moves through :meth:`advance_to` (called by a virtual clock, or by a pump task on real time).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..._exceptions import FocusDeniedError, SessionNotFound, StreamNotFound
from ...events import (
    ChannelVolumeChanged,
    DisplayNameChanged,
    Event,
    GroupingParamChanged,
    IconPathChanged,
    SessionCreated,
    SessionDisconnected,
    SessionExpired,
    SessionRemoved,
    StateChanged,
    StreamsChanged,
    VolumeChanged,
)
from ...focus import (
    Deny,
    FocusAttributes,
    FocusEngine,
    FocusPolicy,
    FocusRequest,
)
from ...focus.policy import as_policy
from ...model import (
    NULL_GUID,
    Device,
    DeviceRole,
    DisconnectReason,
    Flow,
    MeterFrame,
    Origin,
    Role,
    Session,
    SessionKey,
    SessionState,
    Stream,
    StreamState,
    check_level,
    normalize_guid,
)
from .audio import SimAudio
from .devices import check_devices, default_device, default_devices
from .focus import FocusRules
from .persistence import VolumeStore

if TYPE_CHECKING:
    from ...audio.synth import Tone

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


def check_options(devices: tuple[Device, ...] | None, expire_after: float, idle_timeout: float) -> tuple[Device, ...]:
    """Validate the service's options (before anything starts); returns the device set to use."""
    for name, value in (("expire_after", expire_after), ("idle_timeout", idle_timeout)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return check_devices(devices if devices is not None else default_devices())


@dataclass
class _Stream:
    id: str
    session_id: str
    flow: Flow
    pid: int
    loopback: bool
    name: str
    role: Role
    app: str = ""
    state: StreamState = StreamState.STOPPED
    focus_held: bool = False  # paused or stopped by the focus policy, not by its app
    focus: FocusAttributes | None = None  # how it asks for focus in Android's or iOS's terms

    def frozen(self) -> Stream:
        return Stream(self.id, self.flow, self.state, self.pid, self.loopback, self.name)


@dataclass
class _Session:
    id: str
    key: SessionKey
    flow: Flow
    app: str
    pid: int | None
    role: Role
    persist_key: str | None
    volume: float = 1.0
    channel_volumes: list[float] = field(default_factory=lambda: [1.0, 1.0])
    muted: bool = False
    display_name: str = ""
    icon_path: str = ""
    grouping_param: str = NULL_GUID
    is_system_sounds: bool = False
    ducking_opt_out: bool = False
    state: SessionState = SessionState.INACTIVE
    stream_ids: list[str] = field(default_factory=list)
    inactive_generation: int = 0


class SimEngine(FocusRules):
    """The simulated audio service. ``emit`` receives every event, on the caller's thread, in order."""

    def __init__(
        self,
        *,
        emit: Callable[[Event], None],
        now: Callable[[], float],
        devices: tuple[Device, ...] | None = None,
        expire_after: float = 30.0,
        store: VolumeStore | None = None,
        policy: FocusPolicy | str = "windows",
        idle_timeout: float = 60.0,
        sample_rate: int = 48000,
        block_frames: int = 480,
    ) -> None:
        self.devices = check_options(devices, expire_after, idle_timeout)
        self._emit_to = emit
        self._clock_now = now
        self.expire_after = float(expire_after)
        self.store = store if store is not None else VolumeStore(None)
        self._now = now()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._session_numbers = itertools.count(1)
        self._stream_numbers = itertools.count(1)
        self._sessions: dict[str, _Session] = {}
        self._by_identity: dict[tuple[SessionKey, Flow], str] = {}
        self._streams: dict[str, _Stream] = {}
        self.audio = SimAudio(self.devices, sample_rate=sample_rate, block_frames=block_frames,
                              on_finished=self._tone_finished, on_probe=self._probed)
        self.probe_frames: list[MeterFrame] = []
        """With :meth:`start_probing`: a meter frame for each block probing rendered, in time order."""
        self._block_index = math.floor(self._now / self.audio.block_seconds)
        self.focus = FocusEngine(as_policy(policy))
        self.idle_timeout = float(idle_timeout)
        self._activated_apps: dict[str, int] = {}  # app -> its activation's number, for the idle timer
        self._app_last_run: dict[str, float] = {}
        self._advancing = False
        self.stream_listeners: list[Callable[[str], None]] = []
        """Called with a stream id when its tone ended by itself or the stream vanished with its service
        or device (so whoever plays through it knows it is over)."""
        self._ensure_system_sounds()

    # --- time ---------------------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self._now

    def advance_to(self, t: float) -> None:
        """Run every timer and render every audio block due up to ``t``, in time order, then stand at ``t``."""
        if self._advancing:
            return  # a block's own consequences (a tone ending) must not render further blocks
        self._advancing = True
        try:
            self._advance(t)
        finally:
            self._advancing = False

    def _advance(self, t: float) -> None:
        block = self.audio.block_seconds
        while True:
            if self.audio.has_work():
                next_block = (self._block_index + 1) * block
            else:
                self._block_index = max(self._block_index, math.floor(self._now / block))
                next_block = math.inf
            next_timer = self._timers[0][0] if self._timers else math.inf
            if min(next_block, next_timer) > t:
                break
            if next_timer <= next_block:
                when, _, action = heapq.heappop(self._timers)
                self._now = max(self._now, when)
                action()
            elif self.audio.must_render(self._block_index + 1):
                self._now = max(self._now, next_block)
                self._block_index += 1
                self.audio.render_block(next_block)
            else:  # nobody listens: move the tones on to the next block that matters, in one step
                first = self._block_index + 1
                count = self.audio.skippable(first, min(_last_block(t, block, True), _last_block(next_timer, block, False)))
                if count == 0:
                    continue  # the next block was just asked for (a tone's last one): it is rendered
                self._block_index += count
                end = self._block_index * block
                self._now = max(self._now, end)
                self.audio.skip_blocks(count, end)
        self._now = max(self._now, t)

    def start_probing(self, around_changes: bool = True) -> None:
        """Render only the blocks :meth:`want_probe` asks for (and, with ``around_changes``, the two after the
        block in which anything changes), each kept as a meter frame in :attr:`probe_frames` (see :mod:`.audio`)."""
        self.audio.start_probing(around_changes)

    def want_probe(self, t: float) -> None:
        """Keep a meter frame for the block ending at ``t`` (on the block grid, the nearest one at or before
        it) and for the one before: when time stands at ``t``, the newest block rendered is one of them."""
        index = math.floor(t / self.audio.block_seconds + 1e-6)
        self.audio.want_block(index - 1)
        self.audio.want_block(index)

    def _probed(self, t_end: float, peaks: dict[str, tuple[float, ...]], devices: dict[str, float]) -> None:
        channel_peaks = {s.id: peaks.get(s.id, (0.0,) * len(s.channel_volumes)) for s in self._sessions.values()
                         if s.flow is Flow.RENDER and s.state is not SessionState.EXPIRED}
        self.probe_frames.append(MeterFrame(
            timestamp=t_end, peaks={sid: max(v, default=0.0) for sid, v in channel_peaks.items()},
            channel_peaks=channel_peaks, device_peaks=devices, sequence=len(self.probe_frames) + 1))

    def next_deadline(self) -> float | None:
        """The next moment something happens by itself: a timer, or the block in which a tone ends (so a
        virtual clock wakes whoever waits on it at that time, not at the end of a long advance)."""
        candidates = [self._timers[0][0]] if self._timers else []
        tone_end = self.audio.earliest_end()
        if tone_end is not None:
            block = self.audio.block_seconds
            candidates.append(math.ceil(tone_end / block - 1e-9) * block)
        return min(candidates, default=None)

    def call_at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (when, next(self._seq), action))

    def _sync_time(self) -> None:
        # Control calls happen "now": on real time the clock moved since the last pump.
        self.advance_to(self._clock_now())

    # --- devices and lookups -------------------------------------------------------------------------------

    def device(self, device_id: str) -> Device:
        for d in self.devices:
            if d.id == device_id:
                return d
        raise ValueError(f"no device {device_id!r}; devices are {', '.join(d.id for d in self.devices)}")

    def default_device(self, flow: Flow, role: DeviceRole = DeviceRole.CONSOLE) -> Device:
        return default_device(self.devices, flow, role)

    def _session(self, session_id: object) -> _Session:
        if not isinstance(session_id, str):
            raise TypeError(f"a session id is a str, not {type(session_id).__name__}")
        session = self._sessions.get(session_id)
        if session is None or session.state is SessionState.EXPIRED:
            raise SessionNotFound(f"no session {session_id!r} (unknown, expired or ended)")
        return session

    def _stream(self, stream_id: str) -> _Stream:
        stream = self._streams.get(stream_id)
        if stream is None:
            raise StreamNotFound(f"no stream {stream_id!r} (released, or the service restarted)")
        return stream

    def snapshot(self) -> list[Session]:
        return [self._frozen(s) for s in self._sessions.values() if s.state is not SessionState.EXPIRED]

    def all_sessions(self) -> list[Session]:
        """Every session that exists, expired ones included."""
        return [self._frozen(s) for s in self._sessions.values()]

    def session(self, session_id: str) -> Session:
        return self._frozen(self._session(session_id))

    def stream_session_id(self, stream_id: str) -> str:
        return self._stream(stream_id).session_id

    def stream(self, stream_id: str) -> Stream:
        return self._stream(stream_id).frozen()

    def running_streams(self) -> list[_Stream]:
        return [s for s in self._streams.values() if s.state is StreamState.RUNNING]

    def _frozen(self, s: _Session) -> Session:
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

    # --- streams --------------------------------------------------------------------------------------------

    def open_stream(
        self,
        *,
        pid: int,
        app: str,
        device_id: str | None = None,
        flow: Flow = Flow.RENDER,
        session_guid: str = NULL_GUID,
        cross_process: bool = False,
        loopback: bool = False,
        role: Role = Role.UNKNOWN,
        display_name: str | None = None,
        icon_path: str | None = None,
        name: str = "",
        tone: Tone | None = None,
        focus: FocusAttributes | None = None,
    ) -> str:
        """Open a stream and assign it to its session (created if needed). Returns the stream id. ``focus`` says
        how it asks for focus in Android's or iOS's terms."""
        self._sync_time()
        if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
            raise ValueError(f"pid must be a positive int, got {pid!r}")
        if not isinstance(app, str):
            raise TypeError("app must be a str")
        if not isinstance(flow, Flow):
            raise TypeError(f"flow must be an audiolab.Flow, not {type(flow).__name__}")
        if not isinstance(role, Role):
            raise TypeError(f"role must be an audiolab.Role, not {type(role).__name__}")
        guid = normalize_guid(session_guid)
        if device_id is None:
            wanted = Flow.RENDER if loopback else flow
            device_id = self.default_device(wanted, role.windows_device_role).id
        device = self.device(device_id)
        if loopback:
            if device.flow is not Flow.RENDER:
                raise ValueError("a loopback stream records a render device")
            flow = Flow.CAPTURE  # a loopback session is treated as a capture session
        elif device.flow is not flow:
            raise ValueError(f"a {flow.value} stream cannot open on the {device.flow.value} device {device.id!r}")
        if tone is not None and (flow is not Flow.RENDER or not _is_tone(tone)):
            raise ValueError("a tone plays on a render stream and must be an audiolab Tone")
        if tone is not None:
            from ...audio.sources import check_nyquist  # NumPy loads with the first tone

            check_nyquist(tone, self.audio.sample_rate)  # before the session exists: a refused tone leaves none
        key = SessionKey(guid, bool(cross_process), None if cross_process else pid, device.id)
        session_id = self._by_identity.get((key, flow))
        created = session_id is None
        if created:
            session = self._new_session(key, flow, app, pid, role, device, loopback)
            if display_name:
                session.display_name = display_name
            if icon_path:
                session.icon_path = icon_path
        else:
            session = self._sessions[session_id]  # type: ignore[index]
        stream = _Stream(
            id=f"st{next(self._stream_numbers)}",
            session_id=session.id,
            flow=flow,
            pid=pid,
            loopback=loopback,
            name=name,
            role=role,
            app=app,
            focus=focus,
        )
        self._streams[stream.id] = stream
        if tone is not None:
            self.audio.add_stream(stream.id, session.id, device.id, tone)
        session.stream_ids.append(stream.id)
        if created:
            self._emit(SessionCreated(timestamp=self._now, session_id=session.id, session=self._frozen(session)))
        else:
            self._emit_streams(session)
            if session.state is SessionState.EXPIRED:
                self._set_state(session, SessionState.INACTIVE)
        return stream.id

    def start_stream(self, stream_id: str) -> None:
        """IAudioClient::Start. The focus policy is asked first; a denied start raises FocusDeniedError and
        leaves the stream stopped."""
        self._sync_time()
        stream = self._stream(stream_id)
        if stream.state is StreamState.RUNNING:
            return
        actions = self.focus.start(self._focus_request(stream), self._now)
        denied = [a for a in actions if isinstance(a, Deny)]
        if denied:
            self._apply(actions)
            raise FocusDeniedError(f"focus denied to {stream.session_id}: {denied[0].reason}", why=denied[0].reason)
        stream.focus_held = False
        self._set_running(stream, True)
        self._apply(actions)

    def stop_stream(self, stream_id: str) -> None:
        """IAudioClient::Stop (by the stream's app): focus is released."""
        self._sync_time()
        stream = self._stream(stream_id)
        was_held, stream.focus_held = stream.focus_held, False
        if stream.state is StreamState.STOPPED and not was_held:
            return
        self._set_running(stream, False)
        self._apply(self.focus.stop(self._focus_request(stream), self._now))
        self._schedule_idle_check(stream.app)

    def release_stream(self, stream_id: str) -> None:
        """Release a stream; releasing the last stream of a session ends the session."""
        self._sync_time()
        stream = self._stream(stream_id)
        if stream.state is StreamState.RUNNING or stream.focus_held:
            self.stop_stream(stream_id)
        self.audio.remove_stream(stream_id)
        del self._streams[stream_id]
        session = self._sessions[stream.session_id]
        session.stream_ids.remove(stream_id)
        if session.stream_ids or session.is_system_sounds:
            self._emit_streams(session)
            return
        self._end_session(session)

    def set_tone_amplitude(self, stream_id: str, amplitude: float) -> None:
        self._stream(stream_id)
        if not self.audio.has_tone(stream_id):
            raise ValueError(f"stream {stream_id!r} plays no tone")
        self._sync_time()
        self.audio.set_amplitude(stream_id, amplitude)

    def _set_running(self, stream: _Stream, running: bool) -> None:
        new = StreamState.RUNNING if running else StreamState.STOPPED
        if stream.state is new:
            return
        stream.state = new
        self.audio.set_running(stream.id, running, self._now)
        self._app_last_run[stream.app] = self._now
        session = self._sessions[stream.session_id]
        self._emit_streams(session)
        any_running = any(self._streams[i].state is StreamState.RUNNING for i in session.stream_ids)
        if running and session.state is not SessionState.ACTIVE:
            self._set_state(session, SessionState.ACTIVE)
        elif not running and not any_running:
            self._set_state(session, SessionState.INACTIVE)

    def _tone_finished(self, stream_id: str, t: float) -> None:
        stream = self._streams.get(stream_id)
        if stream is None:
            return
        self._now = max(self._now, t)
        stream.state = StreamState.RUNNING  # the tone ended; the app's stream stops
        self.stop_stream(stream_id)
        self._tell_listeners(stream_id)

    def _tell_listeners(self, stream_id: str) -> None:
        for listener in list(self.stream_listeners):
            listener(stream_id)

    # --- meters --------------------------------------------------------------------------------------------

    def take_peaks(self) -> tuple[dict[str, tuple[float, ...]], dict[str, float]]:
        """Per-channel peaks of every enumerable render session (after its gain), and each render device's
        mixed peak, held since the previous call (then reset). Sessions that played nothing meter 0."""
        self._sync_time()
        held, devices = self.audio.take_peaks()
        peaks = {}
        for session in self._sessions.values():
            if session.flow is Flow.RENDER and session.state is not SessionState.EXPIRED:
                peaks[session.id] = held.get(session.id, (0.0,) * len(session.channel_volumes))
        return peaks, devices

    # --- session control -----------------------------------------------------------------------------------

    def set_volume(self, session_id: str, volume: float, origin: Origin) -> None:
        self._sync_time()
        session = self._session(session_id)
        level = check_level(volume)
        session.volume = level
        self._update_gain(session)
        self._emit(VolumeChanged(timestamp=self._now, session_id=session.id, volume=level, muted=session.muted,
                                 origin=origin))

    def set_mute(self, session_id: str, muted: bool, origin: Origin) -> None:
        self._sync_time()
        session = self._session(session_id)
        if not isinstance(muted, bool):
            raise TypeError(f"muted must be a bool, not {type(muted).__name__}")
        session.muted = muted
        self._update_gain(session)
        self._emit(VolumeChanged(timestamp=self._now, session_id=session.id, volume=session.volume, muted=muted,
                                 origin=origin))

    def set_channel_volume(self, session_id: str, channel: int, volume: float, origin: Origin) -> None:
        self._sync_time()
        session = self._session(session_id)
        if isinstance(channel, bool) or not isinstance(channel, int):
            raise TypeError(f"channel must be an int, not {type(channel).__name__}")
        if not 0 <= channel < len(session.channel_volumes):
            raise ValueError(f"channel must be in 0..{len(session.channel_volumes) - 1}, got {channel}")
        level = check_level(volume, "channel volume")
        session.channel_volumes[channel] = level
        self._update_gain(session)
        self._emit(ChannelVolumeChanged(timestamp=self._now, session_id=session.id,
                                        channel_volumes=tuple(session.channel_volumes), channel=channel,
                                        origin=origin))

    def set_display_name(self, session_id: str, name: str, origin: Origin) -> None:
        self._sync_time()
        session = self._session(session_id)
        if not isinstance(name, str):
            raise TypeError("a display name is a str")
        session.display_name = name
        self._emit(DisplayNameChanged(timestamp=self._now, session_id=session.id, display_name=name, origin=origin))

    def set_icon_path(self, session_id: str, path: str, origin: Origin) -> None:
        self._sync_time()
        session = self._session(session_id)
        if not isinstance(path, str):
            raise TypeError("an icon path is a str")
        session.icon_path = path
        self._emit(IconPathChanged(timestamp=self._now, session_id=session.id, icon_path=path, origin=origin))

    def set_grouping_param(self, session_id: str, grouping_param: str, origin: Origin) -> None:
        self._sync_time()
        session = self._session(session_id)
        value = normalize_guid(grouping_param)
        session.grouping_param = value
        self._emit(GroupingParamChanged(timestamp=self._now, session_id=session.id, grouping_param=value,
                                        origin=origin))

    def set_ducking_opt_out(self, session_id: str, opt_out: bool) -> None:
        session = self._session(session_id)
        if not isinstance(opt_out, bool):
            raise TypeError("opt_out must be a bool")
        session.ducking_opt_out = opt_out

    # --- the whole service ---------------------------------------------------------------------------------

    def restart(self) -> None:
        """Stop and start the service: every session is disconnected (server shutdown) and ends, its settings
        persisted; then the store is read again and only the system sounds session exists."""
        self.shutdown()
        self.store.reload()
        self._ensure_system_sounds()

    def shutdown(self) -> None:
        """The service stops: every session is disconnected (server shutdown) and ends."""
        self._sync_time()
        self._drop_sessions(list(self._sessions.values()), DisconnectReason.SERVER_SHUTDOWN)
        self._timers.clear()
        self.focus = FocusEngine(self.focus.policy)
        self._activated_apps.clear()

    def disconnect_device(self, device_id: str) -> None:
        """The device goes away: its sessions are disconnected (device removal) and end; what their streams
        held in focus is released; the system sounds session moves to the new default render device."""
        if not isinstance(device_id, str):
            raise TypeError(f"a device id is a str, not {type(device_id).__name__}")
        device = self.device(device_id)
        self._sync_time()
        sessions = [s for s in self._sessions.values() if s.key.device_id == device.id]
        requests = self._focus_requests(sessions)
        self.devices = tuple(d for d in self.devices if d.id != device.id)
        self._disconnect(sessions, DisconnectReason.DEVICE_REMOVAL, requests)
        self.audio.remove_device(device.id)
        if any(d.flow is Flow.RENDER for d in self.devices):
            self._ensure_system_sounds()

    def disconnect_session(self, session_id: str, reason: DisconnectReason) -> None:
        """One session is disconnected for ``reason`` (a format change, a logoff, a remote desktop
        disconnect, an exclusive-mode stream) and ends; what its streams held in focus is released. Device
        removal and server shutdown take every session of a device or of the service: see
        :meth:`disconnect_device` and :meth:`restart`."""
        if not isinstance(reason, DisconnectReason):
            raise TypeError(f"reason must be an audiolab.DisconnectReason, not {type(reason).__name__}")
        if reason in (DisconnectReason.DEVICE_REMOVAL, DisconnectReason.SERVER_SHUTDOWN):
            raise ValueError(f"{reason.value} disconnects every session of a device or of the service: use "
                             "remove_device() or restart()")
        self._sync_time()
        session = self._session(session_id)
        if session.is_system_sounds:
            raise ValueError("the system sounds session always exists; it cannot be disconnected")
        self._disconnect([session], reason, self._focus_requests([session]))

    def _focus_requests(self, sessions: list[_Session]) -> list[FocusRequest]:
        return [self._focus_request(self._streams[i]) for s in sessions for i in s.stream_ids]

    def _disconnect(self, sessions: list[_Session], reason: DisconnectReason, requests: list[FocusRequest]) -> None:
        """End ``sessions`` as disconnected, then release the focus their streams held (``requests``)."""
        self._drop_sessions(sessions, reason)
        for request in requests:
            self._apply(self.focus.stop(request, self._now))

    def _drop_sessions(self, sessions: list[_Session], reason: DisconnectReason) -> None:
        """Disconnect and end ``sessions`` with all their streams; persist what they keep in one write."""
        gone: list[str] = []
        with self.store.batch():
            for session in sessions:
                if session.state is not SessionState.EXPIRED:
                    self._emit(SessionDisconnected(timestamp=self._now, session_id=session.id, reason=reason))
                for stream_id in session.stream_ids:
                    self.audio.remove_stream(stream_id)
                    del self._streams[stream_id]
                    gone.append(stream_id)
                session.stream_ids.clear()
                self._end_session(session)
        for stream_id in gone:
            self._tell_listeners(stream_id)

    # --- internals -----------------------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        self._emit_to(event)

    def _emit_streams(self, session: _Session) -> None:
        streams = tuple(self._streams[i].frozen() for i in session.stream_ids)
        self._emit(StreamsChanged(timestamp=self._now, session_id=session.id, streams=streams))

    def _new_session(
        self,
        key: SessionKey,
        flow: Flow,
        app: str,
        pid: int | None,
        role: Role,
        device: Device,
        loopback: bool,
        is_system_sounds: bool = False,
    ) -> _Session:
        label = (app or "shared").replace(" ", "_")
        session_id = f"{label}@{device.id}#{next(self._session_numbers)}"
        persist_key = None
        if flow is Flow.RENDER and not loopback:
            owner = "*" if key.cross_process else f"app:{app}"
            persist_key = f"{device.id}|{key.guid}|{owner}"
        session = _Session(
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
        stored = self.store.get(persist_key) if persist_key else None
        if stored is not None:
            session.volume, session.muted = stored.volume, stored.muted
        self._sessions[session_id] = session
        self._by_identity[(key, flow)] = session_id
        self._update_gain(session)
        self._schedule_expiry(session)
        return session

    def _ensure_system_sounds(self) -> None:
        if any(s.is_system_sounds for s in self._sessions.values()):
            return
        device = self.default_device(Flow.RENDER)
        key = SessionKey(SYSTEM_SOUNDS_GUID, True, None, device.id)
        session = self._new_session(key, Flow.RENDER, "System Sounds", None, Role.SYSTEM, device, False, True)
        session.display_name = "System Sounds"
        self._emit(SessionCreated(timestamp=self._now, session_id=session.id, session=self._frozen(session)))

    def _set_state(self, session: _Session, new: SessionState) -> None:
        old = session.state
        if old is new:
            return
        assert (old, new) in ALLOWED_TRANSITIONS, (old, new)
        session.state = new
        self._emit(StateChanged(timestamp=self._now, session_id=session.id, old=old, new=new))
        if new is SessionState.INACTIVE:
            self._schedule_expiry(session)
        elif new is SessionState.EXPIRED:
            self._emit(SessionExpired(timestamp=self._now, session_id=session.id))

    def _update_gain(self, session: _Session) -> None:
        level = 0.0 if session.muted else session.volume
        self.audio.set_session_gain(session.id, tuple(level * c for c in session.channel_volumes), self._now)

    def _schedule_expiry(self, session: _Session) -> None:
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
                self._set_state(session, SessionState.EXPIRED)

        self.call_at(self._now + self.expire_after, expire)

    def _end_session(self, session: _Session) -> None:
        if session.state is SessionState.ACTIVE:
            self._set_state(session, SessionState.INACTIVE)
        if session.state is SessionState.INACTIVE:
            session.inactive_generation += 1
            session.state = SessionState.EXPIRED
            self._emit(StateChanged(timestamp=self._now, session_id=session.id, old=SessionState.INACTIVE,
                                    new=SessionState.EXPIRED))
        del self._sessions[session.id]
        self._by_identity.pop((session.key, session.flow), None)
        self.audio.forget_session(session.id)
        self._emit(SessionRemoved(timestamp=self._now, session_id=session.id))
        if session.persist_key is not None:  # last: a failed write must not leave the session half-ended
            self.store.put(session.persist_key, session.volume, session.muted)


def _last_block(t: float, block: float, inclusive: bool) -> int:
    """The last block index whose end is at or before ``t`` (``inclusive``) or strictly before it, computed
    with the same products (index x block) the block loop compares."""
    if math.isinf(t):
        return 1 << 62
    i = math.floor(t / block)
    while (i + 1) * block < t or (inclusive and (i + 1) * block == t):
        i += 1
    while i * block > t or (not inclusive and i * block == t):
        i -= 1
    return i


def _is_tone(value: object) -> bool:
    """Whether ``value`` is an audiolab Tone (imported here: NumPy loads with the first tone)."""
    from ...audio.synth import Tone

    return isinstance(value, Tone)
