"""Fixtures for the audio tests, including a private PulseAudio daemon with a null sink.

`start_private_pulseaudio` is a plain function so it can move to a shared test helper later.
Needs the Debian packages pulseaudio and pulseaudio-utils (and, for PortAudio playback into it,
libportaudio2 and libasound2-plugins). When they are missing the tests that need them FAIL with a message
naming the packages; they never skip silently.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

PULSE_PACKAGES = "pulseaudio pulseaudio-utils libportaudio2 libasound2-plugins"


@dataclass
class PulseServer:
    """A running private PulseAudio: ``env`` holds the variables a client process needs."""

    process: subprocess.Popen[bytes]
    runtime_dir: Path
    env: dict[str, str]
    sink: str = "testsink"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def require_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.fail(
            f"missing {', '.join(missing)}: install the Debian packages {PULSE_PACKAGES} "
            "(`make test` does this)",
            pytrace=False,
        )


def start_private_pulseaudio(tmpdir: str | os.PathLike[str], extra_modules: Sequence[str] = (), sink: str = "testsink") -> PulseServer:
    """Start ``pulseaudio`` in a private runtime dir with a float32 48 kHz stereo null sink named ``sink``.

    Clients must use ``server.env`` (XDG_RUNTIME_DIR, PULSE_RUNTIME_PATH, PULSE_SERVER, HOME). Runs as root
    too (with a warning from pulseaudio). Call ``stop()`` when done; returns once ``pactl info`` answers.
    """
    require_tools("pulseaudio", "pactl")
    runtime = Path(tmpdir) / "pulse"
    runtime.mkdir(parents=True, exist_ok=True)
    socket = runtime / "native"
    env = dict(os.environ)
    env.update(
        XDG_RUNTIME_DIR=str(runtime),
        PULSE_RUNTIME_PATH=str(runtime),
        PULSE_STATE_PATH=str(runtime / "state"),
        PULSE_SERVER=f"unix:{socket}",
        HOME=str(runtime),
    )
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    modules = [
        f"module-null-sink sink_name={sink} rate=48000 channels=2 format=float32le",
        f"module-native-protocol-unix auth-anonymous=1 socket={socket}",
        *extra_modules,
    ]
    cmd = [
        "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
        "--system=false", "--use-pid-file=false", "--log-target=stderr",
    ]
    for module in modules:
        cmd += ["-L", module]
    log = open(runtime / "pulseaudio.log", "wb")  # noqa: SIM115 - lives as long as the daemon
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    server = PulseServer(process, runtime, env, sink)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        ok = subprocess.run(["pactl", "info"], env=env, capture_output=True, timeout=5).returncode == 0
        if ok:
            return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"private pulseaudio did not start: {(runtime / 'pulseaudio.log').read_text(errors='replace')}")


@pytest.fixture
def pulse_server(tmp_path: Path) -> Iterator[PulseServer]:
    server = start_private_pulseaudio(tmp_path)
    try:
        yield server
    finally:
        server.stop()
