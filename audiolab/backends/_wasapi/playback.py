"""Tones played by the WASAPI backend: each one a process of its own (so a Windows audio session of its own).

The backend starts a player through a *launcher* (``WasapiBackend(player=...)``): by default
:class:`SoundDeviceLauncher`, which runs :mod:`audiolab.audio._player_child_sd` (sounddevice, PortAudio's
WASAPI host API) through :meth:`audiolab.audio.player.ToneProcess.spawn` and puts it in a kill-on-close job
object on Windows. Tests pass a launcher that runs the same child with ``output="null"`` and tells a
``FakeCom`` that the child's pid opened a render stream (see ``tests/backends/test_wasapi_play.py``).

A launcher is ``async launcher(ToneLaunch) -> TonePlayer``; what the backend needs from the player is the
:class:`TonePlayer` protocol (which :class:`~audiolab.audio.player.ToneProcess` has).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import anyio

from ..._by_fields import by_fields
from ...audio.playback import Playback, PlayRequest

if TYPE_CHECKING:
    from ...audio.synth import Tone

log = logging.getLogger("audiolab.wasapi")

ACK_TIMEOUT = 2.0
CHILD_MODULE = "audiolab.audio._player_child_sd"
WASAPI_HOSTAPI = "Windows WASAPI"


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class ToneLaunch:
    """What to start: the tone (duration already applied), the app name, the endpoint (its id and its
    friendly name, which is the PortAudio device name; None for the default render device), channels.
    A launcher calls ``on_spawn(pid)`` as soon as the process exists, before it opens its stream (the backend
    tags the pid then, so the session is reported with its app and role from its first event)."""

    tone: Tone
    app: str
    endpoint_id: str | None
    device_name: str | None
    channels: int = 2
    on_spawn: Callable[[int], None] | None = None


@runtime_checkable
class TonePlayer(Protocol):
    """A running tone process speaking the player line protocol."""

    @property
    def pid(self) -> int: ...

    @property
    def ready_value(self) -> int:
        """The pid of the process that opened the audio stream (reported by the child)."""

    async def watch(self, on_line: Callable[[str], None]) -> int | None: ...

    async def send(self, command: str) -> None: ...

    async def close(self) -> None: ...


Launcher = Callable[[ToneLaunch], Awaitable[TonePlayer]]


class SoundDeviceLauncher:
    """Starts :mod:`audiolab.audio._player_child_sd`. ``output="null"`` plays nowhere (tests);
    ``hostapi`` defaults to "Windows WASAPI" on Windows and PortAudio's default elsewhere; ``env`` adds
    environment variables for the child; ``parent_watch="poll"`` makes the child poll our pid instead of
    relying on PR_SET_PDEATHSIG (Linux) or a process handle (Windows)."""

    def __init__(
        self,
        *,
        output: str = "sounddevice",
        hostapi: str | None = None,
        rate: int | None = None,
        latency: float | str = "low",
        parent_watch: str = "auto",
        env: Mapping[str, str] | None = None,
    ) -> None:
        if output not in ("sounddevice", "null"):
            raise ValueError(f"output must be 'sounddevice' or 'null', got {output!r}")
        if parent_watch not in ("auto", "poll"):
            raise ValueError(f"parent_watch must be 'auto' or 'poll', got {parent_watch!r}")
        self.output = output
        self.hostapi = hostapi if hostapi is not None else (WASAPI_HOSTAPI if sys.platform == "win32" else None)
        self.rate = rate
        self.latency = latency
        self.parent_watch = parent_watch
        self.env = dict(env or {})

    def spec(self, launch: ToneLaunch) -> dict[str, object]:
        return {
            "tone": launch.tone.to_dict(),
            "channels": launch.channels,
            "rate": self.rate,
            "device": launch.device_name,
            "hostapi": self.hostapi,
            "latency": self.latency,
            "output": self.output,
            "parent_watch": self.parent_watch,
        }

    async def __call__(self, launch: ToneLaunch) -> TonePlayer:
        from ...audio.player import ToneProcess
        from .job import kill_with_this_process

        def spawned(pid: int) -> None:
            kill_with_this_process(pid)
            if launch.on_spawn is not None:
                launch.on_spawn(pid)

        return await ToneProcess.spawn(CHILD_MODULE, self.spec(launch), on_spawn=spawned, env=self.env)


class WasapiPlayback(Playback):
    """A tone in a process of its own: ``pid`` is the process whose session ``session_id`` is."""

    def __init__(
        self,
        request: PlayRequest,
        session_id: str,
        player: TonePlayer,
        pid: int,
        on_end: Callable[[WasapiPlayback], None],
    ) -> None:
        super().__init__(request, session_id)
        self.player = player
        self.pid = pid
        self.amplitude = request.tone.amplitude
        self.paused = False
        self._on_end = on_end
        self._acks: list[anyio.Event] = []
        self._ended = False
        self.tagged: frozenset[int] = frozenset()
        """The pids the backend tagged for this tone (forgotten when it ends)."""

    def on_line(self, line: str) -> None:
        """A report from the player (called by the watcher task)."""
        word, _, arg = line.strip().partition(" ")
        if word == "corked":
            self.paused = arg == "1"
            acks, self._acks = self._acks, []
            for ack in acks:
                ack.set()
        elif word == "error":
            log.warning("audiolab: tone player %d: %s", self.pid, arg)

    async def watch(self) -> None:
        """Run until the player exits (its tone ran out, it was stopped, or it died); never raises."""
        try:
            await self.player.watch(self.on_line)
        except Exception:
            log.exception("audiolab: watching tone player %d failed", self.pid)
            with anyio.CancelScope(shield=True):
                await self.player.close()
        finally:
            self._mark_finished()
            self._end()

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self._on_end(self)

    async def _command(self, line: str) -> None:
        ack = anyio.Event()
        self._acks.append(ack)
        await self.player.send(line)
        with anyio.move_on_after(ACK_TIMEOUT):
            await ack.wait()

    async def _stop(self) -> None:
        try:
            await self.player.close()
        finally:
            self._end()

    async def _pause(self) -> None:
        await self._command("pause")

    async def _resume(self) -> None:
        await self._command("resume")

    async def _set_amplitude(self, amplitude: float) -> None:
        self.amplitude = float(amplitude)
        await self.player.send(f"amp {self.amplitude!r}")
