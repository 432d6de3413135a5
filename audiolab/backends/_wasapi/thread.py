"""The one thread that does COM work: initialised for the multithreaded apartment, fed by a queue.

The event loop never waits on this thread synchronously: :meth:`ComThread.call` queues a job and awaits an
``anyio.Event`` that the thread sets through :class:`~audiolab._threads.LoopPoster`. Other threads (COM
callbacks) may :meth:`submit` jobs; submitting never blocks and returns False once the thread has stopped.
The job queue is unbounded on purpose: jobs come from the loop's own calls (each awaited) and from one
hand-over per OnSessionCreated / session end, and the thread drains it as fast as COM answers; a hung COM call
is handled by the bounded :meth:`join` (the caller abandons the thread), not by refusing jobs.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio

from ..._exceptions import BackendUnavailable, ClosedResourceError
from ..._threads import LoopPoster
from .com import ComApi

log = logging.getLogger("audiolab.wasapi")

T = TypeVar("T")
_STOP = object()


class ComThread:
    """Runs jobs in order on one MTA thread; optionally a periodic job (meter polling) between them."""

    def __init__(self, api: ComApi, poster: LoopPoster, name: str = "audiolab-wasapi-com") -> None:
        self._api = api
        self._poster = poster
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._accepting = True
        self._lock = threading.Lock()  # pairs the accepting check with the put, and ``ended`` with the waiters
        self._ended = False
        self._join_waiters: list[anyio.Event] = []
        self._periodic: tuple[float, Callable[[], None]] | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.ident: int | None = None
        self.failure: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, job: Callable[[], None]) -> bool:
        """Queue ``job`` (from any thread; never blocks). False when the thread no longer takes jobs."""
        with self._lock:
            if not self._accepting:
                return False
            self._queue.put(job)
            return True

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the COM thread and return its result (or raise its exception)."""
        done = anyio.Event()
        results: list[T] = []
        failures: list[BaseException] = []

        def job() -> None:
            try:
                if self.failure is not None:
                    raise BackendUnavailable(f"COM could not be initialised: {self.failure!r}")
                results.append(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, who re-raises it
                failures.append(exc)
            self._poster.post(done.set)

        if not self.submit(job):
            raise ClosedResourceError("the WASAPI COM thread has stopped")
        await done.wait()
        if failures:
            raise failures[0]
        return results[0]

    def set_periodic(self, interval: float | None, job: Callable[[], None] | None = None) -> None:
        """Run ``job`` every ``interval`` seconds between queued jobs (None stops it). Thread-safe."""
        self.submit(lambda: self._set_periodic(interval, job))

    def _set_periodic(self, interval: float | None, job: Callable[[], None] | None) -> None:
        self._periodic = None if interval is None or job is None else (interval, job)

    def stop(self) -> None:
        """Ask the thread to finish the jobs queued so far and end (without waiting)."""
        with self._lock:
            if self._accepting:
                self._queue.put(_STOP)

    async def join(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 - bounded close, reports whether it ended
        """Wait, without blocking the loop, until the thread has ended (it tells the loop through the poster).

        Returns False if it is still running after ``timeout`` seconds (None: no limit); the thread is a daemon
        and may then be left to end by itself."""
        if self._thread.ident is None:  # never started
            return True
        ended = anyio.Event()
        with self._lock:
            if not self._ended:
                self._join_waiters.append(ended)
            else:
                ended.set()
        with anyio.move_on_after(timeout):
            await ended.wait()
        if not ended.is_set():
            with self._lock:
                if ended in self._join_waiters:
                    self._join_waiters.remove(ended)
            return False
        self._thread.join()  # it has told us it ended: only the thread's own exit is left
        return True

    # --- on the COM thread -----------------------------------------------------------------------------------

    def _main(self) -> None:
        self.ident = threading.get_ident()
        try:
            try:
                self._api.enter_thread()
            except BaseException as exc:  # noqa: BLE001 - kept and raised by every later call
                self.failure = exc
                log.error("audiolab: COM initialisation failed: %r", exc)
                self._finish()
                return
            try:
                self._loop()
            finally:
                self._finish()
                try:
                    self._api.leave_thread()
                except Exception:  # pragma: no cover - nothing more to do at this point
                    log.exception("audiolab: CoUninitialize failed")
        finally:
            with self._lock:
                self._ended = True
                waiters, self._join_waiters = self._join_waiters, []
            for waiter in waiters:
                self._poster.post(waiter.set)

    def _loop(self) -> None:
        next_due = time.monotonic()
        while True:
            timeout = None
            if self._periodic is not None:
                timeout = max(0.0, next_due - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is _STOP:
                return
            if item is not None:
                self._run(item)  # type: ignore[arg-type]
            if self._periodic is not None and time.monotonic() >= next_due:
                interval, job = self._periodic
                self._run(job)
                next_due = max(next_due + interval, time.monotonic())

    def _finish(self) -> None:
        with self._lock:
            self._accepting = False
        # Jobs that slipped in before the stop still run: a late adoption releases what it was given, and a
        # waiting call() gets its answer (an error if COM never came up) instead of hanging.
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                self._run(item)  # type: ignore[arg-type]

    @staticmethod
    def _run(job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:
            log.exception("audiolab: a COM job failed")
