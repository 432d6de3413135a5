"""Build a recorded trace event by event, without a server, as ``audiolab record`` writes it."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from ..events import Event
from ..focus.in_force import PolicyInForce
from ..model import MeterFrame, Session
from ..trace import Trace, TraceEntry, TraceWriter, _checked_event, _line_time, _peaks


class TraceBuilder:
    """A trace built in code, for tests of replay, widgets and trace readers.

    Add events (each at its own ``timestamp``, seconds since the recording started) and meter frames in time
    order; :meth:`build` gives the :class:`~audiolab.trace.Trace` and :meth:`write` the file
    ``backend="replay"`` and ``audiolab replay`` read. What a recording could not hold (a time going
    backwards or beyond a week, a volume outside 0..1, a negative peak) raises ``ValueError`` and adds nothing."""

    def __init__(self, backend: str = "sim", snapshot: list[Session] | None = None,
                 policy: PolicyInForce | None = None) -> None:
        if not isinstance(backend, str) or not backend:
            raise ValueError("backend must be a non-empty name")
        self.backend = backend
        self.snapshot = [_readable(s) for s in snapshot or []]
        self.policy = policy
        self._entries: list[TraceEntry] = []

    def event(self, event: Event) -> TraceBuilder:
        """Add ``event`` at its timestamp."""
        if not isinstance(event, Event):
            raise ValueError(f"not an audiolab event: {event!r}")
        t = self._next_time(event.timestamp)
        try:
            checked = _checked_event(event)
        except (TypeError, ValueError) as exc:
            raise ValueError(str(exc)) from None
        self._entries.append(TraceEntry(t, event=checked))
        return self

    def meters(self, t: float, peaks: dict[str, float], channel_peaks: dict[str, list[float]] | None = None,
               device_peaks: dict[str, float] | None = None) -> TraceBuilder:
        """Add a meter frame at ``t``: peaks by session id (per channel: lists), each device's mix."""
        t = self._next_time(t)
        try:
            frame = MeterFrame(t, _peaks(dict(peaks), "peaks"),
                               _peaks({k: list(v) for k, v in (channel_peaks or {}).items()}, "channel_peaks", True),
                               _peaks(dict(device_peaks or {}), "device_peaks"))
        except (TypeError, ValueError) as exc:
            raise ValueError(str(exc)) from None
        self._entries.append(TraceEntry(t, meters=frame))
        return self

    def build(self) -> Trace:
        """The trace as :func:`audiolab.trace.read_trace` would load it."""
        return Trace(self.backend, list(self.snapshot), list(self._entries), self.policy)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the trace as a JSON Lines file (format version 2) at ``path``; returns the path."""
        writer = TraceWriter(path, self.backend, self.snapshot, 0.0, self.policy)
        try:
            for entry in self._entries:
                if entry.event is not None:
                    writer.event(replace(entry.event, timestamp=entry.t))
                elif entry.meters is not None:
                    writer.meters(entry.meters)
        except BaseException:
            writer.abort()
            raise
        writer.close()
        return writer.path

    def _next_time(self, t: float) -> float:
        try:
            t = _line_time(t)
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        last = self._entries[-1].t if self._entries else 0.0
        if t < last:
            raise ValueError(f"times go backwards ({t:g} s after {last:g} s); add entries in time order")
        return t


def _readable(session: Session) -> Session:
    """Refuse a session that a trace reader could not load back (so a written trace always loads)."""
    if not isinstance(session, Session):
        raise ValueError(f"a snapshot holds audiolab.model.Session objects, not {session!r}")
    try:
        Session.from_dict(session.to_dict())
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"session {session.id!r} would not load back from a trace: {exc}") from None
    return session
