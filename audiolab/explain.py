"""``audiolab explain``: the policy in force, the sessions, and what would duck or cork what, and why.

:func:`explain` builds an :class:`Explanation` from a Lab: the policy in force (read from the server on
PulseAudio, the simulated policy on the simulated service), the render and capture sessions by device with
their measured level, and predictions made by running the focus engine on that policy: what the playing
streams do to each other now, and what a stream of each trigger role would do if it started on each device.
:class:`Narrator` turns a Lab's events into one line each, with the rule behind each change.
"""

from __future__ import annotations

import datetime
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from .detect import Predicted
from .events import (
    FOCUS_EVENT_TYPES,
    Ducked,
    Event,
    InterruptEvent,
    PolicyChanged,
    SessionCreated,
    SessionRemoved,
    StateChanged,
    Unducked,
)
from .focus.actions import FocusAction
from .focus.engine import FocusEngine
from .focus.in_force import PolicyInForce
from .focus.policy import FocusPolicy, HarmonyOSPolicy, PulseAudioPolicy, WindowsPolicy, WirePlumberPolicy
from .focus.request import FocusRequest
from .model import Flow, Role, Session, SessionState
from .reason import Reason

if TYPE_CHECKING:
    from .lab import Lab

MEASURE_SECONDS = 0.5
"""How long :func:`explain` meters the sessions for their level now, counted from when every playing session's
meter reads (a real server's meter streams need a moment to start delivering)."""
MEASURE_LIMIT = 3.0
"""The longest :func:`explain` waits for the meters (a playing session may be silent)."""


@dataclass(frozen=True)
class Prediction:
    """What the policy says happens to ``target`` because of ``cause``: a duck (with its gain), a pause, a stop
    or a denial. ``cause`` is a session id, or for a stream that does not exist yet its role and device."""

    target: str
    cause: str
    action: str
    gain: float | None
    why: Reason
    potential: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"target": self.target, "cause": self.cause, "action": self.action, "gain": self.gain,
                "potential": self.potential, "why": self.why.to_dict()}


@dataclass
class Explanation:
    """What ``audiolab explain`` reports; :meth:`lines` for people, :meth:`to_dict` for tools."""

    backend: str
    when: str
    policy: PolicyInForce
    sessions: list[Session]
    levels: dict[str, float]
    predictions: list[Prediction] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "when": self.when,
            "policy": self.policy.to_dict(),
            "sessions": [{**s.to_dict(), "level": self.levels.get(s.id)} for s in self.sessions],
            "predictions": [p.to_dict() for p in self.predictions],
        }

    def lines(self) -> list[str]:
        out = [f"audiolab explain: the {self.backend} backend at {self.when}", ""]
        out += self.policy.describe()
        out += ["", "sessions by device (level: the peak its meter reads now):"]
        for device, sessions in _by_device(self.sessions).items():
            out.append(f"  {device}")
            for s in sessions:
                level = self.levels.get(s.id)
                metered = "no meter" if level is None else f"level {level:.3f} ({_dbfs(level)})"
                mute = ", muted" if s.muted else ""
                out.append(f"    {self.names.get(s.id, s.label)} ({_role(s.role)}, {s.flow.value}): {s.state.value}, "
                           f"volume {s.volume:.0%}{mute}, {metered}")
        if not self.sessions:
            out.append("  (none)")
        now = [p for p in self.predictions if not p.potential]
        later = [p for p in self.predictions if p.potential]
        out += ["", "what the policy does to the playing streams now:"]
        out += [f"  {self._sentence(p)}" for p in now] or ["  nothing: no rule applies between them"]
        out += ["", "what would happen if another stream started:"]
        out += [f"  {self._sentence(p)}" for p in later] or ["  nothing: no role would duck or cork these streams"]
        return out

    def _sentence(self, p: Prediction) -> str:
        target = self.names.get(p.target, p.target)
        cause = self.names.get(p.cause, p.cause)
        if p.action == "deny":
            return f"{target} would be denied focus because of {cause}: {p.why}"
        verb = {"duck": f"duck {target} to {_gain_text(p.gain)}", "pause": f"pause {target}",
                "stop": f"stop {target}"}.get(p.action, f"{p.action} {target}")
        if p.potential:
            return f"{cause} would {verb}: {p.why}"
        return f"{cause} {verb.replace('duck ', 'ducks ', 1).replace('pause ', 'pauses ', 1).replace('stop ', 'stops ', 1)}: {p.why}"


async def explain(lab: Lab, *, measure_seconds: float = MEASURE_SECONDS) -> Explanation:
    """Read the policy in force, the sessions and their levels now, and predict from the policy."""
    policy = lab.policy_in_force()
    sessions = [s for s in lab.snapshot() if s.state is not SessionState.EXPIRED]
    playing = [s.id for s in sessions if s.state is SessionState.ACTIVE and s.flow is Flow.RENDER]
    levels = await _levels(lab, measure_seconds, playing)
    names = label_sessions(sessions)
    found = Explanation(lab.backend_name, _wall(time.time()), policy, sessions, levels, names=names)
    found.predictions = predict(policy.policy, sessions, communications_devices(lab))
    return found


def communications_devices(lab: Lab) -> list[str]:
    """The devices that count as the communications device (the simulated service knows; others: none)."""
    if lab.backend_name != "sim":
        return []
    return [d.id for d in lab.sim.engine.devices if d.is_communications and d.flow is Flow.RENDER]


def predict(
    policy: FocusPolicy, sessions: Iterable[Session], communications_devices: Iterable[str] = ()
) -> list[Prediction]:
    """What ``policy`` does among the playing render ``sessions`` now, then what a stream of each role that
    triggers something would do if it started on each of their devices. ``communications_devices`` are the
    devices a Windows policy counts as the communications device."""
    comms = frozenset(communications_devices)
    playing = [s for s in sessions if s.flow is Flow.RENDER and s.state is SessionState.ACTIVE]
    out = _effects(policy, playing, None, comms)
    devices = [s.device_id for s in playing] + (sorted(comms) if isinstance(policy, WindowsPolicy) else [])
    seen: set[tuple[str, str, str, str]] = set()
    for device in dict.fromkeys(devices):
        for role in candidate_roles(policy):
            word = role_word(role, policy)
            incoming = FocusRequest(f"{_article(word)} {word} stream on {device}", "new", role, device_id=device,
                                    on_communications_device=device in comms)
            for found in _effects(policy, playing, incoming, comms):
                key = (found.cause, found.target, found.action, found.why.text)
                if key not in seen:  # roles that look alike to the policy (phone, ringtone) say it once
                    seen.add(key)
                    out.append(found)
    return out


def role_word(role: Role, policy: FocusPolicy | None = None) -> str:
    """A role as the policy sees it: PulseAudio's media.role for a PulseAudio policy, else audiolab's name."""
    if isinstance(policy, PulseAudioPolicy):
        return role.pulse_media_role or "no_role"
    return role.value.replace("_", " ")


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def candidate_roles(policy: FocusPolicy) -> list[Role]:
    """The roles worth trying as a new stream: the trigger roles of a PulseAudio policy, a call for Windows,
    else every role that plays."""
    if isinstance(policy, PulseAudioPolicy):
        triggers = {r for g in policy.duck_groups + policy.cork_groups for r in g.trigger_roles}
        return [r for r in Role if r.pulse_media_role in triggers]
    if isinstance(policy, WindowsPolicy):
        return [Role.VOICE_COMMUNICATION]  # Windows asks which device, not which role: one call stands for all
    if isinstance(policy, (HarmonyOSPolicy, WirePlumberPolicy)):
        return [r for r in Role if r not in (Role.UNKNOWN, Role.RECORDING, Role.VOICE_RECOGNITION)]
    return []


def _effects(
    policy: FocusPolicy, playing: list[Session], incoming: FocusRequest | None, comms: frozenset[str] = frozenset()
) -> list[Prediction]:
    """Start the playing sessions one by one (in the order given) on a fresh engine; with ``incoming``, what
    its start does; without, what the playing streams impose on each other once all have started."""
    engine = FocusEngine(policy)
    history: list[FocusAction] = []
    for i, s in enumerate(playing):
        history += engine.start(_request(s, comms), float(i))
    if incoming is not None:
        targets = {s.id for s in playing}
        out: list[Prediction] = []
        for action in engine.start(incoming, float(len(playing))):
            out += _prediction(action, targets, incoming.session_id)
        return out
    out = []
    for s in playing:
        focus = engine.focus_of(s.id, "s")
        for cause_sid, _ in focus.causes:
            imposed = [a for a in history if a.session_id == s.id and a.cause_session_id == cause_sid
                       and type(a).__name__ in ("Duck", "Pause") and a.reason is not None]
            if imposed:
                action = "pause" if focus.paused else "duck"
                out.append(Prediction(s.id, cause_sid, action, None if focus.paused else focus.gain,
                                      imposed[-1].reason))  # type: ignore[arg-type]
    return out


def _prediction(action: FocusAction, targets: set[str], cause: str) -> list[Prediction]:
    kind = type(action).__name__
    verbs = {"Duck": "duck", "Pause": "pause", "Stop": "stop", "Deny": "deny"}
    if kind not in verbs or action.reason is None:
        return []
    gain = getattr(action, "gain", None) if kind == "Duck" else None
    if kind == "Deny":
        return [Prediction(cause, action.cause_session_id or "?", "deny", None, action.reason, potential=True)]
    if action.session_id not in targets:
        return []  # what the others would do to the new stream is not the question here
    target, by = action.session_id, action.cause_session_id or "?"
    return [Prediction(target, by, verbs[kind], gain, action.reason, potential=True)]


def _request(session: Session, comms: frozenset[str] = frozenset()) -> FocusRequest:
    return FocusRequest(session.id, "s", session.role, device_id=session.device_id, flow=session.flow,
                        on_communications_device=session.device_id in comms, app=session.app or None)


async def _levels(lab: Lab, seconds: float, playing: list[str]) -> dict[str, float]:
    """The highest peak of each session over ``seconds`` once every playing session's meter reads (a real
    server's meter streams take a moment to start), at most ``MEASURE_LIMIT`` seconds in all."""
    if "meters" not in lab.backend.capabilities or seconds <= 0:
        return {}
    peaks: dict[str, float] = {}
    heard: dict[str, float] = {}
    first = True
    async with lab.meters(rate=30) as frames:
        with anyio.move_on_after(MEASURE_LIMIT):
            async for frame in frames:
                if first:  # it may hold peaks from before the call (a duck that just began, say): left out
                    first = False
                    continue
                for sid, peak in frame.peaks.items():
                    peaks[sid] = max(peaks.get(sid, 0.0), peak)
                    if peak > 0:
                        heard.setdefault(sid, frame.timestamp)
                if all(sid in heard for sid in playing) and frame.timestamp - max(heard.values(), default=0) >= seconds:
                    break
    return peaks


def label_sessions(sessions: Iterable[Session]) -> dict[str, str]:
    """A readable name per session: its display name or app, with a number when two share one."""
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for s in sessions:
        base = s.display_name or s.app or s.id
        seen[base] = seen.get(base, 0) + 1
        out[s.id] = base if seen[base] == 1 else f"{base} #{seen[base]}"
    return out


# --- live narration -----------------------------------------------------------------------------------------


class Narrator:
    """``audiolab explain --watch``: one line per change, with wall-clock time, the policy's prediction for a
    stream that starts or stops, and the rule behind each focus event."""

    def __init__(self, lab: Lab, clock: Callable[[float], str]) -> None:
        self._lab = lab
        self._when = clock
        self._sessions: dict[str, Session] = {s.id: s for s in lab.snapshot()}
        self._names = label_sessions(self._sessions.values())
        self._policy = lab.policy_in_force()

    def lines(self, event: Event) -> list[str]:  # noqa: PLR0911 - one branch per event kind
        """The lines an event deserves (none for most property changes)."""
        when = self._when(event.timestamp)
        if isinstance(event, PolicyChanged):
            old, self._policy = self._policy, event.policy
            return [f"{when} policy changed: {line.strip()}" for line in _policy_diff(old, event.policy)]
        if isinstance(event, SessionCreated):
            self._sessions[event.session_id] = event.session
            self._names.setdefault(event.session_id, event.session.display_name or event.session.app or event.session_id)
            if event.session.state is SessionState.ACTIVE:
                return self._started(when, event.session)
            return [f"{when} {self._name(event.session_id)} ({_role(event.session.role)}) appeared on "
                    f"{event.session.device_id}"]
        if isinstance(event, StateChanged) and event.session_id in self._sessions:
            session = self._sessions[event.session_id]
            self._sessions[event.session_id] = _with_state(session, event.new)
            if event.new is SessionState.ACTIVE:
                return self._started(when, self._sessions[event.session_id])
            if event.old is SessionState.ACTIVE:
                return self._stopped(when, session, "stopped")
            return []
        if isinstance(event, SessionRemoved):
            session = self._sessions.pop(event.session_id, None)
            if session is None:
                return []
            return self._stopped(when, session, "ended") if session.state is SessionState.ACTIVE else \
                [f"{when} {self._name(event.session_id)} ended"]
        if isinstance(event, FOCUS_EVENT_TYPES):
            why = getattr(event, "why", None)
            cause = getattr(event, "cause_session_id", None)
            by = f" by {self._name(cause)}" if cause else ""
            detail = f": {why}" if why is not None else ""
            return [f"{when} {self._name(event.session_id)} {_focus_words(event)}{by}{detail}"]
        return []

    def _started(self, when: str, session: Session) -> list[str]:
        head = f"{when} {self._name(session.id)} ({_role(session.role)}) started on {session.device_id}"
        others = [s for s in self._sessions.values() if s.id != session.id and s.flow is Flow.RENDER
                  and s.state is SessionState.ACTIVE]
        if session.flow is not Flow.RENDER:
            return [head]
        found = _effects(self._policy.policy, others, _request(session))
        if not found:
            return [f"{head}: no rule of the policy in force acts on the other playing streams"]
        return [f"{head}: {p.why.label or p.why.kind} {p.action}s {self._role_of(p.target)}: {self._name(p.target)}"
                f"{' predicted ' + _gain_text(p.gain) if p.gain is not None else ''}" for p in found]

    def _stopped(self, when: str, session: Session, how: str) -> list[str]:
        head = f"{when} {self._name(session.id)} ({_role(session.role)}) {how}"
        others = [s for s in self._sessions.values() if s.id != session.id and s.flow is Flow.RENDER
                  and s.state is SessionState.ACTIVE]
        held = [p for p in _effects(self._policy.policy, [*others, session], None) if p.cause == session.id]
        if not held:
            return [head]
        return [f"{head}: {self._name(p.target)} ({self._role_of(p.target)}) comes back, "
                f"{p.why.label or p.why.kind} no longer applies" for p in held]

    def _role_of(self, session_id: str) -> str:
        session = self._sessions.get(session_id)
        return _role(session.role) if session is not None else "?"

    def _name(self, session_id: str | None) -> str:
        if session_id is None:
            return "?"
        return self._names.get(session_id, session_id)


def _focus_words(event: Event) -> str:
    """"ducked -31.2 dB (measured; predicted -31.4 dB)", "silenced", "paused", ..."""
    if isinstance(event, (Ducked, Unducked)):
        verb = "ducked" if isinstance(event, Ducked) else "back"
        measured = event.measured_db
        predicted = event.why.predicted_db if event.why is not None and isinstance(event, Ducked) else None
        guess = f"; predicted {_db_text(predicted)}" if predicted is not None else ""
        if measured is None:
            return f"{verb} to {_gain_text(event.gain)}"
        if isinstance(event, Ducked) and measured == -math.inf:
            return f"silenced (below the meter's floor{guess})"
        return f"{verb} {measured:+.1f} dB (measured{guess})"
    if isinstance(event, InterruptEvent):
        return {"pause": "paused", "resume": "resumed", "stop": "stopped"}.get(event.hint.value, event.hint.value)
    return event.kind


def _db_text(db: float) -> str:
    return "silence" if db == -math.inf else f"{db:.1f} dB"


def wall_clock(lab: Lab) -> Callable[[float], str]:
    """Turn a backend timestamp into the wall-clock time it happened (``HH:MM:SS.mmm``)."""
    offset = time.time() - lab.clock.now()
    return lambda ts: _wall(ts + offset)


def _wall(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch).strftime("%H:%M:%S.%f")[:-3]


def _policy_diff(old: PolicyInForce, new: PolicyInForce) -> list[str]:
    before = {(m.index, m.name): m for m in old.modules}
    after = {(m.index, m.name): m for m in new.modules}
    lines = [f"{m.describe()} loaded" for k, m in after.items() if k not in before]
    lines += [f"{m.describe()} unloaded" for k, m in before.items() if k not in after]
    return lines or new.describe()


def _with_state(session: Session, state: SessionState) -> Session:
    from dataclasses import replace  # noqa: PLC0415

    return replace(session, state=state)


def _by_device(sessions: Iterable[Session]) -> dict[str, list[Session]]:
    out: dict[str, list[Session]] = {}
    for s in sessions:
        out.setdefault(s.device_id, []).append(s)
    return out


def _role(role: Role) -> str:
    return role.pulse_media_role or role.value if role is not Role.UNKNOWN else "no role"


def _gain_text(gain: float | None) -> str:
    if gain is None:
        return "?"
    if gain <= 0:
        return "silence"
    return f"{20 * math.log10(gain):.1f} dB"


def _dbfs(level: float) -> str:
    return "silent" if level <= 0 else f"{20 * math.log10(level):.1f} dBFS"


def predict_trigger(policy: FocusPolicy, playing: list[Session], trigger: Session, started: bool) -> dict[str, Predicted]:
    """What ``policy`` says ``trigger`` starting (or, ``started`` False, stopping: what it had imposed) does to
    each of the ``playing`` sessions: the detector's predictor."""
    if started:
        found = _effects(policy, playing, _request(trigger))
    else:
        found = [p for p in _effects(policy, [*playing, trigger], None) if p.cause == trigger.id]
    out: dict[str, Predicted] = {}
    for p in found:
        if p.action == "duck" and p.gain is not None:
            out[p.target] = Predicted("duck", p.gain, p.why)
        elif p.action in ("pause", "stop"):
            out.setdefault(p.target, Predicted("pause", 0.0, p.why))
    return out
