"""``backend="sim"``: the simulated audio service behind the backend seam."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypedDict

from ..._exceptions import ClosedResourceError
from ...audio.playback import Playback, PlayRequest
from ...clock import Clock, VirtualClock, make_clock
from ...focus.policy import FocusPolicy, as_policy
from ...model import Device, DisconnectReason, Flow, MeterFrame, Origin, Session
from .._base import Backend, Capability, EventSink
from .client import SimClient
from .engine import SimEngine, check_options
from .persistence import VolumeStore
from .playback import SimPlayback
from .sinks import open_sink

if TYPE_CHECKING:
    from ...focus.in_force import PolicyInForce

PUMP_SECONDS = 0.01
"""On real time, how often the pump brings the engine up to the clock (one 10 ms block)."""


class _EngineOptions(TypedDict):
    devices: tuple[Device, ...] | None
    expire_after: float
    policy: FocusPolicy
    idle_timeout: float
    sample_rate: int
    block_frames: int


def _as_async(function: Callable[[], object]) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        function()

    return step


class SimBackend(Backend):
    """The simulated audio service (the default backend; needs no sound card).

    Options: ``clock`` ('real', 'virtual' or a Clock), ``devices`` (a tuple of :class:`Device`),
    ``expire_after`` (seconds inactive before a session expires, default 30), ``store_path`` (a JSON file
    where render sessions' volume and mute persist; in memory when None), ``policy`` (a focus policy name
    or object, default "windows"), ``idle_timeout`` (seconds before an idle activated HarmonyOS audio
    session is deactivated, default 60), ``sample_rate`` (48000) and ``block_ms`` (10), ``output`` (where
    the mix of ``output_device`` goes: None (nowhere, the default), a ``.wav`` path, "sounddevice" for the
    machine's sound card, or any object with ``write(block)`` and ``close()``).
    """

    name = "sim"
    capabilities = frozenset({
        Capability.DISPLAY_NAME, Capability.ICON_PATH, Capability.GROUPING_PARAM, Capability.CHANNEL_VOLUME,
        Capability.CLIENTS, Capability.RESTART, Capability.METERS, Capability.PLAY, Capability.FOCUS,
        Capability.DUCKING_PREFERENCE,
    })

    def __init__(
        self,
        *,
        clock: str | Clock | None = None,
        devices: tuple[Device, ...] | None = None,
        expire_after: float = 30.0,
        store_path: str | os.PathLike[str] | None = None,
        policy: str | FocusPolicy = "windows",
        idle_timeout: float = 60.0,
        sample_rate: int = 48000,
        block_ms: float = 10.0,
        output: str | os.PathLike[str] | object | None = None,
        output_device: str | None = None,
        **options: object,
    ) -> None:
        super().__init__(clock=make_clock(clock), **options)
        if isinstance(block_ms, bool) or not isinstance(block_ms, (int, float)) or not 1 <= block_ms <= 100:
            raise ValueError(f"block_ms must be within 1..100, got {block_ms!r}")
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or not 8000 <= sample_rate <= 192000:
            raise ValueError(f"sample_rate must be an int within 8000..192000, got {sample_rate!r}")
        block_frames = round(sample_rate * block_ms / 1000)
        policy = as_policy(policy)
        self._options: _EngineOptions = {"devices": devices, "expire_after": expire_after, "policy": policy,
                         "idle_timeout": idle_timeout, "sample_rate": sample_rate, "block_frames": block_frames}
        self._output = output
        self._output_device = output_device
        self._playbacks: list[SimPlayback] = []
        self._store = VolumeStore(store_path)
        self._engine: SimEngine | None = None
        self._unstep: Callable[[], None] | None = None
        self._closed = False
        self._meter_sequence = 0
        check_options(devices, expire_after, idle_timeout)  # bad options fail at open, before anything starts

    @classmethod
    async def probe(cls) -> bool:
        return True

    @property
    def engine(self) -> SimEngine:
        if self._engine is None or self._closed:
            raise ClosedResourceError("the simulated service is not running")
        return self._engine

    async def start(self, emit: EventSink) -> None:
        self._engine = SimEngine(emit=emit, now=self.clock.now, store=self._store, **self._options)
        if self._output is not None:
            device = self._output_device or self._engine.default_device(Flow.RENDER).id
            self._engine.audio.set_sink(device, open_sink(self._output, self._engine.device(device),
                                                          self._engine.audio))
        if isinstance(self.clock, VirtualClock):
            self._unstep = self.clock.add_stepper(self._engine)

    async def run(self) -> None:
        if isinstance(self.clock, VirtualClock):
            return
        while not self._closed:
            self.engine.advance_to(self.clock.now())
            await self.clock.sleep(PUMP_SECONDS)

    async def aclose(self) -> None:
        """Stop every tone, shut the service down, close its sinks. Every step runs even when one fails (a
        store that cannot be written warns, and warnings may be errors); the first failure is raised last."""
        if self._closed:
            return
        self._closed = True
        steps: list[Callable[[], Awaitable[None]]] = [playback.stop for playback in self._playbacks]
        if self._engine is not None:
            steps.append(_as_async(self._engine.shutdown))
            steps.extend(_as_async(sink.close) for sink in self._engine.audio.sinks())  # type: ignore[attr-defined]
        if self._unstep is not None:
            steps.append(_as_async(self._unstep))
        failure: BaseException | None = None
        for step in steps:
            try:
                await step()
            except Exception as exc:  # noqa: BLE001 - re-raised below, after the other steps
                failure = failure or exc
        if failure is not None:
            raise failure

    def snapshot(self) -> list[Session]:
        return self.engine.snapshot()

    def session(self, session_id: str) -> Session:
        return self.engine.session(session_id)

    async def set_volume(self, session_id: str, volume: float) -> None:
        self.engine.set_volume(session_id, volume, Origin.THIS_CLIENT)

    async def set_mute(self, session_id: str, muted: bool) -> None:
        self.engine.set_mute(session_id, muted, Origin.THIS_CLIENT)

    async def set_channel_volume(self, session_id: str, channel: int, volume: float) -> None:
        self.engine.set_channel_volume(session_id, channel, volume, Origin.THIS_CLIENT)

    async def set_display_name(self, session_id: str, name: str) -> None:
        self.engine.set_display_name(session_id, name, Origin.THIS_CLIENT)

    async def set_icon_path(self, session_id: str, path: str) -> None:
        self.engine.set_icon_path(session_id, path, Origin.THIS_CLIENT)

    async def set_grouping_param(self, session_id: str, grouping_param: str) -> None:
        self.engine.set_grouping_param(session_id, grouping_param, Origin.THIS_CLIENT)

    async def set_ducking_preference(self, session_id: str, opt_out: bool) -> None:
        self.engine.set_ducking_opt_out(session_id, opt_out)

    async def start_meters(self) -> None:
        self.engine.take_peaks()  # start fresh: peaks held from before nobody was watching are stale
        self.engine.audio.metering = True

    async def stop_meters(self) -> None:
        if self._engine is not None:
            self._engine.audio.metering = False  # blocks nobody listens to are skipped again

    def read_meters(self) -> MeterFrame:
        channel_peaks, device_peaks = self.engine.take_peaks()
        self._meter_sequence += 1
        return MeterFrame(
            timestamp=self.engine.now,
            peaks={sid: max(values, default=0.0) for sid, values in channel_peaks.items()},
            channel_peaks=channel_peaks,
            device_peaks=device_peaks,
            sequence=self._meter_sequence,
        )

    async def play(self, request: PlayRequest) -> Playback:
        playback = SimPlayback(self.engine, request, self.clock)
        self._playbacks = [p for p in self._playbacks if not p.released]
        self._playbacks.append(playback)
        return playback

    # --- sim-only controls ---------------------------------------------------------------------------------

    def client(self, app: str, pid: int | None = None) -> SimClient:
        """A new app of the simulated service (a process with its own pid)."""
        return SimClient(self.engine, app, pid)

    def policy_in_force(self) -> PolicyInForce:
        from ...focus.in_force import simulated

        return simulated(self.engine.policy)

    def set_policy(self, policy: str | FocusPolicy, **settings: object) -> None:
        """Switch the focus policy ("harmonyos", "windows", "pulseaudio", "wireplumber", "none" or a policy).
        What plays now is re-evaluated under it: the streams ask it for focus again in their start order
        (:meth:`audiolab.focus.FocusEngine.set_policy`)."""
        self.engine.set_policy(policy, **settings)

    @property
    def policy(self) -> FocusPolicy:
        return self.engine.policy

    def restart(self) -> None:
        """Restart the service (sessions disconnect with SERVER_SHUTDOWN; persisted settings are re-read)."""
        self.engine.restart()

    def remove_device(self, device_id: str) -> None:
        """Unplug a device: its sessions are disconnected (``DisconnectReason.DEVICE_REMOVAL``) and end."""
        self.engine.disconnect_device(device_id)

    def disconnect_session(self, session_id: str, reason: DisconnectReason) -> None:
        """Disconnect one session for ``reason`` (FORMAT_CHANGED, SESSION_LOGOFF, SESSION_DISCONNECTED or
        EXCLUSIVE_MODE_OVERRIDE); it ends. DEVICE_REMOVAL is :meth:`remove_device`, SERVER_SHUTDOWN
        :meth:`restart`."""
        self.engine.disconnect_session(session_id, reason)

    @property
    def devices(self) -> tuple[Device, ...]:
        return self.engine.devices
