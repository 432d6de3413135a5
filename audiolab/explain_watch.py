"""``audiolab explain --watch``: a Lab's events as one line each, with wall-clock time, the policy's prediction
for a stream that starts or stops, and the rule behind each focus event."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

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
from .explain import effects_of, gain_text, label_sessions, request_for, role_label, wall_time
from .focus.in_force import PolicyInForce
from .model import Flow, Session, SessionState

if TYPE_CHECKING:
    from .lab import Lab


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
            # a new session: a server restarted under --reconnect reuses the ids of the sessions it had
            self._names[event.session_id] = event.session.display_name or event.session.app or event.session_id
            if event.session.state is SessionState.ACTIVE:
                return self._started(when, event.session)
            return [f"{when} {self._name(event.session_id)} ({role_label(event.session.role)}) appeared on "
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
            gone = self._sessions.pop(event.session_id, None)
            if gone is None:
                return []
            return self._stopped(when, gone, "ended") if gone.state is SessionState.ACTIVE else \
                [f"{when} {self._name(event.session_id)} ended"]
        if isinstance(event, FOCUS_EVENT_TYPES):
            why = getattr(event, "why", None)
            cause = getattr(event, "cause_session_id", None)
            by = f" by {self._name(cause)}" if cause else ""
            detail = f": {why}" if why is not None else ""
            return [f"{when} {self._name(event.session_id)} {_focus_words(event)}{by}{detail}"]
        return []

    def _started(self, when: str, session: Session) -> list[str]:
        head = f"{when} {self._name(session.id)} ({role_label(session.role)}) started on {session.device_id}"
        others = [s for s in self._sessions.values() if s.id != session.id and s.flow is Flow.RENDER
                  and s.state is SessionState.ACTIVE]
        if session.flow is not Flow.RENDER:
            return [head]
        found = effects_of(self._policy.policy, others, request_for(session))
        if not found:
            return [f"{head}: no rule of the policy in force acts on the other playing streams"]
        return [f"{head}: {p.why.label or p.why.kind} {p.action}s {self._role_of(p.target)}: {self._name(p.target)}"
                f"{' predicted ' + gain_text(p.gain) if p.gain is not None else ''}" for p in found]

    def _stopped(self, when: str, session: Session, how: str) -> list[str]:
        head = f"{when} {self._name(session.id)} ({role_label(session.role)}) {how}"
        others = [s for s in self._sessions.values() if s.id != session.id and s.flow is Flow.RENDER
                  and s.state is SessionState.ACTIVE]
        held = [p for p in effects_of(self._policy.policy, [*others, session], None) if p.cause == session.id]
        if not held:
            return [head]
        return [f"{head}: {self._name(p.target)} ({self._role_of(p.target)}) comes back, "
                f"{p.why.label or p.why.kind} no longer applies" for p in held]

    def _role_of(self, session_id: str) -> str:
        session = self._sessions.get(session_id)
        return role_label(session.role) if session is not None else "?"

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
            return f"{verb} to {gain_text(event.gain)}"
        if isinstance(event, Ducked) and measured == -math.inf:
            return f"silenced (below the meter's floor{guess})"
        source = event.why.rule.get("measured_from") if event.why is not None else None
        how = f"measured as the volume of {source}" if source not in (None, "meter") else "measured"
        return f"{verb} {measured:+.1f} dB ({how}{guess})"
    if isinstance(event, InterruptEvent):
        return {"pause": "paused", "resume": "resumed", "stop": "stopped"}.get(event.hint.value, event.hint.value)
    return event.kind


def _db_text(db: float) -> str:
    return "silence" if db == -math.inf else f"{db:.1f} dB"


def wall_clock(lab: Lab) -> Callable[[float], str]:
    """Turn a backend timestamp into the wall-clock time it happened (``HH:MM:SS.mmm``)."""
    offset = time.time() - lab.clock.now()
    return lambda ts: wall_time(ts + offset)


def _policy_diff(old: PolicyInForce, new: PolicyInForce) -> list[str]:
    before = {(m.index, m.name): m for m in old.modules}
    after = {(m.index, m.name): m for m in new.modules}
    lines = [f"{m.describe()} loaded" for k, m in after.items() if k not in before]
    lines += [f"{m.describe()} unloaded" for k, m in before.items() if k not in after]
    return lines or new.describe()


def _with_state(session: Session, state: SessionState) -> Session:
    return replace(session, state=state)
