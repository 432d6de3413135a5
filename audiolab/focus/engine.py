"""The focus engine: a synchronous, deterministic state machine over a :class:`FocusPolicy`.

The caller (the simulated audio service) tells the engine when a stream starts, stops or is paused by its
app, and when a HarmonyOS-style audio session is activated or deactivated, passing a timestamp each time.
Each call returns the :class:`FocusAction` list to apply, in order. The engine has no clock and no I/O.

What a start or a stop does is decided by the policy's focus system (one module each: harmonyos.py,
windows.py, pulseaudio.py, wireplumber.py, ...; see :mod:`audiolab.focus.system`). The engine keeps what they
share: every duck or pause a system imposes is an *effect* with an owner (the stream that caused it, a
HarmonyOS session holding focus after its streams stopped, Windows communications activity, or the policy's
current state for PulseAudio/WirePlumber). A target's gain is the minimum of its live ducks and it is paused
while any pause effect is live, so nested ducks undo correctly. After every call the engine compares each
stream's state with what it last reported and emits the difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .._by_fields import by_fields
from .._exceptions import PolicyError
from ..model import ConcurrencyMode, DeactivationReason, ForceType, InterruptHint
from . import explain
from .actions import DeactivateSession, Deny, Duck, FocusAction, Interrupt, Pause, Resume, Stop, Unduck, head
from .policy import FocusPolicy, NoPolicy
from .request import FocusRequest, StreamKey
from .system import RECONCILE, Effect, FocusSystem, Ledger, system_for


@dataclass
class _Shown:
    gain: float = 1.0
    gain_effect: Effect | None = None
    pause_effect: Effect | None = None


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class StreamFocus:
    """What the engine currently imposes on a stream."""

    gain: float
    paused: bool
    causes: tuple[StreamKey, ...] = field(default=())


class FocusEngine:
    """Applies a focus policy to the streams it is told about. Not thread-safe; call from one thread."""

    def __init__(self, policy: FocusPolicy | None = None) -> None:
        self._policy: FocusPolicy = policy if policy is not None else NoPolicy(name="none")
        self.ledger = Ledger()
        """The bookkeeping the focus systems share (for the systems, not for callers)."""
        self._shown: dict[StreamKey, _Shown] = {}
        self._system: FocusSystem = system_for(self._policy)(self, self._policy)

    # -- inspection --

    @property
    def policy(self) -> FocusPolicy:
        return self._policy

    @property
    def system(self) -> FocusSystem:
        """The focus system applying the policy."""
        return self._system

    def streams(self) -> tuple[FocusRequest, ...]:
        """The streams the engine tracks, in start order."""
        return tuple(self.ledger.streams.values())

    def focus_of(self, session_id: str, stream_id: str) -> StreamFocus:
        """The gain and pause the engine imposes on a stream now (1.0, False when it knows nothing)."""
        key = (session_id, stream_id)
        mine = [e for e in self.ledger.effects if e.target == key]
        gain = min((e.gain for e in mine if e.kind == "duck"), default=1.0)
        return StreamFocus(gain, any(e.kind == "pause" for e in mine), tuple(dict.fromkeys(e.cause.key for e in mine)))

    def is_session_activated(self, app: str) -> bool:
        return app in self.ledger.sessions

    def session_mode(self, app: str) -> ConcurrencyMode | None:
        return self.ledger.sessions.get(app)

    # -- stream lifecycle --

    def start(self, request: FocusRequest, now: float) -> list[FocusAction]:
        """A stream wants to play. Returns Deny (and nothing else) or the effects of its start."""
        now = _check_time(now)
        if not isinstance(request, FocusRequest):
            raise TypeError(f"start() needs a FocusRequest, not {type(request).__name__}")
        if request.key in self.ledger.streams:
            return []
        out = self._system.start(request, now)
        return out + self._settle(now)

    def stop(self, request: FocusRequest, now: float) -> list[FocusAction]:
        """The stream stopped or was released. Unknown (or already stopped) streams are ignored."""
        now = _check_time(now)
        if request.key not in self.ledger.streams:
            return []
        out = self.forget(request.key, now, transfer=True)
        return out + self._settle(now)

    def pause(self, request: FocusRequest, now: float) -> list[FocusAction]:
        """The app paused its own stream: it releases focus like a stop; call ``start`` when it resumes.
        (Pauses the engine imposed are not reported back through this.)"""
        return self.stop(request, now)

    # -- HarmonyOS audio sessions --

    def activate_session(self, app: str, mode: ConcurrencyMode, now: float) -> list[FocusAction]:
        """AudioSessionManager.activateAudioSession: (re)store the app's strategy for its next streams."""
        _check_time(now)
        if not isinstance(mode, ConcurrencyMode):
            raise TypeError(f"mode must be a ConcurrencyMode, not {type(mode).__name__}")
        self.ledger.sessions[app] = mode
        return []

    def deactivate_session(
        self, app: str, now: float, reason: DeactivationReason | None = None, *, idle_seconds: float | None = None
    ) -> list[FocusAction]:
        """Deactivate the app's session: by the app (``reason`` None) or by the system (TIMEOUT,
        LOWER_PRIORITY; the app is told with a DeactivateSession action). The focus the session kept
        after its streams stopped is released: ducked streams are unducked; paused ones resume, except
        on TIMEOUT, where they are stopped. ``idle_seconds`` (the idle time that triggered a TIMEOUT) goes
        into the reason."""
        now = _check_time(now)
        if app not in self.ledger.sessions:
            return []
        out = self.end_session(app, now, reason, cause=None, idle_seconds=idle_seconds)
        return out + self._settle(now)

    def set_policy(self, policy: FocusPolicy, now: float) -> list[FocusAction]:
        """Switch policy and re-evaluate focus for what plays now.

        Everything the old policy imposed is released; then every tracked stream (playing, or held paused
        by the old policy) asks the new policy for focus again, in the order the streams started, as if
        they had started in that order under it. So a paused stream stays paused only if the new policy
        pauses it too, and a stream the new policy would refuse to start is stopped, with the refusal as
        its reason (no system keeps a refused request waiting, except Android's ``delay_ok``, which the
        Android system handles itself). A duck or pause that holds across the switch is restated with the
        new policy's reason. What HarmonyOS sessions kept after their streams stopped is released; the
        activated sessions themselves stay activated."""
        now = _check_time(now)
        self._policy = policy
        self.ledger.effects.clear()
        self._system = system_for(policy)(self, policy)
        streams = list(self.ledger.streams.values())
        self.ledger.streams.clear()
        self.ledger.order.clear()
        out: list[FocusAction] = []
        for request in streams:
            if request.key in self.ledger.streams:
                continue
            try:
                started = self._system.start(request, now)
            except PolicyError:  # a request the new policy cannot read: it plays, unjudged
                self.ledger.add(request)
                continue
            denied = [a for a in started if isinstance(a, Deny)]
            if denied:
                out += _refused(denied[0], now)
                self._shown.pop(request.key, None)
                continue
            out += started
        return out + self._settle(now, restate=True)

    # -- for the focus systems --

    def forget(self, key: StreamKey, now: float, *, transfer: bool) -> list[FocusAction]:
        """Forget a stream: drop what targets it, release (or hand to its heir) what it caused."""
        ledger = self.ledger
        req = ledger.streams.pop(key)
        ledger.order.pop(key, None)
        self._shown.pop(key, None)
        ledger.effects = [e for e in ledger.effects if e.target != key]
        out = self._system.removed(req, now)
        owner = ("stream", key)
        heir = self._system.heir(req, transfer)
        if heir is None:
            ledger.drop_owned(owner)
        else:
            ledger.hand_over(owner, heir)
        return out

    def end_session(
        self,
        app: str,
        now: float,
        reason: DeactivationReason | None,
        cause: FocusRequest | None,
        idle_seconds: float | None = None,
    ) -> list[FocusAction]:
        """End an activated app session and release the focus it kept (stop what it paused on TIMEOUT)."""
        ledger = self.ledger
        del ledger.sessions[app]
        owner = ("session", app)
        out: list[FocusAction] = []
        if reason is not None:
            why = explain.harmony_deactivation(self._policy, app, reason, idle_seconds)  # type: ignore[arg-type]
            out.append(
                DeactivateSession(
                    timestamp=now,
                    session_id=app,
                    stream_id=None,
                    cause_session_id=cause.session_id if cause else None,
                    cause_stream_id=cause.stream_id if cause else None,
                    reason=why,
                    deactivation=reason,
                )
            )
        if reason is DeactivationReason.TIMEOUT:
            for e in [e for e in ledger.effects if e.owner == owner and e.kind == "pause"]:
                if e.target in ledger.streams:
                    victim = ledger.streams[e.target]
                    out += [
                        Stop(**head(now, victim.key, e.cause, why)),
                        Interrupt(force_type=ForceType.FORCE, hint=InterruptHint.STOP, **head(now, victim.key, e.cause, why)),
                    ]
                    out += self.forget(victim.key, now, transfer=False)
        ledger.drop_owned(owner)
        return out

    # -- internals --

    def _settle(self, now: float, *, restate: bool = False) -> list[FocusAction]:
        """Re-evaluate state-based policies, then report every stream whose state changed (``restate``:
        also a duck or pause that holds under another rule, after a policy switch)."""
        system = self._system
        ledger = self.ledger
        if system.stateful:
            ledger.drop_owned(RECONCILE)
            system.reconcile()
        out: list[FocusAction] = []
        for key in list(ledger.streams):
            mine = [e for e in ledger.effects if e.target == key]
            ducks = [e for e in mine if e.kind == "duck"]
            pauses = [e for e in mine if e.kind == "pause"]
            gain_effect = min(ducks, key=lambda e: (e.gain, -e.seq)) if ducks else None
            pause_effect = max(pauses, key=lambda e: e.seq) if pauses else None
            gain = gain_effect.gain if gain_effect else 1.0
            old = self._shown.setdefault(key, _Shown())
            repause = restate and pause_effect is not None and old.pause_effect is not None \
                and pause_effect.reason != old.pause_effect.reason
            if pause_effect is not None and (old.pause_effect is None or repause):
                e = pause_effect
                out.append(Pause(mechanism=e.mechanism, force_type=e.force, **head(now, key, e.cause, e.reason)))
                # HarmonyOS says so with an InterruptEvent; a cork or a cut link is reported the same way
                out.append(Interrupt(force_type=e.force, hint=InterruptHint.PAUSE, native=e.native,
                                     **head(now, key, e.cause, e.reason)))
            reduck = restate and gain_effect is not None and old.gain_effect is not None \
                and gain_effect.reason != old.gain_effect.reason
            if gain != old.gain or reduck:
                if gain_effect is not None:
                    e = gain_effect
                    out.append(Duck(gain=gain, fade_seconds=e.fade, force_type=e.force, **head(now, key, e.cause, e.reason)))
                    if (system.duck_hints and old.gain == 1.0) or (e.native and e is not old.gain_effect):
                        out.append(Interrupt(force_type=e.force, hint=InterruptHint.DUCK, native=e.native,
                                             **head(now, key, e.cause, e.reason)))
                else:
                    released = old.gain_effect
                    assert released is not None
                    why = released.reason.release()
                    out.append(Unduck(fade_seconds=released.fade, **head(now, key, released.cause, why)))
                    if system.duck_hints or released.regain:
                        out.append(Interrupt(force_type=released.force, hint=InterruptHint.UNDUCK, native=released.regain,
                                             **head(now, key, released.cause, why)))
            if pause_effect is None and old.pause_effect is not None:
                e = old.pause_effect
                why = e.reason.release()
                force = system.resume_force
                out.append(Resume(force_type=force, mechanism=e.mechanism, **head(now, key, e.cause, why)))
                out.append(Interrupt(force_type=force, hint=InterruptHint.RESUME, native=e.regain,
                                     **head(now, key, e.cause, why)))
            old.gain, old.gain_effect, old.pause_effect = gain, gain_effect, pause_effect
        return out


def _refused(deny: Deny, now: float) -> list[FocusAction]:
    """A stream that played and that the new policy refuses: stopped, with the refusal as the reason."""
    stop = Stop(timestamp=now, session_id=deny.session_id, stream_id=deny.stream_id,
                cause_session_id=deny.cause_session_id, cause_stream_id=deny.cause_stream_id, reason=deny.reason)
    told = Interrupt(force_type=ForceType.FORCE, hint=InterruptHint.STOP, timestamp=now, session_id=deny.session_id,
                     stream_id=deny.stream_id, cause_session_id=deny.cause_session_id,
                     cause_stream_id=deny.cause_stream_id, reason=deny.reason)
    return [stop, told]


def _check_time(now: float) -> float:
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
        raise ValueError(f"now must be a finite number of seconds, got {now!r}")
    return float(now)
