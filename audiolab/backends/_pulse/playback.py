"""Tones played by the pulse backend: each one a :class:`~audiolab.audio.player.ToneProcess` (its own process,
PulseAudio client and sink-input, hence its own session), wrapped in the common :class:`Playback` handle.

Pause/resume cork the stream from inside the player, so the session really goes Inactive and back; the call
returns once the player confirms. The player also obeys module-role-cork's cork requests, like a
well-behaved music player. ``set_amplitude`` takes effect from the next block the server asks for (a 5 ms
ramp, so no click).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio

from ...audio.playback import Playback, PlayRequest
from ...audio.player import ToneProcess

ACK_TIMEOUT = 2.0


class PulsePlayback(Playback):
    """A tone in its own PulseAudio client."""

    def __init__(
        self, request: PlayRequest, session_id: str, player: ToneProcess, on_end: Callable[[PulsePlayback], None]
    ) -> None:
        super().__init__(request, session_id)
        self.player = player
        self.amplitude = request.tone.amplitude
        self.changed_at = time.monotonic()
        """When what the tone itself plays last changed (amplitude, pause): ducking measurement waits after it."""
        self.corked = False
        self._on_end = on_end
        self._acks: list[anyio.Event] = []

    @property
    def sink_input(self) -> int:
        return self.player.sink_input

    @property
    def pid(self) -> int:
        return self.player.pid

    def on_line(self, line: str) -> None:
        """A report from the player (called by the watcher task)."""
        word, _, arg = line.strip().partition(" ")
        if word == "corked":
            self.corked = arg == "1"
            self.changed_at = time.monotonic()
            acks, self._acks = self._acks, []
            for ack in acks:
                ack.set()

    async def watch(self) -> None:
        """Run until the player exits; then the playback is finished."""
        try:
            await self.player.watch(self.on_line)
        finally:
            self._mark_finished()
            self._on_end(self)

    async def _command(self, line: str) -> None:
        ack = anyio.Event()
        self._acks.append(ack)
        await self.player.send(line)
        with anyio.move_on_after(ACK_TIMEOUT):
            await ack.wait()

    async def _stop(self) -> None:
        await self.player.close()
        self._on_end(self)

    async def _pause(self) -> None:
        await self._command("pause")

    async def _resume(self) -> None:
        await self._command("resume")

    async def _set_amplitude(self, amplitude: float) -> None:
        self.amplitude = float(amplitude)
        self.changed_at = time.monotonic()
        await self.player.send(f"amp {self.amplitude!r}")
