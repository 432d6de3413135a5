"""The COM side's one way to the event loop: bounded, thread-safe, never blocking, one loop callback at a time.

COM callback threads and the COM thread hand what they learn to :class:`LoopOutbox`; it never posts more than
one callback to the loop at a time (``LoopPoster.post``, i.e. ``call_soon_threadsafe`` / ``run_sync_soon``).
That callback, on the loop thread, takes everything gathered so far and hands it to the tracker. So a loop
that is blocked for a while (a notebook cell that blocks the kernel) finds one callback waiting, not one per
notification or per meter poll. What waits, and the overflow policy of each kind:

- **control notifications** (sessions seen, session events, duck/unduck) are lossless: they wait in a FIFO of
  at most :data:`MAX_CONTROL_BACKLOG` entries and are delivered in the order they arrived. If the loop stays
  blocked until that many are waiting, the next one is not queued: the outbox stops taking notifications,
  delivers those it holds, then reports the overflow (the backend fails with ``BackendDisconnected``, which
  ends the Lab's subscriptions right after the last event delivered). Nothing is dropped silently.
- **meter readings** keep only what a frame needs: one slot holding, per session, the highest peak (and the
  highest per channel) read since the loop last took it. A new reading merges into the slot; it never
  queues.

Ordering: the loop callback hands over control notifications before the meter slot, and a
``ComThread.call`` answer posted after a notification is queued runs after that notification reached the
tracker (the callback was posted earlier, or is still pending and takes it).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..._by_fields import by_fields
from ..._threads import LoopPoster
from .mapping import RawSession
from .notices import Notice
from .tracker import SessionTracker

log = logging.getLogger("audiolab.wasapi")

MAX_CONTROL_BACKLOG = 65_536
"""Control notifications that may wait for a blocked loop (a few MB at most) before the backend gives up."""

Peaks = dict[str, tuple[float, tuple[float, ...]]]


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class OutboxStatistics:
    posts: int
    """Loop callbacks posted so far (at most one is ever pending)."""
    pending: bool
    """A loop callback is posted and has not run yet."""
    backlog: int
    """Control notifications waiting for the loop now."""
    max_backlog: int
    control_delivered: int
    """Control notifications handed to the tracker."""
    meter_readings: int
    """Meter polls merged into the slot."""
    overflowed: bool
    """The backlog overflowed: the outbox stopped taking notifications and the backend failed."""
    refused: int
    """Control notifications not taken after the overflow (reported by the failure, not dropped silently)."""


class LoopOutbox:
    """Implements the table's ``Outbox``: every method is thread-safe and returns at once."""

    def __init__(
        self,
        poster: LoopPoster,
        tracker: SessionTracker,
        on_overflow: Callable[[str], None],
        max_backlog: int | None = None,
    ) -> None:
        self._poster = poster
        self._tracker = tracker
        self._on_overflow = on_overflow
        self._max_backlog = MAX_CONTROL_BACKLOG if max_backlog is None else max_backlog
        if self._max_backlog < 1:
            raise ValueError("max_backlog must be at least 1")
        self._lock = threading.Lock()
        self._control: deque[tuple[Callable[..., None], tuple[Any, ...]]] = deque()
        self._peaks: Peaks = {}
        self._pending = False
        self._overflowed = False
        self._overflow_reported = False
        self._posts = 0
        self._delivered = 0
        self._readings = 0
        self._refused = 0

    # --- from any thread -----------------------------------------------------------------------------------

    def seen(self, raw: RawSession) -> None:
        self._queue(self._tracker.seen, raw)

    def session_event(self, instance_id: str, timestamp: float, notice: Notice) -> None:
        self._queue(self._tracker.session_event, instance_id, timestamp, notice)

    def duck(self, timestamp: float, communications_session_id: str, count: int) -> None:
        self._queue(self._tracker.duck, timestamp, communications_session_id, count)

    def unduck(self, timestamp: float, communications_session_id: str) -> None:
        self._queue(self._tracker.unduck, timestamp, communications_session_id)

    def meters(self, peaks: Peaks) -> None:
        """Merge one poll into the slot: per session, the highest peak since the loop last took it."""
        with self._lock:
            self._readings += 1
            slot = self._peaks
            for session_id, (peak, channels) in peaks.items():
                old = slot.get(session_id)
                if old is not None:
                    old_peak, old_channels = old
                    if len(old_channels) == len(channels):
                        channels = tuple(max(a, b) for a, b in zip(old_channels, channels, strict=True))
                    peak = max(old_peak, peak)
                slot[session_id] = (peak, tuple(channels))
            post = self._claim_post()
        if post:
            self._post()

    def statistics(self) -> OutboxStatistics:
        with self._lock:
            return OutboxStatistics(
                posts=self._posts, pending=self._pending, backlog=len(self._control),
                max_backlog=self._max_backlog, control_delivered=self._delivered, meter_readings=self._readings,
                overflowed=self._overflowed, refused=self._refused,
            )

    def _queue(self, fn: Callable[..., None], *args: Any) -> None:
        with self._lock:
            if self._overflowed:
                self._refused += 1
                return
            if len(self._control) >= self._max_backlog:
                self._overflowed = True
                self._refused += 1
            else:
                self._control.append((fn, args))
            post = self._claim_post()
        if post:
            self._post()

    def _claim_post(self) -> bool:
        # Under the lock: True if the caller must post the loop callback (none is pending).
        if self._pending:
            return False
        self._pending = True
        self._posts += 1
        return True

    def _post(self) -> None:
        # Outside the lock. If the loop is gone the callback never runs and ``pending`` stays set: nothing
        # more is posted to a dead loop.
        self._poster.post(self._deliver)

    # --- on the loop thread --------------------------------------------------------------------------------

    def _deliver(self) -> None:
        with self._lock:
            control, self._control = self._control, deque()
            peaks, self._peaks = self._peaks, {}
            overflowed = self._overflowed
            self._pending = False
        for fn, args in control:
            try:
                fn(*args)
            except Exception:  # one bad notification must not lose the ones after it
                log.exception("audiolab: handling a WASAPI notification failed")
        with self._lock:
            self._delivered += len(control)
        if peaks:
            self._tracker.meters(peaks)
        if overflowed and not self._overflow_reported:
            self._overflow_reported = True
            self._on_overflow(
                f"the event loop was blocked until {self._max_backlog} Windows audio notifications were waiting "
                "for it; the backend stopped rather than lose any (the events before this error were all "
                "delivered; open a new Lab, and avoid blocking the event loop for long)"
            )
