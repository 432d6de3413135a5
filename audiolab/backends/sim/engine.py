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

:class:`SimEngine` is the service's one entry point, made of parts with one job each: the
:class:`~.scheduler.Scheduler` (time: timers and audio blocks), the :class:`~.sessions.SessionTable` (sessions,
streams and their state rules), :class:`~.control.SessionControl` (what a client may set on a session),
:class:`~.focus.FocusRules` (what the focus policy decides) and :class:`~.audio.SimAudio` (the tones, mixed and
metered). The engine is synchronous and single-threaded: every call happens on the event loop thread, and time
only moves through :meth:`SimEngine.advance_to` (called by a virtual clock, or by a pump task on real time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...events import Event
from ...focus.policy import FocusPolicy, as_policy
from ...model import (
    NULL_GUID,
    ConcurrencyMode,
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
    normalize_guid,
)
from .audio import SimAudio
from .control import SessionControl
from .devices import check_devices, default_device, default_devices
from .persistence import VolumeStore
from .records import SessionRecord, StreamRecord
from .scheduler import Scheduler
from .sessions import SessionTable

if TYPE_CHECKING:
    from ...audio.synth import Tone
    from ...focus.engine import FocusEngine
    from ...focus.request import FocusAttributes, FocusRequest
    from .focus import FocusRules

def check_options(devices: tuple[Device, ...] | None, expire_after: float, idle_timeout: float) -> tuple[Device, ...]:
    """Validate the service's options (before anything starts); returns the device set to use."""
    for name, value in (("expire_after", expire_after), ("idle_timeout", idle_timeout)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return check_devices(devices if devices is not None else default_devices())


class SimEngine:
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
        self._emit = emit
        self._clock_now = now
        self.store = store if store is not None else VolumeStore(None)
        self.audio = SimAudio(self.devices, sample_rate=sample_rate, block_frames=block_frames,
                              on_finished=self._tone_finished, on_probe=self._probed)
        self.probe_frames: list[MeterFrame] = []
        """With :meth:`start_probing`: a meter frame for each block probing rendered, in time order."""
        self._scheduler = Scheduler(self.audio, now())
        self._table = SessionTable(audio=self.audio, scheduler=self._scheduler, store=self.store, emit=emit,
                                   expire_after=float(expire_after))
        self._control = SessionControl(self._table, emit)
        self._policy = as_policy(policy)
        self._idle_timeout = float(idle_timeout)
        self._focus_rules: FocusRules | None = None
        self.stream_listeners: list[Callable[[str], None]] = []
        """Called with a stream id when its tone ended by itself or the stream vanished with its service
        or device (so whoever plays through it knows it is over)."""
        self._table.ensure_system_sounds(self.default_device(Flow.RENDER))

    @property
    def _rules(self) -> FocusRules:
        # Made on first use: a service that only lists its sessions (`audiolab sessions`) never loads the focus
        # engine, its actions and its systems, which would cost the CLI's cold start a quarter of its budget.
        if self._focus_rules is None:
            from .focus import FocusRules

            self._focus_rules = FocusRules(
                table=self._table, scheduler=self._scheduler, audio=self.audio, emit=self._emit,
                sync=self._sync_time, device=self.device, policy=self._policy, idle_timeout=self._idle_timeout)
        return self._focus_rules

    @property
    def focus(self) -> FocusEngine:
        """The focus engine in force (its policy, and what each stream holds)."""
        return self._rules.engine

    @property
    def policy(self) -> FocusPolicy:
        """The focus policy in force (read without making the focus engine)."""
        return self._policy if self._focus_rules is None else self._focus_rules.engine.policy

    @property
    def expire_after(self) -> float:
        """Seconds an Inactive session lasts before it expires."""
        return self._table.expire_after

    @property
    def idle_timeout(self) -> float:
        """Seconds before an idle activated HarmonyOS audio session is deactivated."""
        return self._idle_timeout

    # --- time ---------------------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """Where the service stands in time."""
        return self._scheduler.now

    def advance_to(self, t: float) -> None:
        """Run every timer and render every audio block due up to ``t``, in time order, then stand at ``t``."""
        self._scheduler.advance_to(t)

    def next_deadline(self) -> float | None:
        """The next moment something happens by itself: a timer, or the block in which a tone ends (so a
        virtual clock wakes whoever waits on it at that time, not at the end of a long advance)."""
        return self._scheduler.next_deadline()

    def call_at(self, when: float, action: Callable[[], None]) -> None:
        """Run ``action`` when the service's time reaches ``when``."""
        self._scheduler.call_at(when, action)

    def start_probing(self, around_changes: bool = True) -> None:
        """Render only the blocks :meth:`want_probe` asks for (and, with ``around_changes``, the two after the
        block in which anything changes), each kept as a meter frame in :attr:`probe_frames` (see :mod:`.audio`)."""
        self.audio.start_probing(around_changes)

    def want_probe(self, t: float) -> None:
        """Keep a meter frame for the block ending at ``t`` (on the block grid, the nearest one at or before
        it) and for the one before: when time stands at ``t``, the newest block rendered is one of them."""
        self._scheduler.want_probe(t)

    def _probed(self, t_end: float, peaks: dict[str, tuple[float, ...]], devices: dict[str, float]) -> None:
        channel_peaks = {s.id: peaks.get(s.id, (0.0,) * len(s.channel_volumes)) for s in self._table.records()
                         if s.flow is Flow.RENDER and s.state is not SessionState.EXPIRED}
        self.probe_frames.append(MeterFrame(
            timestamp=t_end, peaks={sid: max(v, default=0.0) for sid, v in channel_peaks.items()},
            channel_peaks=channel_peaks, device_peaks=devices, sequence=len(self.probe_frames) + 1))

    def _sync_time(self) -> None:
        # Control calls happen "now": on real time the clock moved since the last pump.
        self.advance_to(self._clock_now())

    # --- devices and lookups -------------------------------------------------------------------------------

    def device(self, device_id: str) -> Device:
        """The device ``device_id``; ValueError naming the devices if there is none."""
        for d in self.devices:
            if d.id == device_id:
                return d
        raise ValueError(f"no device {device_id!r}; devices are {', '.join(d.id for d in self.devices)}")

    def default_device(self, flow: Flow, role: DeviceRole = DeviceRole.CONSOLE) -> Device:
        """The default device of ``flow`` for ``role``."""
        return default_device(self.devices, flow, role)

    def snapshot(self) -> list[Session]:
        """The sessions a client enumerates now (expired ones are left out)."""
        return [self._table.frozen(s) for s in self._table.records() if s.state is not SessionState.EXPIRED]

    def all_sessions(self) -> list[Session]:
        """Every session that exists, expired ones included."""
        return [self._table.frozen(s) for s in self._table.records()]

    def session(self, session_id: str) -> Session:
        """One enumerable session; SessionNotFound if unknown, expired or ended."""
        return self._table.frozen(self._table.session(session_id))

    def stream_session_id(self, stream_id: str) -> str:
        """The id of the session a stream belongs to."""
        return self._table.stream(stream_id).session_id

    def stream(self, stream_id: str) -> Stream:
        """One stream; StreamNotFound once it is released."""
        return self._table.stream(stream_id).frozen()

    def running_streams(self) -> list[StreamRecord]:
        """The streams that run now."""
        return self._table.running_streams()

    def focus_request(self, stream_id: str) -> FocusRequest:
        """What the stream asks the focus policy when it starts (its role, device, app): for explanations."""
        return self._rules.request(self._table.stream(stream_id))

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
        device, flow = self._stream_device(device_id, flow, loopback, role)
        if tone is not None:
            self._check_tone(tone, flow)
        key = SessionKey(guid, bool(cross_process), None if cross_process else pid, device.id)
        session = self._table.by_identity(key, flow)
        created = session is None
        if session is None:
            session = self._table.new_session(key, flow, app, pid, role, device, loopback)
            if display_name:
                session.display_name = display_name
            if icon_path:
                session.icon_path = icon_path
        stream = self._table.add_stream(session, flow=flow, pid=pid, loopback=loopback, name=name, role=role,
                                        app=app, focus=focus, tone=tone)
        if created:
            self._table.announce(session)
        else:
            self._table.emit_streams(session)
            if session.state is SessionState.EXPIRED:
                self._table.set_state(session, SessionState.INACTIVE)
        return stream.id

    def _stream_device(self, device_id: str | None, flow: Flow, loopback: bool, role: Role) -> tuple[Device, Flow]:
        """The device a stream opens on (the role's default when None) and its session's flow."""
        if device_id is None:
            wanted = Flow.RENDER if loopback else flow
            device_id = self.default_device(wanted, role.windows_device_role).id
        device = self.device(device_id)
        if loopback:
            if device.flow is not Flow.RENDER:
                raise ValueError("a loopback stream records a render device")
            return device, Flow.CAPTURE  # a loopback session is treated as a capture session
        if device.flow is not flow:
            raise ValueError(f"a {flow.value} stream cannot open on the {device.flow.value} device {device.id!r}")
        return device, flow

    def _check_tone(self, tone: Tone, flow: Flow) -> None:
        """Refuse a tone before its session exists, so a refused tone leaves none."""
        if flow is not Flow.RENDER or not _is_tone(tone):
            raise ValueError("a tone plays on a render stream and must be an audiolab Tone")
        from ...audio.sources import check_nyquist  # NumPy loads with the first tone

        check_nyquist(tone, self.audio.sample_rate)

    def start_stream(self, stream_id: str) -> None:
        """IAudioClient::Start. The focus policy is asked first; a denied start raises FocusDeniedError and
        leaves the stream stopped."""
        self._sync_time()
        stream = self._table.stream(stream_id)
        if stream.state is StreamState.RUNNING:
            return
        self._rules.start(stream)

    def stop_stream(self, stream_id: str) -> None:
        """IAudioClient::Stop (by the stream's app): focus is released."""
        self._sync_time()
        self._rules.stop(self._table.stream(stream_id))

    def release_stream(self, stream_id: str) -> None:
        """Release a stream; releasing the last stream of a session ends the session."""
        self._sync_time()
        stream = self._table.stream(stream_id)
        if stream.state is StreamState.RUNNING or stream.focus_held:
            self.stop_stream(stream_id)
        self._table.remove_stream(stream)

    def set_tone_amplitude(self, stream_id: str, amplitude: float) -> None:
        """Change the amplitude of the tone a stream plays."""
        self._table.stream(stream_id)
        if not self.audio.has_tone(stream_id):
            raise ValueError(f"stream {stream_id!r} plays no tone")
        self._sync_time()
        self.audio.set_amplitude(stream_id, amplitude)

    def _tone_finished(self, stream_id: str, t: float) -> None:
        stream = self._table.find_stream(stream_id)
        if stream is None:
            return
        self._scheduler.catch_up(t)
        stream.state = StreamState.RUNNING  # the tone ended; the app's stream stops
        self.stop_stream(stream_id)
        self._tell_listeners([stream_id])

    def _tell_listeners(self, stream_ids: list[str]) -> None:
        for stream_id in stream_ids:
            for listener in list(self.stream_listeners):
                listener(stream_id)

    # --- meters --------------------------------------------------------------------------------------------

    def take_peaks(self) -> tuple[dict[str, tuple[float, ...]], dict[str, float]]:
        """Per-channel peaks of every enumerable render session (after its gain), and each render device's
        mixed peak, held since the previous call (then reset). Sessions that played nothing meter 0."""
        self._sync_time()
        held, devices = self.audio.take_peaks()
        peaks = {}
        for session in self._table.records():
            if session.flow is Flow.RENDER and session.state is not SessionState.EXPIRED:
                peaks[session.id] = held.get(session.id, (0.0,) * len(session.channel_volumes))
        return peaks, devices

    # --- session control -----------------------------------------------------------------------------------

    def set_volume(self, session_id: str, volume: float, origin: Origin) -> None:
        """The session's master volume, 0..1."""
        self._sync_time()
        self._control.set_volume(session_id, volume, origin)

    def set_mute(self, session_id: str, muted: bool, origin: Origin) -> None:
        """Mute or unmute the session."""
        self._sync_time()
        self._control.set_mute(session_id, muted, origin)

    def set_channel_volume(self, session_id: str, channel: int, volume: float, origin: Origin) -> None:
        """One channel's volume, 0..1."""
        self._sync_time()
        self._control.set_channel_volume(session_id, channel, volume, origin)

    def set_display_name(self, session_id: str, name: str, origin: Origin) -> None:
        """The name a volume mixer shows."""
        self._sync_time()
        self._control.set_display_name(session_id, name, origin)

    def set_icon_path(self, session_id: str, path: str, origin: Origin) -> None:
        """The icon a volume mixer shows."""
        self._sync_time()
        self._control.set_icon_path(session_id, path, origin)

    def set_grouping_param(self, session_id: str, grouping_param: str, origin: Origin) -> None:
        """The GUID that groups sessions under one volume control."""
        self._sync_time()
        self._control.set_grouping_param(session_id, grouping_param, origin)

    def set_ducking_opt_out(self, session_id: str, opt_out: bool) -> None:
        """SetDuckingPreference: an opted-out session is notified of a duck but not ducked."""
        self._control.set_ducking_opt_out(session_id, opt_out)

    # --- focus ---------------------------------------------------------------------------------------------

    def set_policy(self, policy: FocusPolicy | str, **settings: object) -> None:
        """Switch the focus policy and re-evaluate what plays now (see :meth:`FocusEngine.set_policy
        <audiolab.focus.FocusEngine.set_policy>`): ``PolicyChanged`` first, then the focus events of the
        re-evaluation, each with the new policy's reason."""
        self._rules.set_policy(policy, **settings)

    def activate_session(self, app: str, mode: ConcurrencyMode) -> None:
        """HarmonyOS AudioSessionManager.activateAudioSession for ``app``."""
        self._rules.activate_session(app, mode)

    def deactivate_session(self, app: str) -> None:
        """HarmonyOS deactivateAudioSession, by the app itself (no deactivation event). With no activated
        session, SessionNotFound with ``code`` 6800301, as HarmonyOS answers."""
        self._rules.deactivate_session(app)

    def is_session_activated(self, app: str) -> bool:
        """Whether ``app`` has an activated HarmonyOS audio session."""
        return self._rules.is_session_activated(app)

    # --- the whole service ---------------------------------------------------------------------------------

    def restart(self) -> None:
        """Stop and start the service: every session is disconnected (server shutdown) and ends, its settings
        persisted; then the store is read again and only the system sounds session exists."""
        self.shutdown()
        self.store.reload()
        self._table.ensure_system_sounds(self.default_device(Flow.RENDER))

    def shutdown(self) -> None:
        """The service stops: every session is disconnected (server shutdown) and ends."""
        self._sync_time()
        self._drop(self._table.records(), DisconnectReason.SERVER_SHUTDOWN)
        self._scheduler.clear()
        if self._focus_rules is not None:  # else nothing ever asked for focus
            self._focus_rules.reset()

    def disconnect_device(self, device_id: str) -> None:
        """The device goes away: its sessions are disconnected (device removal) and end; what their streams
        held in focus is released; the system sounds session moves to the new default render device."""
        if not isinstance(device_id, str):
            raise TypeError(f"a device id is a str, not {type(device_id).__name__}")
        device = self.device(device_id)
        self._sync_time()
        sessions = [s for s in self._table.records() if s.key.device_id == device.id]
        requests = self._rules.requests_of(sessions)
        self.devices = tuple(d for d in self.devices if d.id != device.id)
        self._drop(sessions, DisconnectReason.DEVICE_REMOVAL)
        self._rules.release(requests)
        self.audio.remove_device(device.id)
        if any(d.flow is Flow.RENDER for d in self.devices):
            self._table.ensure_system_sounds(self.default_device(Flow.RENDER))

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
        session = self._table.session(session_id)
        if session.is_system_sounds:
            raise ValueError("the system sounds session always exists; it cannot be disconnected")
        requests = self._rules.requests_of([session])
        self._drop([session], reason)
        self._rules.release(requests)

    def _drop(self, sessions: list[SessionRecord], reason: DisconnectReason) -> None:
        self._tell_listeners(self._table.drop(sessions, reason))


def _is_tone(value: object) -> bool:
    """Whether ``value`` is an audiolab Tone (imported here: NumPy loads with the first tone)."""
    from ...audio.synth import Tone

    return isinstance(value, Tone)
