"""`audiolab sessions` and `audiolab watch` against a running PulseAudio server (a private one)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.servers import pulseaudio_server

pytestmark = pytest.mark.pulse


def audiolab(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "audiolab.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_sessions_json_and_watch_against_a_running_server():
    with pulseaudio_server() as server:
        player = server.play_tone(0.5, client_name="CLI Music", role="music")
        try:
            server.wait_sink_input("CLI Music")
            listed = audiolab("sessions", "--backend", "pulse", "--json", env=server.env)
            assert listed.returncode == 0, listed.stderr
            sessions = json.loads(listed.stdout)
            music = next(s for s in sessions if s["app"] == "CLI Music")
            assert (music["role"], music["flow"], music["state"], music["device"]) == (
                "music", "render", "active", server.sink)

            watcher = subprocess.Popen([sys.executable, "-m", "audiolab.cli", "watch", "--backend", "pulse", "--json",
                                        "--duration", "10"], env=server.env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
            try:
                index = server.wait_sink_input("CLI Music")[0]["index"]
                deadline = time.monotonic() + 8
                while "application.name = \"audiolab\"" not in server.pactl("list", "clients"):
                    assert time.monotonic() < deadline, "the watcher never connected"
                    time.sleep(0.1)
                for _ in range(3):  # repeated: the first may land while the watcher still reads the sessions
                    time.sleep(0.5)
                    server.pactl("set-sink-input-volume", index, "40%")
                    server.pactl("set-sink-input-volume", index, "50%")
                out, err = watcher.communicate(timeout=30)
            finally:
                watcher.kill()
                watcher.wait()
            assert watcher.returncode == 0, err
            events = [json.loads(line) for line in out.splitlines()]
            changes = [e for e in events if e["kind"] == "VolumeChanged" and e["session_id"] == music["id"]]
            assert changes and changes[-1]["volume"] == pytest.approx(0.5, abs=0.01)
            assert changes[-1]["origin"] == "other_client"
        finally:
            player.stop()
