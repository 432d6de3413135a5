"""The kernel's event loop: every widget task runs on it and every widget change happens on its thread.

ipykernel runs cells on an asyncio loop, so a widget created in a cell captures that loop and starts its
tasks there. Messages from the browser may arrive on another thread (ipykernel subshells); they are handed
over with ``call_soon_threadsafe`` and never touch a widget off the loop thread.

``start_lab``/``stop_lab`` (re-exported here from :mod:`audiolab`) keep a Lab open across cells.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from .._holding import start_lab, stop_lab

__all__ = ("KernelLoop", "start_lab", "stop_lab")

log = logging.getLogger("audiolab.widgets")


class KernelLoop:
    """The running asyncio loop, captured where a widget is created."""

    def __init__(self) -> None:
        try:
            self.loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "audiolab widgets must be created on a running asyncio loop: in a Jupyter cell, or inside "
                "`async def` code run by asyncio (anyio's asyncio backend)"
            ) from None
        self.thread_id = threading.get_ident()
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def on_loop_thread(self) -> bool:
        return threading.get_ident() == self.thread_id

    def spawn(self, coro_fn: Callable[[], Coroutine[Any, Any, Any]], name: str) -> None:
        """Start ``coro_fn()`` as a task on the loop (from any thread); its errors are logged, not lost."""
        if not self.on_loop_thread:
            self.loop.call_soon_threadsafe(self.spawn, coro_fn, name)
            return
        task = self.loop.create_task(coro_fn(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the loop thread: now when already there, else soon (fire and forget)."""
        if self.on_loop_thread:
            fn(*args)
        else:
            self.loop.call_soon_threadsafe(fn, *args)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("audiolab widget task %s failed", task.get_name(), exc_info=task.exception())

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            self.call(task.cancel)

    @property
    def tasks(self) -> frozenset[asyncio.Task[Any]]:
        return frozenset(self._tasks)
