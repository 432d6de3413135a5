"""Tones through separate sessions on real servers: identity, control, ending, and never an orphan process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import audiolab
from audiolab import AudiolabError, NotSupported
from audiolab.audio.playback import PlayRequest
from audiolab.audio.player import live_pids
from audiolab.model import Role, SessionState
from audiolab.tones import sine
from tests.processes import alive, gone_within

from .conftest import Running, both, wait_until

pytestmark = [pytest.mark.anyio]


async def peak_near(running: Running, session_id: str, wanted: float, tol: float, timeout: float = 8.0) -> float:
    deadline = time.monotonic() + timeout
    peak = 0.0
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        peak = running.backend.read_meters().peaks.get(session_id, 0.0)
        if abs(peak - wanted) <= tol:
            break
    return peak


@both
async def test_a_tone_is_a_session_of_its_own_with_its_role_and_name(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    music = await running.backend.play(PlayRequest(sine(440, 0.3), Role.MUSIC, "Play Music", display_name="Track 1"))
    phone = await running.backend.play(PlayRequest(sine(600, 0.3), Role.RINGTONE, "Play Phone"))
    try:
        assert music.session_id != phone.session_id
        created = {e.session_id for e in running.recorder.of("SessionCreated")}
        assert {music.session_id, phone.session_id} <= created  # reported before play() returned
        session = running.backend.session(music.session_id)
        assert session.app == "Play Music" and session.role is Role.MUSIC
        await wait_until(lambda: running.backend.session(music.session_id).state is SessionState.ACTIVE, what="active")
        assert session.pid == music.pid != os.getpid()
        assert running.backend.session(phone.session_id).role is Role.VOICE_COMMUNICATION  # media.role=phone
        (si,) = server.wait_sink_input("Play Music")
        assert si["media.name"] == "Track 1" and si["media.role"] == "music"
    finally:
        await music.stop()
        await phone.stop()
    await running.recorder.wait("SessionRemoved", lambda e: e.session_id == music.session_id)
    assert not alive(music.pid) and not alive(phone.pid)
    assert not live_pids()


@both
async def test_pause_resume_cork_the_session_and_amplitude_is_metered(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    playback = await running.backend.play(PlayRequest(sine(440, 0.5), Role.MUSIC, "Pausable"))
    sid = playback.session_id
    await running.backend.start_meters()
    try:
        assert await peak_near(running, sid, 0.5, 0.02) == pytest.approx(0.5, abs=0.02)
        await playback.set_amplitude(0.25)
        assert await peak_near(running, sid, 0.25, 0.01) == pytest.approx(0.25, abs=0.01)
        await playback.pause()
        await running.recorder.wait("StateChanged", lambda e: e.session_id == sid and e.new is SessionState.INACTIVE)
        await playback.resume()
        await running.recorder.wait(
            "StateChanged", lambda e: e.session_id == sid and e.new is SessionState.ACTIVE, timeout=3
        )
        with pytest.raises(ValueError):
            await playback.set_amplitude(1.5)
        with pytest.raises(TypeError):
            await playback.set_amplitude("0.5")  # type: ignore[arg-type]
    finally:
        await running.backend.stop_meters()
        await playback.stop()
    with pytest.raises(audiolab.ClosedResourceError):
        await playback.pause()


@pytest.mark.pulse
async def test_duration_ends_the_tone_and_reaps_the_process(pa_server) -> None:  # type: ignore[no-untyped-def]
    """``finished`` comes when the server has played the tone's last sample (the child drains its stream).

    An idle null sink renders up to its maximum latency (2 s) ahead, and PulseAudio's rewind for a new stream
    is clamped to that stream's small latency, so a tone arriving at an idle sink starts sounding only once the
    sink catches up. A silent low-latency stream keeps the sink at low latency first, as any playing desktop
    would, so the drain is measured rather than the idle sink's backlog."""
    keeper = pa_server.play_tone(0.0, client_name="keeper", latency_msec=20)
    try:
        await wait_until(lambda: _sink_latency(pa_server) < 0.1, timeout=10, what="the sink at low latency")
        async with audiolab.open("pulse", server=pa_server.address) as lab:
            playback = await lab.play(sine(440, 0.2), app="Short", duration=0.4)
            returned = time.monotonic()
            pid = playback.pid  # type: ignore[attr-defined]
            with pytest.raises(NotSupported):
                await lab.play(sine(440), cross_process=True, session_guid="{11111111-2222-3333-4444-555555555555}")
            await asyncio.wait_for(playback.wait(), 10)
            took = time.monotonic() - returned
            assert 0.35 < took < 0.4 + 1.5, took  # the lower bound proves the drain; the upper, no idle backlog
            assert playback.finished
            assert await gone_within(pid, 5.0)
            await wait_until(lambda: playback.session_id not in {s.id for s in lab.snapshot()}, what="session ended")
    finally:
        keeper.stop()


def _sink_latency(server) -> float:  # type: ignore[no-untyped-def]
    """The null sink's current latency in seconds (``pactl list sinks``: "Latency: N usec, configured M usec")."""
    for line in server.pactl("list", "sinks").splitlines():
        if line.strip().startswith("Latency:"):
            return int(line.split()[1]) / 1e6
    raise AssertionError("no sink latency reported")


@pytest.mark.pulse
async def test_cancelled_task_and_closed_lab_reap_every_process(pa_server) -> None:  # type: ignore[no-untyped-def]
    pids: list[int] = []
    async with audiolab.open("pulse", server=pa_server.address) as lab:

        async def plays_forever() -> None:
            async with lab.play(sine(440, 0.2), app="Cancelled") as playback:
                pids.append(playback.pid)  # type: ignore[attr-defined]
                await asyncio.sleep(60)

        task = asyncio.create_task(plays_forever())
        await wait_until(lambda: pids, what="the tone started")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not alive(pids[0])

        kept = [await lab.play(sine(440, 0.2), app=f"Kept {i}") for i in range(2)]
    assert all(p.finished for p in kept)
    assert not any(alive(p.pid) for p in kept)  # type: ignore[attr-defined]
    assert not live_pids()


_PARENT = textwrap.dedent(
    """
    import asyncio, sys
    import audiolab
    from audiolab.tones import sine

    async def main():
        async with audiolab.open("pulse", server=sys.argv[1]) as lab:
            playback = await lab.play(sine(440, 0.2), app="Orphan Candidate")
            print(playback.pid, flush=True)
            await playback.pause()  # a corked stream would never drain: only the kernel can end it
            await asyncio.sleep(60)

    asyncio.run(main())
    """
)


@pytest.mark.pulse
async def test_sigkilled_parent_leaves_no_player_behind(pa_server) -> None:  # type: ignore[no-untyped-def]
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, pa_server.address], stdout=subprocess.PIPE,
                              env=pa_server.env, start_new_session=True)
    try:
        assert parent.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(parent.stdout.readline), 15)
        child = int(line)
        assert alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(5)
        assert await gone_within(child, 5.0), f"player {child} outlived its SIGKILLed parent"
        await wait_until(lambda: not pa_server.sink_inputs(), timeout=5, what="the server dropped the stream")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        parent.stdout.close()  # type: ignore[union-attr]


# --- closing and cancelling while a tone starts -------------------------------------------------------------


@pytest.mark.pulse
@pytest.mark.parametrize("phase", ["spawning", "finding-session"])
async def test_lab_closed_while_tone_starts_reaps_it(pa_server, phase: str) -> None:  # type: ignore[no-untyped-def]
    """aclose() while play() starts a tone: play() raises ClosedResourceError promptly (not ~5 s later with a
    misleading error), the child is gone and reaped, and its stream is gone from the server. Both phases of a
    start: the child still starting (before ``ready``), and play() looking for the tone's session."""
    from audiolab import ClosedResourceError

    from .conftest import start_backend, stop_backend

    running = await start_backend(pa_server.address)
    backend = running.backend
    entered, release = asyncio.Event(), asyncio.Event()
    if phase == "finding-session":
        original = backend._tones.find_session

        async def held(index: int, **kw: object) -> str:
            entered.set()
            await release.wait()
            return await original(index, **kw)

        backend._tones.find_session = held
    try:
        task = asyncio.create_task(backend.play(PlayRequest(sine(440, 0.3), Role.MUSIC, "Closed Early")))
        if phase == "spawning":
            while not backend._tones.starting_pids and not task.done():
                await asyncio.sleep(0)
            (pid,) = backend._tones.starting_pids  # the child exists and has not reported ready yet
        else:
            await asyncio.wait_for(entered.wait(), 10)
            (player,) = backend._tones.starting
            pid = player.pid
        assert alive(pid)
        closed_at = time.monotonic()
        await backend.aclose()
        release.set()
        with pytest.raises(ClosedResourceError):
            await asyncio.wait_for(task, 5)
        assert time.monotonic() - closed_at < 2.5  # promptly, not after the ~5 s a start waits for its session
        assert not os.path.exists(f"/proc/{pid}")  # killed and reaped, not a zombie
        assert not live_pids()
        await wait_until(lambda: not pa_server.sink_inputs(), timeout=2, what="the server dropped the stream")
    finally:
        release.set()
        await stop_backend(running)


@pytest.mark.pulse
async def test_cancelled_start_kills_the_child_at_once(pa_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Cancelling ToneProcess.start before ``ready`` kills the child instead of waiting STOP_TIMEOUT for a child
    that was never told to stop (made 30 s here, so waiting could not pass for killing on a slow machine)."""
    from audiolab.audio import player
    from audiolab.audio.player import ToneProcess

    monkeypatch.setattr(player, "STOP_TIMEOUT", 30.0)

    pids: list[int] = []
    task = asyncio.create_task(
        ToneProcess.start(sine(440, 0.2), app="Cancelled Start", media_name="x", server=pa_server.address,
                          on_spawn=pids.append)
    )
    while not pids and not task.done():
        await asyncio.sleep(0)
    assert pids and not task.done()
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - cancelled_at < 5.0
    assert not os.path.exists(f"/proc/{pids[0]}")
    assert not live_pids()
    await wait_until(lambda: not pa_server.sink_inputs(), timeout=2, what="no stream left")


@pytest.mark.pulse
@pytest.mark.parametrize("server", ["pulseaudio"], indirect=True)
async def test_a_tone_on_a_device_that_does_not_exist_says_so(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    # (pipewire-pulse plays a stream for an unknown device on the default sink instead)
    with pytest.raises(AudiolabError, match=r"could not play on the device 'nodev': No such entity"):
        await running.backend.play(PlayRequest(sine(440, 0.3), Role.MUSIC, "Nowhere", device="nodev"))
    assert not running.sessions_of("Nowhere")
