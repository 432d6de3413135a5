"""The server goes away: disconnect signalled fast, nothing more emitted, no leaked tasks; reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

import pytest

from audiolab._exceptions import BackendDisconnected, BackendUnavailable
from audiolab.backends.pulse import PulseBackend
from tests.servers import pulseaudio_server

from .conftest import both, quiet, start_backend, stop_backend

pytestmark = [pytest.mark.anyio]


@both
async def test_server_killed_raises_from_run_within_a_second(server) -> None:  # type: ignore[no-untyped-def]
    running = await start_backend(server.address)
    try:
        server.play_tone(0.3, client_name="victim")
        await running.wait_sessions("victim")
        await running.backend.start_meters()
        await quiet(running)  # a new stream's settling changes (PipeWire) come before the kill, not after
        tasks_before = asyncio.all_tasks()
        count = len(running.recorder.events)
        server.kill()  # SIGKILL, then waits for each daemon (several on PipeWire) to be gone
        started = time.monotonic()
        with pytest.raises(BackendDisconnected):
            await asyncio.wait_for(asyncio.shield(running.task), 1.0)
        assert time.monotonic() - started < 1.0
        assert len(running.recorder.events) == count  # nothing more emitted
        with pytest.raises(BackendDisconnected):
            await running.backend.set_volume(running.sessions_of("victim")[0].id if running.sessions_of("victim") else "x", 0.5)
        await asyncio.sleep(0.05)
        leaked = {t for t in asyncio.all_tasks() - tasks_before if not t.done()}
        assert not leaked, leaked
    finally:
        await stop_backend(running)


@pytest.mark.pulse
async def test_reconnect_emits_fresh_snapshot(tmp_path) -> None:  # type: ignore[no-untyped-def]
    socket = f"/tmp/al-reconnect-{id(tmp_path)}.sock"
    with pulseaudio_server(socket=socket) as first:
        running = await start_backend(first.address, reconnect=True)
        try:
            first.play_tone(0.3, client_name="before")
            (old,) = await running.wait_sessions("before")
            await running.backend.start_meters()
            first.kill()
            await running.recorder.wait("SessionRemoved", lambda e: e.session_id == old.id, timeout=5)
            assert running.backend.snapshot() == []
            assert running.backend.read_meters().peaks == {}  # a meter ticker keeps reading while it is away
            assert not running.task.done()
        except BaseException:
            await stop_backend(running)
            raise
    try:
        with pulseaudio_server(socket=socket) as second:  # the server comes back at the same address
            second.play_tone(0.3, client_name="after")
            event = await running.recorder.wait("SessionCreated", lambda e: e.session.app == "after", timeout=10)
            assert event.session_id in {s.id for s in running.backend.snapshot()}
            peak = 0.0
            for _ in range(200):  # the meters came back with the connection
                await asyncio.sleep(0.05)
                peak = running.backend.read_meters().peaks.get(event.session_id, 0.0)
                if abs(peak - 0.3) <= 0.02:
                    break
            assert peak == pytest.approx(0.3, abs=0.02)
            assert running.backend.statistics().reconnects == 1
            assert not running.task.done()
            await stop_backend(running)
    finally:
        await stop_backend(running)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(socket)


async def test_no_server_is_backend_unavailable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    backend = PulseBackend(server=f"unix:{tmp_path}/nothing-here")
    with pytest.raises(BackendUnavailable):
        await backend.start(lambda e: None)
    await backend.aclose()


@both
async def test_probe(server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PULSE_SERVER", server.address)
    assert await PulseBackend.probe() is True
    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent/native")
    assert await PulseBackend.probe() is False


def test_bad_options() -> None:
    with pytest.raises(TypeError):
        PulseBackend(bogus=1)
    with pytest.raises(ValueError):
        PulseBackend(meter_rate=0)


@both
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])  # under trio through the bridge (_bridge.py)
async def test_lab_surfaces_disconnect_to_subscribers(server) -> None:  # type: ignore[no-untyped-def]
    import threading

    import audiolab

    async with audiolab.open(backend="pulse", server=server.address) as lab:
        server.play_tone(0.3, client_name="lab-app")
        async with lab.events() as events:
            async for event in events:
                if event.kind == "SessionCreated" and event.session.app == "lab-app":
                    break
            server.kill()
            started = time.monotonic()
            with pytest.raises(BackendDisconnected):
                async for _ in events:
                    pass
            assert time.monotonic() - started < 1.0
        with pytest.raises(BackendDisconnected):
            lab.snapshot()
    assert not [t for t in threading.enumerate() if t.name.startswith("audiolab-asyncio")]


async def test_calls_asked_as_the_connection_closes_raise_instead_of_aborting(pa_server) -> None:  # type: ignore[no-untyped-def]
    """A query or control call starts a loop step after it is asked; a close() in that gap must not hand
    libpulse a NULL context (libpulse aborts the whole process on that)."""
    from audiolab.backends._pulse.connection import Connection

    conn = Connection(pa_server.address)
    await conn.connect()
    query = asyncio.ensure_future(conn.query("sink_input_list"))
    control = asyncio.ensure_future(conn.call("sink_input_mute", 0, True))
    await asyncio.sleep(0)  # both have begun and scheduled their libpulse step
    conn.close()
    for pending in (query, control):
        with pytest.raises(BackendDisconnected):
            await pending
    with pytest.raises(BackendDisconnected):
        conn.own_client_index()


@pytest.mark.pulse
async def test_a_full_server_is_told_apart_from_no_server(pa_server) -> None:  # type: ignore[no-untyped-def]
    """PulseAudio takes 64 clients; the 65th is answered and dropped: the error says so, not "no server"."""
    import pulsectl_asyncio

    holders = []
    try:
        while True:  # fill the server up (it already has a client or two of its own making)
            client = pulsectl_asyncio.PulseAsync(f"filler-{len(holders)}", server=pa_server.address)
            try:
                await client.connect(timeout=3)
            except Exception:  # noqa: BLE001  (the server is full: what this test wants)
                client.close()
                break
            holders.append(client)
            assert len(holders) <= 64
        backend = PulseBackend(server=pa_server.address)
        with pytest.raises(BackendUnavailable, match=r"answered and then dropped the connection .*64 clients"):
            await backend.start(lambda e: None)
        await backend.aclose()
    finally:
        for client in holders:
            client.close()


async def test_the_default_address_is_named_by_its_socket(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("PULSE_SERVER", raising=False)
    monkeypatch.delenv("PULSE_RUNTIME_PATH", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    backend = PulseBackend()
    with pytest.raises(BackendUnavailable, match=f"unix:{tmp_path}/pulse/native \\(the default\\)"):
        await backend.start(lambda e: None)
    await backend.aclose()
