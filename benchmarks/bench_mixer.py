"""Cost of synthesising, mixing and metering N concurrent tone sessions, against PulseAudio's cost per stream.

    python benchmarks/bench_mixer.py [--seconds 3] [--streams 16]

audiolab: N batched sine sessions (ToneBank) mixed by one DeviceMixer at 48 kHz stereo in 10 ms blocks with
meters (per-session and device peaks), CPU time (process_time) per second of audio.
Anchor: a private PulseAudio with a null sink playing M `pacat` streams (10 ms latency) of generated float32
audio; the server's utime+stime from /proc/<pid>/stat over a few seconds, per stream per second.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audiolab.audio.bank import ToneBank  # noqa: E402
from audiolab.audio.mixer import DeviceMixer  # noqa: E402
from audiolab.audio.synth import sine  # noqa: E402

SR, BLOCK, CH = 48000, 480, 2


def audiolab_cost(sessions: int, seconds: float) -> float:
    """CPU seconds per second of audio for ``sessions`` tones (synthesis + mix + peaks)."""
    rng = np.random.default_rng(sessions)
    bank = ToneBank(SR, CH)
    for i in range(sessions):
        bank.add(i, sine(float(rng.uniform(50, 5000)), 0.5 / sessions, pan=float(rng.uniform(-1, 1))))
    mixer = DeviceMixer(SR, BLOCK, CH)
    gains = rng.uniform(0.2, 1.0, (sessions, CH))
    blocks = int(seconds * SR / BLOCK)
    for _ in range(20):  # warm up
        keys, x = bank.render(BLOCK)
        mixer.mix(keys, x, gains)
    start = time.process_time()
    for b in range(blocks):
        if b % 50 == 0:  # a volume change every half second keeps the ramp path in the measurement
            gains[b % sessions] *= 0.9
        keys, x = bank.render(BLOCK)
        result = mixer.mix(keys, x, gains)
    cpu = time.process_time() - start
    assert result.peaks.shape == (sessions, CH)
    return cpu / (blocks * BLOCK / SR)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def pulseaudio_cost(streams: int, seconds: float) -> float | None:
    """PulseAudio server CPU seconds per stream per second of audio, or None if pulseaudio/pacat are missing."""
    if not (shutil.which("pulseaudio") and shutil.which("pacat") and shutil.which("pactl")):
        return None
    tmp = Path(tempfile.mkdtemp(prefix="bench-pulse-"))
    sock = tmp / "native"
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp), "PULSE_RUNTIME_PATH": str(tmp), "HOME": str(tmp),
           "PULSE_SERVER": f"unix:{sock}"}
    server = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit", "--system=false",
         "--use-pid-file=false", "-L", "module-null-sink sink_name=bench rate=48000 channels=2",
         "-L", f"module-native-protocol-unix auth-anonymous=1 socket={sock}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    players: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(100):
            if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        raw = tmp / "noise.raw"
        np.random.default_rng(0).uniform(-0.1, 0.1, (SR * 60, CH)).astype("<f4").tofile(raw)
        for _ in range(streams):
            players.append(subprocess.Popen(
                ["pacat", "--playback", "--raw", "--format=float32le", "--rate=48000", "--channels=2",
                 "--latency-msec=10", "-d", "bench", str(raw)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
        time.sleep(1.5)  # let the streams settle
        if any(p.poll() is not None for p in players):
            return None
        c0, t0 = _cpu_seconds(server.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = _cpu_seconds(server.pid), time.monotonic()
        return (c1 - c0) / (t1 - t0) / streams
    finally:
        for p in players:
            p.terminate()
        for p in players:
            p.wait(timeout=5)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of audio per measurement")
    parser.add_argument("--streams", type=int, default=16, help="pacat streams for the PulseAudio anchor")
    args = parser.parse_args()

    print(f"audiolab ToneBank + DeviceMixer, {SR} Hz, {CH} ch, {BLOCK}-frame blocks, meters on")
    print(f"{'sessions':>8} {'CPU s / s audio':>16} {'% of one core':>14} {'per session us/s':>17}")
    per_session = {}
    for n in (1, 64, 256, 1024):
        cost = audiolab_cost(n, args.seconds)
        per_session[n] = cost / n
        print(f"{n:>8} {cost:>16.4f} {100 * cost:>13.1f}% {1e6 * cost / n:>17.1f}")

    anchor = pulseaudio_cost(args.streams, args.seconds)
    print()
    if anchor is None:
        print("PulseAudio anchor: unavailable (needs pulseaudio and pulseaudio-utils)")
        return
    print(f"PulseAudio anchor: {args.streams} pacat streams into a null sink, 10 ms latency")
    print(f"  server CPU per stream: {anchor:.5f} s/s ({1e6 * anchor:.1f} us/s, {100 * anchor:.2f}% of a core)")
    ratio = anchor / per_session[1024]
    print(f"  audiolab at 1024 sessions: {1e6 * per_session[1024]:.1f} us/s per session -> {ratio:.0f}x cheaper per stream")
    goal_core = per_session[1024] * 1024 < 0.5
    print(f"goal: 1024 sessions under half a core: {'met' if goal_core else 'MISSED'}; "
          f">=10x cheaper than PulseAudio: {'met' if ratio >= 10 else 'MISSED'}")


if __name__ == "__main__":
    main()
