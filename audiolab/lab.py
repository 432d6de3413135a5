"""The Lab: the async facade over one backend, with fan-out to any number of subscribers."""

from __future__ import annotations

import logging
import math
import sys
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup, TaskStatus
from anyio.lowlevel import checkpoint

from ._by_fields import by_fields
from ._calls import PlayCall, SessionIterator
from ._exceptions import BackendDisconnected, BackendUnavailable, ClosedResourceError, NotSupported
from ._hub import EventHub, EventSubscription, SubscriptionStatistics
from ._meters import MeterFanOut, MeterStatistics, MeterSubscription
from .audio.playback import PlayRequest
from .backends import auto_candidates, backend_class, make_backend, needs_own_loop
from .backends._base import Backend, Capability
from .clock import Clock, VirtualClock
from .model import Role, Session, check_bool, check_index, check_level, check_session_id, is_real

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

if TYPE_CHECKING:
    from .audio.synth import Tone
    from .backends.sim.backend import SimBackend
    from .focus import FocusPolicy
    from .focus.in_force import PolicyInForce
    from .focus.request import FocusAttributes
    from .focus.session_manager import AudioSessionManager

log = logging.getLogger("audiolab")

MAX_METER_RATE = 240.0


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class LabStatistics:
    """What :meth:`Lab.statistics` reports: events published, and each subscriber's buffer and losses."""

    backend: str
    events_published: int
    event_subscribers: tuple[SubscriptionStatistics, ...]
    meter_subscribers: tuple[MeterStatistics, ...]


def open(backend: str | Backend = "sim", **options: object) -> Lab:  # noqa: A001 - mirrors io.open / anyio.open_file
    """Open a Lab on a backend: ``async with audiolab.open(backend="sim") as lab: ...``.

    ``backend`` is "sim" (the built-in simulated service), "pulse", "pipewire", "wasapi", "replay", or "auto"
    (a real backend when one answers here, else "sim"; ``lab.backend_name`` and ``lab.picked_because`` say
    which and why), or an instance of an :class:`audiolab.abc.Backend` subclass, used once (its own options
    go to its constructor). ``detect_ducking=True`` meters every session and reports the ducks and corks of
    any app, measured around each stream that starts or stops (see :mod:`audiolab.detect`). Other options go
    to the backend named.
    """
    if isinstance(backend, Backend):
        unknown = sorted(options.keys() - {"detect_ducking"})
        if unknown:
            raise TypeError(f"options for a backend instance go to its constructor, not to open(): "
                            f"{', '.join(unknown)}")
        if backend in _USED_INSTANCES:
            raise ValueError(f"this {backend.name!r} backend instance already served a Lab; make a new one")
        _USED_INSTANCES.add(backend)
    elif not isinstance(backend, str):
        raise TypeError(f"backend must be a backend name or an audiolab.abc.Backend instance, "
                        f"not {type(backend).__name__}")
    elif backend != "auto":
        backend_class(backend)  # fail fast on an unknown name
    return Lab(backend, options)


_USED_INSTANCES: weakref.WeakSet[Backend] = weakref.WeakSet()


class Lab:
    """One open connection to an audio system. Use it as an async context manager."""

    def __init__(self, backend: str | Backend, options: dict[str, object]) -> None:
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
        self._meters: MeterFanOut | None = None
        self.backend_name = backend if isinstance(backend, str) else backend.name
        self.picked_because = "requested explicitly" if isinstance(backend, str) else "given as an instance"

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
                    self._meters = MeterFanOut(backend, self._services)
                    self._services.start_soon(self._run_backend)
                    if self._detect and Capability.FOCUS not in backend.capabilities \
                            and Capability.METERS in backend.capabilities:
                        # (a backend with its own focus engine, the simulated service, reports its ducks itself)
                        from ._detecting import run_detector  # noqa: PLC0415 - only when asked for

                        self._services.start_soon(run_detector, self, self._hub.publish)
                    yield self
                except BaseException as exc:
                    body_error = exc
                    raise
                finally:
                    if self._services is not None:
                        self._services.cancel_scope.cancel()  # so that the group can be left
        except BaseExceptionGroup as group:
            # The block's own error, alone, leaves as itself: the task group is the Lab's business.
            if body_error is None or list(group.exceptions) != [body_error]:
                raise
        else:
            return
        finally:
            await self._shut_down()  # outside the group: an error closing the backend leaves as itself
        raise body_error

    async def _connect(self) -> Backend:
        options = dict(self._options)
        detect = options.pop("detect_ducking", False)
        if not isinstance(detect, bool):
            raise TypeError(f"detect_ducking must be True or False, not {detect!r}")
        self._detect = detect
        requested = self._requested
        if isinstance(requested, Backend):
            if needs_own_loop(type(requested)):
                raise BackendUnavailable(
                    f"the {requested.name!r} backend needs asyncio's own loop: under trio, open it by name "
                    f"(audiolab.open({requested.name!r})) so that it runs on an asyncio loop of its own")
            return await self._start_backend(requested)
        name = requested
        if name == "auto":
            found = await auto_candidates()
            if found:
                name, self.picked_because = found[0], f"{found[0]} answered on this machine"
            else:
                name, self.picked_because = "sim", "no real audio server answered here"
            log.info("audiolab: backend=auto picked %s (%s)", name, self.picked_because)
        self.backend_name = name
        return await self._start_backend(make_backend(name, options))

    async def _start_backend(self, backend: Backend) -> Backend:
        self._backend = backend
        try:
            await backend.start(self._hub.publish)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await backend.aclose()
            raise
        return backend

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
        if self._meters is not None:
            self._meters.close(self._failure)
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
            if self._meters is not None:
                self._meters.close(exc)  # like event subscribers, meter subscribers get the error

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
            meter_subscribers=tuple(s.statistics() for s in self._meters.subscriptions) if self._meters else (),
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
        assert self._meters is not None
        return self._meters.subscribe(float(rate))

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
    ) -> PlayCall:
        """Play ``tone`` through a session of its own (a separate process on real backends), as ``app`` with
        ``role``. Use ``async with lab.play(...) as playback:`` (stopped on leaving, on cancellation or on an
        exception) or ``playback = await lab.play(...)`` (stopped when the Lab closes). Sessions are shared
        only when asked: the same ``session_guid`` with ``cross_process=True``. A start the focus policy
        refuses raises :class:`FocusDeniedError`. ``focus`` says how the stream asks for focus in Android's or iOS's
        terms (a gain type and flags, a category and options), for the simulated service's policies."""
        request = PlayRequest(tone, role, app, display_name, session_guid, cross_process, device, duration, focus)
        return PlayCall(self._live_backend, request)

    # --- focus ---------------------------------------------------------------------------------------------

    def session_manager(self, app: str) -> AudioSessionManager:
        """The HarmonyOS-style audio session of ``app`` (simulated service only)."""
        from .focus.session_manager import AudioSessionManager

        self.sim  # noqa: B018 - raises NotSupported on other backends
        return AudioSessionManager(self, app)

    async def set_policy(self, policy: str | FocusPolicy, **settings: object) -> None:
        """Switch the simulated service's focus policy: "harmonyos", "windows", "pulseaudio",
        "wireplumber", "wireplumber-0.4", "android", "android-automotive", "ios", "none", a policy file, or a
        policy object; ``settings`` go to the policy
        (e.g. ``ducking="reduce_50"`` for windows)."""
        await checkpoint()
        self.sim.set_policy(policy, **settings)

    # --- backend-specific extras ---------------------------------------------------------------------------

    @property
    def sim(self) -> SimBackend:
        """The simulated service's own controls (apps, restart, devices); NotSupported on other backends."""
        from .backends.sim.backend import SimBackend  # noqa: PLC0415 - loaded with the simulated backend only

        backend = self._live_backend()
        if not isinstance(backend, SimBackend):
            raise NotSupported(f"lab.sim is only there on the simulated backend, not {backend.name!r}")
        return backend

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<audiolab.Lab backend={self.backend_name!r} {state}>"
