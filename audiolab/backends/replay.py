"""``backend="replay"``: a recorded trace played back as if it were live.

``audiolab.open("replay", trace="run.trace.jsonl", speed=1.0, clock="virtual")``: the snapshot is there at
once; events and meter frames arrive at their recorded times (scaled by ``speed``; on a virtual clock, as the
clock advances). A replay cannot be changed: control calls raise :class:`NotSupported`.
"""

from __future__ import annotations

import datetime
import math
import os
from collections.abc import Callable

from .._exceptions import NotSupported
from .._meters import merge_frames
from ..clock import Clock, make_clock
from ..events import Event, PolicyChanged
from ..focus.in_force import PolicyInForce
from ..model import MeterFrame, Session
from ..session_table import SessionTable
from ..trace import Trace, read_trace
from ._base import Backend, Capability, EventSink


class ReplayBackend(Backend):
    name = "replay"

    def __init__(
        self,
        *,
        trace: str | os.PathLike[str] | Trace,
        speed: float = 1.0,
        clock: str | Clock | None = None,
        **options: object,
    ) -> None:
        super().__init__(clock=make_clock(clock), **options)
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number, got {speed!r}")
        self.trace = trace if isinstance(trace, Trace) else read_trace(trace)
        self.capabilities = frozenset({Capability.METERS}) if self.trace.has_meters else frozenset()
        self.speed = float(speed)
        self._table = SessionTable(self.trace.snapshot)
        self._emit: EventSink | None = None
        self._t0 = 0.0
        self._frame: MeterFrame | None = None
        self._policy = self.trace.policy
        self.position = 0
        """How many trace entries have been played."""

    @classmethod
    async def probe(cls) -> bool:
        return False  # never picked by backend="auto": it needs a trace

    async def start(self, emit: EventSink) -> None:
        self._emit = emit
        self._t0 = self.clock.now()

    async def run(self) -> None:
        for entry in self.trace.entries[self.position:]:
            when = self._t0 + entry.t / self.speed
            # Entries already due play at once (a checkpoint for each would leave a virtual clock's advance
            # returning before they all had played); a checkpoint every so often keeps the loop responsive.
            if when > self.clock.now() or self.position % 256 == 255:
                await self.clock.sleep_until(when)
            if entry.event is not None and self._emit is not None:
                # Stamped when it happened (a line's time may be a little later: see TraceWriter._t).
                event = _retimed(entry.event, self._t0 + entry.event.timestamp / self.speed)
                if isinstance(event, PolicyChanged):
                    self._policy = event.policy
                self._table.apply(event)
                self._emit(event)
            elif entry.meters is not None:
                frame = MeterFrame(when, entry.meters.peaks, entry.meters.channel_peaks, entry.meters.device_peaks)
                self._frame = frame if self._frame is None else merge_frames(self._frame, frame)
            self.position += 1

    async def aclose(self) -> None:
        self._emit = None

    def recorded_clock(self) -> Callable[[float], str]:
        """Turn a replayed event's timestamp into the wall-clock time it was recorded at (``HH:MM:SS.mmm``),
        or into seconds since the recording started when the trace does not say when that was."""

        def when(timestamp: float) -> str:
            since = (timestamp - self._t0) * self.speed
            if self.trace.recorded is None:
                return f"+{since:9.3f}s"
            moment = self.trace.recorded + datetime.timedelta(seconds=since)
            return moment.astimezone().strftime("%H:%M:%S.%f")[:-3]

        return when

    def policy_in_force(self) -> PolicyInForce | None:
        """The policy in force as recorded, up to the point the replay has reached."""
        return self._policy

    def snapshot(self) -> list[Session]:
        return self._table.snapshot()

    def session(self, session_id: str) -> Session:
        return self._table.enumerable(session_id, " at this point of the replay")

    async def start_meters(self) -> None:
        if not self.trace.has_meters:
            raise NotSupported("this trace was recorded without meters")
        self._frame = None

    def read_meters(self) -> MeterFrame:
        frame, self._frame = self._frame, None
        if frame is None:
            return MeterFrame(self.clock.now(), {s.id: 0.0 for s in self.snapshot()}, {}, {})
        return frame

    async def set_volume(self, session_id: str, volume: float) -> None:
        raise NotSupported("a replayed trace cannot be changed")

    async def set_mute(self, session_id: str, muted: bool) -> None:
        raise NotSupported("a replayed trace cannot be changed")


def _retimed(event: Event, timestamp: float) -> Event:
    from dataclasses import replace

    return replace(event, timestamp=timestamp)
