"""The focus engine: a synchronous, deterministic state machine over a :class:`FocusPolicy`.

The caller (the simulated audio service) tells the engine when a stream starts, stops or is paused by its
app, and when a HarmonyOS-style audio session is activated or deactivated, passing a timestamp each time.
Each call returns the :class:`FocusAction` list to apply, in order. The engine has no clock and no I/O.

Bookkeeping: every duck or pause the engine imposes is an *effect* with an owner (the stream that caused
it, a HarmonyOS session holding focus after its streams stopped, Windows communications activity, or the
policy's current state for PulseAudio/WirePlumber). A target's gain is the minimum of its live ducks and it
is paused while any pause effect is live, so nested ducks undo correctly. After every call the engine
compares each stream's state with what it last reported and emits the difference.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field, replace

from ..events import (
    Ducked,
    DuckNotification,
    Event,
    FocusDenied,
    InterruptEvent,
    SessionDeactivated,
    Unducked,
    UnduckNotification,
)
from ..model import ConcurrencyMode, DeactivationReason, Flow, ForceType, InterruptHint, Role
from ..reason import Reason
from . import explain
from .policy import (
    FocusPolicy,
    HarmonyOSPolicy,
    HarmonyRule,
    NoPolicy,
    PulseAudioPolicy,
    WindowsPolicy,
    WirePlumberPolicy,
)
from .request import FocusRequest, StreamKey

# --- actions -------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FocusAction:
    """Something the service must apply (or deliver). ``stream_id`` is None for session-level actions;
    ``cause_*`` name the stream that caused it; ``reason`` explains the decision."""

    timestamp: float
    session_id: str
    stream_id: str | None
    cause_session_id: str | None = None
    cause_stream_id: str | None = None
    reason: Reason | None = None

    @property
    def kind(self) -> str:
        return type(self).__name__

    def to_event(self) -> Event | None:
        """The audiolab event this action stands for, or None when the service reports it otherwise
        (Pause/Resume/Stop change stream state)."""
        return None


@dataclass(frozen=True, kw_only=True)
class Deny(FocusAction):
    """The stream may not start."""

    def to_event(self) -> Event:
        return FocusDenied(
            timestamp=self.timestamp, session_id=self.session_id, cause_session_id=self.cause_session_id, why=self.reason
        )


@dataclass(frozen=True, kw_only=True)
class Duck(FocusAction):
    """Set the stream's focus gain (linear amplitude, multiplies its volume) over ``fade_seconds``."""

    gain: float
    fade_seconds: float = 0.0
    force_type: ForceType = ForceType.FORCE

    def to_event(self) -> Event:
        return Ducked(
            timestamp=self.timestamp,
            session_id=self.session_id,
            gain=self.gain,
            cause_session_id=self.cause_session_id,
            fade_seconds=self.fade_seconds,
            why=self.reason,
        )


@dataclass(frozen=True, kw_only=True)
class Unduck(FocusAction):
    """Restore the stream's focus gain to ``gain`` (1.0) over ``fade_seconds``."""

    gain: float = 1.0
    fade_seconds: float = 0.0

    def to_event(self) -> Event:
        return Unducked(
            timestamp=self.timestamp,
            session_id=self.session_id,
            gain=self.gain,
            cause_session_id=self.cause_session_id,
            fade_seconds=self.fade_seconds,
            why=self.reason,
        )


@dataclass(frozen=True, kw_only=True)
class Pause(FocusAction):
    """Silence the stream until a matching Resume. ``mechanism``: "pause" (HarmonyOS: the system pauses
    it), "cork" (PulseAudio role-cork: mute + ask the client to cork), "unlink" (WirePlumber: link cut)."""

    force_type: ForceType = ForceType.FORCE
    mechanism: str = "pause"


@dataclass(frozen=True, kw_only=True)
class Resume(FocusAction):
    """Undo a Pause. With force_type SHARE (HarmonyOS) the app is told it *may* resume."""

    force_type: ForceType = ForceType.FORCE
    mechanism: str = "pause"


@dataclass(frozen=True, kw_only=True)
class Stop(FocusAction):
    """Stop the stream for good; the engine has forgotten it (do not call ``stop`` for it)."""

    force_type: ForceType = ForceType.FORCE


@dataclass(frozen=True, kw_only=True)
class Interrupt(FocusAction):
    """A HarmonyOS InterruptEvent to deliver to the stream. It is a message only: the effect (if the
    system acts, FORCE) comes as its own Duck/Pause/Stop/... action; SHARE means the app decides."""

    force_type: ForceType
    hint: InterruptHint

    def to_event(self) -> Event:
        return InterruptEvent(
            timestamp=self.timestamp,
            session_id=self.session_id,
            force_type=self.force_type,
            hint=self.hint,
            cause_session_id=self.cause_session_id,
            why=self.reason,
        )


@dataclass(frozen=True, kw_only=True)
class DuckNotify(FocusAction):
    """Windows OnVolumeDuckNotification delivered to ``session_id`` (also to opted-out sessions)."""

    communications_session_id: str
    count: int

    def to_event(self) -> Event:
        return DuckNotification(
            timestamp=self.timestamp,
            session_id=self.session_id,
            communications_session_id=self.communications_session_id,
            count=self.count,
            why=self.reason,
        )


@dataclass(frozen=True, kw_only=True)
class UnduckNotify(FocusAction):
    """Windows OnVolumeUnduckNotification delivered to ``session_id``."""

    communications_session_id: str

    def to_event(self) -> Event:
        return UnduckNotification(
            timestamp=self.timestamp,
            session_id=self.session_id,
            communications_session_id=self.communications_session_id,
            why=self.reason,
        )


@dataclass(frozen=True, kw_only=True)
class DeactivateSession(FocusAction):
    """The system deactivated the HarmonyOS audio session of app ``session_id``."""

    deactivation: DeactivationReason

    def to_event(self) -> Event:
        return SessionDeactivated(
            timestamp=self.timestamp,
            session_id=self.session_id,
            reason=self.deactivation,
            cause_session_id=self.cause_session_id,
            why=self.reason,
        )


# --- engine --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Effect:
    owner: Hashable
    target: StreamKey
    kind: str  # "duck" | "pause"
    cause: FocusRequest
    reason: Reason
    gain: float = 1.0
    fade: float = 0.0
    mechanism: str = "pause"
    seq: int = 0


@dataclass
class _Shown:
    gain: float = 1.0
    gain_effect: _Effect | None = None
    pause_effect: _Effect | None = None


@dataclass(frozen=True)
class StreamFocus:
    """What the engine currently imposes on a stream."""

    gain: float
    paused: bool
    causes: tuple[StreamKey, ...] = field(default=())


_RECONCILE = ("reconcile",)
_WINDOWS = ("windows",)
_STRENGTH = {"PLAY": 0, "DUCK": 1, "PAUSE": 2, "STOP": 3, "DENY": 4}


class FocusEngine:
    """Applies a focus policy to the streams it is told about. Not thread-safe; call from one thread."""

    def __init__(self, policy: FocusPolicy | None = None) -> None:
        self._policy: FocusPolicy = policy if policy is not None else NoPolicy(name="none")
        self._streams: dict[StreamKey, FocusRequest] = {}
        self._order: dict[StreamKey, int] = {}
        self._effects: list[_Effect] = []
        self._shown: dict[StreamKey, _Shown] = {}
        self._sessions: dict[str, ConcurrencyMode] = {}
        self._comm: dict[str, set[StreamKey]] = {}
        self._seq = 0

    # -- inspection --

    @property
    def policy(self) -> FocusPolicy:
        return self._policy

    def streams(self) -> tuple[FocusRequest, ...]:
        """The streams the engine tracks, in start order."""
        return tuple(self._streams.values())

    def focus_of(self, session_id: str, stream_id: str) -> StreamFocus:
        """The gain and pause the engine imposes on a stream now (1.0, False when it knows nothing)."""
        key = (session_id, stream_id)
        mine = [e for e in self._effects if e.target == key]
        gain = min((e.gain for e in mine if e.kind == "duck"), default=1.0)
        return StreamFocus(gain, any(e.kind == "pause" for e in mine), tuple(dict.fromkeys(e.cause.key for e in mine)))

    def is_session_activated(self, app: str) -> bool:
        return app in self._sessions

    def session_mode(self, app: str) -> ConcurrencyMode | None:
        return self._sessions.get(app)

    # -- stream lifecycle --

    def start(self, request: FocusRequest, now: float) -> list[FocusAction]:
        """A stream wants to play. Returns Deny (and nothing else) or the effects of its start."""
        now = _check_time(now)
        if not isinstance(request, FocusRequest):
            raise TypeError(f"start() needs a FocusRequest, not {type(request).__name__}")
        if request.key in self._streams:
            return []
        policy = self._policy
        if isinstance(policy, HarmonyOSPolicy):
            out = self._harmony_start(policy, request, now)
        elif isinstance(policy, WindowsPolicy):
            out = self._windows_start(policy, request, now)
        else:
            self._add(request)
            out = []
        return out + self._settle(now)

    def stop(self, request: FocusRequest, now: float) -> list[FocusAction]:
        """The stream stopped or was released. Unknown (or already stopped) streams are ignored."""
        now = _check_time(now)
        if request.key not in self._streams:
            return []
        out = self._remove(request.key, now, transfer=True)
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
        self._sessions[app] = mode
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
        if app not in self._sessions:
            return []
        out = self._end_session(app, now, reason, cause=None, idle_seconds=idle_seconds)
        return out + self._settle(now)

    def set_policy(self, policy: FocusPolicy, now: float) -> list[FocusAction]:
        """Switch policy: everything the old one imposed is released; tracked streams keep playing and
        the new policy judges the next starts (PulseAudio/WirePlumber re-evaluate at once)."""
        now = _check_time(now)
        self._policy = policy
        self._effects.clear()
        self._comm.clear()
        if isinstance(policy, WindowsPolicy):
            for req in self._streams.values():
                if self._is_comm(policy, req):
                    self._comm.setdefault(req.session_id, set()).add(req.key)
        return self._settle(now)

    # -- internals: common --

    def _add(self, request: FocusRequest) -> None:
        self._seq += 1
        self._streams[request.key] = request
        self._order[request.key] = self._seq

    def _effect(self, **kw) -> None:
        self._seq += 1
        self._effects.append(_Effect(seq=self._seq, **kw))

    def _paused(self, key: StreamKey) -> bool:
        return any(e.target == key and e.kind == "pause" for e in self._effects)

    def _remove(self, key: StreamKey, now: float, *, transfer: bool) -> list[FocusAction]:
        """Forget a stream: drop what targets it, release (or hand to its session) what it caused."""
        req = self._streams.pop(key)
        self._order.pop(key, None)
        self._shown.pop(key, None)
        self._effects = [e for e in self._effects if e.target != key]
        out: list[FocusAction] = []
        policy = self._policy
        if isinstance(policy, WindowsPolicy):
            out += self._windows_stop(req, now)
        owner = ("stream", key)
        app = req.app_id
        if (
            transfer
            and isinstance(policy, HarmonyOSPolicy)
            and app in self._sessions
            and not any(r.app_id == app for r in self._streams.values())
        ):
            # The activated session keeps focus in a silent wait until it is deactivated or the app
            # starts another stream.
            self._effects = [replace(e, owner=("session", app)) if e.owner == owner else e for e in self._effects]
        else:
            self._effects = [e for e in self._effects if e.owner != owner]
        return out

    def _settle(self, now: float) -> list[FocusAction]:
        """Re-evaluate state-based policies, then report every stream whose state changed."""
        policy = self._policy
        if isinstance(policy, (PulseAudioPolicy, WirePlumberPolicy)):
            self._effects = [e for e in self._effects if e.owner != _RECONCILE]
            if isinstance(policy, PulseAudioPolicy):
                self._pulse_reconcile(policy)
            else:
                self._wireplumber_reconcile(policy)
        harmony = isinstance(policy, HarmonyOSPolicy)
        out: list[FocusAction] = []
        for key in list(self._streams):
            mine = [e for e in self._effects if e.target == key]
            ducks = [e for e in mine if e.kind == "duck"]
            pauses = [e for e in mine if e.kind == "pause"]
            gain_effect = min(ducks, key=lambda e: (e.gain, -e.seq)) if ducks else None
            pause_effect = max(pauses, key=lambda e: e.seq) if pauses else None
            gain = gain_effect.gain if gain_effect else 1.0
            old = self._shown.setdefault(key, _Shown())
            sid, stid = key
            if pause_effect is not None and old.pause_effect is None:
                e = pause_effect
                out.append(Pause(mechanism=e.mechanism, **_head(now, key, e.cause, e.reason)))
                # HarmonyOS says so with an InterruptEvent; a cork or a cut link is reported the same way
                out.append(Interrupt(force_type=ForceType.FORCE, hint=InterruptHint.PAUSE, **_head(now, key, e.cause, e.reason)))
            if gain != old.gain:
                if gain_effect is not None:
                    e = gain_effect
                    out.append(Duck(gain=gain, fade_seconds=e.fade, **_head(now, key, e.cause, e.reason)))
                    if harmony and old.gain == 1.0:
                        out.append(Interrupt(force_type=ForceType.FORCE, hint=InterruptHint.DUCK, **_head(now, key, e.cause, e.reason)))
                else:
                    e = old.gain_effect
                    assert e is not None
                    why = e.reason.release()
                    out.append(Unduck(fade_seconds=e.fade, **_head(now, key, e.cause, why)))
                    if harmony:
                        out.append(Interrupt(force_type=ForceType.FORCE, hint=InterruptHint.UNDUCK, **_head(now, key, e.cause, why)))
            if pause_effect is None and old.pause_effect is not None:
                e = old.pause_effect
                why = e.reason.release()
                force = ForceType.SHARE if harmony else ForceType.FORCE
                out.append(Resume(force_type=force, mechanism=e.mechanism, **_head(now, key, e.cause, why)))
                out.append(Interrupt(force_type=force, hint=InterruptHint.RESUME, **_head(now, key, e.cause, why)))
            old.gain, old.gain_effect, old.pause_effect = gain, gain_effect, pause_effect
        return out

    # -- HarmonyOS --

    def _mode(self, req: FocusRequest) -> ConcurrencyMode:
        if req.concurrency is not None:
            return req.concurrency
        return self._sessions.get(req.app_id, ConcurrencyMode.DEFAULT)

    def _harmony_pair(
        self, policy: HarmonyOSPolicy, existing: FocusRequest, incoming: FocusRequest
    ) -> tuple[HarmonyRule, Reason]:
        """The table cell for (existing, incoming) after the session strategies, and its reason."""
        etype = policy.focus_type(existing.role, existing.usage)
        itype = policy.focus_type(incoming.role, incoming.usage)
        rule = policy.rule(etype, itype)
        why = explain.harmony(policy, existing, incoming, rule)
        if rule.deny and itype.startswith("SOURCE_TYPE_"):
            return rule, why  # a denied recording is never rescued by a strategy
        if not _can_mix(etype, itype) or "STREAM_INTERNAL_FORCE_STOP" in (etype, itype):
            return rule, why
        imode, emode = self._mode(incoming), self._mode(existing)
        low_in = rule.deny or (rule.on == "incoming" and rule.action != "PLAY")
        low_ex = rule.on in ("existing", "both") and rule.action != "PLAY"
        same = policy.same_session_type(itype, etype)
        for mode, low, whose in ((imode, low_in, "incoming"), (emode, low_ex, "existing")):
            if mode is ConcurrencyMode.MIX_WITH_OTHERS and (not low or same):
                note = f"the {whose} app's session strategy MIX_WITH_OTHERS turns {rule.action} into PLAY"
                return _PLAY_BOTH, explain.harmony(policy, existing, incoming, rule, note, _PLAY_BOTH)
        if rule.on in ("existing", "both"):
            if imode is ConcurrencyMode.DUCK_OTHERS and rule.action in ("PAUSE", "STOP"):
                note = f"the incoming app's session strategy DUCK_OTHERS turns {rule.action} into DUCK"
                ducked = replace(rule, action="DUCK")
                return ducked, explain.harmony(policy, existing, incoming, rule, note, ducked)
            if imode is ConcurrencyMode.PAUSE_OTHERS and rule.action == "STOP":
                note = "the incoming app's session strategy PAUSE_OTHERS turns STOP into PAUSE"
                paused = replace(rule, action="PAUSE")
                return paused, explain.harmony(policy, existing, incoming, rule, note, paused)
        return rule, why

    def _harmony_start(self, policy: HarmonyOSPolicy, req: FocusRequest, now: float) -> list[FocusAction]:
        policy.focus_type(req.role, req.usage)  # unknown usage -> PolicyError before any change
        decisions = []
        held = []  # streams already paused by someone else: they cannot act on the incoming stream
        for other in self._streams.values():
            if other.app_id == req.app_id and not (other.independent or req.independent):
                continue  # SHARE_MODE: one app's streams share one focus
            if self._paused(other.key):
                held.append(other)
                continue
            rule, why = self._harmony_pair(policy, other, req)
            decisions.append((other, rule, why))
        # The incoming stream's fate first: refused if any holder denies it (or stops it).
        for other, rule, why in decisions:
            if rule.deny or (rule.on in ("incoming", "both") and rule.action == "STOP"):
                return [Deny(**_head(now, req.key, other, why))]
        self._add(req)
        out: list[FocusAction] = []
        # An activated session that kept focus after its streams stopped hands it to the new stream.
        self._effects = [
            replace(e, owner=("stream", req.key)) if e.owner == ("session", req.app_id) else e for e in self._effects
        ]
        on_incoming = [(o, r, w) for o, r, w in decisions if r.on in ("incoming", "both") and r.action != "PLAY"]
        incoming_paused = False
        for other, rule, why in on_incoming:
            if rule.force is ForceType.SHARE:
                out.append(Interrupt(force_type=ForceType.SHARE, hint=_HINTS[rule.action], **_head(now, req.key, other, why)))
                continue
            kind = "pause" if rule.action == "PAUSE" else "duck"
            incoming_paused |= kind == "pause"
            self._effect(owner=("stream", other.key), target=req.key, kind=kind, cause=other, reason=why, gain=policy.duck_gain)
        if incoming_paused:
            return out  # a stream that starts paused acts on nobody until it plays
        for other, rule, why in decisions:
            if rule.on not in ("existing", "both") or rule.action == "PLAY" or other.key not in self._streams:
                continue
            if rule.force is ForceType.SHARE:
                out.append(Interrupt(force_type=ForceType.SHARE, hint=_HINTS[rule.action], **_head(now, other.key, req, why)))
            elif rule.action == "STOP":
                out += self._engine_stop(other, req, why, now)
            else:
                kind = "pause" if rule.action == "PAUSE" else "duck"
                self._effect(owner=("stream", req.key), target=other.key, kind=kind, cause=req, reason=why, gain=policy.duck_gain)
        # A paused stream is held by the new one too (as the table says), so that it does not resume under
        # it when the stream that paused it ends (music paused by a ringtone stays paused during the call).
        for other in held:
            rule, why = self._harmony_pair(policy, other, req)
            if rule.on in ("existing", "both") and rule.action in ("PAUSE", "DUCK") and rule.force is ForceType.FORCE:
                kind = "pause" if rule.action == "PAUSE" else "duck"
                self._effect(owner=("stream", req.key), target=other.key, kind=kind, cause=req, reason=why, gain=policy.duck_gain)
        return out

    def _engine_stop(self, victim: FocusRequest, cause: FocusRequest, why: Reason, now: float) -> list[FocusAction]:
        out: list[FocusAction] = [
            Stop(**_head(now, victim.key, cause, why)),
            Interrupt(force_type=ForceType.FORCE, hint=InterruptHint.STOP, **_head(now, victim.key, cause, why)),
        ]
        out += self._remove(victim.key, now, transfer=False)
        app = victim.app_id
        if app in self._sessions and not any(r.app_id == app for r in self._streams.values()):
            out += self._end_session(app, now, DeactivationReason.LOWER_PRIORITY, cause=cause)
        return out

    def _end_session(
        self,
        app: str,
        now: float,
        reason: DeactivationReason | None,
        cause: FocusRequest | None,
        idle_seconds: float | None = None,
    ) -> list[FocusAction]:
        del self._sessions[app]
        owner = ("session", app)
        out: list[FocusAction] = []
        if reason is not None:
            why = explain.harmony_deactivation(self._policy, app, reason, idle_seconds)
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
            for e in [e for e in self._effects if e.owner == owner and e.kind == "pause"]:
                if e.target in self._streams:
                    victim = self._streams[e.target]
                    out += [
                        Stop(**_head(now, victim.key, e.cause, why)),
                        Interrupt(force_type=ForceType.FORCE, hint=InterruptHint.STOP, **_head(now, victim.key, e.cause, why)),
                    ]
                    out += self._remove(victim.key, now, transfer=False)
        self._effects = [e for e in self._effects if e.owner != owner]
        return out

    # -- Windows --

    @staticmethod
    def _is_comm(policy: WindowsPolicy, req: FocusRequest) -> bool:
        # A communications stream is one opened on the default communications device, whatever its role.
        return req.on_communications_device

    def _notified_sessions(self, policy: WindowsPolicy) -> list[str]:
        """Non-communications render sessions that currently have a stream, in start order."""
        sids = [
            r.session_id
            for r in self._streams.values()
            if r.flow is Flow.RENDER and r.session_id not in self._comm and not self._is_comm(policy, r)
        ]
        return list(dict.fromkeys(sids))

    def _windows_start(self, policy: WindowsPolicy, req: FocusRequest, now: float) -> list[FocusAction]:
        out: list[FocusAction] = []
        if not self._is_comm(policy, req):
            self._add(req)
            # New streams are not attenuated during a communications session, except system sounds.
            if self._comm and req.role in policy.system_sounds_roles:
                self._windows_duck(policy, req, self._first_comm())
            return out
        new_session = req.session_id not in self._comm
        starts_activity = not self._comm
        self._comm.setdefault(req.session_id, set()).add(req.key)
        self._add(req)
        if not new_session:
            return out
        count = len(self._comm)
        why = explain.windows(policy, req, count, notification=True)
        for sid in self._notified_sessions(policy):
            out.append(DuckNotify(communications_session_id=req.session_id, count=count, **_head(now, (sid, None), req, why)))
        if starts_activity:
            for other in list(self._streams.values()):
                if other.session_id not in self._comm:
                    self._windows_duck(policy, other, req)
        return out

    def _windows_duck(self, policy: WindowsPolicy, target: FocusRequest, comm: FocusRequest) -> None:
        if policy.gain is None or target.ducking_opt_out or target.flow is not Flow.RENDER:
            return
        why = explain.windows(policy, comm, len(self._comm))
        self._effect(owner=_WINDOWS, target=target.key, kind="duck", cause=comm, reason=why, gain=policy.gain, fade=policy.fade_seconds)

    def _first_comm(self) -> FocusRequest:
        keys = [k for ks in self._comm.values() for k in ks]
        return min((self._streams[k] for k in keys if k in self._streams), key=lambda r: self._order[r.key])

    def _windows_stop(self, req: FocusRequest, now: float) -> list[FocusAction]:
        keys = self._comm.get(req.session_id)
        if keys is None or req.key not in keys:
            return []
        keys.discard(req.key)
        if keys:
            return []
        del self._comm[req.session_id]
        policy = self._policy
        assert isinstance(policy, WindowsPolicy)
        why = explain.windows(policy, req, len(self._comm), notification=True)
        out: list[FocusAction] = [
            UnduckNotify(communications_session_id=req.session_id, **_head(now, (sid, None), req, why))
            for sid in self._notified_sessions(policy)
        ]
        if not self._comm:
            self._effects = [e for e in self._effects if e.owner != _WINDOWS]
        return out

    # -- PulseAudio --

    def _pulse_reconcile(self, policy: PulseAudioPolicy) -> None:
        render = [r for r in self._streams.values() if r.flow is Flow.RENDER]

        def role(r: FocusRequest) -> str:
            return r.role.pulse_media_role or "no_role"

        def trigger_for(target: FocusRequest, triggers: Iterable[str], is_global: bool) -> FocusRequest | None:
            for t in render:
                if t.key == target.key or role(t) not in triggers:
                    continue
                if not is_global and t.device_id != target.device_id:
                    continue
                if role(target) in triggers and role(t) == role(target):
                    continue  # a trigger-role stream is only affected by a different role
                if t.key in corked:
                    continue  # a corked trigger is not active
                return t
            return None

        def matches(target: FocusRequest, roles: tuple[str, ...], triggers: tuple[str, ...]) -> bool:
            return role(target) in roles or ("any_role" in roles and role(target) not in triggers)

        corked: set[StreamKey] = set()
        for i, group in enumerate(policy.cork_groups):
            for target in render:
                if target.key in corked or not matches(target, group.roles, group.trigger_roles):
                    continue
                t = trigger_for(target, group.trigger_roles, policy.cork_global)
                if t is not None:
                    corked.add(target.key)
                    why = explain.pulse(policy, "module-role-cork", i, t, target, None)
                    self._effect(owner=_RECONCILE, target=target.key, kind="pause", cause=t, reason=why, mechanism="cork")
        for i, group in enumerate(policy.duck_groups):
            for target in render:
                if not matches(target, group.roles, group.trigger_roles):
                    continue
                t = trigger_for(target, group.trigger_roles, policy.duck_global)
                if t is not None:
                    assert group.gain is not None
                    why = explain.pulse(policy, "module-role-ducking", i, t, target, group.gain)
                    self._effect(owner=_RECONCILE, target=target.key, kind="duck", cause=t, reason=why, gain=group.gain)

    # -- WirePlumber --

    def _wireplumber_reconcile(self, policy: WirePlumberPolicy) -> None:
        linked = [(r, policy.sink_for(r.role)) for r in self._streams.values() if r.flow is Flow.RENDER]
        linked = [(r, s) for r, s in linked if s is not None]
        if not linked:
            return
        top, top_sink = max(linked, key=lambda rs: (rs[1].priority, self._order[rs[0].key]))
        for req, sink in linked:
            if req.key == top.key:
                continue
            same = sink.priority == top_sink.priority
            action = top_sink.same_priority if same else top_sink.lower_priority
            why = explain.wireplumber(policy, top_sink, sink, action)
            if action == "duck":
                self._effect(owner=_RECONCILE, target=req.key, kind="duck", cause=top, reason=why, gain=policy.duck_level)
            elif action == "cork":
                self._effect(owner=_RECONCILE, target=req.key, kind="pause", cause=top, reason=why, mechanism="unlink")


_PLAY_BOTH = HarmonyRule("PLAY", "incoming", ForceType.FORCE, "strategy")
_HINTS = {"DUCK": InterruptHint.DUCK, "PAUSE": InterruptHint.PAUSE, "STOP": InterruptHint.STOP}
_CALLS = ("STREAM_VOICE_CALL", "STREAM_VOICE_COMMUNICATION")


def _can_mix(existing: str, incoming: str) -> bool:
    """OpenHarmony never lets a session strategy mix a recording with a call, or two recordings."""
    in_cap, ex_cap = incoming.startswith("SOURCE_TYPE_"), existing.startswith("SOURCE_TYPE_")
    if (in_cap and existing in _CALLS) or (incoming in _CALLS and ex_cap):
        return False
    return not (in_cap and ex_cap)


def _head(now: float, key: tuple[str, str | None], cause: FocusRequest | None, reason: Reason) -> dict:
    return {
        "timestamp": now,
        "session_id": key[0],
        "stream_id": key[1],
        "cause_session_id": cause.session_id if cause else None,
        "cause_stream_id": cause.stream_id if cause else None,
        "reason": reason,
    }


def _check_time(now: float) -> float:
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
        raise ValueError(f"now must be a finite number of seconds, got {now!r}")
    return float(now)
