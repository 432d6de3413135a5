"""The pulse backend against private PulseAudio and PipeWire servers (the `server` fixture runs both)."""

from __future__ import annotations

import asyncio
import time

import pytest

from audiolab._exceptions import SessionNotFound
from audiolab.model import Flow, Origin, Role, SessionState
from tests.servers import StreamClient, pulseaudio_server

from .conftest import Running, both, quiet, start_backend, stop_backend, wait_until

pytestmark = [pytest.mark.anyio]


def _percent(server, index: str) -> list[int]:  # type: ignore[no-untyped-def]
    for si in server.sink_inputs():
        if si["index"] == index:
            return [int(part.split("/")[1].strip().rstrip("%")) for part in si["volume"].split(",")]
    raise AssertionError(f"no sink-input {index}")


@both
async def test_one_client_two_streams_is_one_session(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    async with StreamClient(server.address, "two-streams") as client:
        client.open_stream(server.sink, role="music", name="a")
        client.open_stream(server.sink, role="music", name="b")
        (session,) = await running.wait_sessions("two-streams")
        await wait_until(lambda: len(running.sessions_of("two-streams")[0].streams) == 2, what="two streams")
        session = running.sessions_of("two-streams")[0]
        assert session.flow is Flow.RENDER
        assert session.key.device_id == server.sink
        assert session.id.startswith("pulse:client/") and session.id.endswith("/sink/" + session.id.rsplit("/", 1)[1])
        assert sorted(s.name for s in session.streams) == ["a", "b"]
        assert session.role is Role.MUSIC
        assert session.key.pid is not None and session.pid == session.key.pid


@pytest.mark.pulse
async def test_same_client_on_two_sinks_is_two_sessions() -> None:
    with pulseaudio_server(sinks=("sink_a", "sink_b")) as server:
        running = await start_backend(server.address)
        try:
            async with StreamClient(server.address, "two-sinks") as client:
                client.open_stream("sink_a")
                client.open_stream("sink_b")
                sessions = await running.wait_sessions("two-sinks", 2)
                assert sorted(s.key.device_id for s in sessions) == ["sink_a", "sink_b"]
                assert len({s.key.guid for s in sessions}) == 1  # same app -> same GUID
        finally:
            await stop_backend(running)


@both
async def test_app_pid_role_from_pacat(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    player = server.play_tone(0.2, client_name="phone-app", role="phone")
    (session,) = await running.wait_sessions("phone-app")
    assert session.pid == player.pid
    assert session.role is Role.VOICE_COMMUNICATION
    # PipeWire may list a new stream corked for a moment before it starts: Inactive, then Active.
    await wait_until(lambda: running.sessions_of("phone-app")[0].state is SessionState.ACTIVE, what="active")
    assert session.key.cross_process is False
    created = running.recorder.of("SessionCreated", session.id)
    assert created and created[0].session.app == "phone-app"


@both
async def test_corked_is_inactive_and_uncork_is_active(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    async with StreamClient(server.address, "corky") as client:
        stream = client.open_stream(server.sink, corked=True)
        (session,) = await running.wait_sessions("corky")
        await wait_until(lambda: running.sessions_of("corky")[0].state is SessionState.INACTIVE, what="inactive")
        client.cork(stream, False)
        await running.recorder.wait("StateChanged", lambda e: e.session_id == session.id and e.new is SessionState.ACTIVE)
        client.cork(stream, True)
        await running.recorder.wait("StateChanged", lambda e: e.session_id == session.id and e.new is SessionState.INACTIVE)
        assert running.recorder.of("StreamsChanged", session.id)


@both
async def test_removal_emits_expired_then_removed(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    player = server.play_tone(0.2, client_name="leaver")
    (session,) = await running.wait_sessions("leaver")
    player.stop()
    await running.recorder.wait("SessionRemoved", lambda e: e.session_id == session.id)
    kinds = [e.kind for e in running.recorder.events if e.session_id == session.id]
    assert kinds[-2:] == ["StateChanged", "SessionRemoved"]
    assert running.recorder.of("StateChanged", session.id)[-1].new is SessionState.EXPIRED
    with pytest.raises(SessionNotFound):
        running.backend.session(session.id)


@both
async def test_volume_from_pactl_and_origin(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    server.play_tone(0.2, client_name="vol-app")
    (session,) = await running.wait_sessions("vol-app")
    (si,) = server.wait_sink_input("vol-app")
    server.pactl("set-sink-input-volume", si["index"], "50%")
    # PipeWire may report the new stream's own settling volume first: wait for the change pactl made.
    event = await running.recorder.wait(
        "VolumeChanged", lambda e: e.session_id == session.id and abs(e.volume - 0.5) <= 1e-4
    )
    assert event.volume == pytest.approx(0.5, abs=1e-4)
    assert all(e.origin is Origin.OTHER_CLIENT for e in running.recorder.of("VolumeChanged", session.id))
    server.pactl("set-sink-input-volume", si["index"], "150%")
    await wait_until(lambda: running.backend.session(session.id).volume == 1.0, what="capped volume")


@both
async def test_set_volume_mute_channel_visible_in_pactl(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    server.play_tone(0.2, client_name="ctl-app")
    (session,) = await running.wait_sessions("ctl-app")
    (si,) = server.wait_sink_input("ctl-app")
    await running.backend.set_volume(session.id, 0.4)
    assert running.backend.session(session.id).volume == pytest.approx(0.4, abs=1e-4)
    assert _percent(server, si["index"]) == [40, 40]
    event = running.recorder.of("VolumeChanged", session.id)[-1]
    assert event.origin is Origin.THIS_CLIENT and event.volume == pytest.approx(0.4, abs=1e-4)

    await running.backend.set_channel_volume(session.id, 1, 0.2)
    assert _percent(server, si["index"]) == [40, 20]
    ch = running.recorder.of("ChannelVolumeChanged", session.id)[-1]
    assert ch.channel == 1 and ch.origin is Origin.THIS_CLIENT

    await running.backend.set_volume(session.id, 0.8)  # keeps the balance
    assert _percent(server, si["index"]) == [80, 40]

    await running.backend.set_mute(session.id, True)
    assert "Mute: yes" in server.pactl("list", "sink-inputs") or any(
        s.get("mute") == "yes" for s in server.sink_inputs() if s["index"] == si["index"]
    )
    assert running.backend.session(session.id).muted is True


@both
async def test_bad_input_changes_nothing(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    server.play_tone(0.2, client_name="bad-app")
    (session,) = await running.wait_sessions("bad-app")
    (si,) = server.wait_sink_input("bad-app")
    before = len(running.recorder.events)
    for value in (float("nan"), 1.5, -0.1):
        with pytest.raises(ValueError):
            await running.backend.set_volume(session.id, value)
    with pytest.raises(TypeError):
        await running.backend.set_volume(session.id, "0.5")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await running.backend.set_channel_volume(session.id, 2, 0.5)
    with pytest.raises(TypeError):
        await running.backend.set_mute(session.id, 1)  # type: ignore[arg-type]
    with pytest.raises(SessionNotFound):
        await running.backend.set_volume("pulse:client/999/sink/0", 0.5)
    assert _percent(server, si["index"]) == [100, 100]
    assert len(running.recorder.events) == before


@both
async def test_meter_streams_are_not_sessions(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    server.play_tone(0.5, client_name="metered")
    (session,) = await running.wait_sessions("metered")
    await running.backend.start_meters()
    await wait_until(lambda: running.backend.statistics().meter_streams >= 2, what="two meter streams")
    await asyncio.sleep(0.5)  # let any wrongly reported meter session show up before checking there is none
    assert [s.app for s in running.backend.snapshot()] == ["metered"]
    assert all(e.session_id == session.id for e in running.recorder.events)
    await running.backend.stop_meters()


@both
async def test_burst_of_changes_is_coalesced(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    """Notices that arrive while the pump is busy cost one re-read per object, however many they are. The pump
    is held busy (its lock taken) while another client sends 50 volume changes, so the count does not depend
    on how fast this machine is; then the burst again with the pump free, which must still coalesce."""
    import pulsectl
    import pulsectl_asyncio

    server.play_tone(0.2, client_name="bursty")
    (session,) = await running.wait_sessions("bursty")
    (si,) = server.wait_sink_input("bursty")
    index = int(si["index"])

    async def burst(other: pulsectl_asyncio.PulseAsync, top: int) -> None:
        await asyncio.gather(*(
            other.sink_input_volume_set(index, pulsectl.PulseVolumeInfo([i / 100, i / 100]))
            for i in range(top - 49, top + 1)
        ))

    async with pulsectl_asyncio.PulseAsync("other", server=server.address) as other:
        await quiet(running)  # the new stream's and client's own events are not part of the burst
        queries_before = running.backend.statistics().queries
        async with running.backend._lock:
            await burst(other, 50)
            await quiet_notices(running)
        await running.recorder.wait("VolumeChanged", lambda e: abs(e.volume - 0.5) < 1e-3, timeout=10)
        await quiet(running)
        held = running.backend.statistics().queries - queries_before
        assert held <= 2, f"{held} re-reads for 50 changes that arrived while the pump was busy"

        before = running.backend.statistics()
        await burst(other, 100)
        await running.recorder.wait("VolumeChanged", lambda e: abs(e.volume - 1.0) < 1e-3, timeout=10)
        await quiet(running)
    after = running.backend.statistics()
    free, flushes = after.queries - before.queries, after.flushes - before.flushes
    # However the notices fall on this machine, each pass re-reads each touched object once.
    assert free <= 2 * flushes and free < 50, f"{free} re-reads in {flushes} passes for a burst of 50 changes"
    changes = running.recorder.of("VolumeChanged", session.id)
    assert all(e.origin is Origin.OTHER_CLIENT for e in changes)
    assert running.backend.session(session.id).volume == pytest.approx(1.0, abs=1e-3)


async def quiet_notices(running: Running, seconds: float = 0.3) -> None:
    """Wait until no server notice has arrived for ``seconds`` (the pump may be held meanwhile)."""
    last, since = running.backend.statistics().server_events, time.monotonic()
    while time.monotonic() - since < seconds:
        await asyncio.sleep(0.02)
        events = running.backend.statistics().server_events
        if events != last:
            last, since = events, time.monotonic()
