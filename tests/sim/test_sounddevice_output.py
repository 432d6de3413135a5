"""`--backend sim` with sounddevice output really plays into a (private) PulseAudio server."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from tests.servers import pulseaudio_server

REPO = Path(__file__).resolve().parents[2]
SR = 48000

PLAYER = textwrap.dedent(
    """
    import anyio, audiolab
    from audiolab.tones import sine

    async def main():
        async with audiolab.open(policy="none", output="sounddevice") as lab:
            async with lab.play(sine(440, amplitude=0.5), app="Speaker test"):
                await lab.sleep(3.0)

    anyio.run(main)
    """
)


@pytest.mark.pulse
def test_the_simulated_mix_plays_into_pulseaudio_through_sounddevice(tmp_path):
    if shutil.which("parec") is None:
        pytest.fail("parec is missing: install the Debian package pulseaudio-utils", pytrace=False)
    with pulseaudio_server() as server:
        recording = tmp_path / "monitor.raw"
        with open(recording, "wb") as out:
            recorder = subprocess.Popen(
                ["parec", "-d", f"{server.sink}.monitor", "--raw", "--format=float32le", "--channels=2",
                 f"--rate={SR}"],
                env=server.env, stdout=out,
            )
            try:
                time.sleep(0.3)
                player = subprocess.run([sys.executable, "-c", PLAYER], env={**server.env, "PYTHONPATH": str(REPO)},
                                        capture_output=True, text=True, timeout=60)
                time.sleep(0.3)
            finally:
                recorder.terminate()
                recorder.wait(timeout=5)
    assert player.returncode == 0, player.stderr
    x = np.fromfile(recording, np.float32)
    x = x[: len(x) // 2 * 2].reshape(-1, 2)
    loud = x[np.abs(x[:, 0]) > 0][:, 0]
    assert len(loud) > SR // 2  # of 3 s played, at least half a second reached the server (2 s here, idle)
    assert np.abs(x).max() == pytest.approx(0.5, abs=0.01)
    middle = loud[len(loud) // 2 - SR // 4: len(loud) // 2 + SR // 4]
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle))))
    assert np.argmax(spectrum) * SR / len(middle) == pytest.approx(440, abs=3)
