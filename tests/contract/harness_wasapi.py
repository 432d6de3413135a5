"""Contract harnesses for the WASAPI backend.

- ``wasapi-fake`` (everywhere): the backend over :class:`FakeCom`; other apps are fake processes. On exit it
  asserts that every COM reference was released and every registration undone, with no protocol violation.
- ``wasapi`` (Windows only, when ``AUDIOLAB_WASAPI_REAL=1``): the backend over real COM; each app is a
  separate Python process playing a tone through sounddevice on the default render device, so it is a real
  session of its own. The CI workflow .github/workflows/windows.yml runs it on a virtual audio device.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from audiolab import ClosedResourceError, Lab, Role
from audiolab import open as open_lab
from audiolab.backends.wasapi import WasapiBackend
from audiolab.testing import FakeCom

from .harness import App, Harness


class FakeApp(App):
    def __init__(self, harness: FakeHarness, name: str, role: Role) -> None:
        self._fake = harness.fake
        self._process = harness.fake.process(name.replace(" ", ""))
        harness.backend.tag_process(self._process.pid, app=name, role=role)
        self._stream = self._process.open_stream(display_name=name, start=True)
        self.session_id = self._stream.session_id

    async def stop(self) -> None:
        self._stream.stop()

    async def start(self) -> None:
        self._stream.start()

    async def close(self) -> None:
        self._process.exit()

    async def set_volume_elsewhere(self, volume: float) -> None:
        self._fake.set_volume_elsewhere(self.session_id, volume)


class FakeHarness(Harness):
    name = "wasapi-fake"

    def __init__(self, lab: Lab, fake: FakeCom) -> None:
        self.lab = lab
        self.fake = fake

    @property
    def backend(self) -> WasapiBackend:
        backend = self.lab.backend
        assert isinstance(backend, WasapiBackend)
        return backend

    async def start_app(self, app: str, role: Role) -> App:
        return FakeApp(self, app, role)

    async def settle(self) -> None:
        # Notifications come from the fake's thread; sessions also pass through the COM thread.
        await anyio.to_thread.run_sync(self.fake.wait_idle)
        try:
            await self.backend.sync()
        except ClosedResourceError:
            pass
        for _ in range(3):
            await anyio.lowlevel.checkpoint()


@asynccontextmanager
async def fake_harness() -> AsyncIterator[Harness]:
    with FakeCom() as fake:
        async with open_lab("wasapi", com=fake) as lab:
            yield FakeHarness(lab, fake)
        assert fake.violations == []
        assert fake.references == 0, f"{fake.references} COM references left"
        assert fake.registrations == 0, f"{fake.registrations} registrations left"


HARNESSES: dict[str, object] = {"wasapi-fake": fake_harness}


# --- real Windows ------------------------------------------------------------------------------------------------

_TONE_APP = r"""
import os, sys
import numpy as np
import sounddevice as sd

phase = 0
def callback(out, frames, time, status):
    global phase
    t = (np.arange(frames) + phase) / 48000.0
    out[:] = (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32).reshape(-1, 1)
    phase += frames

stream = sd.OutputStream(samplerate=48000, channels=1, dtype="float32", callback=callback)
stream.start()
print("ready", flush=True)
for line in sys.stdin:
    command, _, arg = line.strip().partition(" ")
    if command == "stop":
        stream.stop()
    elif command == "start":
        stream.start()
    elif command == "volume":
        from pycaw.pycaw import AudioUtilities
        for session in AudioUtilities.GetAllSessions():
            if session.ProcessId == os.getpid():
                session.SimpleAudioVolume.SetMasterVolume(float(arg), None)
    elif command == "exit":
        break
    print("ok", flush=True)
stream.close()
"""


class ToneProcessApp(App):
    """A separate process playing a tone: a real session of its own."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process
        self.session_id = ""

    async def _command(self, line: str) -> None:
        def send() -> None:
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(line + "\n")
            self._process.stdin.flush()
            self._process.stdout.readline()

        await anyio.to_thread.run_sync(send)

    async def stop(self) -> None:
        await self._command("stop")

    async def start(self) -> None:
        await self._command("start")

    async def set_volume_elsewhere(self, volume: float) -> None:
        await self._command(f"volume {volume}")

    async def close(self) -> None:
        if self._process.poll() is None:
            try:
                await self._command("exit")
            except (BrokenPipeError, OSError):
                pass
            await anyio.to_thread.run_sync(self._process.wait, 10)


class RealHarness(Harness):
    name = "wasapi"

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.apps: list[ToneProcessApp] = []

    async def start_app(self, app: str, role: Role) -> App:
        process = subprocess.Popen([sys.executable, "-c", _TONE_APP], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   text=True)
        backend = self.lab.backend
        assert isinstance(backend, WasapiBackend)
        backend.tag_process(process.pid, app=app, role=role)
        tone = ToneProcessApp(process)
        self.apps.append(tone)
        assert process.stdout is not None
        await anyio.to_thread.run_sync(process.stdout.readline)
        with anyio.fail_after(10):
            while True:
                found = [s for s in self.lab.snapshot() if s.pid == process.pid]
                if found:
                    tone.session_id = found[0].id
                    return tone
                await anyio.sleep(0.05)

    async def settle(self) -> None:
        await anyio.sleep(0.2)


@asynccontextmanager
async def real_harness() -> AsyncIterator[Harness]:
    async with open_lab("wasapi") as lab:
        harness = RealHarness(lab)
        try:
            yield harness
        finally:
            for app in harness.apps:
                with anyio.CancelScope(shield=True):
                    await app.close()


if sys.platform == "win32" and os.environ.get("AUDIOLAB_WASAPI_REAL") == "1":
    HARNESSES["wasapi"] = real_harness
