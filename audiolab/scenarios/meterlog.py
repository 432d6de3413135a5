"""Recording meter frames while a Lab runs, and reading gains back from them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio

from ..model import MeterFrame

if TYPE_CHECKING:
    from ..lab import Lab


class MeterLog:
    """Every meter frame of one subscription, in time order. A frame at ``t`` holds each session's peak over
    the ``1/rate`` seconds ending at ``t`` (after its volume and focus gain, as Windows meters it)."""

    def __init__(self, rate: float, frames: list[MeterFrame] | None = None) -> None:
        self.rate = rate
        self.live = frames is None
        """Whether a subscription fills it (else it is the engine's list of probed blocks, always complete)."""
        self.frames: list[MeterFrame] = [] if frames is None else frames

    def at(self, t: float) -> MeterFrame | None:
        """The frame covering the interval that ends at ``t`` (the last one stamped at or before it)."""
        best = None
        for frame in self.frames:
            if frame.timestamp <= t + 1e-9:
                best = frame
            else:
                break
        return best

    def between(self, session_id: str, t0: float, t1: float) -> list[tuple[float, float]]:
        """(timestamp, peak) of a session for the frames stamped within (t0, t1]."""
        return [(f.timestamp, f.peaks[session_id]) for f in self.frames
                if t0 < f.timestamp <= t1 + 1e-9 and session_id in f.peaks]

    async def caught_up(self, t: float) -> None:
        """Let the reader take the frames due by ``t`` (virtual time: they are due, just not read yet)."""
        for _ in range(64 if self.live else 0):
            if self.frames and self.frames[-1].timestamp >= t - 0.5 / self.rate:
                return
            await anyio.lowlevel.checkpoint()


@asynccontextmanager
async def record_meters(lab: Lab, rate: float = 100.0) -> AsyncIterator[MeterLog]:
    """``async with record_meters(lab) as log:`` records every frame of ``lab.meters(rate)`` into ``log``."""
    log = MeterLog(rate)
    async with lab.meters(rate=rate) as frames, anyio.create_task_group() as tg:

        async def read() -> None:
            async for frame in frames:
                log.frames.append(frame)

        tg.start_soon(read)
        try:
            yield log
        finally:
            tg.cancel_scope.cancel()
