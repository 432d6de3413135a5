"""Time in the simulated service: the timers and the audio blocks, run in time order.

The service stands at :attr:`Scheduler.now`; only :meth:`Scheduler.advance_to` moves it, running every timer
and rendering every audio block due on the way (or skipping, in one step, the blocks nobody listens to).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable

from .audio import SimAudio


class Scheduler:
    """The service's clock: one timer queue and the audio block grid, interleaved by time."""

    def __init__(self, audio: SimAudio, start: float) -> None:
        self.audio = audio
        self.now = start
        """Where the service stands; moves only forward."""
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._block_index = math.floor(start / audio.block_seconds)
        self._advancing = False

    def call_at(self, when: float, action: Callable[[], None]) -> None:
        """Run ``action`` when time reaches ``when`` (timers due at one instant run in the order set)."""
        heapq.heappush(self._timers, (when, next(self._seq), action))

    def call_later(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` ``delay`` seconds from now."""
        self.call_at(self.now + delay, action)

    def clear(self) -> None:
        """Drop every pending timer (the service stopped)."""
        self._timers.clear()

    def catch_up(self, t: float) -> None:
        """Stand at ``t`` if it is later (an audio block's own consequence, such as a tone ending, happens at
        the block's time)."""
        self.now = max(self.now, t)

    def advance_to(self, t: float) -> None:
        """Run every timer and render every audio block due up to ``t``, in time order, then stand at ``t``."""
        if self._advancing:
            return  # a block's own consequences (a tone ending) must not render further blocks
        self._advancing = True
        try:
            self._advance(t)
        finally:
            self._advancing = False

    def _advance(self, t: float) -> None:
        audio = self.audio
        block = audio.block_seconds
        while True:
            if audio.has_work():
                next_block = (self._block_index + 1) * block
            else:
                self._block_index = max(self._block_index, math.floor(self.now / block))
                next_block = math.inf
            next_timer = self._timers[0][0] if self._timers else math.inf
            if min(next_block, next_timer) > t:
                break
            if next_timer <= next_block:
                when, _, action = heapq.heappop(self._timers)
                self.catch_up(when)
                action()
            elif audio.must_render(self._block_index + 1):
                self.catch_up(next_block)
                self._block_index += 1
                audio.render_block(next_block)
            else:  # nobody listens: move the tones on to the next block that matters, in one step
                first = self._block_index + 1
                count = audio.skippable(first, min(last_block(t, block, True), last_block(next_timer, block, False)))
                if count == 0:
                    continue  # the next block was just asked for (a tone's last one): it is rendered
                self._block_index += count
                end = self._block_index * block
                self.catch_up(end)
                audio.skip_blocks(count, end)
        self.catch_up(t)

    def want_probe(self, t: float) -> None:
        """Keep a meter frame for the block ending at ``t`` (on the block grid, the nearest one at or before
        it) and for the one before: when time stands at ``t``, the newest block rendered is one of them."""
        index = math.floor(t / self.audio.block_seconds + 1e-6)
        self.audio.want_block(index - 1)
        self.audio.want_block(index)

    def next_deadline(self) -> float | None:
        """The next moment something happens by itself: a timer, or the block in which a tone ends."""
        candidates = [self._timers[0][0]] if self._timers else []
        tone_end = self.audio.earliest_end()
        if tone_end is not None:
            block = self.audio.block_seconds
            candidates.append(math.ceil(tone_end / block - 1e-9) * block)
        return min(candidates, default=None)


def last_block(t: float, block: float, inclusive: bool) -> int:
    """The last block index whose end is at or before ``t`` (``inclusive``) or strictly before it, computed
    with the same products (index x block) the block loop compares."""
    if math.isinf(t):
        return 1 << 62
    i = math.floor(t / block)
    while (i + 1) * block < t or (inclusive and (i + 1) * block == t):
        i += 1
    while i * block > t or (not inclusive and i * block == t):
        i -= 1
    return i
