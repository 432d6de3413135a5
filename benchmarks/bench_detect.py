"""Ducking of any app on a private PulseAudio: how soon audiolab reports it, and how often it reports one that
did not happen, beside a reference reader in the same run.

1. Latency: a music client (pacat, a 0.5 tone) plays; a phone client starts (module-role-ducking, volume=30%),
   ``--calls`` times. Figure: from the phone client's start to audiolab's ``Ducked`` (p50 / p99). Anchor: the same
   duck read by a reference script from ``parec --monitor-stream=<music sink input>`` peaks (the moment its
   level first falls 20 dB below the level before the call).
2. False ducks: ``--clients`` clients play program material (pink noise, speech, a music-like clip) for
   ``--seconds`` each while an event-role stream comes and goes every 5 s (no rule connects it to them).
   Figure: ducks reported per hour of material, extrapolated from what was played. Anchor: the same material's
   level changes that a naive reader (a fall of more than 6 dB between consecutive 0.25 s windows) would flag.

Run: python benchmarks/bench_detect.py [--calls 20] [--clients 6] [--seconds 100]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import audiolab  # noqa: E402
from audiolab.events import Ducked  # noqa: E402
from tests import material  # noqa: E402
from tests.servers import pulseaudio_server, require_binary  # noqa: E402

DUCKING = "module-role-ducking trigger_roles=phone ducking_roles=music volume=30%"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class ParecPeaks:
    """The reference: ``parec`` on the music stream's monitor, raw float32, peaks of 1/30 s blocks."""

    def __init__(self, env: dict[str, str], sink: str, sink_input: str) -> None:
        self.process = subprocess.Popen(
            [require_binary("parec"), f"--device={sink}.monitor", f"--monitor-stream={sink_input}", "--raw",
             "--format=float32le", "--rate=48000", "--channels=1", "--latency-msec=20"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
        self.peaks: list[tuple[float, float]] = []

    async def run(self) -> None:
        assert self.process.stdout is not None
        block = 1600 * 4
        loop = asyncio.get_running_loop()
        while True:
            data = await loop.run_in_executor(None, self.process.stdout.read, block)
            if not data:
                return
            self.peaks.append((time.perf_counter(), float(np.abs(np.frombuffer(data, "<f4")).max())))

    def first_drop_after(self, t0: float, drop_db: float = 20.0) -> float | None:
        before = [p for t, p in self.peaks if t0 - 1.0 <= t < t0]
        if not before:
            return None
        limit = max(before) * 10 ** (-drop_db / 20)
        return next((t for t, p in self.peaks if t >= t0 and p < limit), None)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


async def latency(calls: int) -> tuple[list[float], list[float]]:
    with pulseaudio_server(modules=[DUCKING]) as server:
        server.play_tone(0.5, client_name="Music", role="music", seconds=calls * 6.0 + 30.0)  # outlasts the calls
        (music,) = server.wait_sink_input("Music")
        reference = ParecPeaks(server.env, server.sink, music["index"])
        ours: list[float] = []
        theirs: list[float] = []
        async with audiolab.open("pulse", server=server.address, detect_ducking=True) as lab, lab.events() as events:
            reader = asyncio.get_running_loop().create_task(reference.run())
            await asyncio.sleep(3.0)
            for _ in range(calls):
                t0 = time.perf_counter()
                phone = server.play_tone(0.5, client_name="Phone", role="phone")
                with anyio.move_on_after(8.0):  # a duck not reported within 8 s counts as missed
                    while True:
                        event = await events.receive()
                        if isinstance(event, Ducked):
                            ours.append(time.perf_counter() - t0)
                            break
                await asyncio.sleep(0.5)
                dropped = reference.first_drop_after(t0)
                if dropped is not None:
                    theirs.append(dropped - t0)
                phone.stop()
                await asyncio.sleep(3.5)  # the unduck, and a clean window before the next call
            reference.close()
            reader.cancel()
        return ours, theirs


async def false_ducks(clients: int, seconds: float) -> tuple[int, int, float]:
    tmp = Path(tempfile.mkdtemp(prefix="al-bench-"))
    makers = [lambda s: material.pink_noise(s), lambda s: material.speech(s, tmp), lambda s: material.music_like(s)]
    signals = [makers[i % 3](seconds) for i in range(clients)]
    naive = 0
    for signal in signals:
        levels = [float(np.abs(w).max()) for w in np.array_split(signal, int(seconds * 4))]
        naive += sum(1 for a, b in itertools.pairwise(levels) if a > 0 and 20 * np.log10(max(b, 1e-9) / a) < -6)
    with pulseaudio_server(modules=[DUCKING]) as server:
        players = []
        for i, signal in enumerate(signals):
            path = material.write_wav(tmp / f"m{i}.wav", signal)
            players.append(subprocess.Popen([require_binary("paplay"), f"--client-name=m{i}",
                                             "--property=media.role=music", str(path)], env=server.env,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for i in range(clients):
            server.wait_sink_input(f"m{i}", timeout=10)
        found = 0
        async with audiolab.open("pulse", server=server.address, detect_ducking=True) as lab, lab.events() as events:
            end = time.perf_counter() + seconds - 2
            while time.perf_counter() < end:
                beeper = server.play_tone(0.3, client_name="Beeper", role="event")
                await asyncio.sleep(2.5)
                beeper.stop()
                await asyncio.sleep(2.5)
                while True:
                    try:
                        event = events.receive_nowait()
                    except Exception:  # noqa: BLE001 - WouldBlock: nothing more now
                        break
                    found += isinstance(event, Ducked)
        for p in players:
            p.kill()
            p.wait()
    return found, naive, clients * seconds


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=100.0)
    args = parser.parse_args()
    ours, theirs = await latency(args.calls)
    print(f"trigger -> Ducked of an external client ({len(ours)} of {args.calls} calls reported): p50 {statistics.median(ours) * 1000:.0f} ms, "
          f"p99 {_pct(ours, 0.99) * 1000:.0f} ms | anchor parec --monitor-stream drop seen: "
          f"p50 {statistics.median(theirs) * 1000:.0f} ms, p99 {_pct(theirs, 0.99) * 1000:.0f} ms")
    found, naive, played = await false_ducks(args.clients, args.seconds)
    hours = played / 3600
    print(f"false ducks over {played / 60:.1f} min of material (pink noise, speech, music-like) with an unrelated "
          f"stream every 5 s: {found} -> {found / hours:.1f} per hour | anchor, a naive 6 dB step reader on the same "
          f"material: {naive} -> {naive / hours:.0f} per hour")


if __name__ == "__main__":
    asyncio.run(main())
