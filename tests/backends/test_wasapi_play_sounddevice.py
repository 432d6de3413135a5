"""The WASAPI backend's tone child with its REAL sounddevice output path (PortAudio), on Linux.

On Windows that child plays through PortAudio's WASAPI host API; there is no Windows here, so these tests
point PortAudio's ALSA host API at a private PulseAudio (through the ALSA pulse plugin and a private
``.asoundrc``) and check, on that server, what the child's PortAudio stream really does: it plays (a
sink-input of the child's pid, not corked), pause stops the PortAudio stream and resume starts it
again, a duration ends it, stop reaps it. The backend side runs over FakeCom as in ``test_wasapi_play.py``.
What this does not cover: WASAPI itself, the session Windows would make of the stream, device names.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from audiolab import Role, SessionState
from audiolab.tones import sine
from tests.servers import AudioServer, pulseaudio_server

from .test_wasapi_play import alive, gone_within, running

pytestmark = [pytest.mark.anyio, pytest.mark.pulse]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def alsa_to_pulse(tmp_path: Path) -> Iterator[tuple[AudioServer, dict[str, str]]]:
    """A private PulseAudio, and the environment that makes PortAudio's ALSA default device play to it."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type pulse }\nctl.!default { type pulse }\n")
    with pulseaudio_server() as server:
        yield server, {"HOME": str(home), "PULSE_SERVER": server.address}


def streams_of(server: AudioServer, pid: int) -> list[dict]:  # type: ignore[type-arg]
    inputs = json.loads(server.pactl("-f", "json", "list", "sink-inputs") or "[]")
    return [i for i in inputs if i.get("properties", {}).get("application.process.id") == str(pid)]


async def until(predicate, timeout: float = 5.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await anyio.to_thread.run_sync(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await anyio.sleep(0.05)


def playing(server: AudioServer, pid: int) -> bool:
    return any(not s.get("corked", False) for s in streams_of(server, pid))


async def test_the_sounddevice_child_really_plays_pauses_resumes_and_stops(alsa_to_pulse) -> None:  # type: ignore[no-untyped-def]
    server, env = alsa_to_pulse
    async with running(output="sounddevice", hostapi="ALSA", env=env) as run:
        playback = await run.lab.play(sine(440), app="Music", role=Role.MUSIC)
        pid = playback.pid
        assert run.lab.session(playback.session_id).state is SessionState.ACTIVE
        await until(lambda: playing(server, pid), what="the child's PortAudio stream on the server")
        await playback.pause()
        await until(lambda: not playing(server, pid), what="the stream to stop")
        await run.until(lambda: run.lab.session(playback.session_id).state is SessionState.INACTIVE)
        await playback.resume()
        await until(lambda: playing(server, pid), what="the stream to start again")
        await playback.set_amplitude(0.1)
        await playback.stop()
        assert not alive(pid)
        await until(lambda: not streams_of(server, pid), what="the stream to go")


async def test_the_sounddevice_child_ends_when_its_duration_runs_out(alsa_to_pulse) -> None:  # type: ignore[no-untyped-def]
    server, env = alsa_to_pulse
    async with running(output="sounddevice", hostapi="ALSA", env=env) as run:
        started = time.monotonic()
        playback = await run.lab.play(sine(440), app="Beep", duration=0.4)
        # The child ends only once PortAudio has played its stream out, and the ALSA pulse plugin and the private
        # server's null sink add their buffering to the 0.4 s tone: measured 1.95-1.97 s until the process ended.
        # 15 s leaves room for a loaded CI machine; a tone whose duration did not end it would never finish.
        with anyio.fail_after(15):
            await playback.wait()
        assert time.monotonic() - started >= 0.4  # it played (at least) its duration, it was not cut short
        assert await gone_within(playback.pid, 2)
        assert "finished" in run.launcher.players[0].lines  # type: ignore[union-attr]
        await until(lambda: not streams_of(server, playback.pid), what="the stream to go")


async def test_an_unknown_output_device_is_a_clear_error(alsa_to_pulse) -> None:  # type: ignore[no-untyped-def]
    _, env = alsa_to_pulse
    async with running(output="sounddevice", hostapi="Windows WASAPI", env=env) as run:
        with pytest.raises(Exception, match="no PortAudio host API 'Windows WASAPI'"):
            await run.lab.play(sine(440), app="Nowhere")
        assert run.backend.playbacks == frozenset()
