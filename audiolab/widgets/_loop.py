"""The kernel's event loop: every widget task runs on it and every widget change happens on its thread.

ipykernel runs cells on an asyncio loop, so a widget created in a cell captures that loop and starts its
tasks there. Messages from the browser may arrive on another thread (ipykernel subshells); they are handed
over with ``call_soon_threadsafe`` and never touch a widget off the loop thread.

``start_lab``/``stop_lab`` keep a Lab open across cells: an ``async with audiolab.open()`` block cannot span
cells (each async cell is its own task), so the Lab lives in a background task of its own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from ..lab import Lab
from ..lab import open as open_lab

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


_background: dict[int, tuple[asyncio.Event, asyncio.Task[None]]] = {}


async def start_lab(backend: str = "sim", **options: Any) -> Lab:
    """Open a Lab that stays open across notebook cells (it lives in a background task of the kernel's
    loop): ``lab = await start_lab(policy="harmonyos")``. Close it with ``await stop_lab(lab)``."""
    opened: asyncio.Future[Lab] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()

    async def hold() -> None:
        try:
            async with open_lab(backend, **options) as lab:
                opened.set_result(lab)
                await stop.wait()
        except BaseException as exc:
            if not opened.done():
                opened.set_exception(exc)
            raise

    task = asyncio.get_running_loop().create_task(hold(), name="audiolab-lab")
    lab = await opened
    _background[id(lab)] = (stop, task)
    return lab


async def stop_lab(lab: Lab) -> None:
    """Close a Lab opened with :func:`start_lab` (stops its tones, meters and event subscriptions)."""
    entry = _background.pop(id(lab), None)
    if entry is None:
        raise ValueError("this Lab was not opened with start_lab() (or is already stopped)")
    stop, task = entry
    stop.set()
    await task
