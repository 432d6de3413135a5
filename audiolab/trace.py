"""Recorded traces: what a backend reported (a snapshot, then events and meter frames), as JSON Lines.

    {"format": "audiolab-trace", "version": 2, "backend": "pulse", "recorded": "2026-11-22T18:00:00+00:00"}
    {"t": 0.0, "snapshot": [<session>, ...]}
    {"t": 0.0, "policy": <the focus policy in force, when the backend knows it>}
    {"t": 0.125, "event": {"kind": "VolumeChanged", "timestamp": 0.125, "session_id": "...", ...}}
    {"t": 0.133, "meters": {"peaks": {...}, "channel_peaks": {...}, "device_peaks": {...}}}

Version 2 adds ``why`` (the :class:`~audiolab.reason.Reason`) to focus events; version 1 traces, which have
none, are still read (their focus events get ``why = None``). Times are seconds since the recording started; a line's time never goes backwards. A trace is written to
``FILE.part`` and renamed when the recording ends, so a crash never leaves a half-written file under the final
name. ``backend="replay"`` plays one back as if it were live.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

import anyio

from ._exceptions import NotSupported, ScenarioError
from .events import Event, event_from_dict, event_to_dict
from .focus.in_force import PolicyInForce
from .model import MeterFrame, Session

FORMAT = "audiolab-trace"
VERSION = 2
READABLE_VERSIONS = (1, 2)


@dataclass(frozen=True)
class TraceEntry:
    t: float
    event: Event | None = None
    meters: MeterFrame | None = None


@dataclass(frozen=True)
class Trace:
    """A recorded trace: the backend, the sessions at the start, what happened, and when it was recorded."""

    backend: str
    snapshot: list[Session]
    entries: list[TraceEntry] = field(default_factory=list)
    policy: PolicyInForce | None = None
    """The focus policy in force when the recording started (later changes are PolicyChanged events)."""
    recorded: datetime.datetime | None = None
    """When the recording started (its t = 0), if the trace says."""

    @property
    def duration(self) -> float:
        return self.entries[-1].t if self.entries else 0.0

    @property
    def events(self) -> list[Event]:
        return [e.event for e in self.entries if e.event is not None]

    @property
    def has_meters(self) -> bool:
        return any(e.meters is not None for e in self.entries)


class TraceWriter:
    """Writes a trace line by line; :meth:`close` publishes it under its final name."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        backend: str,
        snapshot: list[Session],
        t0: float,
        policy: PolicyInForce | None = None,
    ) -> None:
        self.path = Path(path)
        self._partial = self.path.with_name(self.path.name + ".part")
        self._t0 = t0
        self._last_t = 0.0
        self._file: TextIO = open(self._partial, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        recorded = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self._line({"format": FORMAT, "version": VERSION, "backend": backend, "recorded": recorded})
        self._line({"t": 0.0, "snapshot": [s.to_dict() for s in snapshot]})
        if policy is not None:
            self._line({"t": 0.0, "policy": policy.to_dict()})
        self.events = 0
        self.frames = 0

    def event(self, event: Event) -> None:
        data = event_to_dict(replace(event, timestamp=event.timestamp - self._t0))
        self._line({"t": self._t(event.timestamp), "event": data})
        self.events += 1

    def meters(self, frame: MeterFrame) -> None:
        self._line({"t": self._t(frame.timestamp), "meters": {
            "peaks": frame.peaks, "channel_peaks": {k: list(v) for k, v in frame.channel_peaks.items()},
            "device_peaks": frame.device_peaks}})
        self.frames += 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._partial, self.path)

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._partial.unlink(missing_ok=True)

    def _t(self, timestamp: float) -> float:
        """A line's time: the timestamp's, but never before the previous line's. Events and meter frames reach
        the recorder by two paths; an event stamped just before a frame may arrive just after it."""
        self._last_t = max(self._last_t, round(timestamp - self._t0, 6))
        return self._last_t

    def _line(self, obj: dict[str, object]) -> None:
        self._file.write(json.dumps(obj, separators=(",", ":")) + "\n")


async def record(lab, path: str | os.PathLike[str], duration: float, *, meter_rate: float | None = 30.0) -> Trace:  # type: ignore[no-untyped-def]
    """Record what ``lab`` reports for ``duration`` seconds of its clock into ``path``; returns the trace.
    On a virtual clock this waits while others advance the clock (it never advances it itself)."""
    if not duration > 0:
        raise ValueError("duration must be > 0 seconds")
    clock = lab.clock
    try:
        policy = lab.policy_in_force()
    except NotSupported:
        policy = None
    writer = TraceWriter(path, lab.backend_name, lab.snapshot(), clock.now(), policy)
    try:
        async with lab.events() as events, anyio.create_task_group() as tg:

            async def take_events() -> None:
                async for event in events:
                    writer.event(event)

            async def take_meters() -> None:
                async with lab.meters(rate=meter_rate) as frames:
                    async for frame in frames:
                        writer.meters(frame)

            tg.start_soon(take_events)
            if meter_rate is not None and "meters" in lab.backend.capabilities:
                tg.start_soon(take_meters)
            await clock.sleep(duration)
            tg.cancel_scope.cancel()
    except BaseException:
        writer.abort()
        raise
    writer.close()
    return read_trace(path)


def read_trace(path: str | os.PathLike[str]) -> Trace:
    """Load a trace; a malformed one raises :class:`ScenarioError` naming the line at fault."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read the trace: {exc}", path=str(path)) from None
    entries: list[TraceEntry] = []
    snapshot: list[Session] | None = None
    policy: PolicyInForce | None = None
    header: dict[str, object] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise TypeError("each line must be a JSON object")
            if number == 1:
                version = obj.get("version")
                if obj.get("format") != FORMAT or isinstance(version, bool) or version not in READABLE_VERSIONS:
                    raise ValueError(f"not an {FORMAT} header of version {' or '.join(map(str, READABLE_VERSIONS))}")
                header = obj
                continue
            t = obj["t"]
            if isinstance(t, bool) or not isinstance(t, (int, float)) or t < 0:
                raise ValueError(f"bad time {t!r}")
            if entries and t < entries[-1].t:
                raise ValueError("times go backwards")
            if "snapshot" in obj:
                snapshot = [Session.from_dict(s) for s in obj["snapshot"]]
            elif "policy" in obj:
                policy = PolicyInForce.from_dict(obj["policy"])
            elif "event" in obj:
                entries.append(TraceEntry(float(t), event=event_from_dict(obj["event"])))
            elif "meters" in obj:
                m = obj["meters"]
                frame = MeterFrame(float(t), {k: float(v) for k, v in m["peaks"].items()},
                                   {k: tuple(float(x) for x in v) for k, v in m["channel_peaks"].items()},
                                   {k: float(v) for k, v in m.get("device_peaks", {}).items()})
                entries.append(TraceEntry(float(t), meters=frame))
            else:
                raise ValueError("a line needs 'snapshot', 'event' or 'meters'")
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ScenarioError(f"malformed trace line: {exc}", path=str(path), line=number) from None
    if not header:
        raise ScenarioError("empty trace", path=str(path))
    if snapshot is None:
        raise ScenarioError("the trace has no snapshot line", path=str(path))
    return Trace(str(header.get("backend", "?")), snapshot, entries, policy, _recorded(header.get("recorded")))


def _recorded(value: object) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=datetime.timezone.utc)
