"""Bad input and faults on a real PulseAudio server (the private one the tests start): a tone the player's
rate cannot carry is refused before any child process starts, naming its real level; meter subscribers,
like event subscribers, end with BackendDisconnected when the server dies."""

from __future__ import annotations

import time

import anyio
import pytest

import audiolab
from audiolab import BackendDisconnected, Role
from audiolab.audio.player import ToneProcess
from audiolab.tones import sine

pytestmark = [pytest.mark.anyio, pytest.mark.pulse]


async def test_a_tone_above_nyquist_is_refused_before_a_player_starts_and_names_its_level(pa_server, monkeypatch):
    spawned: list[str] = []
    spawn = ToneProcess.spawn.__func__  # type: ignore[attr-defined]

    async def counting_spawn(cls, module, spec, **kwargs):  # type: ignore[no-untyped-def]
        spawned.append(module)
        return await spawn(cls, module, spec, **kwargs)

    monkeypatch.setattr(ToneProcess, "spawn", classmethod(counting_spawn))
    async with audiolab.open("pulse", server=pa_server.address) as lab:
        before = {s.id for s in lab.snapshot()}
        with pytest.raises(ValueError, match=r"sine 30000 Hz -6\.0 dBFS: 30000 Hz is at or above the Nyquist"):
            await lab.play(sine(30000, 0.5), role=Role.MUSIC, app="Music")
        assert spawned == []
        assert pa_server.sink_inputs() == []
        assert {s.id for s in lab.snapshot()} == before
        async with lab.play(sine(440, 0.5), role=Role.MUSIC, app="Music"):  # the next good one plays
            assert len(spawned) == 1


async def test_meter_subscribers_end_with_backend_disconnected_when_the_server_dies(pa_server):
    async with audiolab.open("pulse", server=pa_server.address) as lab:
        pa_server.play_tone(0.3, client_name="victim")
        async with lab.events() as events, lab.meters(rate=20) as frames:
            with anyio.fail_after(10):
                while not [s for s in lab.snapshot() if s.app == "victim"]:
                    await frames.receive()
            pa_server.kill()
            started = time.monotonic()
            with anyio.fail_after(5), pytest.raises(BackendDisconnected):
                async for _ in frames:
                    pass
            assert time.monotonic() - started < 2.0
            with pytest.raises(BackendDisconnected):
                async for _ in events:
                    pass
