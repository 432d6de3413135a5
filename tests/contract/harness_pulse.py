"""Contract harnesses for the pulse backend on real servers: "pulse" (a private PulseAudio daemon) and
"pipewire" (private PipeWire + WirePlumber + pipewire-pulse), one fresh server per test.

Other apps are real separate processes: each :class:`PlayerApp` is an audiolab tone player
(:class:`audiolab.audio.player.ToneProcess`, its own PulseAudio client) started directly, not through the Lab;
it corks and uncorks its own stream (stop/start), and ``pactl`` is the other client that changes its volume.
The backend needs asyncio itself; under trio the Lab runs it on an asyncio loop in a thread of its own
(audiolab/backends/_bridge.py), so both loops are tested.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from audiolab import Lab, Role, SessionState
from audiolab import open as open_lab
from audiolab.audio.player import ToneProcess
from audiolab.tones import sine
from tests.servers import AudioServer, pipewire_server, pulseaudio_server

from .harness import App, Harness


class PlayerApp(App):
    def __init__(self, server: AudioServer, player: ToneProcess, session_id: str) -> None:
        self._server = server
        self._player = player
        self.session_id = session_id

    async def stop(self) -> None:
        await self._player.send("pause")

    async def start(self) -> None:
        await self._player.send("resume")

    async def close(self) -> None:
        await self._player.close()

    async def set_volume_elsewhere(self, volume: float) -> None:
        percent = f"{round(volume * 100)}%"
        await anyio.to_thread.run_sync(self._server.pactl, "set-sink-input-volume", str(self._player.sink_input), percent)


class PulseHarness(Harness):
    role_fidelity = frozenset(r for r in Role if Role.from_pulse_media_role(r.pulse_media_role) is r)

    def __init__(self, name: str, lab: Lab, server: AudioServer) -> None:
        self.name = name
        self.lab = lab
        self.server = server
        self.apps: list[PlayerApp] = []

    async def start_app(self, app: str, role: Role) -> App:
        player = await ToneProcess.start(
            sine(440, 0.3), app=app, media_name=app, role=role.pulse_media_role, server=self.server.address
        )
        stream_id = f"pulse:sink-input/{player.sink_input}"
        try:
            with anyio.fail_after(10):
                while True:
                    # Playing, as the contract asks: pipewire-pulse shows a new stream corked for a moment.
                    found = [s.id for s in self.lab.snapshot() if any(m.id == stream_id for m in s.streams)
                             and s.state is SessionState.ACTIVE]
                    if found:
                        break
                    await anyio.sleep(0.02)
        except BaseException:
            await player.close()
            raise
        started = PlayerApp(self.server, player, found[0])
        self.apps.append(started)
        return started

    async def settle(self) -> None:
        await anyio.sleep(0.05)


def _factory(name: str, start_server):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def harness() -> AsyncIterator[Harness]:
        with start_server() as server:
            async with open_lab("pulse", server=server.address) as lab:
                h = PulseHarness(name, lab, server)
                try:
                    yield h
                finally:
                    with anyio.CancelScope(shield=True):
                        for app in h.apps:
                            await app.close()

    harness.marks = (getattr(pytest.mark, name),)  # type: ignore[attr-defined]
    return harness


HARNESSES: dict[str, object] = {
    "pulse": _factory("pulse", pulseaudio_server),
    "pipewire": _factory("pipewire", pipewire_server),
}
