"""How the simulated service consults its focus policy and carries out what it decides.

A mixin of :class:`~audiolab.backends.sim.engine.SimEngine`: stream starts and stops become focus requests;
the focus engine's actions become gain fades (ducks), state changes (pause, resume, stop) and events; and the
HarmonyOS-style audio sessions of apps are activated, deactivated and timed out when idle.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

from ..._exceptions import SessionNotFound
from ...events import PolicyChanged
from ...focus import (
    DeactivateSession,
    Duck,
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
from ...model import ConcurrencyMode, DeactivationReason, StreamState

ERROR_SYSTEM = 6800301
"""HarmonyOS's code for deactivating an audio session that does not exist or has been released."""

# One number per activation, never reused: an idle timer armed during an earlier activation of the same app
# must not match a later one (a per-app counter restarts after each deactivation, so a stale timer matched).
_activations = itertools.count(1)

if TYPE_CHECKING:
    from .engine import _Stream


class FocusRules:
    """The focus half of the simulated service (see the module docstring)."""

    def _focus_request(self, stream: _Stream) -> FocusRequest:
        session = self._sessions[stream.session_id]
        return FocusRequest(
            session_id=session.id,
            stream_id=stream.id,
            role=stream.role,
            device_id=session.key.device_id,
            flow=session.flow,
            on_communications_device=self.device(session.key.device_id).is_communications,
            ducking_opt_out=session.ducking_opt_out,
            app=stream.app or None,
            attributes=stream.focus or NO_ATTRIBUTES,
        )

    def focus_request(self, stream_id: str) -> FocusRequest:
        """What the stream asks the focus policy when it starts (its role, device, app): for explanations."""
        return self._focus_request(self._stream(stream_id))

    def _apply(self, actions: list) -> None:
        """Carry out what the focus policy decided, and report it."""
        for action in actions:
            stream = self._streams.get(action.stream_id) if action.stream_id else None
            if not isinstance(action, DeactivateSession) and (
                action.session_id not in self._sessions or (action.stream_id and stream is None)
            ):
                continue  # about a stream that is already gone (its device or service went away)
            if isinstance(action, (Duck, Unduck)):
                self.audio.set_focus_gain(action.session_id, action.gain, action.fade_seconds, self._now)
            elif isinstance(action, (Pause, Stop)) and stream is not None:
                stream.focus_held = isinstance(action, Pause)
                self._set_running(stream, False)
                self._schedule_idle_check(stream.app)
            elif isinstance(action, Resume) and stream is not None and stream.focus_held:
                stream.focus_held = False
                self._set_running(stream, True)
            elif isinstance(action, DeactivateSession):
                self._activated_apps.pop(action.session_id, None)
            event = action.to_event()
            if event is not None:
                self._emit(event)

    def set_policy(self, policy: FocusPolicy | str, **settings: object) -> None:
        """Switch the focus policy and re-evaluate what plays now (see :meth:`FocusEngine.set_policy
        <audiolab.focus.FocusEngine.set_policy>`): ``PolicyChanged`` first, then the focus events of the
        re-evaluation, each with the new policy's reason."""
        self._sync_time()
        new = as_policy(policy, **settings)
        actions = self.focus.set_policy(new, self._now)
        self._emit(PolicyChanged(timestamp=self._now, session_id="", policy=simulated(new)))
        self._apply(actions)

    def activate_session(self, app: str, mode: ConcurrencyMode) -> None:
        """HarmonyOS AudioSessionManager.activateAudioSession for ``app``."""
        if not isinstance(app, str) or not app:
            raise ValueError("an app name is needed")
        if not isinstance(mode, ConcurrencyMode):
            raise TypeError(f"mode must be an audiolab.ConcurrencyMode, not {type(mode).__name__}")
        self._sync_time()
        self._apply(self.focus.activate_session(app, mode, self._now))
        self._activated_apps[app] = next(_activations)
        self._schedule_idle_check(app)

    def deactivate_session(self, app: str) -> None:
        """HarmonyOS deactivateAudioSession, by the app itself (no deactivation event). With no activated
        session, SessionNotFound with ``code`` 6800301, as HarmonyOS answers."""
        if not isinstance(app, str) or not app:
            raise ValueError("an app name is needed")
        self._sync_time()
        if not self.focus.is_session_activated(app):
            error = SessionNotFound(f"error {ERROR_SYSTEM}: {app!r} has no activated audio session "
                                    "(it does not exist or has been released)")
            error.code = ERROR_SYSTEM
            raise error
        self._apply(self.focus.deactivate_session(app, self._now))
        self._activated_apps.pop(app, None)

    def is_session_activated(self, app: str) -> bool:
        return self.focus.is_session_activated(app)

    def _schedule_idle_check(self, app: str) -> None:
        if not app or not self.focus.is_session_activated(app):
            return
        if any(s.app == app and s.state is StreamState.RUNNING for s in self._streams.values()):
            return
        generation = self._activated_apps.get(app)
        idle_since = self._now

        def check() -> None:
            still_idle = not any(
                s.app == app and s.state is StreamState.RUNNING for s in self._streams.values()
            )
            if (still_idle and self.focus.is_session_activated(app)
                    and self._activated_apps.get(app) == generation
                    and self._last_run_of(app) <= idle_since):
                self._apply(self.focus.deactivate_session(
                    app, self._now, reason=DeactivationReason.TIMEOUT, idle_seconds=self.idle_timeout))
                self._activated_apps.pop(app, None)

        self.call_at(self._now + self.idle_timeout, check)

    def _last_run_of(self, app: str) -> float:
        return self._app_last_run.get(app, -math.inf)

