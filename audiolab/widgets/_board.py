"""What a session dashboard shows, computed from a snapshot and the events that follow (no widget code).

Focus state per session, from the focus events:

- ``Ducked`` / ``Unducked``: "ducked to 20% (-14 dB) by Maps" until unducked;
- ``InterruptEvent`` PAUSE / RESUME / STOP: "paused by Phone" until resumed, "stopped by ...";
- ``FocusDenied``: "denied by ..." until the session next becomes Active;
- ``SessionDeactivated`` (about an app): "deactivated (lower priority) by ..." on each of the app's sessions,
  until one of them next becomes Active.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

from ..events import (
    Ducked,
    Event,
    FocusDenied,
    InterruptEvent,
    SessionCreated,
    SessionDeactivated,
    SessionDisconnected,
    SessionExpired,
    SessionRemoved,
    StateChanged,
    StreamsChanged,
    Unducked,
    VolumeChanged,
)
from ..model import InterruptHint, Session, SessionState


@dataclass
class Row:
    """One session as the dashboard shows it."""

    session: Session
    seq: int
    state: SessionState
    volume: float
    muted: bool
    duck_gain: float | None = None
    duck_cause: str | None = None
    paused_by: str | None = None
    stopped_by: str | None = None
    denied_by: str | None = None
    deactivated: str | None = None
    ended: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def percent(gain: float) -> str:
    return f"{gain * 100:.0f}%"


def decibels(gain: float) -> str:
    return f"{20 * math.log10(gain):.0f} dB" if gain > 0 else "-inf dB"


class Board:
    """Rows keyed by session id, kept up to date by :meth:`apply`."""

    def __init__(self, sessions: list[Session] = ()) -> None:  # type: ignore[assignment]
        self.rows: dict[str, Row] = {}
        self._seq = itertools.count()
        self._labels: dict[str, str] = {}
        for session in sessions:
            self._add(session)

    def _add(self, session: Session) -> Row:
        row = Row(session, next(self._seq), session.state, session.volume, session.muted)
        self.rows[session.id] = row
        self._labels[session.id] = session.label
        return row

    def label(self, session_id: str | None) -> str:
        """A readable name for a session id (its label while known, else the id itself)."""
        if not session_id:
            return "the system"
        return self._labels.get(session_id, session_id)

    # --- events --------------------------------------------------------------------------------------------

    def apply(self, event: Event) -> bool:  # noqa: PLR0911, PLR0912 - one branch per event kind
        """Fold one event in; True when a row appeared, changed or ended."""
        if isinstance(event, SessionCreated):
            old = self.rows.get(event.session_id)
            if old is not None and not old.ended:
                old.session = event.session
                return True
            self._add(event.session)
            return True
        if isinstance(event, SessionDeactivated):
            rows = [r for r in self.rows.values() if r.session.app == event.session_id and not r.ended]
            reason = event.reason.value.replace("_", " ")
            cause = f" by {self.label(event.cause_session_id)}" if event.cause_session_id else ""
            for row in rows:
                row.deactivated = f"deactivated ({reason}){cause}"
            return bool(rows)
        row = self.rows.get(event.session_id)
        if row is None or row.ended:
            return False
        if isinstance(event, StateChanged):
            row.state = event.new
            if event.new is SessionState.ACTIVE:
                row.denied_by = row.stopped_by = row.deactivated = None
            return True
        if isinstance(event, VolumeChanged):
            row.volume, row.muted = event.volume, event.muted
            return True
        if isinstance(event, Ducked):
            row.duck_gain, row.duck_cause = event.gain, event.cause_session_id
            return True
        if isinstance(event, Unducked):
            row.duck_gain = row.duck_cause = None
            return True
        if isinstance(event, InterruptEvent):
            if event.hint is InterruptHint.PAUSE:
                row.paused_by = self.label(event.cause_session_id)
            elif event.hint is InterruptHint.RESUME:
                row.paused_by = None
            elif event.hint is InterruptHint.STOP:
                row.paused_by, row.stopped_by = None, self.label(event.cause_session_id)
            else:
                return False
            return True
        if isinstance(event, FocusDenied):
            row.denied_by = self.label(event.cause_session_id)
            return True
        if isinstance(event, StreamsChanged):
            row.session = replace(row.session, streams=event.streams)
            return False
        if isinstance(event, SessionExpired):
            row.state, row.ended = SessionState.EXPIRED, True
            return True
        if isinstance(event, (SessionRemoved, SessionDisconnected)):
            del self.rows[event.session_id]
            return True
        return False

    def remove(self, session_id: str) -> bool:
        return self.rows.pop(session_id, None) is not None

    # --- presentation --------------------------------------------------------------------------------------

    def focus(self, session_id: str) -> tuple[str, str]:
        """(text, kind) of a session's focus state; kind is "" / ducked / paused / stopped / denied /
        deactivated (the most severe one present, for the colour)."""
        row = self.rows[session_id]
        parts: list[tuple[str, str]] = []
        if row.duck_gain is not None:
            parts.append((f"ducked to {percent(row.duck_gain)} ({decibels(row.duck_gain)}) "
                          f"by {self.label(row.duck_cause)}", "ducked"))
        if row.paused_by:
            parts.append((f"paused by {row.paused_by}", "paused"))
        if row.stopped_by:
            parts.append((f"stopped by {row.stopped_by}", "stopped"))
        if row.denied_by:
            parts.append((f"focus denied by {row.denied_by}", "denied"))
        if row.deactivated:
            parts.append((row.deactivated, "deactivated"))
        if not parts:
            return ("", "")
        return (" · ".join(text for text, _ in parts), parts[-1][1])

    def row_dict(self, session_id: str) -> dict[str, object]:
        """The JSON-ready row the front end draws."""
        row = self.rows[session_id]
        s = row.session
        focus, focus_kind = self.focus(session_id)
        return {
            "id": s.id,
            "app": s.app or s.label,
            "name": s.display_name or s.app or s.id,
            "role": s.role.value.replace("_", " "),
            "flow": s.flow.value,
            "device": s.device_id,
            "state": row.state.value,
            "volume": round(row.volume, 4),
            "muted": row.muted,
            "focus": focus,
            "focus_kind": focus_kind,
            "gain": 1.0 if row.duck_gain is None else round(row.duck_gain, 4),
            "system": s.is_system_sounds,
        }

    def order(self, group_by_app: bool = False) -> list[str]:
        """Session ids in display order: creation order, or grouped by app (groups in order of appearance)."""
        rows = sorted(self.rows.values(), key=lambda r: r.seq)
        if not group_by_app:
            return [r.session.id for r in rows]
        first: dict[str, int] = {}
        for r in rows:
            first.setdefault(r.session.app or r.session.label, r.seq)
        return [r.session.id for r in sorted(rows, key=lambda r: (first[r.session.app or r.session.label], r.seq))]
