"""``backend="wasapi"``: Windows audio sessions through pycaw and comtypes, on one dedicated MTA COM thread.

Importing this module imports neither pycaw nor comtypes: the COM layer is chosen at :meth:`start`, the real
one (:mod:`._wasapi.windows`) on Windows, or the one passed as ``com=`` (e.g. :class:`audiolab.testing.FakeCom`
in tests).

How it is built (each part in ``audiolab/backends/_wasapi/``):

- ``thread.ComThread`` — the only thread that calls COM; the loop awaits its results, never blocks on it;
- ``table.ComTable`` — owns every COM reference and registration, one per session instance id, each released
  once; sessions that end (expired, disconnected) are unregistered and released right away;
- ``tracker.SessionTracker`` — on the event loop: the sessions and the events, with ``origin`` told apart by
  the event context GUID this backend passes with its own changes;
- ``outbox.LoopOutbox`` — COM callbacks only stamp the time and hand over to it; it keeps at most one
  callback pending on the loop (``audiolab._threads.LoopPoster``): control notifications wait in a bounded,
  lossless FIFO (overflow fails the backend with ``BackendDisconnected``), meter polls merge into one slot;
- ``playback`` — tones: each plays from a process of its own (``audiolab.audio._player_child_sd``, sounddevice
  on PortAudio's WASAPI host API), so each is a Windows session of its own; ``tones.TonePlayers`` finds that
  session by the child's pid, names and tags it, and reaps the process on stop, cancellation, close and parent
  death (``job`` — a kill-on-close job object on Windows). The Windows side of this has never run on Windows.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import uuid
import warnings
from typing import TYPE_CHECKING, Any

import anyio

from .._exceptions import (
    BackendDisconnected,
    BackendUnavailable,
    ClosedResourceError,
    NotSupported,
    SessionNotFound,
)
from .._threads import LoopPoster
from ..clock import Clock
from ..model import (
    Device,
    DisconnectReason,
    MeterFrame,
    Role,
    Session,
    check_level,
    normalize_guid,
)
from ._base import Backend, Capability, EventSink
from ._wasapi.com import ComApi, EndpointInfo
from ._wasapi.mapping import ProcessTag
from ._wasapi.outbox import LoopOutbox, OutboxStatistics
from ._wasapi.playback import Launcher, SoundDeviceLauncher, WasapiPlayback
from ._wasapi.table import ComTable
from ._wasapi.thread import ComThread
from ._wasapi.tones import TonePlayers
from ._wasapi.tracker import SessionTracker

if TYPE_CHECKING:
    from ..audio.playback import Playback, PlayRequest

__all__ = ("WasapiBackend",)

log = logging.getLogger("audiolab.wasapi")

DEFAULT_METER_INTERVAL = 1 / 60
"""How often the COM thread polls IAudioMeterInformation while someone watches meters (the Lab keeps the
highest peak between two frames)."""
DEFAULT_CLOSE_TIMEOUT = 5.0
"""How long :meth:`WasapiBackend.aclose` waits for the COM thread to release everything and end."""


class WasapiBackend(Backend):
    """Windows audio sessions (WASAPI). Session ids are session *instance* identifiers.

    Options: ``com`` (the COM layer; default: pycaw/comtypes on Windows), ``meter_interval`` (seconds between
    peak polls while meters run), ``close_timeout`` (seconds :meth:`aclose` waits for the COM thread before
    abandoning it with a ``RuntimeWarning``), ``player`` (the tone launcher :meth:`play` uses; default
    :class:`~._wasapi.playback.SoundDeviceLauncher`, a sounddevice child process per tone), ``clock``.
    """

    name = "wasapi"
    capabilities = frozenset({
        Capability.DISPLAY_NAME, Capability.ICON_PATH, Capability.GROUPING_PARAM, Capability.CHANNEL_VOLUME,
        Capability.METERS, Capability.DUCKING_PREFERENCE, Capability.PLAY,
    })

    def __init__(
        self,
        *,
        com: ComApi | None = None,
        meter_interval: float = DEFAULT_METER_INTERVAL,
        close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
        player: Launcher | None = None,
        clock: Clock | None = None,
        **options: object,
    ) -> None:
        super().__init__(clock=clock, **options)
        if com is not None and not isinstance(com, ComApi):
            raise TypeError(f"com must be a ComApi (e.g. audiolab.testing.FakeCom()), not {type(com).__name__}")
        if isinstance(meter_interval, bool) or not isinstance(meter_interval, (int, float)) or not (
            0 < meter_interval <= 1
        ):
            raise ValueError(f"meter_interval must be in (0, 1] seconds, got {meter_interval!r}")
        if isinstance(close_timeout, bool) or not isinstance(close_timeout, (int, float)) or not (
            0 < close_timeout < float("inf")
        ):
            raise ValueError(f"close_timeout must be a positive number of seconds, got {close_timeout!r}")
        if player is not None and not callable(player):
            raise TypeError(f"player must be a tone launcher (async callable), not {type(player).__name__}")
        # Decided here, not in start(): a Lab reports a constructor's error as it is, at open.
        self._com = com if com is not None else _real_com()
        self._meter_interval = float(meter_interval)
        self._close_timeout = float(close_timeout)
        self.event_context = str(uuid.uuid4())
        """The event-context GUID passed with every change this backend makes (so Origin.THIS_CLIENT)."""
        self._thread: ComThread | None = None
        self._table: ComTable | None = None
        self._tracker: SessionTracker | None = None
        self._poster: LoopPoster | None = None
        self._outbox: LoopOutbox | None = None
        self._endpoints: tuple[EndpointInfo, ...] = ()
        self._failed: anyio.Event | None = None
        self._failure: BackendDisconnected | None = None
        self._tones = TonePlayers(self, player if player is not None else SoundDeviceLauncher())
        self._started = False
        self._closed = False

    @classmethod
    async def probe(cls) -> bool:
        return sys.platform == "win32" and all(
            importlib.util.find_spec(name) is not None for name in ("pycaw", "comtypes")
        )

    # --- lifecycle -------------------------------------------------------------------------------------------

    async def start(self, emit: EventSink) -> None:
        if self._started:
            raise RuntimeError("a WasapiBackend starts once")
        self._started = True
        api = self._com
        self._poster = poster = LoopPoster.current()
        self._failed = anyio.Event()
        self._tracker = tracker = SessionTracker(emit, self.clock.now, self.event_context, self._on_shutdown)
        self._outbox = outbox = LoopOutbox(poster, tracker, self._on_overflow)
        self._thread = thread = ComThread(api, poster)
        self._table = ComTable(api, thread.submit, outbox, self.clock.now)
        thread.start()
        try:
            endpoints, raws = await thread.call(self._table.open)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.aclose()
            raise
        self._endpoints = tuple(endpoints)
        for raw in raws:
            tracker.seen(raw)

    async def run(self) -> None:
        """Wait for a failure; meanwhile watch every tone process (in a task group of its own, so cancelling
        ``run`` — the Lab closing — reaps them)."""
        assert self._failed is not None
        await self._tones.watch_until(self._failed)
        assert self._failure is not None
        raise self._failure

    async def aclose(self) -> None:
        """Undo every registration and release every COM reference on the COM thread, then join it.

        Bounded by ``close_timeout``: if a COM call hangs, the COM thread (a daemon thread) is abandoned with a
        ``RuntimeWarning``; it still releases everything and ends if that call ever returns."""
        if self._closed:
            return
        self._closed = True
        thread, table = self._thread, self._table
        try:
            with anyio.CancelScope(shield=True):
                await self._tones.stop_all()
        except Exception:
            log.exception("audiolab: stopping tones at close failed")
        try:
            if thread is not None and table is not None:
                with anyio.CancelScope(shield=True):
                    deadline = anyio.current_time() + self._close_timeout
                    with anyio.move_on_after(self._close_timeout):
                        try:
                            await thread.call(table.close)
                        except ClosedResourceError:
                            pass
                    thread.stop()
                    if not await thread.join(max(0.0, deadline - anyio.current_time())):
                        self._abandon(thread)
        finally:
            if self._tracker is not None:
                self._tracker.close()
            if self._poster is not None:
                self._poster.close()

    def _abandon(self, thread: ComThread) -> None:
        message = (
            f"audiolab: the WASAPI COM thread did not finish closing within {self._close_timeout:g} s (a COM call "
            "hangs); it is abandoned (a daemon thread) and releases its COM references if that call returns"
        )
        log.error("%s", message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)

    def _on_shutdown(self, reason: DisconnectReason) -> None:
        self._fail(BackendDisconnected(f"the Windows audio service went away ({reason.value})"))

    def _on_overflow(self, message: str) -> None:
        self._fail(BackendDisconnected(message))

    def _fail(self, error: BackendDisconnected) -> None:
        if self._failure is None and self._failed is not None:
            self._failure = error
            self._failed.set()

    def statistics(self) -> OutboxStatistics:
        """The hand-off from the COM threads to the loop: posts, backlog, meter readings merged, overflow."""
        if self._outbox is None:
            raise ClosedResourceError("the WASAPI backend was never started")
        return self._outbox.statistics()

    # --- enumeration -----------------------------------------------------------------------------------------

    @property
    def tracker(self) -> SessionTracker:
        if self._tracker is None or self._closed:
            raise ClosedResourceError("the WASAPI backend is not running")
        return self._tracker

    def snapshot(self) -> list[Session]:
        return self.tracker.snapshot()

    def session(self, session_id: str) -> Session:
        return self._known(session_id)

    @property
    def devices(self) -> tuple[Device, ...]:
        """The active endpoints seen at start."""
        return tuple(Device(e.id, e.name, e.flow, e.channels, e.default_for) for e in self._endpoints)

    async def refresh(self) -> list[Session]:
        """Enumerate every endpoint again (sessions are merged by instance id: nothing is registered or
        reported twice) and return the snapshot."""
        thread, table = self._running()
        for raw in await thread.call(table.refresh):
            self.tracker.seen(raw)
        return self.snapshot()

    async def sync(self) -> None:
        """Wait until what the COM thread received so far has reached the loop (for tests and harnesses)."""
        thread, _ = self._running()
        await thread.call(lambda: None)

    def tag_process(self, pid: int, *, app: str | None = None, role: Role | None = None) -> None:
        """Tell the backend what a process is (Windows keeps no app name or role on a session): its sessions
        report ``app`` and ``role`` from now on. Tones this backend plays are tagged by themselves."""
        if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
            raise ValueError(f"pid must be a positive int, got {pid!r}")
        if app is not None and not isinstance(app, str):
            raise TypeError("app must be a str")
        if role is not None and not isinstance(role, Role):
            raise TypeError(f"role must be an audiolab.Role, not {type(role).__name__}")
        self.tracker.tag(pid, ProcessTag(app, role))

    def untag_process(self, pid: int) -> None:
        """Forget what :meth:`tag_process` said of ``pid`` (its process ended; a later one may reuse the pid).
        Its sessions keep their names. Does nothing once the backend is closed."""
        if self._tracker is not None:
            self._tracker.untag(pid)

    # --- control ---------------------------------------------------------------------------------------------

    async def set_volume(self, session_id: str, volume: float) -> None:
        self._known(session_id)
        level = check_level(volume)
        await self._apply(session_id, "set_master_volume", level, self.event_context)
        self.tracker.assume(session_id, volume=level)

    async def set_mute(self, session_id: str, muted: bool) -> None:
        self._known(session_id)
        if not isinstance(muted, bool):
            raise TypeError(f"muted must be a bool, not {type(muted).__name__}")
        await self._apply(session_id, "set_mute", muted, self.event_context)
        self.tracker.assume(session_id, muted=muted)

    async def set_channel_volume(self, session_id: str, channel: int, volume: float) -> None:
        session = self._known(session_id)
        if isinstance(channel, bool) or not isinstance(channel, int):
            raise TypeError(f"channel must be an int, not {type(channel).__name__}")
        if not 0 <= channel < len(session.channel_volumes):
            raise ValueError(f"channel must be in 0..{len(session.channel_volumes) - 1}, got {channel}")
        level = check_level(volume, "channel volume")
        await self._apply(session_id, "set_channel_volume", channel, level, self.event_context)
        volumes = list(session.channel_volumes)
        volumes[channel] = level
        self.tracker.assume(session_id, channel_volumes=tuple(volumes))

    async def set_display_name(self, session_id: str, name: str) -> None:
        self._known(session_id)
        if not isinstance(name, str):
            raise TypeError("a display name is a str")
        await self._apply(session_id, "set_display_name", name, self.event_context)
        self.tracker.assume(session_id, display_name=name)

    async def set_icon_path(self, session_id: str, path: str) -> None:
        self._known(session_id)
        if not isinstance(path, str):
            raise TypeError("an icon path is a str")
        await self._apply(session_id, "set_icon_path", path, self.event_context)
        self.tracker.assume(session_id, icon_path=path)

    async def set_grouping_param(self, session_id: str, grouping_param: str) -> None:
        self._known(session_id)
        value = normalize_guid(grouping_param)
        await self._apply(session_id, "set_grouping_param", value, self.event_context)
        self.tracker.assume(session_id, grouping_param=value)

    async def set_ducking_preference(self, session_id: str, opt_out: bool) -> None:
        """Opt one of this process's own sessions out of (or back into) system ducking
        (IAudioSessionControl2::SetDuckingPreference). Windows applies it to the caller's sessions only."""
        session = self._known(session_id)
        if not isinstance(opt_out, bool):
            raise TypeError("opt_out must be a bool")
        if session.pid != os.getpid() and session.pid not in self._tones.pids():
            raise NotSupported(
                f"session {session_id!r} belongs to pid {session.pid}, neither this process ({os.getpid()}) nor "
                "one of its tone processes: Windows lets a process set the ducking preference of its own "
                "sessions only"
            )
        await self._apply(session_id, "set_ducking_preference", opt_out)
        self.tracker.assume(session_id, ducking_opt_out=opt_out)

    async def play(self, request: PlayRequest) -> Playback:
        """Play a tone from a process of its own, hence a session of its own. Returns once the process plays,
        its session was found by pid (``SessionCreated`` already sent), its display name set (the request's,
        else the app name) and its pid tagged with the app name and role. Bad requests raise before anything
        starts; if the session does not show up, the process is reaped and ``AudiolabError`` raised."""
        from ..audio.playback import PlayRequest

        if not isinstance(request, PlayRequest):
            raise TypeError(f"play() takes a PlayRequest, not {type(request).__name__}")
        self._running()
        return await self._tones.play(request)

    @property
    def playbacks(self) -> frozenset[WasapiPlayback]:
        """The tones playing now (started by :meth:`play`, not yet stopped or ended)."""
        return self._tones.playbacks

    # --- meters ----------------------------------------------------------------------------------------------

    async def start_meters(self) -> None:
        thread, table = self._running()
        thread.set_periodic(self._meter_interval, table.read_peaks)

    async def stop_meters(self) -> None:
        if self._thread is not None and not self._closed:
            self._thread.set_periodic(None)

    def read_meters(self) -> MeterFrame:
        return self.tracker.read_meters()

    # --- internals -------------------------------------------------------------------------------------------

    def _running(self) -> tuple[ComThread, ComTable]:
        if self._thread is None or self._table is None or self._closed:
            raise ClosedResourceError("the WASAPI backend is not running")
        return self._thread, self._table

    def _known(self, session_id: object) -> Session:
        if not isinstance(session_id, str):
            raise TypeError(f"a session id is a str, not {type(session_id).__name__}")
        session = self.tracker.get(session_id)
        if session is None:
            raise SessionNotFound(f"no session {session_id!r} (unknown, expired or ended)")
        return session

    async def _apply(self, session_id: str, method: str, *args: Any) -> None:
        thread, table = self._running()
        await thread.call(table.apply, session_id, method, *args)


def _real_com() -> ComApi:
    """The pycaw/comtypes layer (imported here, but comtypes and pycaw load only on the COM thread)."""
    if sys.platform != "win32":
        raise BackendUnavailable("the wasapi backend needs Windows (or a fake COM layer: com=audiolab.testing.FakeCom())")
    missing = [name for name in ("pycaw", "comtypes") if importlib.util.find_spec(name) is None]
    if missing:
        raise BackendUnavailable(f"the wasapi backend needs {' and '.join(missing)}: pip install 'audiolab-focus[windows]'")
    from ._wasapi.windows import WindowsCom

    return WindowsCom()
