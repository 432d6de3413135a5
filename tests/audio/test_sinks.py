from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
import types
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audiolab import BackendUnavailable
from audiolab.audio import sinks
from audiolab.audio.sinks import NullSink, SoundDeviceSink, WavSink
from audiolab.audio.synth import sine

SR = 48000
N = 480
REPO = Path(__file__).resolve().parents[2]


def test_null_sink_counts() -> None:
    sink = NullSink(2)
    for _ in range(3):
        sink.write(np.zeros((N, 2), np.float32))
    with pytest.raises(ValueError):
        sink.write(np.zeros((N, 3), np.float32))
    stats = sink.statistics()
    assert (stats.blocks, stats.frames) == (3, 3 * N)


def test_wav_sink_round_trip_clips_and_renames(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    src = sine(440, 0.5).render(SR, 2)
    with WavSink(path, SR, 2) as sink:
        sink.write(src.read(SR // 2))
        assert not path.exists() and Path(str(path) + ".part").exists()
        sink.write(np.full((10, 2), 3.0, np.float32))  # clipped, not wrapped
    assert path.exists() and not Path(str(path) + ".part").exists()
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth(), w.getnframes()) == (2, SR, 2, SR // 2 + 10)
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2) / 32767.0
    assert np.abs(pcm[: SR // 2]).max() == pytest.approx(0.5, abs=1e-4)
    assert np.all(pcm[SR // 2 :] == 1.0)
    spectrum = np.abs(np.fft.rfft(pcm[: SR // 2, 0] * np.hanning(SR // 2)))
    assert np.argmax(spectrum) * 2 == pytest.approx(440, abs=2)


def test_wav_sink_error_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.wav"
    with pytest.raises(RuntimeError), WavSink(path, SR, 1) as sink:
        sink.write(np.zeros((N, 1), np.float32))
        raise RuntimeError("engine crashed")
    assert list(tmp_path.iterdir()) == []


class _FakeStream:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.latency = 0.01
        self.active = False

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def close(self) -> None:
        pass


class _Status:
    output_underflow = False


@pytest.fixture
def fake_sd(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.SimpleNamespace(OutputStream=_FakeStream)
    monkeypatch.setattr(sinks, "_import_sounddevice", lambda: module)


def pull(sink: SoundDeviceSink, frames: int) -> np.ndarray:
    out = np.full((frames, sink.channels), 9.0, np.float32)
    sink._callback(out, frames, None, _Status())
    return out


def test_ring_buffer_order_overflow_underflow(fake_sd: None) -> None:
    sink = SoundDeviceSink(SR, 1, block_frames=4, buffer_blocks=2)  # ring of 8 frames
    assert not pull(sink, 4).any() and sink.statistics().underflows == 0  # not primed yet: no underflow
    sink.write(np.arange(1, 7, dtype=np.float32)[:, None] / 100)
    assert np.allclose(pull(sink, 4)[:, 0] * 100, [1, 2, 3, 4])
    sink.write(np.arange(7, 13, dtype=np.float32)[:, None] / 100)  # 2 + 6 = 8: exactly full
    sink.write(np.array([[13.0], [14.0]], np.float32) / 100)  # drops the 2 oldest (5, 6)
    assert sink.buffered_frames == 8
    assert np.allclose(pull(sink, 8)[:, 0] * 100, [7, 8, 9, 10, 11, 12, 13, 14])
    got = pull(sink, 4)[:, 0]
    assert not got.any()
    sink.write(np.array([[2.0], [-2.0]], np.float32))  # clipped on the way in
    assert pull(sink, 4)[:, 0].tolist() == [1.0, -1.0, 0.0, 0.0]
    stats = sink.statistics()
    assert (stats.overflows, stats.dropped_frames, stats.underflows, stats.blocks, stats.frames) == (1, 2, 2, 4, 16)
    sink.close()
    sink.close()


def test_ring_buffer_wraps_around(fake_sd: None) -> None:
    sink = SoundDeviceSink(SR, 2, block_frames=3, buffer_blocks=2)  # 6 frames
    src = sine(1000, 0.5).render(SR, 2)
    written, played = [], []
    for _ in range(50):
        block = src.read(3)
        written.append(block)
        sink.write(block)
        played.append(pull(sink, 3))
    assert np.array_equal(np.concatenate(written), np.concatenate(played))
    assert sink.statistics().underflows == 0 and sink.statistics().overflows == 0


def test_missing_sounddevice_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # makes `import sounddevice` raise ImportError
    with pytest.raises(BackendUnavailable, match="sounddevice"):
        SoundDeviceSink()


PLAYER = textwrap.dedent(
    """
    import json, sys, time
    from audiolab.audio.sinks import SoundDeviceSink
    from audiolab.audio.synth import sine
    src = sine(440, 0.5).render(48000, 2)
    with SoundDeviceSink(48000, 2, 480, device=sys.argv[1], latency=0.05, buffer_blocks=16) as sink:
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            while sink.buffered_frames < 8 * 480:
                sink.write(src.read(480))
            time.sleep(0.005)
        time.sleep(0.2)
        stats = sink.statistics()
    print(json.dumps({"blocks": stats.blocks, "underflows": stats.underflows, "overflows": stats.overflows}))
    """
)


@pytest.mark.pulse
def test_sounddevice_sink_plays_into_private_pulseaudio(pulse_server: Any, tmp_path: Path) -> None:
    if shutil.which("parec") is None:
        pytest.fail("parec is missing: install the Debian package pulseaudio-utils", pytrace=False)
    recording = tmp_path / "monitor.raw"
    with open(recording, "wb") as out:
        recorder = subprocess.Popen(
            ["parec", "-d", f"{pulse_server.sink}.monitor", "--raw", "--format=float32le", "--channels=2", "--rate=48000"],
            env=pulse_server.env,
            stdout=out,
        )
        try:
            time.sleep(0.3)
            player = subprocess.run(
                [sys.executable, "-c", PLAYER, "pulse"],
                env={**pulse_server.env, "PYTHONPATH": str(REPO)},
                capture_output=True,
                text=True,
                timeout=60,
            )
            time.sleep(0.3)
        finally:
            recorder.terminate()
            recorder.wait(timeout=5)
    if player.returncode != 0:
        pytest.fail(
            "playing through PortAudio's ALSA 'pulse' device failed; it needs libportaudio2 and "
            f"libasound2-plugins (and sounddevice installed):\n{player.stderr}",
            pytrace=False,
        )
    stats = json.loads(player.stdout.strip().splitlines()[-1])
    # ALSA's pulse plugin pulls in bursts and stalls ~1.5 s at start, so underflows happen; the writer paces
    # itself on buffered_frames, so it never overflows.
    assert stats["blocks"] >= 100 and stats["overflows"] == 0
    x = np.fromfile(recording, np.float32)
    x = x[: len(x) // 2 * 2].reshape(-1, 2)
    assert np.count_nonzero(np.abs(x[:, 0]) > 0) > SR // 2  # over half a second of tone arrived
    assert np.abs(x).max() == pytest.approx(0.5, abs=0.01)
    loud = x[np.abs(x[:, 0]) > 0][:, 0]
    middle = loud[len(loud) // 2 - SR // 4 : len(loud) // 2 + SR // 4]
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle))))
    assert np.argmax(spectrum) * SR / len(middle) == pytest.approx(440, abs=3)
