"""Meter frames fanned out with newest-value semantics: a slow consumer gets fewer frames, never stale ones.

Frames a subscriber has not taken yet are merged (peaks are maxima, so the merge keeps the loudest value
seen and the newest timestamp): nothing loud is hidden and nothing old is delivered.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
from anyio.abc import ObjectReceiveStream
from anyio.lowlevel import checkpoint

from ._by_fields import by_fields
from ._exceptions import ClosedResourceError
from .model import MeterFrame

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from .backends._base import Backend


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


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
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


def plan_tick(last_tick: float, now: float, interval: float, *, on_grid: bool) -> float:
    """When the ticker reads the meters next: one ``interval`` after ``last_tick``, or ``now`` if that has passed
    (a late ticker skips the ticks it missed instead of bunching). ``on_grid`` (virtual time): the first multiple
    of ``interval`` after ``last_tick``, or the first at or after ``now``; the last tick may lie on the grid of
    another rate (subscribers came or went), so that the next one still comes within an interval."""
    if not on_grid:
        return max(last_tick + interval, now)
    next_tick = (math.floor(last_tick / interval + 1e-9) + 1) * interval
    return next_tick if next_tick >= now else math.ceil(now / interval - 1e-9) * interval


class MeterFanOut:
    """A Lab's meter subscribers and the one ticker that reads the backend's meters for all of them.

    Metering runs while at least one subscriber is there: the backend starts measuring with the first and
    stops after the last; the ticker ticks at the fastest subscriber's rate on a fixed grid."""

    def __init__(self, backend: Backend, tasks: TaskGroup) -> None:
        self._backend = backend
        self._tasks = tasks
        self.subscriptions: list[MeterSubscription] = []
        self._ticker_running = False
        self._ticker_rate = 0.0
        self._replan: anyio.CancelScope | None = None
        """Cancels the ticker's sleep, so that it plans its next tick again (a faster subscriber joined)."""
        self._closed = False

    def subscribe(self, rate: float) -> MeterSubscription:
        """A new subscription; it joins (and metering starts) when it is entered or first received from."""
        return MeterSubscription(rate, self._drop, self._add)

    def close(self, error: BaseException | None = None) -> None:
        """End every subscription: cleanly, or with ``error`` raised to each. No more join after this."""
        self._closed = True
        for subscription in list(self.subscriptions):
            subscription.close(error)

    async def _add(self, subscription: MeterSubscription) -> None:
        if self._closed:
            raise ClosedResourceError("the Lab is closed")
        if not self.subscriptions:
            await self._backend.start_meters()
        self.subscriptions.append(subscription)
        if not self._ticker_running:
            self._ticker_running = True
            self._tasks.start_soon(self._tick)
        elif self._replan is not None and subscription.rate > self._ticker_rate:
            # The ticker sleeps towards a tick planned for slower subscribers (or for ones that have left):
            # on a virtual clock that tick may lie beyond every advance the new subscriber makes.
            self._replan.cancel()

    def _drop(self, subscription: MeterSubscription) -> None:
        if subscription in self.subscriptions:
            self.subscriptions.remove(subscription)

    async def _tick(self) -> None:
        backend = self._backend
        clock = backend.clock
        last_tick = clock.now()
        while self.subscriptions and not self._closed:
            self._ticker_rate = max(s.rate for s in self.subscriptions)
            next_tick = plan_tick(last_tick, clock.now(), 1.0 / self._ticker_rate, on_grid=clock.virtual)
            with anyio.CancelScope() as replan:
                self._replan = replan
                await clock.sleep_until(next_tick)
            self._replan = None
            if not self.subscriptions or self._closed:
                break
            if replan.cancelled_caught:
                continue  # plan the next tick again, at the faster rate
            last_tick = next_tick
            frame = backend.read_meters()
            for subscription in list(self.subscriptions):
                subscription.offer(frame)
        if not self._closed:
            with anyio.CancelScope(shield=True):
                await backend.stop_meters()
            if self.subscriptions:  # someone subscribed while we were stopping
                await backend.start_meters()
                self._tasks.start_soon(self._tick)
                return
        self._ticker_running = False
