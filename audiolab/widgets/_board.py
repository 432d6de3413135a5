"""What a session dashboard shows, computed from a snapshot and the events that follow (no widget code).

Each row's session (name, role, device, state, volume, ...) is the one an :class:`audiolab.session_table.
SessionTable` keeps from the same events, so every session event that table knows (a display-name change,
an icon change, ...) reaches the row. On top of it the board keeps the focus state per session, from the
focus events:

- ``Ducked`` / ``Unducked``: "ducked to 20% (-14 dB) by Maps" until unducked;
- ``InterruptEvent`` PAUSE / RESUME / STOP: "paused by Phone" until resumed, "stopped by ...";
- ``FocusDenied``: "denied by ..." until the session next becomes Active. A denied session usually ends at
  once (nothing stays of a refused start): its row stays, with the state ``denied`` and the reason, until the
  view drops it (:meth:`Board.remove`);
- ``SessionDeactivated`` (about an app): "deactivated (lower priority) by ..." on each of the app's sessions,
  until one of them next becomes Active.

:meth:`Board.apply` records which rows it touched in :attr:`Board.dirty`, so a view can send only those.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from ..audio.synth import to_dbfs
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
    Unducked,
)
from ..model import InterruptHint, Session, SessionState
from ..reason import Reason
from ..session_table import SessionTable


@dataclass
class Row:
    """One session as the dashboard shows it: the session (from the SessionTable) and its focus state."""

    session: Session
    seq: int
    duck_gain: float | None = None
    duck_cause: str | None = None
    paused_by: str | None = None
    stopped_by: str | None = None
    denied_by: str | None = None
    deactivated: str | None = None
    ended: bool = False
    denied: bool = False
    """The session ended because its start was refused: the row stays to show why."""
    extra: dict[str, object] = field(default_factory=dict)
    why: dict[str, Reason] = field(default_factory=dict)
    """The rule behind each focus state the row shows, by state (ducked, paused, stopped, denied, deactivated)."""

    @property
    def state(self) -> SessionState:
        return SessionState.EXPIRED if self.ended else self.session.state

    @property
    def volume(self) -> float:
        return self.session.volume

    @property
    def muted(self) -> bool:
        return self.session.muted


GONE_LABELS_KEPT = 256
"""How many labels of removed sessions a board remembers for naming the causes of later events."""


def percent(gain: float) -> str:
    return f"{gain * 100:.0f}%"


def decibels(gain: float) -> str:
    return f"{to_dbfs(gain):.0f} dB"  # "-inf dB" for 0


class Board:
    """Rows keyed by session id, kept up to date by :meth:`apply`."""

    def __init__(self, sessions: list[Session] = ()) -> None:  # type: ignore[assignment]
        self.rows: dict[str, Row] = {}
        self.table = SessionTable(list(sessions))
        self.dirty: set[str] = set()
        """Ids of the rows that appeared, changed or went since the last :meth:`take_dirty`."""
        self.reordered = False
        """Set when rows appeared or went (so :meth:`order` may differ); the reader resets it."""
        self._seq = itertools.count()
        self._labels: dict[str, str] = {}
        for session in sessions:
            self._add(session)

    def _add(self, session: Session) -> Row:
        row = Row(session, next(self._seq))
        self.rows[session.id] = row
        self._labels[session.id] = session.label
        self.dirty.add(session.id)
        self.reordered = True
        return row

    def label(self, session_id: str | None) -> str:
        """A readable name for a session id (its label while known, else the id itself)."""
        if not session_id:
            return "the system"
        return self._labels.get(session_id, session_id)

    def take_dirty(self) -> set[str]:
        """The ids touched since the last call (rows that changed, appeared, or are gone), and forget them."""
        dirty, self.dirty = self.dirty, set()
        return dirty

    # --- events --------------------------------------------------------------------------------------------

    def apply(self, event: Event) -> bool:
        """Fold one event in; True when a row appeared, changed or ended (its id is then in :attr:`dirty`)."""
        before = len(self.dirty)
        self.table.apply(event)
        if isinstance(event, SessionDisconnected):
            # The table keeps a disconnected session until it is removed; the board drops its row now.
            self.table.apply(SessionRemoved(timestamp=event.timestamp, session_id=event.session_id))
        touched = self._apply_focus(event)
        sid = event.session_id
        row = self.rows.get(sid)
        session = self.table.get(sid)
        if row is not None and not row.ended and session is not None and session is not row.session:
            row.session = session  # whatever the event changed: state, volume, name, icon, streams, ...
            touched = True
            if session.label != self._labels.get(sid):
                self._labels[sid] = session.label
                # rows that name this session as the cause of their ducking show its new name
                self.dirty.update(other for other, r in self.rows.items() if r.duck_cause == sid)
        if touched:
            self.dirty.add(sid)
        return touched or len(self.dirty) != before

    def _apply_focus(self, event: Event) -> bool:  # noqa: PLR0911 - one branch per event kind
        """The rows' own part of an event: rows appearing and ending, and the focus state."""
        if isinstance(event, SessionCreated):
            old = self.rows.get(event.session_id)
            if old is None or old.ended:
                self._add(event.session)
            return True
        if isinstance(event, SessionDeactivated):
            rows = [(sid, r) for sid, r in self.rows.items() if r.session.app == event.session_id and not r.ended]
            reason = event.reason.value.replace("_", " ")
            cause = f" by {self.label(event.cause_session_id)}" if event.cause_session_id else ""
            for sid, row in rows:
                row.deactivated = f"deactivated ({reason}){cause}"
                _keep_why(row, "deactivated", event.why)
                self.dirty.add(sid)
            return False
        found = self.rows.get(event.session_id)
        if found is None or found.ended:
            return False
        row = found
        if isinstance(event, StateChanged):
            if event.new is SessionState.ACTIVE:
                row.denied_by = row.stopped_by = row.deactivated = None
                for kind in ("denied", "stopped", "deactivated"):
                    row.why.pop(kind, None)
            return True
        if isinstance(event, Ducked):
            row.duck_gain, row.duck_cause = event.gain, event.cause_session_id
            _keep_why(row, "ducked", event.why)
            return True
        if isinstance(event, Unducked):
            row.duck_gain = row.duck_cause = None
            row.why.pop("ducked", None)
            return True
        if isinstance(event, InterruptEvent):
            if event.hint is InterruptHint.PAUSE:
                row.paused_by = self.label(event.cause_session_id)
                _keep_why(row, "paused", event.why)
            elif event.hint is InterruptHint.RESUME:
                row.paused_by = None
                row.why.pop("paused", None)
            elif event.hint is InterruptHint.STOP:
                row.paused_by, row.stopped_by = None, self.label(event.cause_session_id)
                row.why.pop("paused", None)
                _keep_why(row, "stopped", event.why)
            else:
                return False
            return True
        if isinstance(event, FocusDenied):
            row.denied_by = self.label(event.cause_session_id)
            _keep_why(row, "denied", event.why)
            return True
        if isinstance(event, SessionExpired):
            row.ended = True
            return True
        if isinstance(event, (SessionRemoved, SessionDisconnected)):
            if row.denied_by:
                row.ended = row.denied = True
                return True
            del self.rows[event.session_id]
            self._forget_old_labels()
            self.reordered = True
            return True
        return False

    def remove(self, session_id: str) -> bool:
        if self.rows.pop(session_id, None) is None:
            return False
        self._forget_old_labels()
        self.dirty.add(session_id)
        self.reordered = True
        return True

    def _forget_old_labels(self) -> None:
        """Keep the labels of gone sessions (events still name them as causes), the newest
        :data:`GONE_LABELS_KEPT` only, so a long-running dashboard does not grow without bound."""
        excess = len(self._labels) - len(self.rows) - GONE_LABELS_KEPT
        if excess <= 0:
            return
        gone = [sid for sid in self._labels if sid not in self.rows][:excess]
        for sid in gone:
            del self._labels[sid]

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

    def why(self, session_id: str) -> str:
        """The rules behind the focus states a row shows, one sentence each ("" when none is known)."""
        row = self.rows[session_id]
        return " ".join(dict.fromkeys(str(row.why[k]) for k in _WHY_ORDER if k in row.why))

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
            "state": "denied" if row.denied else row.state.value,
            "volume": round(row.volume, 4),
            "muted": row.muted,
            "focus": focus,
            "focus_kind": focus_kind,
            "why": self.why(session_id),
            "gain": 1.0 if row.duck_gain is None else round(row.duck_gain, 4),
            "system": s.is_system_sounds,
            **row.extra,
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


_WHY_ORDER = ("ducked", "paused", "stopped", "denied", "deactivated")


def _keep_why(row: Row, kind: str, why: Reason | None) -> None:
    if why is None:
        row.why.pop(kind, None)
    else:
        row.why[kind] = why
