"""How the simulated service consults its focus policy and carries out what it decides.

:class:`FocusRules` is a part the engine holds: stream starts and stops become focus requests; the focus
engine's actions become gain fades (ducks), state changes (pause, resume, stop) and events; and the
HarmonyOS-style audio sessions of apps are activated, deactivated and timed out when idle. It sees the service
only through the :class:`~.sessions.SessionTable`, the :class:`~.scheduler.Scheduler` and the audio.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from ..._exceptions import FocusDeniedError, SessionNotFound
from ...events import Event, PolicyChanged
from ...focus import (
    DeactivateSession,
    Deny,
    Duck,
    FocusAction,
    FocusEngine,
    FocusPolicy,
    FocusRequest,
    Pause,
    Resume,
    Stop,
    Unduck,
)
from ...focus.in_force import simulated
from ...focus.policy import as_policy
from ...focus.request import NO_ATTRIBUTES
from ...model import ConcurrencyMode, DeactivationReason, Device, StreamState
from .audio import SimAudio
from .records import SessionRecord, StreamRecord
from .scheduler import Scheduler
from .session_gains import SessionGains
from .sessions import SessionTable

ERROR_SYSTEM = 6800301
"""HarmonyOS's code for deactivating an audio session that does not exist or has been released."""

# One number per activation, never reused: an idle timer armed during an earlier activation of the same app
# must not match a later one (a per-app counter restarts after each deactivation, so a stale timer matched).
_activations = itertools.count(1)


class FocusRules:
    """The focus half of the simulated service (see the module docstring).

    ``sync`` brings the service up to the clock before a call acts "now"; ``device`` looks a device up.
    """

    def __init__(
        self,
        *,
        table: SessionTable,
        scheduler: Scheduler,
        audio: SimAudio,
        emit: Callable[[Event], None],
        sync: Callable[[], None],
        device: Callable[[str], Device],
        policy: FocusPolicy,
        idle_timeout: float,
    ) -> None:
        self._table = table
        self._scheduler = scheduler
        self._audio = audio
        self._emit = emit
        self._sync = sync
        self._device = device
        self.idle_timeout = idle_timeout
        self.engine = FocusEngine(policy)
        """The focus engine that decides (its policy, and what each stream holds)."""
        self._activated_apps: dict[str, int] = {}  # app -> its activation's number, for the idle timer
        self._gains = SessionGains()

    @property
    def _now(self) -> float:
        return self._scheduler.now

    def request(self, stream: StreamRecord) -> FocusRequest:
        """What the stream asks the focus policy when it starts (its role, device, app)."""
        session = self._table.owner(stream)
        return FocusRequest(
            session_id=session.id,
            stream_id=stream.id,
            role=stream.role,
            device_id=session.key.device_id,
            flow=session.flow,
            on_communications_device=self._device(session.key.device_id).is_communications,
            ducking_opt_out=session.ducking_opt_out,
            app=stream.app or None,
            attributes=stream.focus or NO_ATTRIBUTES,
        )

    def requests_of(self, sessions: list[SessionRecord]) -> list[FocusRequest]:
        """The requests of every stream of ``sessions`` (taken before they end, to release them after)."""
        return [self.request(stream) for session in sessions for stream in self._table.streams_of(session)]

    def start(self, stream: StreamRecord) -> None:
        """The policy is asked first; a denied start raises FocusDeniedError and leaves the stream stopped."""
        actions = self.engine.start(self.request(stream), self._now)
        denied = [a for a in actions if isinstance(a, Deny)]
        if denied:
            self.apply(actions)
            raise FocusDeniedError(f"focus denied to {stream.session_id}: {denied[0].reason}", why=denied[0].reason)
        stream.focus_held = False
        self._table.set_running(stream, True)
        self.apply(actions)
        # a session whose streams all stopped while ducked kept its gain until now, when one plays again
        self._settle(stream.session_id, at_once=True)

    def stop(self, stream: StreamRecord) -> None:
        """The stream's app stops it (or a focus hold on it ends): its focus is released."""
        was_held, stream.focus_held = stream.focus_held, False
        if stream.state is StreamState.STOPPED and not was_held:
            return
        self._table.set_running(stream, False)
        self.apply(self.engine.stop(self.request(stream), self._now))
        self._forget(stream)
        self._schedule_idle_check(stream.app)

    def release(self, requests: list[FocusRequest]) -> None:
        """Release what streams that vanished held (their device or session went away)."""
        for request in requests:
            self.apply(self.engine.stop(request, self._now))
            self._gains.forget_session(request.session_id)

    def apply(self, actions: list[FocusAction]) -> None:
        """Carry out what the focus policy decided, and report it. Events are about sessions: a decision that
        tells two streams of one session the same thing is one event, and their ducks one ``Ducked``."""
        told: list[Event] = []
        for action in actions:
            stream = self._table.find_stream(action.stream_id) if action.stream_id else None
            if not isinstance(action, DeactivateSession) and (
                not self._table.exists(action.session_id) or (action.stream_id and stream is None)
            ):
                continue  # about a stream that is already gone (its device or service went away)
            if isinstance(action, (Duck, Unduck)):
                self._gains.note(action)
                self._settle(action.session_id, action)
                continue
            if isinstance(action, (Pause, Stop)) and stream is not None:
                stream.focus_held = isinstance(action, Pause)
                self._table.set_running(stream, False)
                if isinstance(action, Stop):
                    self._forget(stream)
                self._schedule_idle_check(stream.app)
            elif isinstance(action, Resume) and stream is not None and stream.focus_held:
                stream.focus_held = False
                self._table.set_running(stream, True)
            elif isinstance(action, DeactivateSession):
                self._activated_apps.pop(action.session_id, None)
            event = action.to_event()
            if event is not None and event not in told:
                told.append(event)
                self._emit(event)

    def _settle(self, session_id: str, trigger: Duck | Unduck | None = None, *, at_once: bool = False) -> None:
        """Bring the session's focus gain in line with its streams' ducks; a change is a Ducked/Unducked."""
        change = self._gains.settle(session_id, self._now, trigger, at_once=at_once)
        if change is not None:
            self._audio.set_focus_gain(session_id, change.gain, change.fade_seconds, self._now)
            self._emit(change.to_event())

    def _forget(self, stream: StreamRecord) -> None:
        """The engine forgot the stream: its ducks end with it. The session's gain follows at once while
        another of its streams plays, else when one of them starts again."""
        self._gains.forget((stream.session_id, stream.id))
        self._gains.prune(self._table.exists)
        session = self._table.owner(stream)
        if any(s.state is StreamState.RUNNING for s in self._table.streams_of(session)):
            self._settle(stream.session_id)

    def set_policy(self, policy: FocusPolicy | str, **settings: object) -> None:
        """Switch the focus policy and re-evaluate what plays now: ``PolicyChanged`` first, then the focus
        events of the re-evaluation, each with the new policy's reason."""
        self._sync()
        new = as_policy(policy, **settings)
        actions = self.engine.set_policy(new, self._now)
        self._emit(PolicyChanged(timestamp=self._now, session_id="", policy=simulated(new)))
        self.apply(actions)

    def reset(self) -> None:
        """The service stopped: nothing holds focus, no app's audio session is activated."""
        self.engine = FocusEngine(self.engine.policy)
        self._activated_apps.clear()
        self._gains.clear()

    def activate_session(self, app: str, mode: ConcurrencyMode) -> None:
        """HarmonyOS AudioSessionManager.activateAudioSession for ``app``."""
        if not isinstance(app, str) or not app:
            raise ValueError("an app name is needed")
        if not isinstance(mode, ConcurrencyMode):
            raise TypeError(f"mode must be an audiolab.ConcurrencyMode, not {type(mode).__name__}")
        self._sync()
        self.apply(self.engine.activate_session(app, mode, self._now))
        self._activated_apps[app] = next(_activations)
        self._schedule_idle_check(app)

    def deactivate_session(self, app: str) -> None:
        """HarmonyOS deactivateAudioSession, by the app itself (no deactivation event). With no activated
        session, SessionNotFound with ``code`` 6800301, as HarmonyOS answers."""
        if not isinstance(app, str) or not app:
            raise ValueError("an app name is needed")
        self._sync()
        if not self.engine.is_session_activated(app):
            error = SessionNotFound(f"error {ERROR_SYSTEM}: {app!r} has no activated audio session "
                                    "(it does not exist or has been released)")
            error.code = ERROR_SYSTEM
            raise error
        self.apply(self.engine.deactivate_session(app, self._now))
        self._activated_apps.pop(app, None)

    def is_session_activated(self, app: str) -> bool:
        """Whether ``app`` has an activated HarmonyOS audio session."""
        return self.engine.is_session_activated(app)

    def _schedule_idle_check(self, app: str) -> None:
        if not app or not self.engine.is_session_activated(app) or self._table.app_is_running(app):
            return
        generation = self._activated_apps.get(app)
        idle_since = self._now

        def check() -> None:
            if (not self._table.app_is_running(app) and self.engine.is_session_activated(app)
                    and self._activated_apps.get(app) == generation
                    and self._table.last_run(app) <= idle_since):
                self.apply(self.engine.deactivate_session(
                    app, self._now, reason=DeactivationReason.TIMEOUT, idle_seconds=self.idle_timeout))
                self._activated_apps.pop(app, None)

        self._scheduler.call_later(self.idle_timeout, check)
