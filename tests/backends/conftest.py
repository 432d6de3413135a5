"""Fixtures for the PulseAudio / PipeWire backend tests: a private server, and a started backend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from audiolab.events import Event
from tests.servers import AudioServer, pipewire_server, pulseaudio_server

SERVERS = {"pulseaudio": pulseaudio_server, "pipewire": pipewire_server}

both = pytest.mark.parametrize(
    "server",
    [pytest.param("pipewire", marks=pytest.mark.pipewire), pytest.param("pulseaudio", marks=pytest.mark.pulse)],
    indirect=True,
)
"""Parametrize a test over both private servers (the ``server`` fixture), each with its marker."""


@pytest.fixture(params=sorted(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[AudioServer]:
    """A private server with one null sink: PulseAudio, then PipeWire + WirePlumber + pipewire-pulse."""
    with SERVERS[request.param]() as srv:
        yield srv


@pytest.fixture
def pa_server() -> Iterator[AudioServer]:
    with pulseaudio_server() as srv:
        yield srv


class Recorder:
    """Collects emitted events; ``await recorder.wait(kind, where=...)`` for the next match."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: str, session_id: str | None = None) -> list[Event]:
        return [e for e in self.events if e.kind == kind and (session_id is None or e.session_id == session_id)]

    async def wait(self, kind: str, where: Callable[[Event], bool] = lambda e: True, timeout: float = 5.0) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.kind == kind and where(event):
                    return event
            if time.monotonic() > deadline:
                raise AssertionError(f"no {kind} within {timeout} s; got {[e.kind for e in self.events]}")
            await asyncio.sleep(0.01)


async def wait_until(predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def quiet(running: Running, seconds: float = 0.3, timeout: float = 10.0) -> None:
    """Wait until the backend has had no server event for ``seconds`` (a new stream's settling changes on
    PipeWire, for one) and its pump has nothing left to re-read."""
    deadline = time.monotonic() + timeout
    last, since = running.backend.statistics().server_events, time.monotonic()
    while True:
        await asyncio.sleep(0.02)
        now = time.monotonic()
        events = running.backend.statistics().server_events
        if events != last:
            last, since = events, now
        elif now - since >= seconds and not running.backend._reads.dirty:
            return
        if now > deadline:
            raise AssertionError(f"the server did not go quiet for {seconds} s within {timeout} s")


class Running:
    """A started PulseBackend with its run() pump in a task, and the events it emitted."""

    def __init__(self, backend, recorder: Recorder, task: asyncio.Task) -> None:  # type: ignore[no-untyped-def]
        self.backend = backend
        self.recorder = recorder
        self.task = task

    def sessions_of(self, app: str) -> list:  # type: ignore[type-arg]
        return [s for s in self.backend.snapshot() if s.app == app]

    async def wait_sessions(self, app: str, count: int = 1, timeout: float = 5.0) -> list:  # type: ignore[type-arg]
        await wait_until(lambda: len(self.sessions_of(app)) >= count, timeout, f"{count} session(s) of {app!r}")
        return self.sessions_of(app)


async def start_backend(address: str, **options: object) -> Running:
    from audiolab.backends.pulse import PulseBackend

    backend = PulseBackend(server=address, **options)
    recorder = Recorder()
    await backend.start(recorder)
    task = asyncio.get_running_loop().create_task(backend.run())
    return Running(backend, recorder, task)


async def stop_backend(running: Running) -> None:
    await running.backend.aclose()
    running.task.cancel()
    try:
        await running.task
    except (asyncio.CancelledError, Exception):  # noqa: BLE001 - teardown: the task's own end does not matter
        pass


@pytest.fixture
async def running(server: AudioServer) -> AsyncIterator[Running]:
    r = await start_backend(server.address)
    try:
        yield r
    finally:
        await stop_backend(r)
