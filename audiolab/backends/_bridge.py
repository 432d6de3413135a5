"""An asyncio-only backend (``pulse``: pulsectl-asyncio runs libpulse on the asyncio loop itself) under trio.

The backend lives on an asyncio loop in a thread of its own. Calls go there as tasks
(:meth:`AsyncioThread.submit`) and are awaited on trio without blocking it (cancelling the trio caller
cancels the asyncio task). Events come back in order through a LoopPoster, fire and forget, and keep a mirror
of the sessions on trio's side, so :meth:`snapshot` and :meth:`session` never wait on the other thread. Meter
frames are read on the backend's loop at 60 Hz and merged (the max of each session's peaks), under a lock,
until the Lab's ticker takes them, so no peak is lost between two reads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import logging
import threading
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from .._exceptions import AudiolabError, ClosedResourceError
from .._meters import merge_frames
from .._threads import LoopPoster
from ..audio.playback import Playback, PlayRequest
from ..events import Event
from ..model import MeterFrame, Session
from ..session_table import SessionTable
from ._base import Backend, EventSink

if TYPE_CHECKING:
    from .._server_gain import ServerGain
    from ..focus.in_force import PolicyInForce

T = TypeVar("T")

METER_PUMP_HZ = 60.0

log = logging.getLogger("audiolab")


class AsyncioThread:
    """An asyncio event loop running in a daemon thread until :meth:`close`."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._closing = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` as a task there; cancelling the returned future cancels the task.

        Unlike ``asyncio.run_coroutine_threadsafe``, the task starts in an empty context: it would otherwise
        inherit the caller's, where sniffio says "trio", and anyio would then use trio's API on asyncio."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def start() -> None:
            if future.cancelled():
                coro.close()
                return
            task = self.loop.create_task(coro)
            task.add_done_callback(lambda _: _copy_outcome(task, future))
            future.add_done_callback(lambda f: f.cancelled() and self.loop.call_soon_threadsafe(task.cancel))

        with self._lock:
            if self._closing:
                coro.close()
                raise ClosedResourceError("this backend is closed")
            self.loop.call_soon_threadsafe(start, context=contextvars.Context())
        return future

    def stop_now(self) -> None:
        """Stop the loop and join its thread (blocks: only when nothing runs there any more)."""
        with self._lock:
            self._closing = True
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()

    async def close(self) -> None:
        """Cancel what still runs there, stop the loop and join the thread (off the caller's loop)."""
        if self._closing:
            return

        async def cancel_the_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with anyio.CancelScope(shield=True):
            last = self.submit(cancel_the_rest())
            with self._lock:
                self._closing = True  # nothing more starts there
            await anyio.to_thread.run_sync(last.result)
            await anyio.to_thread.run_sync(self.stop_now)


class BridgedBackend(Backend):
    """Runs ``make_inner()`` (an asyncio-only backend) on an :class:`AsyncioThread`, for a trio Lab."""

    def __init__(self, make_inner: Callable[[], Backend]) -> None:
        super().__init__()
        self._poster = LoopPoster.current()
        self._thread = AsyncioThread("audiolab-asyncio-backend")
        try:
            self._inner = self._thread.submit(_made(make_inner)).result()
        except BaseException:
            self._thread.stop_now()
            raise
        self.name = self._inner.name
        self.capabilities = self._inner.capabilities
        self.clock = self._inner.clock  # one time base for events, frames and the Lab's ticker
        self._table = SessionTable()
        self._emit: EventSink | None = None
        self._meter_pump: concurrent.futures.Future[None] | None = None
        self._frame: MeterFrame | None = None
        self._frame_lock = threading.Lock()
        self._last_frame: MeterFrame | None = None
        self._playbacks: weakref.WeakSet[BridgedPlayback] = weakref.WeakSet()
        self._closed = False

    # --- crossing -------------------------------------------------------------------------------------------

    async def _call(
        self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any, orphan: Callable[[T], object] | None = None
    ) -> T:
        """Run ``fn(*args)`` on the backend's loop and wait for it here; cancelling this cancels that. If the
        caller is cancelled just after it succeeded there, ``orphan`` gets the result nobody will receive."""
        if self._closed:
            raise ClosedResourceError("this backend is closed")
        future = self._thread.submit(fn(*args))
        done = anyio.Event()
        future.add_done_callback(lambda _: self._soon(done.set))
        try:
            await done.wait()
        except BaseException:
            if not future.cancel() and orphan is not None and not future.cancelled() and future.exception() is None:
                orphan(future.result())
            raise
        if future.cancelled():  # not by this caller: the backend closed meanwhile
            raise ClosedResourceError("the backend closed during the call")
        return future.result()

    def _soon(self, fn: Callable[..., None], *args: Any) -> None:
        """Hand ``fn(*args)`` to the Lab's loop, in order, without waiting (from either thread)."""
        self._poster.post(_logged, fn, *args)

    def _forward(self, event: Event) -> None:  # on the backend's loop
        try:
            session: Session | None = self._inner.session(event.session_id)
        except AudiolabError:  # ended or expired: the event says so
            session = None
        self._soon(self._deliver, event, session)

    def _deliver(self, event: Event, session: Session | None) -> None:  # on trio
        # The backend's session as it was when the event was sent: some changes (a client's renamed app, its
        # icon) have no event of their own.
        self._table.apply(event)
        if session is not None:
            self._table.put(session)
        if self._emit is not None:
            self._emit(event)

    def _reset(self, sessions: list[Session]) -> None:  # on trio
        self._table = SessionTable(sessions)

    # --- the seam -------------------------------------------------------------------------------------------

    async def start(self, emit: EventSink) -> None:
        self._emit = emit
        inner = self._inner

        async def start_there() -> None:
            await inner.start(self._forward)
            self._soon(self._reset, inner.snapshot())  # before any later event: they are handed over in order

        await self._call(start_there)

    async def run(self) -> None:
        await self._call(self._inner.run)

    async def aclose(self) -> None:
        if self._closed:
            return
        with anyio.CancelScope(shield=True):
            try:
                await self._call(self._inner.aclose)
            finally:
                self._closed = True
                self._emit = None
                await self._thread.close()
                for playback in list(self._playbacks):
                    playback._released = True  # the backend's close stopped it over there
                    playback._mark_finished()

    def snapshot(self) -> list[Session]:
        return self._table.snapshot()

    def policy_in_force(self) -> PolicyInForce | None:
        return self._inner.policy_in_force()  # an immutable value, replaced whole over there

    def measures_itself(self, session_id: str) -> bool:
        return self._inner.measures_itself(session_id)  # read-only, on a copy of what the other loop edits

    def endpoint_gain(self, session_id: str) -> ServerGain | None:
        return self._inner.endpoint_gain(session_id)  # an immutable value, replaced whole over there

    def session(self, session_id: str) -> Session:
        return self._table.enumerable(session_id)

    async def set_volume(self, session_id: str, volume: float) -> None:
        await self._call(self._inner.set_volume, session_id, volume)

    async def set_mute(self, session_id: str, muted: bool) -> None:
        await self._call(self._inner.set_mute, session_id, muted)

    async def set_channel_volume(self, session_id: str, channel: int, volume: float) -> None:
        await self._call(self._inner.set_channel_volume, session_id, channel, volume)

    async def set_display_name(self, session_id: str, name: str) -> None:
        await self._call(self._inner.set_display_name, session_id, name)

    async def set_icon_path(self, session_id: str, path: str) -> None:
        await self._call(self._inner.set_icon_path, session_id, path)

    async def set_grouping_param(self, session_id: str, grouping_param: str) -> None:
        await self._call(self._inner.set_grouping_param, session_id, grouping_param)

    # --- meters ---------------------------------------------------------------------------------------------

    async def start_meters(self) -> None:
        await self._call(self._inner.start_meters)
        with self._frame_lock:
            self._frame = self._last_frame = None
        if self._meter_pump is None:
            self._meter_pump = self._thread.submit(self._pump_meters())

    async def stop_meters(self) -> None:
        pump, self._meter_pump = self._meter_pump, None
        if pump is not None:
            pump.cancel()
        await self._call(self._inner.stop_meters)

    async def _pump_meters(self) -> None:  # on the backend's loop
        while True:
            await asyncio.sleep(1 / METER_PUMP_HZ)
            try:
                frame = self._inner.read_meters()
            except Exception:  # e.g. meters being reopened: the next tick reads again
                log.debug("audiolab: reading the bridged backend's meters failed", exc_info=True)
                continue
            with self._frame_lock:
                self._frame = frame if self._frame is None else merge_frames(self._frame, frame)

    def read_meters(self) -> MeterFrame:
        with self._frame_lock:
            frame, self._frame = self._frame, None
        if frame is not None:
            self._last_frame = frame
            return frame
        if self._last_frame is not None:  # nothing newer yet: the backend's frames hold their peaks anyway
            return replace(self._last_frame, timestamp=self.clock.now())
        return MeterFrame(self.clock.now(), {}, {}, {})

    # --- tones ----------------------------------------------------------------------------------------------

    async def play(self, request: PlayRequest) -> Playback:
        inner = await self._call(self._inner.play, request, orphan=self._stop_orphan)
        playback = BridgedPlayback(self, inner)
        self._playbacks.add(playback)

        async def tell_when_finished() -> None:  # on the backend's loop
            await inner._finished.wait()
            self._soon(playback._mark_finished)

        self._thread.submit(tell_when_finished())
        return playback

    def _stop_orphan(self, inner: Playback) -> None:
        """A tone started for a caller that was cancelled meanwhile: stop it (nobody holds a handle)."""
        with contextlib.suppress(ClosedResourceError):
            self._thread.submit(inner.stop())


class BridgedPlayback(Playback):
    """A tone of the bridged backend: each call runs on the backend's loop."""

    def __init__(self, bridge: BridgedBackend, inner: Playback) -> None:
        super().__init__(inner.request, inner.session_id)
        self._bridge = bridge
        self._inner = inner

    @property
    def pid(self) -> int | None:
        return getattr(self._inner, "pid", None)

    async def _stop(self) -> None:
        if not self._bridge._closed:
            await self._bridge._call(self._inner.stop)

    async def _pause(self) -> None:
        await self._bridge._call(self._inner.pause)

    async def _resume(self) -> None:
        await self._bridge._call(self._inner.resume)

    async def _set_amplitude(self, amplitude: float) -> None:
        await self._bridge._call(self._inner.set_amplitude, amplitude)


def _copy_outcome(task: asyncio.Task[T], future: concurrent.futures.Future[T]) -> None:
    if task.cancelled():
        future.cancel()
        return
    try:
        if task.exception() is not None:
            future.set_exception(task.exception())
        else:
            future.set_result(task.result())
    except concurrent.futures.InvalidStateError:
        pass  # the caller cancelled it meanwhile (from its own thread)


def _logged(fn: Callable[..., None], *args: Any) -> None:
    # An exception from a callback handed to trio would end the whole trio run (TrioInternalError).
    try:
        fn(*args)
    except Exception:
        log.exception("audiolab: a bridged backend's callback failed")


async def _made(make: Callable[[], Backend]) -> Backend:
    return make()  # constructed on its own loop, as asyncio objects it creates expect
