"""Server-side meters at scale, against two anchors measured in the same run for the same streams.

For N pacat tones of known amplitudes with pacat's default 2 s buffer (as paplay's) on a private server, each of three ways of metering them runs on a fresh
server (so no way inherits another's memory), after the same tones played 5 s unmetered (the baseline window):

- audiolab: ``PulseBackend`` meters (on PipeWire native ones: a capture stream per tone through libpipewire,
  outside pipewire-pulse, see audiolab/backends/_pipewire/meter.py);
- audiolab-pulse (PipeWire only): ``PulseBackend(native_meters=False)``, its pulse-protocol meters (streams 8 to
  a connection, peaks in 0.25 s batches), also its fallback when libpipewire cannot be loaded;
- pavucontrol's method: one connection, one PEAK_DETECT record stream per sink-input at 25 samples/s, one frame
  per fragment (what pavucontrol does);
- ``parec --monitor-stream``: one process and connection per sink-input, full-rate float audio, peaks taken here.

Figures per way: the fraction of tones read right (within 0.02 on each of ten reads 0.1 s apart, after a 3 s
settle, for native meters counted from when every meter delivers, see LINK_WAIT; a meter with no new sample holds its last value 0.5 s, audiolab its own hold), the metering side's CPU
(audiolab's process, or the parec processes), and the server's extra CPU and RSS against the baseline window.
The server is pipewire-pulse (PipeWire) or pulseaudio; on PipeWire the PipeWire daemon's extra CPU and RSS too
(where native meters cost: their nodes, links and buffers live there).

Run: python benchmarks/bench_meters.py [--quick] [--only pipewire:100 ...]
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audiolab.backends._pipewire.meter import NativeMeters
from audiolab.backends._pulse.connection import Connection
from audiolab.backends._pulse.peak_stream import HOLD_SECONDS, PeakStream
from audiolab.backends.pulse import PulseBackend
from tests.servers import AudioServer, ProcessUsage, pipewire_server, process_usage, pulseaudio_server

AMPLITUDES = (0.5, 0.25, 0.125, 0.375, 0.625, 0.75, 0.875, 0.0625)
SETTLE, WINDOW, TOLERANCE = 3.0, 5.0, 0.02
LINK_WAIT = 20.0
"""Native meters: the settle starts once every meter delivers (WirePlumber 0.4 links dozens of new streams in
seconds: ~2 s for 40, ~10 s for 100 here), at most this long after start_meters."""
Reader = Callable[[], dict[int, float | None]]
"""Peak per sink-input since the last read, None when nothing new came."""


@dataclass
class Result:
    right: float
    own_cpu: float
    server_cpu: float
    server_rss: float
    metered: int
    """Tones the way metered (audiolab-pulse leaves some out on PipeWire at 100, and says so)."""
    daemon_cpu: float = 0.0
    daemon_rss: float = 0.0
    """The PipeWire daemon's extra CPU and RSS (0 on PulseAudio)."""


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


@contextlib.asynccontextmanager
async def _audiolab(server: AudioServer, indices: list[int], native: bool = True) -> AsyncIterator[tuple[Reader, list[int]]]:
    backend = PulseBackend(server=server.address, native_meters=native)
    await backend.start(lambda event: None)
    await backend.start_meters()
    started = time.monotonic()
    meters = backend._meters
    if isinstance(meters, NativeMeters):
        for _ in range(int(LINK_WAIT / 0.1)):  # polled: the meters signal nothing when they first deliver
            if meters.delivering >= meters.open_count:
                break
            await asyncio.sleep(0.1)
        print(f"  (native: {meters.delivering} of {meters.open_count} meters delivering "
              f"{time.monotonic() - started:.1f} s after start_meters)", flush=True)
    streams = {int(m.id.rsplit("/", 1)[1]): s.id for s in backend.snapshot() for m in s.streams}

    def read() -> dict[int, float | None]:
        frame = backend.read_meters()
        return {i: None if streams.get(i) in frame.unmeasured else frame.peaks.get(streams.get(i, ""), 0.0)
                for i in indices}

    pump = asyncio.get_running_loop().create_task(backend.run())
    try:
        yield read, []
    finally:
        await backend.aclose()
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump


@contextlib.asynccontextmanager
async def _pavucontrol(server: AudioServer, indices: list[int]) -> AsyncIterator[tuple[Reader, list[int]]]:
    conn = Connection(server.address, "bench pavucontrol")
    await conn.connect()
    meters = {i: PeakStream(conn, f"{server.sink}.monitor", 2, 25, i) for i in indices}

    def read() -> dict[int, float | None]:
        out: dict[int, float | None] = {}
        for i, meter in meters.items():
            pending, meter.reading.pending = meter.reading.pending, None
            out[i] = None if pending is None else max(pending)
        return out

    try:
        yield read, []
    finally:
        for meter in meters.values():
            meter.close()
        conn.close()


@contextlib.asynccontextmanager
async def _parec(server: AudioServer, indices: list[int]) -> AsyncIterator[tuple[Reader, list[int]]]:
    peaks: dict[int, float | None] = dict.fromkeys(indices)
    procs, tasks = [], []

    async def pump(index: int, stream: asyncio.StreamReader) -> None:
        rest = b""
        while data := await stream.read(65536):
            data = rest + data
            cut = len(data) // 4 * 4
            rest, samples = data[cut:], array.array("f", data[:cut])
            if samples:
                peaks[index] = max(peaks[index] or 0.0, max(samples), -min(samples))

    for index in indices:
        proc = await asyncio.create_subprocess_exec(
            "parec", f"--monitor-stream={index}", f"--device={server.sink}.monitor", "--raw", "--format=float32le",
            "--rate=48000", "--channels=2", "--latency-msec=50", env=server.env,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        assert proc.stdout is not None
        tasks.append(asyncio.create_task(pump(index, proc.stdout)))

    def read() -> dict[int, float | None]:
        out = dict(peaks)
        for i in peaks:
            peaks[i] = None
        return out

    try:
        yield read, [p.pid for p in procs]
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        for task in tasks:
            task.cancel()


def _audiolab_pulse(server: AudioServer, indices: list[int]) -> contextlib.AbstractAsyncContextManager[tuple[Reader, list[int]]]:
    return _audiolab(server, indices, native=False)


WAYS = {"audiolab": _audiolab, "audiolab-pulse": _audiolab_pulse, "pavucontrol": _pavucontrol, "parec": _parec}


async def _measure(kind: str, count: int, way: str) -> Result:
    factory = pipewire_server if kind == "pipewire" else pulseaudio_server
    with factory() as server:
        for i in range(count):
            server.play_tone(AMPLITUDES[i % len(AMPLITUDES)], client_name=f"tone{i}", latency_msec=None)
        deadline = time.monotonic() + 60
        while len(inputs := [s for s in server.sink_inputs() if s.get("application.name", "").startswith("tone")]) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind}: only {len(inputs)} of {count} tones started")
            await asyncio.sleep(0.2)
        wanted = {int(s["index"]): AMPLITUDES[int(s["application.name"][4:]) % len(AMPLITUDES)] for s in inputs}
        await asyncio.sleep(5.0)  # the server's buffers for the new clients fill
        base0, daemon0 = server.usage(), _daemon(server)
        await asyncio.sleep(WINDOW)
        base1, daemon1 = server.usage(), _daemon(server)
        cpu0 = _own_cpu()
        async with WAYS[way](server, list(wanted)) as (read, children):
            t0 = time.monotonic()
            await asyncio.sleep(SETTLE)
            read()
            last: dict[int, tuple[float, float]] = dict.fromkeys(wanted, (0.0, -1e9))
            right, unmetered = 0, set(wanted)
            for _ in range(10):
                await asyncio.sleep(0.1)
                now = time.monotonic()
                for index, value in read().items():
                    if value is not None:
                        last[index] = (value, now)
                    if value is not None or not way.startswith("audiolab"):
                        unmetered.discard(index)
                for index, amplitude in wanted.items():
                    value, when = last[index]
                    shown = value if way.startswith("audiolab") or now - when <= HOLD_SECONDS else 0.0
                    right += abs(shown - amplitude) <= TOLERANCE
            await asyncio.sleep(max(0.0, SETTLE + 1.0 + WINDOW - (time.monotonic() - t0)))
            usage, daemon = server.usage(), _daemon(server)
            elapsed = time.monotonic() - t0
            own = _own_cpu() - cpu0 + sum(process_usage(pid).cpu_seconds for pid in children)
        base_cpu = (base1.cpu_seconds - base0.cpu_seconds) / (base1.at - base0.at)
        server_cpu = (usage.cpu_seconds - base1.cpu_seconds) / (usage.at - base1.at)
        daemon_cpu = 0.0
        if daemon is not None and daemon0 is not None and daemon1 is not None:
            daemon_cpu = ((daemon.cpu_seconds - daemon1.cpu_seconds) / (daemon.at - daemon1.at)
                          - (daemon1.cpu_seconds - daemon0.cpu_seconds) / (daemon1.at - daemon0.at))
        return Result(right / (10 * len(wanted)), own / elapsed, server_cpu - base_cpu, usage.rss_mb - base1.rss_mb,
                      len(wanted) - len(unmetered), daemon_cpu,
                      daemon.rss_mb - daemon1.rss_mb if daemon is not None and daemon1 is not None else 0.0)


def _daemon(server: AudioServer) -> ProcessUsage | None:
    """The PipeWire daemon's usage now (None on PulseAudio)."""
    return server.usage("pipewire") if server.kind == "pipewire" else None


async def main(quick: bool, only: list[str]) -> None:
    configs = [("pipewire", 10), ("pipewire", 40), ("pulseaudio", 10), ("pulseaudio", 30)]
    if not quick:
        configs.insert(2, ("pipewire", 100))
    if only:
        configs = [(kind, int(count)) for kind, count in (item.split(":") for item in only)]
    print("meters at scale: N pacat tones of known amplitude, each way on a fresh private server")
    print(f"{'server, streams':<18}{'way':<13}{'read right':>11}{'metered':>8}{'own CPU':>9}{'server +CPU':>12}"
          f"{'+RSS MB':>9}{'+CPU/meter':>11}{'+MB/meter':>10}{'pw +CPU':>9}{'pw +MB':>8}")
    for kind, count in configs:
        for way in [w for w in WAYS if kind == "pipewire" or w != "audiolab-pulse"]:
            try:
                r = await _measure(kind, count, way)
            except Exception as exc:  # noqa: BLE001  (a benchmark row that fails is reported, the rest still run)
                print(f"{kind + ', ' + str(count):<18}{way:<13} failed: {exc}")
                continue
            per = max(1, r.metered)
            print(f"{kind + ', ' + str(count):<18}{way:<13}{r.right:>10.0%}{r.metered:>8}{r.own_cpu:>9.1%}"
                  f"{r.server_cpu:>12.1%}{r.server_rss:>9.0f}{r.server_cpu / per:>11.2%}{r.server_rss / per:>10.2f}"
                  f"{r.daemon_cpu:>9.1%}{r.daemon_rss:>8.0f}",
                  flush=True)
    print("(server +CPU: share of one core above the same streams unmetered; +RSS: after 9 s of metering;")
    print(" per meter: divided by the tones metered; audiolab-pulse leaves tones unmetered past pipewire-pulse's budget;")
    print(" pw: the PipeWire daemon, beside pipewire-pulse)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="leave out PipeWire with 100 streams")
    parser.add_argument("--only", nargs="*", default=[], metavar="SERVER:N", help="e.g. pipewire:100")
    args = parser.parse_args()
    asyncio.run(main(args.quick, args.only))
