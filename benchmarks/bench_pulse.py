"""Pulse backend figures against raw pulsectl-asyncio, measured in the same run on a private PulseAudio.

1. Event latency: another client changes a sink-input's volume; time until the event arrives, through
   audiolab (a typed VolumeChanged: includes the re-query that reads the new volume) and through raw
   ``PulseAsync.subscribe_events`` (the anchor: only the bare "sink-input changed" notice). p50 / p99.
2. Enumeration of 100 playing clients: ``PulseBackend.start()`` (connect + read everything + build sessions)
   against raw pulsectl-asyncio connect + ``sink_input_list()`` + ``client_list()``.

Run: python benchmarks/bench_pulse.py [--changes 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pulsectl  # noqa: E402
import pulsectl_asyncio  # noqa: E402

from audiolab.backends.pulse import PulseBackend  # noqa: E402
from tests.servers import StreamClient, pipewire_server, pulseaudio_server  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _latency_raw(address: str, index: int, n: int, requery: bool = False) -> list[float]:
    async with pulsectl_asyncio.PulseAsync("bench-raw", server=address) as observer, pulsectl_asyncio.PulseAsync(
        "bench-other", server=address
    ) as other:
        arrived = asyncio.Queue()

        async def listen() -> None:
            async for ev in observer.subscribe_events("sink_input"):
                if ev.index == index and ev.t == "change":
                    if requery:  # what any user needs to learn the new volume
                        await observer.sink_input_info(index)
                    arrived.put_nowait(time.perf_counter())

        task = asyncio.create_task(listen())
        await asyncio.sleep(0.1)
        out = []
        for i in range(n):
            level = 0.2 + 0.6 * ((i % 50) / 50)
            t0 = time.perf_counter()
            await other.sink_input_volume_set(index, pulsectl.PulseVolumeInfo([level, level]))
            out.append(await arrived.get() - t0)
            while not arrived.empty():
                arrived.get_nowait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return out


async def _latency_audiolab(address: str, index: int, n: int) -> list[float]:
    arrived: asyncio.Queue[float] = asyncio.Queue()
    backend = PulseBackend(server=address)
    await backend.start(lambda e: arrived.put_nowait(time.perf_counter()) if e.kind == "VolumeChanged" else None)
    pump = asyncio.create_task(backend.run())
    out = []
    try:
        async with pulsectl_asyncio.PulseAsync("bench-other", server=address) as other:
            await asyncio.sleep(0.1)
            for i in range(n):
                level = 0.2 + 0.6 * ((i % 50) / 50) + 0.001  # differs from the raw run's last value
                t0 = time.perf_counter()
                await other.sink_input_volume_set(index, pulsectl.PulseVolumeInfo([level, level]))
                out.append(await arrived.get() - t0)
    finally:
        await backend.aclose()
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
    return out


async def _wait_inputs(address: str, count: int) -> None:
    async with pulsectl_asyncio.PulseAsync("bench-wait", server=address) as pulse:
        for _ in range(200):
            if sum(1 for si in await pulse.sink_input_list() if si.sink != 2**32 - 1) >= count:
                return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{count} sink-inputs did not appear")


async def _enumerate_raw(address: str, count: int) -> float:
    t0 = time.perf_counter()
    async with pulsectl_asyncio.PulseAsync("bench-raw", server=address) as pulse:
        inputs, _clients = await asyncio.gather(pulse.sink_input_list(), pulse.client_list())
        assert len(inputs) >= count
    return time.perf_counter() - t0


async def _enumerate_audiolab(address: str, count: int) -> float:
    t0 = time.perf_counter()
    backend = PulseBackend(server=address)
    await backend.start(lambda e: None)
    sessions = backend.snapshot()
    elapsed = time.perf_counter() - t0
    await backend.aclose()
    assert len(sessions) >= count
    return elapsed


async def main(changes: int, clients: int) -> None:
    with pulseaudio_server() as server:
        server.play_tone(0.2, client_name="bench-target")
        (si,) = server.wait_sink_input("bench-target")
        index = int(si["index"])
        raw = await _latency_raw(server.address, index, changes)
        ours = await _latency_audiolab(server.address, index, changes)
        raw2 = await _latency_raw(server.address, index, changes)  # again, to see run-to-run noise
        raw += raw2
        raw_requery = await _latency_raw(server.address, index, changes, requery=True)


    # PulseAudio accepts at most 64 connections (hard-coded in protocol-native), so 100 clients are
    # enumerated on PipeWire's pulse server, and 60 on PulseAudio.
    enum: dict[str, tuple[int, list[float], list[float]]] = {}
    for kind, factory, count in (("pipewire", pipewire_server, clients), ("pulseaudio", pulseaudio_server, 60)):
        with factory() as server:
            holders = []
            try:
                for i in range(count):
                    client = StreamClient(server.address, f"bench-client-{i}")
                    try:
                        await client.__aenter__()
                    except Exception as exc:
                        raise RuntimeError(f"{kind}: client {i} could not connect") from exc
                    holders.append(client)
                    client.open_stream(server.sink, role="music")
                await _wait_inputs(server.address, count)
                enum_raw = [await _enumerate_raw(server.address, count) for _ in range(5)]
                enum_ours = [await _enumerate_audiolab(server.address, count) for _ in range(5)]
            finally:
                for client in holders:
                    client.close()
            enum[kind] = (count, enum_raw, enum_ours)

    ms = 1000.0
    print(f"pulse backend benchmark (PulseAudio, private server, {changes} volume changes each)")
    print(f"{'measure':<44}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'raw pulsectl-asyncio subscribe_events':<44}{_pct(raw, .5) * ms:>10.3f}{_pct(raw, .99) * ms:>10.3f}")
    print(f"{'raw subscribe_events + sink_input_info':<44}{_pct(raw_requery, .5) * ms:>10.3f}"
          f"{_pct(raw_requery, .99) * ms:>10.3f}")
    print(f"{'audiolab VolumeChanged (incl. re-query)':<44}{_pct(ours, .5) * ms:>10.3f}{_pct(ours, .99) * ms:>10.3f}")
    added = (_pct(ours, .99) - _pct(raw, .99)) / _pct(raw, .99) * 100
    print(f"audiolab adds {added:+.0f}% to the raw p99 (goal: at most +50%)")
    added_rq = (_pct(ours, .99) - _pct(raw_requery, .99)) / _pct(raw_requery, .99) * 100
    print(f"audiolab adds {added_rq:+.0f}% to the raw p99 when the raw client also re-reads the volume")
    print()
    print(f"{'enumerate N playing clients (median of 5)':<44}{'raw ms':>10}{'audiolab':>10}")
    for kind, (count, enum_raw, enum_ours) in enum.items():
        label = f"{kind}, {count} clients"
        print(f"{label:<44}{statistics.median(enum_raw) * ms:>10.2f}{statistics.median(enum_ours) * ms:>10.2f}")
    print("(raw: connect + sink_input_list + client_list; audiolab: PulseBackend.start() = connect, subscribe,")
    print(" read clients/sinks/sources/streams, build sessions)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--clients", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.changes, args.clients))
