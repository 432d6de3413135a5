"""Recorded traces: what a backend reported (a snapshot, then events and meter frames), as JSON Lines.

    {"format": "audiolab-trace", "version": 2, "backend": "pulse", "recorded": "2026-11-22T18:00:00+00:00"}
    {"t": 0.0, "snapshot": [<session>, ...]}
    {"t": 0.0, "policy": <the focus policy in force, when the backend knows it>}
    {"t": 0.125, "event": {"kind": "VolumeChanged", "timestamp": 0.125, "session_id": "...", ...}}
    {"t": 0.133, "meters": {"peaks": {...}, "channel_peaks": {...}, "device_peaks": {...}}}

Version 2 adds ``why`` (the :class:`~audiolab.reason.Reason`) to focus events; version 1 traces, which have
none, are still read (their focus events get ``why = None``). Times are seconds since the recording started; a
line's time never goes backwards and stays within a week. The reader checks values too (finite numbers,
volumes in 0..1, peaks >= 0): what it refuses is a :class:`ScenarioError` naming the line, so a trace that
loads also replays. A trace is written to
``FILE.part`` and renamed when the recording ends, so a crash never leaves a half-written file under the final
name. ``backend="replay"`` plays one back as if it were live.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import anyio

from ._by_fields import by_fields
from ._exceptions import NotSupported, ScenarioError
from ._files import read_text_file
from .events import ChannelVolumeChanged, Event, VolumeChanged, event_from_dict, event_to_dict
from .focus.in_force import PolicyInForce
from .model import MeterFrame, Session, check_level, is_real

FORMAT = "audiolab-trace"
VERSION = 2
READABLE_VERSIONS = (1, 2)
MAX_SECONDS = 7 * 24 * 3600.0
"""The longest trace read (a week): a later line time is refused, since a replay would wait that long."""


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class TraceEntry:
    t: float
    event: Event | None = None
    meters: MeterFrame | None = None


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
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
        lines = read_text_file(path).splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read the trace: {exc}", path=str(path)) from None
    except RecursionError:
        raise ScenarioError("cannot read the trace: nested too deeply", path=str(path)) from None
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
            t = _line_time(obj["t"])
            if entries and t < entries[-1].t:
                raise ValueError(f"times go backwards ({t:g} s after {entries[-1].t:g} s)")
            if "snapshot" in obj:
                if not isinstance(obj["snapshot"], list):
                    raise TypeError("'snapshot' must be a list of sessions")
                snapshot = [Session.from_dict(s) for s in obj["snapshot"]]
            elif "policy" in obj:
                policy = PolicyInForce.from_dict(obj["policy"])
            elif "event" in obj:
                entries.append(TraceEntry(t, event=_checked_event(event_from_dict(obj["event"]))))
            elif "meters" in obj:
                m = obj["meters"]
                if not isinstance(m, dict):
                    raise TypeError("'meters' must be an object")
                frame = MeterFrame(t, _peaks(m["peaks"], "peaks"), _peaks(m["channel_peaks"], "channel_peaks", True),
                                   _peaks(m.get("device_peaks", {}), "device_peaks"))
                entries.append(TraceEntry(t, meters=frame))
            else:
                raise ValueError("a line needs 'snapshot', 'policy', 'event' or 'meters'")
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            raise ScenarioError(f"malformed trace line: {_why(exc)}", path=str(path), line=number) from None
    if not header:
        raise ScenarioError("empty trace", path=str(path))
    if snapshot is None:
        raise ScenarioError("the trace has no snapshot line", path=str(path))
    return Trace(str(header.get("backend", "?")), snapshot, entries, policy, _recorded(header.get("recorded")))


def _line_time(value: object) -> float:
    if not is_real(value):
        raise TypeError(f"bad time {value!r}: 't' must be a number of seconds")
    t = float(value)  # type: ignore[arg-type]
    if not (math.isfinite(t) and 0 <= t <= MAX_SECONDS):
        raise ValueError(f"bad time {value!r}: 't' must be within 0..{MAX_SECONDS:g} seconds")
    return t


def _checked_event(event: Event) -> Event:
    """Refuse what no backend reports: a non-finite number, a volume outside 0..1, a negative gain or count."""
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"{event.kind}.{f.name} must be a finite number, got {item!r}")
            if f.name in ("gain", "fade_seconds", "count") and is_real(item) and item < 0:
                raise ValueError(f"{event.kind}.{f.name} must be >= 0, got {item!r}")
    if isinstance(event, VolumeChanged):
        check_level(event.volume)
    if isinstance(event, ChannelVolumeChanged):
        for level in event.channel_volumes:
            check_level(level, "channel volume")
    return event


def _peaks(mapping: object, what: str, per_channel: bool = False) -> dict[str, Any]:
    """Meter peaks by id: finite levels >= 0 (a device's mix may exceed 1); per channel, lists of them."""
    if not isinstance(mapping, dict):
        raise TypeError(f"'{what}' must be an object")
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if per_channel and not isinstance(value, list):
            raise TypeError(f"{what}[{key!r}] must be a list of levels, got {value!r}")
        levels = value if per_channel else [value]
        for level in levels:
            if not is_real(level) or not (math.isfinite(level) and level >= 0):
                raise ValueError(f"{what}[{key!r}] must be a finite level >= 0, got {level!r}")
        out[key] = tuple(float(v) for v in levels) if per_channel else float(value)
    return out


def _why(exc: BaseException) -> str:
    """A readable reason: a KeyError's message alone is just the key."""
    if isinstance(exc, KeyError):
        key = exc.args[0] if exc.args else "?"
        return key if isinstance(key, str) and " " in key else f"missing key {key!r}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)


def _recorded(value: object) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=datetime.timezone.utc)
