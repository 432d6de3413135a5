"""Fan-out from one backend to any number of subscribers, without ever making the backend wait.

Control events are lossless: each subscriber has a bounded buffer, and one that falls so far behind that its
buffer overflows is told so with :class:`EventOverflow` on its next receive (after the events it did get),
never by silent loss. Meter frames keep only the newest value: a slow consumer sees fewer frames, never stale
ones.
"""

from __future__ import annotations

import numbers
from collections import deque
from dataclasses import dataclass

import anyio
from anyio.abc import ObjectReceiveStream
from anyio.lowlevel import checkpoint

from ._by_fields import by_fields
from ._exceptions import ClosedResourceError, EventOverflow
from .events import Event


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class SubscriptionStatistics:
    """One event subscription's counts: what it holds now, what it was given, what it lost."""

    buffered: int
    max_buffer: int
    delivered: int
    dropped: int
    overflowed: bool


class EventSubscription(ObjectReceiveStream[Event]):
    """One subscriber's view of the event stream, an :class:`anyio.abc.ObjectReceiveStream`:
    ``async with lab.events() as events: async for event in events: ...``.

    ``receive()`` is a checkpoint. When the Lab closes, iteration ends after the buffered events (``receive()``
    raises :class:`~audiolab.ClosedResourceError`, or the error that ended the Lab, such as
    :class:`~audiolab.BackendDisconnected`); after your own ``aclose()`` it raises ClosedResourceError."""

    def __init__(self, hub: EventHub, max_buffer: int) -> None:
        if isinstance(max_buffer, bool) or not isinstance(max_buffer, (int, numbers.Integral)):
            raise TypeError(f"max_buffer must be an int (a number of events), not {type(max_buffer).__name__}")
        max_buffer = int(max_buffer)
        if max_buffer < 1:
            raise ValueError(f"max_buffer must be at least 1, got {max_buffer}")
        self._hub = hub
        self._buffer: deque[Event] = deque()
        self._max_buffer = max_buffer
        self._wakeup = anyio.Event()
        self._delivered = 0
        self._dropped = 0
        self._overflowed = False
        self._closed = False
        self._end_error: BaseException | None = None

    def _push(self, event: Event) -> None:
        if self._closed or self._overflowed:
            self._dropped += 1
            return
        if len(self._buffer) >= self._max_buffer:
            self._overflowed = True
            self._dropped += 1
        else:
            self._buffer.append(event)
        self._wake()

    def _end(self, error: BaseException | None) -> None:
        if self._end_error is None:
            self._end_error = error
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        # Every waiting receiver waits on the current Event; set it and start a new one, so that several
        # tasks receiving from one subscription all wake and none waits on an Event nobody will set.
        wakeup, self._wakeup = self._wakeup, anyio.Event()
        wakeup.set()

    def receive_nowait(self) -> Event:
        """The next buffered event; raises anyio.WouldBlock when none is waiting."""
        if self._buffer:
            self._delivered += 1
            return self._buffer.popleft()
        self._raise_if_finished()
        raise anyio.WouldBlock

    async def receive(self) -> Event:
        """The next event, waiting for one if none is buffered."""
        await checkpoint()
        while True:
            try:
                return self.receive_nowait()
            except anyio.WouldBlock:
                pass
            await self._wakeup.wait()

    def _raise_if_finished(self) -> None:
        if self._overflowed:
            raise EventOverflow(
                f"this subscriber fell more than {self._max_buffer} events behind; "
                f"{self._dropped} events were not delivered to it (raise max_buffer or consume faster)"
            )
        if self._closed:
            if self._end_error is not None:
                raise self._end_error
            raise ClosedResourceError("the event subscription is closed")

    async def __anext__(self) -> Event:
        try:
            return await self.receive()
        except ClosedResourceError:
            if self._end_error is None:
                raise StopAsyncIteration from None
            raise

    def statistics(self) -> SubscriptionStatistics:
        """What this subscription holds, was given and lost so far."""
        return SubscriptionStatistics(
            buffered=len(self._buffer),
            max_buffer=self._max_buffer,
            delivered=self._delivered,
            dropped=self._dropped,
            overflowed=self._overflowed,
        )

    def close(self) -> None:
        """Unsubscribe now; a task waiting in ``receive()`` gets ClosedResourceError. Idempotent."""
        self._hub._remove(self)
        self._end(None)

    async def aclose(self) -> None:
        """Unsubscribe (as :meth:`close`), then checkpoint."""
        self.close()
        await checkpoint()


class EventHub:
    """Publishes each event to every current subscription."""

    def __init__(self) -> None:
        self._subscriptions: list[EventSubscription] = []
        self.published = 0

    def subscribe(self, max_buffer: int = 4096) -> EventSubscription:
        subscription = EventSubscription(self, max_buffer)
        self._subscriptions.append(subscription)
        return subscription

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every subscriber; never blocks. Must run on the event loop thread."""
        self.published += 1
        for subscription in self._subscriptions:
            subscription._push(event)

    def close(self, error: BaseException | None = None) -> None:
        """End every subscription: cleanly, or with ``error`` raised to each subscriber after its buffer."""
        for subscription in list(self._subscriptions):
            subscription._end(error)
        self._subscriptions.clear()

    def _remove(self, subscription: EventSubscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)
