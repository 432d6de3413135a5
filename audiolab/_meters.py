"""Meter frames fanned out with newest-value semantics: a slow consumer gets fewer frames, never stale ones.

Frames a subscriber has not taken yet are merged (peaks are maxima, so the merge keeps the loudest value
seen and the newest timestamp): nothing loud is hidden and nothing old is delivered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
from anyio.abc import ObjectReceiveStream
from anyio.lowlevel import checkpoint

from ._exceptions import ClosedResourceError
from .model import MeterFrame


def merge_frames(older: MeterFrame, newer: MeterFrame) -> MeterFrame:
    """The max of two frames' peaks, stamped with the newer one's time and sequence."""
    peaks = dict(older.peaks)
    for sid, value in newer.peaks.items():
        peaks[sid] = max(value, peaks.get(sid, 0.0))
    # Sessions that are gone by the newer frame are dropped: a frame describes the sessions that exist now.
    peaks = {sid: peaks[sid] for sid in newer.peaks}
    channel_peaks = {}
    for sid, values in newer.channel_peaks.items():
        previous = older.channel_peaks.get(sid)
        if previous is not None and len(previous) == len(values):
            values = tuple(max(a, b) for a, b in zip(previous, values, strict=True))
        channel_peaks[sid] = values
    device_peaks = {d: max(v, older.device_peaks.get(d, 0.0)) for d, v in newer.device_peaks.items()}
    unmeasured = {sid: why for sid, why in newer.unmeasured.items() if peaks.get(sid, 0.0) == 0.0}
    return MeterFrame(newer.timestamp, peaks, channel_peaks, device_peaks, newer.sequence, unmeasured)


@dataclass(frozen=True)
class MeterStatistics:
    """One meter subscription's counts."""

    rate: float
    offered: int
    delivered: int
    merged: int
    """Frames folded into a later one because the consumer had not taken the previous one yet."""


class MeterSubscription(ObjectReceiveStream[MeterFrame]):
    """Meter frames at (at most) ``rate`` per second, an :class:`anyio.abc.ObjectReceiveStream`:
    ``async with lab.meters(rate=30) as frames: async for frame in frames: ...``.

    Metering starts when the stream is entered (or first received from) and stops when the last subscriber
    closes. ``receive()`` is a checkpoint; after the Lab closes it raises ClosedResourceError (iteration ends),
    or the error that ended the Lab."""

    def __init__(
        self,
        rate: float,
        on_close: Callable[[MeterSubscription], None],
        on_open: Callable[[MeterSubscription], Awaitable[None]] | None = None,
    ) -> None:
        self.rate = rate
        self._interval = 1.0 / rate
        # A frame may come a little early (ticks jitter, engines advance in blocks): taking it a third of an
        # interval early keeps the asked-for rate instead of skipping every other frame.
        self._slack = self._interval / 3
        self._next_due: float | None = None
        self._waiting: MeterFrame | None = None
        self._wakeup = anyio.Event()
        self._closed = False
        self._end_error: BaseException | None = None
        self._on_close = on_close
        self._on_open = on_open
        self._offered = self._delivered = self._merged = 0

    async def __aenter__(self) -> MeterSubscription:
        await self._open()
        return self

    async def _open(self) -> None:
        if self._on_open is not None and not self._closed:
            on_open, self._on_open = self._on_open, None
            try:
                await on_open(self)
            except BaseException:
                self.close()
                raise

    def offer(self, frame: MeterFrame) -> None:
        """Called by the ticker for every frame; never blocks."""
        if self._closed:
            return
        self._offered += 1
        if self._waiting is not None:
            self._merged += 1
            frame = merge_frames(self._waiting, frame)
        self._waiting = frame
        if self._is_due(frame):
            self._wake()

    def _is_due(self, frame: MeterFrame) -> bool:
        return self._next_due is None or frame.timestamp >= self._next_due - self._slack

    def close(self, error: BaseException | None = None) -> None:
        """End the subscription: cleanly, or with ``error`` raised to its consumer (the server went away)."""
        if not self._closed:
            self._closed = True
            self._end_error = error
            self._wake()
            self._on_close(self)

    async def aclose(self) -> None:
        """End the subscription (as :meth:`close`), then checkpoint."""
        self.close()
        await checkpoint()

    async def receive(self) -> MeterFrame:
        """The next frame that is due, waiting for it."""
        await checkpoint()
        await self._open()
        while True:
            if self._closed:
                if self._end_error is not None:
                    raise self._end_error
                raise ClosedResourceError("the meter stream is closed")
            frame = self._waiting
            if frame is not None and self._is_due(frame):
                self._waiting = None
                self._delivered += 1
                self._next_due = frame.timestamp + self._interval
                return frame
            await self._wakeup.wait()

    def _wake(self) -> None:
        wakeup, self._wakeup = self._wakeup, anyio.Event()
        wakeup.set()

    async def __anext__(self) -> MeterFrame:
        try:
            return await self.receive()
        except ClosedResourceError:
            raise StopAsyncIteration from None

    def statistics(self) -> MeterStatistics:
        """How many frames were offered, delivered and merged so far."""
        return MeterStatistics(self.rate, self._offered, self._delivered, self._merged)
