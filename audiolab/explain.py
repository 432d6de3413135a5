"""``audiolab explain``: the policy in force, the sessions, and what would duck or cork what, and why.

:func:`explain` builds an :class:`Explanation` from a Lab: the policy in force (read from the server on
PulseAudio, the simulated policy on the simulated service), the render and capture sessions by device with
their measured level, and predictions made by running the focus engine on that policy: what the playing
streams do to each other now, and what a stream of each trigger role would do if it started on each device.
:class:`audiolab.explain_watch.Narrator` turns a Lab's events into one line each (``explain --watch``).
"""

from __future__ import annotations

import datetime
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from ._by_fields import by_fields
from ._server_gain import ServerGain
from .detect import Predicted
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


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
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
    unmeasured: dict[str, str] = field(default_factory=dict)
    """Sessions the meters cannot read, with why (their level is None)."""
    held: dict[str, ServerGain] = field(default_factory=dict)
    """Sessions the server turns down outside their own volume (a WirePlumber 0.4 role endpoint's monitor)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "backend": self.backend,
            "when": self.when,
            "policy": self.policy.to_dict(),
            "sessions": [{**s.to_dict(), "level": self.levels.get(s.id), "unmeasured": self.unmeasured.get(s.id),
                          "held_by_server": _held_dict(self.held.get(s.id))} for s in self.sessions],
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
                if s.id in self.unmeasured:
                    metered = self.unmeasured[s.id]
                held = self.held.get(s.id)
                if held is not None:
                    metered += f"; the server holds it down: {held.where} at {held.shown} ({gain_text(held.gain)})"
                mute = ", muted" if s.muted else ""
                out.append(f"    {self.names.get(s.id, s.label)} ({role_label(s.role)}, {s.flow.value}): {s.state.value}, "
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
        verb = {"duck": f"duck {target} to {gain_text(p.gain)}", "pause": f"pause {target}",
                "stop": f"stop {target}"}.get(p.action, f"{p.action} {target}")
        if p.potential:
            return f"{cause} would {verb}: {p.why}"
        return f"{cause} {verb.replace('duck ', 'ducks ', 1).replace('pause ', 'pauses ', 1).replace('stop ', 'stops ', 1)}: {p.why}"


async def explain(lab: Lab, *, measure_seconds: float = MEASURE_SECONDS) -> Explanation:
    """Read the policy in force, the sessions and their levels now, and predict from the policy."""
    policy = lab.policy_in_force()
    sessions = [s for s in lab.snapshot() if s.state is not SessionState.EXPIRED]
    playing = [s.id for s in sessions if s.state is SessionState.ACTIVE and s.flow is Flow.RENDER]
    levels, unmeasured = await _levels(lab, measure_seconds, playing)
    names = label_sessions(sessions)
    held = {s.id: g for s in sessions if (g := lab.backend.endpoint_gain(s.id)) is not None and g.gain < 0.999}
    found = Explanation(lab.backend_name, wall_time(time.time()), policy, sessions, levels, names=names,
                        unmeasured=unmeasured, held=held)
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
    out = effects_of(policy, playing, None, comms)
    devices = [s.device_id for s in playing] + (sorted(comms) if isinstance(policy, WindowsPolicy) else [])
    seen: set[tuple[str, str, str, str]] = set()
    for device in dict.fromkeys(devices):
        for role in candidate_roles(policy):
            word = role_word(role, policy)
            incoming = FocusRequest(f"{_article(word)} {word} stream on {device}", "new", role, device_id=device,
                                    on_communications_device=device in comms)
            for found in effects_of(policy, playing, incoming, comms):
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


def effects_of(
    policy: FocusPolicy, playing: list[Session], incoming: FocusRequest | None, comms: frozenset[str] = frozenset()
) -> list[Prediction]:
    """Start the playing sessions one by one (in the order given) on a fresh engine; with ``incoming``, what
    its start does; without, what the playing streams impose on each other once all have started."""
    engine = FocusEngine(policy)
    history: list[FocusAction] = []
    for i, s in enumerate(playing):
        history += engine.start(request_for(s, comms), float(i))
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
                kind = "pause" if focus.paused else "duck"
                out.append(Prediction(s.id, cause_sid, kind, None if focus.paused else focus.gain,
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


def request_for(session: Session, comms: frozenset[str] = frozenset()) -> FocusRequest:
    return FocusRequest(session.id, "s", session.role, device_id=session.device_id, flow=session.flow,
                        on_communications_device=session.device_id in comms, app=session.app or None)


async def _levels(lab: Lab, seconds: float, playing: list[str]) -> tuple[dict[str, float], dict[str, str]]:
    """The highest peak of each session over ``seconds`` once every playing session's meter reads (a real
    server's meter streams take a moment to start), at most ``MEASURE_LIMIT`` seconds in all; and the sessions
    the meters cannot read, with why."""
    if "meters" not in lab.backend.capabilities or seconds <= 0:
        return {}, {}
    peaks: dict[str, float] = {}
    heard: dict[str, float] = {}
    unmeasured: dict[str, str] = {}
    first = True
    async with lab.meters(rate=30) as frames:
        with anyio.move_on_after(MEASURE_LIMIT):
            async for frame in frames:
                if first:  # it may hold peaks from before the call (a duck that just began, say): left out
                    first = False
                    continue
                unmeasured.update(frame.unmeasured)
                for sid, peak in frame.peaks.items():
                    peaks[sid] = max(peaks.get(sid, 0.0), peak)
                    if peak > 0:
                        heard.setdefault(sid, frame.timestamp)
                waited = [sid for sid in playing if sid not in unmeasured]
                if all(sid in heard for sid in waited) and frame.timestamp - max(heard.values(), default=0) >= seconds:
                    break
    return {sid: peak for sid, peak in peaks.items() if sid not in unmeasured}, unmeasured


def label_sessions(sessions: Iterable[Session]) -> dict[str, str]:
    """A readable name per session: its display name or app, with a number when two share one."""
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for s in sessions:
        base = s.display_name or s.app or s.id
        seen[base] = seen.get(base, 0) + 1
        out[s.id] = base if seen[base] == 1 else f"{base} #{seen[base]}"
    return out


def wall_time(epoch: float) -> str:
    """A moment as wall-clock time, ``HH:MM:SS.mmm``."""
    return datetime.datetime.fromtimestamp(epoch).strftime("%H:%M:%S.%f")[:-3]


def _by_device(sessions: Iterable[Session]) -> dict[str, list[Session]]:
    out: dict[str, list[Session]] = {}
    for s in sessions:
        out.setdefault(s.device_id, []).append(s)
    return out


def role_label(role: Role) -> str:
    return role.pulse_media_role or role.value if role is not Role.UNKNOWN else "no role"


def gain_text(gain: float | None) -> str:
    if gain is None:
        return "?"
    if gain <= 0:
        return "silence"
    return f"{20 * math.log10(gain):.1f} dB"


def _held_dict(held: ServerGain | None) -> dict[str, object] | None:
    return None if held is None else {"where": held.where, "shown": held.shown, "gain": round(held.gain, 6)}


def _dbfs(level: float) -> str:
    return "silent" if level <= 0 else f"{20 * math.log10(level):.1f} dBFS"


def predict_trigger(policy: FocusPolicy, playing: list[Session], trigger: Session, started: bool) -> dict[str, Predicted]:
    """What ``policy`` says ``trigger`` starting (or, ``started`` False, stopping: what it had imposed) does to
    each of the ``playing`` sessions: the detector's predictor."""
    if started:
        found = effects_of(policy, playing, request_for(trigger))
    else:
        found = [p for p in effects_of(policy, [*playing, trigger], None) if p.cause == trigger.id]
    out: dict[str, Predicted] = {}
    for p in found:
        if p.action == "duck" and p.gain is not None:
            out[p.target] = Predicted("duck", p.gain, p.why)
        elif p.action in ("pause", "stop"):
            out.setdefault(p.target, Predicted("pause", 0.0, p.why))
    return out
