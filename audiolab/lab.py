"""The Lab: the async facade over one backend, with fan-out to any number of subscribers."""

from __future__ import annotations

import logging
import math
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup, TaskStatus
from anyio.lowlevel import checkpoint

from ._exceptions import BackendDisconnected, ClosedResourceError, NotSupported
from ._hub import EventHub, EventSubscription, SubscriptionStatistics
from ._meters import MeterStatistics, MeterSubscription
from .audio.playback import Playback, PlayRequest
from .backends import auto_candidates, backend_class, make_backend
from .backends._base import Backend
from .clock import Clock, VirtualClock
from .model import Role, Session, check_bool, check_index, check_level, check_session_id, is_real

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

if TYPE_CHECKING:
    from .audio.synth import Tone
    from .focus.in_force import PolicyInForce
    from .focus.request import FocusAttributes
    from .focus.session_manager import AudioSessionManager

log = logging.getLogger("audiolab")

MAX_METER_RATE = 240.0


@dataclass(frozen=True)
class LabStatistics:
    backend: str
    events_published: int
    event_subscribers: tuple[SubscriptionStatistics, ...]
    meter_subscribers: tuple[MeterStatistics, ...]


def open(backend: str = "sim", **options: Any) -> Lab:  # noqa: A001 - mirrors io.open / anyio.open_file
    """Open a Lab on a backend: ``async with audiolab.open(backend="sim") as lab: ...``.

    ``backend`` is "sim" (the built-in simulated service), "pulse", "pipewire", "wasapi", "replay", or "auto"
    (a real backend when one answers here, else "sim"; ``lab.backend_name`` and ``lab.picked_because`` say
    which and why). ``detect_ducking=True`` meters every session and reports the ducks and corks of any app,
    measured around each stream that starts or stops (see :mod:`audiolab.detect`). Other options go to the
    backend.
    """
    if not isinstance(backend, str):
        raise TypeError("backend must be a backend name")
    if backend != "auto":
        backend_class(backend)  # fail fast on an unknown name
    return Lab(backend, options)


class Lab:
    """One open connection to an audio system. Use it as an async context manager."""

    def __init__(self, backend: str, options: dict[str, Any]) -> None:
        self._requested = backend
        self._options = options
        self._backend: Backend | None = None
        self._hub = EventHub()
        self._lifetime: AbstractAsyncContextManager[Lab] | None = None
        self._owner: int | None = None
        self._holder: Callable[[], Awaitable[None]] | None = None
        self._services: TaskGroup | None = None
        self._services_done = anyio.Event()
        self._detect = False
        self._closed = False
        self._failure: BaseException | None = None
        self._meter_subscriptions: list[MeterSubscription] = []
        self._meter_ticker_running = False
        self.backend_name = backend
        self.picked_because = "requested explicitly"

    # --- lifecycle ----------------------------------------------------------------------------------------

    async def __aenter__(self) -> Lab:
        if self._lifetime is not None:
            raise ClosedResourceError("a Lab is opened once; call audiolab.open() again for a new one")
        self._lifetime = self._run()
        return await self._lifetime.__aenter__()

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        assert self._lifetime is not None
        return await self._lifetime.__aexit__(*exc_info)

    @asynccontextmanager
    async def _run(self) -> AsyncIterator[Lab]:
        """The Lab's whole life: its task group is entered and left by the task that opened it, around the
        ``async with`` block. The Lab's own tasks run in a nested group that :meth:`aclose` can stop early."""
        self._owner = anyio.get_current_task().id
        backend = await self._connect()
        body_error: BaseException | None = None
        try:
            async with anyio.create_task_group() as lab_group:
                try:
                    self._services = await lab_group.start(self._serve)
                    self._services.start_soon(self._run_backend)
                    if self._detect and "focus" not in backend.capabilities and "meters" in backend.capabilities:
                        # (a backend with its own focus engine, the simulated service, reports its ducks itself)
                        from ._detecting import run_detector  # noqa: PLC0415 - only when asked for

                        self._services.start_soon(run_detector, self, self._hub.publish)
                    yield self
                except BaseException as exc:
                    body_error = exc
                    raise
                finally:
                    await self._shut_down()
        except BaseExceptionGroup as group:
            # The block's own error, alone, leaves as itself: the task group is the Lab's business.
            if body_error is None or list(group.exceptions) != [body_error]:
                raise
        else:
            return
        raise body_error

    async def _connect(self) -> Backend:
        name = self._requested
        if name == "auto":
            found = await auto_candidates()
            if found:
                name, self.picked_because = found[0], f"{found[0]} answered on this machine"
            else:
                name, self.picked_because = "sim", "no real audio server answered here"
            log.info("audiolab: backend=auto picked %s (%s)", name, self.picked_because)
        self.backend_name = name
        options = dict(self._options)
        detect = options.pop("detect_ducking", False)
        if not isinstance(detect, bool):
            raise TypeError(f"detect_ducking must be True or False, not {detect!r}")
        self._detect = detect
        self._backend = make_backend(name, options)
        try:
            await self._backend.start(self._hub.publish)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._backend.aclose()
            raise
        return self._backend

    async def _serve(self, *, task_status: TaskStatus[TaskGroup]) -> None:
        """Hold the group the Lab's own tasks (backend pump, meter ticker, detector) run in, until closed."""
        try:
            async with anyio.create_task_group() as services:
                task_status.started(services)
                await anyio.sleep_forever()
        finally:
            self._services_done.set()

    async def aclose(self) -> None:
        """Stop everything this Lab started (tones, meters, tasks) and end every subscription. Idempotent.

        Only the task that opened the Lab may close it (leaving ``async with`` does): from another task it
        raises RuntimeError and changes nothing. A Lab held open by :func:`audiolab.start_lab` is the
        exception: ``await lab.aclose()`` from any task (another notebook cell) asks its holder to close it."""
        if self._closed:
            pass
        elif self._holder is not None and anyio.get_current_task().id != self._owner:
            await self._holder()
        elif self._owner is not None and anyio.get_current_task().id != self._owner:
            raise RuntimeError(
                "a Lab is closed by the task that opened it (leaving its `async with audiolab.open()` block); "
                "from another task, cancel that block's scope, or open the Lab with audiolab.start_lab() "
                "so that any task may close it")
        else:
            await self._shut_down()
        await checkpoint()  # after the close: a cancelled caller still closes

    async def _shut_down(self) -> None:
        if self._closed:
            return
        self._closed = True
        for subscription in list(self._meter_subscriptions):
            subscription.close(self._failure)
        try:
            if self._services is not None:
                # The backend's own tasks stop first, so nothing runs against a closing backend.
                self._services.cancel_scope.cancel()
                with anyio.CancelScope(shield=True):
                    await self._services_done.wait()
        finally:
            try:
                if self._backend is not None:
                    with anyio.CancelScope(shield=True):
                        await self._backend.aclose()
            finally:
                self._hub.close(self._failure)

    async def _run_backend(self) -> None:
        assert self._backend is not None
        try:
            await self._backend.run()
        except BackendDisconnected as exc:
            self._failure = exc
            self._hub.close(exc)
            for subscription in list(self._meter_subscriptions):
                subscription.close(exc)  # like event subscribers, meter subscribers get the error

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            raise ClosedResourceError("the Lab is not open yet: use `async with audiolab.open(...) as lab`")
        return self._backend

    def _live_backend(self) -> Backend:
        if self._failure is not None:
            raise self._failure
        if self._closed:
            raise ClosedResourceError("the Lab is closed")
        return self.backend

    @property
    def clock(self) -> Clock:
        return self.backend.clock

    @property
    def closed(self) -> bool:
        return self._closed

    # --- enumeration and events ----------------------------------------------------------------------------

    def snapshot(self) -> list[Session]:
        """The sessions that exist now (expired and ended ones excluded)."""
        return self._live_backend().snapshot()

    def session(self, session_id: str) -> Session:
        """One session by id; SessionNotFound when it does not exist (any more)."""
        return self._live_backend().session(check_session_id(session_id))

    def policy_in_force(self) -> PolicyInForce:
        """The focus policy in force: on the simulated service the policy it runs, on PulseAudio what the
        server's modules amount to (read live; a change is a :class:`~audiolab.events.PolicyChanged` event).
        NotSupported on a backend that cannot know it."""
        backend = self._live_backend()
        found = backend.policy_in_force()
        if found is None:
            raise NotSupported(f"the {backend.name} backend cannot read the focus policy in force")
        return found

    def sessions(self) -> SessionIterator:
        """``async for session in lab.sessions()``: the sessions that exist now (a snapshot taken at the
        call; an iterator object, not an async generator, so abandoning it early leaves nothing behind)."""
        return SessionIterator(self.snapshot())

    def events(self, max_buffer: int = 4096) -> EventSubscription:
        """A new, independent subscription to every event from now on:
        ``async with lab.events() as events: async for event in events: ...``.

        Lossless: a subscriber more than ``max_buffer`` events behind gets :class:`EventOverflow`."""
        self._live_backend()
        return self._hub.subscribe(max_buffer)

    def statistics(self) -> LabStatistics:
        return LabStatistics(
            backend=self.backend_name,
            events_published=self._hub.published,
            event_subscribers=tuple(s.statistics() for s in self._hub._subscriptions),
            meter_subscribers=tuple(s.statistics() for s in self._meter_subscriptions),
        )

    # --- control -------------------------------------------------------------------------------------------

    async def set_volume(self, session_id: str, volume: float) -> None:
        """Set a session's master volume (0..1, linear taper as the backend reports it)."""
        await checkpoint()
        await self._live_backend().set_volume(check_session_id(session_id), check_level(volume))

    async def set_mute(self, session_id: str, muted: bool) -> None:
        """Mute or unmute a session."""
        await checkpoint()
        await self._live_backend().set_mute(check_session_id(session_id), check_bool(muted, "muted"))

    async def set_channel_volume(self, session_id: str, channel: int, volume: float) -> None:
        """Set one channel's volume (0..1) of a session."""
        await checkpoint()
        await self._live_backend().set_channel_volume(
            check_session_id(session_id), check_index(channel, "channel"), check_level(volume, "channel volume"))

    async def set_display_name(self, session_id: str, name: str) -> None:
        """Set the name a mixer shows for a session."""
        await checkpoint()
        await self._live_backend().set_display_name(check_session_id(session_id), name)

    async def set_icon_path(self, session_id: str, path: str) -> None:
        """Set the icon a mixer shows for a session."""
        await checkpoint()
        await self._live_backend().set_icon_path(check_session_id(session_id), path)

    async def set_grouping_param(self, session_id: str, grouping_param: str) -> None:
        """Set the grouping parameter that puts sessions under one volume control."""
        await checkpoint()
        await self._live_backend().set_grouping_param(check_session_id(session_id), grouping_param)

    async def set_ducking_preference(self, session_id: str, opt_out: bool) -> None:
        """Windows SetDuckingPreference: ``opt_out=True`` keeps the session from being ducked by
        communications activity (it is still notified); from its streams' next start. The simulated service
        and wasapi (this process's own sessions) support it; other backends raise NotSupported."""
        await checkpoint()
        await self._live_backend().set_ducking_preference(check_session_id(session_id),
                                                          check_bool(opt_out, "opt_out"))

    async def set_group_volume(self, device_id: str, grouping_param: str, volume: float) -> list[str]:
        """What Sndvol does for a grouped control: set the volume of every session on ``device_id`` that
        shares ``grouping_param``. Returns the ids changed."""
        from .grouping import volume_controls

        await checkpoint()
        check_level(volume)
        for control in volume_controls(self.snapshot(), device_id):
            if control.grouping_param == grouping_param:
                for session in control.sessions:
                    await self.set_volume(session.id, volume)
                return [s.id for s in control.sessions]
        raise ValueError(f"no volume control for grouping {grouping_param!r} on device {device_id!r}")

    # --- time ----------------------------------------------------------------------------------------------

    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass: real seconds, or on a virtual clock, advance it (everything due runs).
        ``seconds`` is a finite number >= 0 (to wait for ever, use ``anyio.sleep_forever()``)."""
        await checkpoint()
        if not is_real(seconds):
            raise TypeError(f"seconds must be a number, not {type(seconds).__name__}")
        seconds = float(seconds)
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        clock = self._live_backend().clock
        if isinstance(clock, VirtualClock):
            await clock.advance(seconds)
        else:
            await anyio.sleep(seconds)

    # --- meters --------------------------------------------------------------------------------------------

    def meters(self, rate: float = 30.0) -> MeterSubscription:
        """``async with lab.meters(rate=30) as frames: async for frame in frames: ...``: one frame of peaks
        for every session per tick, newest-value semantics (a slow consumer sees fewer frames, never
        stale ones, and never makes the backend wait). An :class:`anyio.abc.ObjectReceiveStream`; metering
        starts when it is entered (or first received from)."""
        if not is_real(rate) or not 0 < rate <= MAX_METER_RATE:
            raise ValueError(f"rate must be in (0, {MAX_METER_RATE}] frames per second, got {rate!r}")
        self._live_backend()
        return MeterSubscription(float(rate), self._drop_meter_subscription, self._add_meter_subscription)

    async def _add_meter_subscription(self, subscription: MeterSubscription) -> None:
        backend = self._live_backend()
        if not self._meter_subscriptions:
            await backend.start_meters()
        self._meter_subscriptions.append(subscription)
        if not self._meter_ticker_running:
            self._meter_ticker_running = True
            assert self._services is not None
            self._services.start_soon(self._meter_ticker)

    def _drop_meter_subscription(self, subscription: MeterSubscription) -> None:
        if subscription in self._meter_subscriptions:
            self._meter_subscriptions.remove(subscription)

    async def _meter_ticker(self) -> None:
        backend = self.backend
        clock = backend.clock
        next_tick = clock.now()
        while self._meter_subscriptions and not self._closed:
            interval = 1.0 / max(s.rate for s in self._meter_subscriptions)
            # Ticks on a fixed grid (no drift); a late ticker skips the ticks it missed instead of bunching.
            next_tick = max(next_tick + interval, clock.now())
            next_tick = round(next_tick / interval) * interval if clock.virtual else next_tick
            await clock.sleep_until(next_tick)
            if not self._meter_subscriptions or self._closed:
                break
            frame = backend.read_meters()
            for subscription in list(self._meter_subscriptions):
                subscription.offer(frame)
        if not self._closed:
            with anyio.CancelScope(shield=True):
                await backend.stop_meters()
            if self._meter_subscriptions:  # someone subscribed while we were stopping
                await backend.start_meters()
                assert self._services is not None
                self._services.start_soon(self._meter_ticker)
                return
        self._meter_ticker_running = False

    # --- tones ---------------------------------------------------------------------------------------------

    def play(
        self,
        tone: Tone,
        *,
        role: Role = Role.MUSIC,
        app: str = "",
        display_name: str = "",
        session_guid: str | None = None,
        cross_process: bool = False,
        device: str | None = None,
        duration: float | None = None,
        focus: FocusAttributes | None = None,
    ) -> _PlayCall:
        """Play ``tone`` through a session of its own (a separate process on real backends), as ``app`` with
        ``role``. Use ``async with lab.play(...) as playback:`` (stopped on leaving, on cancellation or on an
        exception) or ``playback = await lab.play(...)`` (stopped when the Lab closes). Sessions are shared
        only when asked: the same ``session_guid`` with ``cross_process=True``. A start the focus policy
        refuses raises :class:`FocusDeniedError`. ``focus`` says how the stream asks for focus in Android's or iOS's
        terms (a gain type and flags, a category and options), for the simulated service's policies."""
        request = PlayRequest(tone, role, app, display_name, session_guid, cross_process, device, duration, focus)
        return _PlayCall(self, request)

    # --- focus ---------------------------------------------------------------------------------------------

    def session_manager(self, app: str) -> AudioSessionManager:
        """The HarmonyOS-style audio session of ``app`` (simulated service only)."""
        from .focus.session_manager import AudioSessionManager

        self.sim  # noqa: B018 - raises NotSupported on other backends
        return AudioSessionManager(self, app)

    async def set_policy(self, policy: str | Any, **settings: Any) -> None:
        """Switch the simulated service's focus policy: "harmonyos", "windows", "pulseaudio",
        "wireplumber", "wireplumber-0.4", "android", "android-automotive", "ios", "none", a policy file, or a
        policy object; ``settings`` go to the policy
        (e.g. ``ducking="reduce_50"`` for windows)."""
        await checkpoint()
        self.sim.set_policy(policy, **settings)

    # --- backend-specific extras ---------------------------------------------------------------------------

    @property
    def sim(self) -> Any:
        """The simulated service's own controls (apps, restart, devices); NotSupported on other backends."""
        backend = self._live_backend()
        if backend.name != "sim":
            raise NotSupported(f"lab.sim is only there on the simulated backend, not {backend.name!r}")
        return backend

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<audiolab.Lab backend={self.backend_name!r} {state}>"


class SessionIterator:
    """An async iterator over a snapshot of sessions; each step is a checkpoint."""

    def __init__(self, sessions: list[Session]) -> None:
        self._sessions = iter(sessions)

    def __aiter__(self) -> SessionIterator:
        return self

    async def __anext__(self) -> Session:
        await checkpoint()
        try:
            return next(self._sessions)
        except StopIteration:
            raise StopAsyncIteration from None


class _PlayCall:
    """What ``lab.play()`` returns: await it for the handle, or use it as an async context manager."""

    def __init__(self, lab: Lab, request: PlayRequest) -> None:
        self._lab = lab
        self._request = request
        self._playback: Playback | None = None
        self._used = False

    def __del__(self) -> None:
        if not getattr(self, "_used", True):
            warnings.warn(f"lab.play({self._request.tone.describe()}) was never awaited nor entered, so nothing "
                          "played: use `await lab.play(...)` or `async with lab.play(...)`",
                          RuntimeWarning, stacklevel=2, source=self)

    async def _start(self) -> Playback:
        self._used = True
        await checkpoint()
        self._playback = await self._lab._live_backend().play(self._request)
        return self._playback

    def __await__(self):  # type: ignore[no-untyped-def]
        self._used = True  # a coroutine that is never run warns by itself
        return self._start().__await__()

    async def __aenter__(self) -> Playback:
        return await self._start()

    async def __aexit__(self, *exc: object) -> None:
        if self._playback is not None:
            with anyio.CancelScope(shield=True):
                await self._playback.stop()
