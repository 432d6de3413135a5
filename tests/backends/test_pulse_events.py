"""One true event per change: a volume or mute call of this client is reported exactly once."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from audiolab.events import VolumeChanged
from audiolab.model import Origin
from tests.servers import StreamClient

from .conftest import Running, both, quiet, wait_until

pytestmark = [pytest.mark.anyio]


@both
async def test_exactly_one_event_per_set_volume_and_set_mute(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    server.play_tone(0.2, client_name="one-event")
    (session,) = await running.wait_sessions("one-event")
    await quiet(running)
    start = len(running.recorder.events)
    calls = 200
    for i in range(calls):
        if i % 4 == 3:
            await running.backend.set_mute(session.id, i % 8 == 3)
        else:
            await running.backend.set_volume(session.id, 0.2 + 0.6 * (i % 50) / 50)
    await quiet(running)
    ours = [e for e in running.recorder.events[start:]
            if isinstance(e, VolumeChanged) and e.session_id == session.id and e.origin is Origin.THIS_CLIENT]
    others = [e for e in running.recorder.events[start:]
              if isinstance(e, VolumeChanged) and e.session_id == session.id and e.origin is not Origin.THIS_CLIENT]
    assert len(ours) == calls, f"{len(ours)} events of this client for {calls} calls"
    assert others == []


@both
async def test_a_change_of_one_stream_of_a_session_is_reported_per_stream(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    async with StreamClient(server.address, "two-streams") as client:
        client.open_stream(server.sink, role="music", name="a")
        client.open_stream(server.sink, role="music", name="b")
        await wait_until(lambda: [len(s.streams) for s in running.sessions_of("two-streams")] == [2], what="two streams")
        await quiet(running)
        (session,) = running.sessions_of("two-streams")
        b = next(s for s in session.streams if s.name == "b")
        assert b.volume == pytest.approx(1.0) and b.muted is False
        start = len(running.recorder.events)
        server.pactl("set-sink-input-volume", b.id.rsplit("/", 1)[1], "50%")
        event = await running.recorder.wait("StreamsChanged", lambda e: e.session_id == session.id
                                            and any(s.name == "b" and s.volume == pytest.approx(0.5, abs=0.01)
                                                    for s in e.streams))
        assert next(s for s in event.streams if s.name == "a").volume == pytest.approx(1.0)
        # The session's own figure is its loudest stream's (documented in _pulse/mapping.py): unchanged, no event.
        assert running.sessions_of("two-streams")[0].volume == pytest.approx(1.0)
        server.pactl("set-sink-input-mute", b.id.rsplit("/", 1)[1], "1")
        await running.recorder.wait("StreamsChanged", lambda e: any(s.name == "b" and s.muted for s in e.streams))
        assert not [e for e in running.recorder.events[start:] if e.kind == "VolumeChanged"]


@both
async def test_a_reopened_stream_is_no_flicker(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    """The ALSA plugin's way: close the stream and open another (in mono) in the same session: the session goes on
    (a StreamsChanged), with no SessionRemoved/SessionCreated and no ChannelVolumeChanged nobody made."""
    async with StreamClient(server.address, "reopener") as client:
        first = client.open_stream(server.sink, role="music", name="first")
        (session,) = await running.wait_sessions("reopener")
        await quiet(running)
        start = len(running.recorder.events)
        client.close_stream(first)
        await asyncio.sleep(0.002)
        client.open_stream(server.sink, role="music", name="second", channels=1)
        await running.recorder.wait("StreamsChanged", lambda e: e.session_id == session.id
                                    and [s.name for s in e.streams] == ["second"])
        await quiet(running)
        kinds = [e.kind for e in running.recorder.events[start:] if e.session_id == session.id]
        assert "SessionRemoved" not in kinds and "SessionCreated" not in kinds, kinds
        assert "ChannelVolumeChanged" not in kinds, kinds
        assert [s.id for s in running.backend.snapshot()].count(session.id) == 1


@both
async def test_a_session_created_and_removed_within_the_grace_is_reported(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    async with StreamClient(server.address, "blink") as client:
        client.open_stream(server.sink, role="music", name="blink")
        created = await running.recorder.wait("SessionCreated", lambda e: e.session.app == "blink")
    removed = await running.recorder.wait("SessionRemoved", lambda e: e.session_id == created.session_id)
    assert removed.timestamp >= created.timestamp


@both
async def test_every_announced_short_stream_is_reported(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    """500 sounds of 30 ms (pacat, 8 at a time): every one the server announced (pactl subscribe is the witness)
    is reported created then removed, by name when audiolab could read it, else as an unread stream."""
    from audiolab.backends._pulse.mapping import UNREAD_NAME

    count = 500
    sound = server.tone_file(0.3, 0.03)
    witness = await asyncio.create_subprocess_exec("pactl", "subscribe", env=server.env, stdout=subprocess.PIPE)
    await asyncio.sleep(0.3)
    start = len(running.recorder.events)
    slots = asyncio.Semaphore(8)

    async def one(i: int) -> None:
        async with slots:
            player = await asyncio.create_subprocess_exec(
                "pacat", "--playback", "--raw", "--format=float32le", "--rate=48000", "--channels=2",
                f"--client-name=short{i}", "--latency-msec=10", str(sound), env=server.env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            await player.wait()

    try:
        await asyncio.gather(*(one(i) for i in range(count)))
        await quiet(running)
    finally:
        witness.kill()
        announced = (await witness.communicate())[0].decode().count("'new' on sink-input")
    events = running.recorder.events[start:]
    created = [e for e in events if e.kind == "SessionCreated"]
    named = {e.session.app for e in created if e.session.app.startswith("short")}
    unread = [e for e in created if e.session.app == UNREAD_NAME]
    assert announced == count
    missing = sorted(set(range(count)) - {int(app[5:]) for app in named})
    # Every one, on both servers. On PipeWire two things used to lose a few (6-33 of 500, more under load): an index
    # reused before the pump read the first stream, and a client index reused by a live client of another app.
    assert len(named) + len(unread) == count, (len(named), len(unread), missing[:20])
    assert {e.session_id for e in events if e.kind == "SessionRemoved"} >= {e.session_id for e in created}
