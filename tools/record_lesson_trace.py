"""Record the trace that ``notebooks/07-debugging-a-real-server.ipynb`` replays where no PulseAudio can be
started: a private PulseAudio 16 with module-role-ducking (phone ducks music to volume=30 %), a music
client, a phone call that ducks it, and another client turning the music down by hand.

    .venv/bin/python tools/record_lesson_trace.py datasets/traces/pulseaudio-phone-ducks-music.jsonl

It uses the test suite's private server (tests/servers.py: a null sink in a private runtime directory) and
``audiolab record``, the command a user would run on their own machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import pulseaudio_server  # noqa: E402

DUCKING = "module-role-ducking trigger_roles=phone ducking_roles=music volume=30%"


def main(out: str) -> int:
    with pulseaudio_server(modules=[DUCKING]) as server:
        env = {**os.environ, **server.env}
        recorder = subprocess.Popen(
            [str(Path(sys.executable).with_name("audiolab")), "record", out, "--backend", "pulse", "--duration", "19"], env=env)
        time.sleep(2.0)
        server.play_tone(0.5, role="music", client_name="Rhythmbox", latency_msec=None, seconds=30)
        time.sleep(4.0)
        call = server.play_tone(0.4, role="phone", client_name="Linphone", seconds=30)
        time.sleep(4.5)
        call.stop()
        time.sleep(3.5)
        music = server.wait_sink_input("Rhythmbox")[0]
        server.pactl("set-sink-input-volume", music["index"], "60%")  # someone else turns it down
        return recorder.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "datasets/traces/pulseaudio-phone-ducks-music.jsonl"))
