"""Hand work from other threads to the event loop: fire and forget, never blocking the calling thread.

Capture a :class:`LoopPoster` on the event loop thread (inside async code, under asyncio or trio); any other
thread may then call :meth:`LoopPoster.post` to have a function run soon on the loop thread. ``post`` never
waits for the loop: it queues the call (asyncio ``call_soon_threadsafe``, trio ``TrioToken.run_sync_soon``)
and returns. Once the loop has finished, posts are dropped silently and counted in ``dropped``.

``post`` itself bounds nothing: each call queues one callback on the loop. A caller that may post often while
the loop is blocked must keep at most one post pending and gather what it hands over in a bounded structure
of its own (the WASAPI backend's ``_wasapi.outbox.LoopOutbox`` does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sniffio


class LoopPoster:
    """A thread-safe, non-blocking way to run a callable on one event loop's thread."""

    def __init__(self, schedule: Callable[[Callable[[], None]], None]) -> None:
        self._schedule = schedule
        self._closed = False
        self.dropped = 0

    @classmethod
    def current(cls) -> LoopPoster:
        """Capture the running loop. Call it on the loop thread, from async code."""
        library = sniffio.current_async_library()
        if library == "asyncio":
            import asyncio

            loop = asyncio.get_running_loop()

            def schedule(fn: Callable[[], None]) -> None:
                loop.call_soon_threadsafe(fn)

        elif library == "trio":
            import trio

            token = trio.lowlevel.current_trio_token()

            def schedule(fn: Callable[[], None]) -> None:
                token.run_sync_soon(fn)

        else:  # pragma: no cover - anyio supports only these two
            raise RuntimeError(f"unsupported async library {library!r}")
        return cls(schedule)

    def post(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run ``fn(*args)`` soon on the loop thread. Returns False (and drops it) if the loop is gone."""
        if self._closed:
            self.dropped += 1
            return False
        try:
            self._schedule(lambda: fn(*args))
        except RuntimeError:  # asyncio: loop closed; trio: RunFinishedError is a RuntimeError
            self._closed = True
            self.dropped += 1
            return False
        return True

    def close(self) -> None:
        """Drop every later post (the receiver is going away)."""
        self._closed = True
