"""Cost of a SessionDashboard with 1, 16 and 64 sessions at 30 frames per second.

1. Kernel side, isolated: CPU seconds per second and bytes per second of the dashboard's meter path (peaks in
   row order -> one binary trait update -> a comm that serializes and signs each message as ipykernel's session
   does), at 30 fps for a few seconds of real time.
2. Kernel side, end to end: process CPU of the simulated service playing N noise tones, with the dashboard
   visible minus without it (so the mixer's own cost is not counted), real clock.
3. Kernel side, row updates: bytes and CPU sent for one session's volume change (one ``rows_patch`` with
   one row) against a full sync of every row (what a new view gets, and what every change used to cost), for
   1 to 400 sessions.
4. Browser: the frames the page receives and the meter draws it makes per second (requestAnimationFrame
   draws counted by the dashboard in data-draws), in headless Chromium against a private JupyterLab.

Anchors printed with the figures: pavucontrol draws a peak meter per stream from its own record stream at
144 Hz (N streams = N x 144 messages/s); EarTrumpet polls peaks at 30 fps while visible. Goal: 30 fps with 64
sessions under 5 % of one core in the kernel.

Run: .venv/bin/python benchmarks/bench_dashboard.py [--no-browser] [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import comm  # noqa: E402
from comm.base_comm import BaseComm  # noqa: E402
from jupyter_client.session import Session  # noqa: E402

import audiolab  # noqa: E402
from audiolab.model import MeterFrame, Role  # noqa: E402
from audiolab.tones import white_noise  # noqa: E402

SIZES = (1, 16, 64)
ROW_SIZES = (1, 64, 400)
FPS = 30.0
PAVUCONTROL_HZ = 144
EARTRUMPET_FPS = 30
GOAL_CPU = 0.05


class SerializingComm(BaseComm):
    """Does what ipykernel's comm does to a message short of the socket write: build, sign, serialize."""

    session = Session(key=b"bench-key")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.messages = 0
        self.bytes = 0
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                    **keys: Any) -> None:
        content = {"data": data or {}, "comm_id": self.comm_id, **keys}
        msg = self.session.msg(msg_type, content, metadata=metadata or {})
        frames = self.session.serialize(msg)
        self.messages += 1
        self.bytes += sum(len(f) for f in frames) + sum(len(memoryview(b).cast("B")) for b in (buffers or []))


def use_serializing_comm() -> None:
    comm.create_comm = lambda *a, **k: SerializingComm(*a, **k)  # type: ignore[assignment]


async def isolated(n: int, seconds: float) -> tuple[float, float, float]:
    """(CPU s/s, bytes/s, messages/s) of the meter path alone, paced at 30 fps in real time."""
    from audiolab.widgets import SessionDashboard

    async with audiolab.open(clock="virtual") as lab:
        for i in range(n):
            lab.sim.client(f"App {i}").open_stream(role=Role.MUSIC, start=True)
        dash = SessionDashboard(lab)
        ids = list(dash.order)
        rng = random.Random(1)
        frames = [MeterFrame(0.0, {sid: rng.random() for sid in ids}, {}) for _ in range(64)]
        c = dash.comm
        c.messages = c.bytes = 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        ticks = int(seconds * FPS)
        for k in range(ticks):
            dash._send_frame(frames[k % len(frames)])
            await asyncio.sleep(max(0.0, wall0 + (k + 1) / FPS - time.perf_counter()))
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        result = (cpu / wall, c.bytes / wall, c.messages / wall)
        dash.close()
    return result


async def end_to_end(n: int, seconds: float, with_dashboard: bool) -> tuple[float, int]:
    """Process CPU s/s of the sim service playing n noise tones (real clock), with or without a dashboard."""
    from audiolab.widgets import SessionDashboard

    async with audiolab.open() as lab:
        for i in range(n):
            await lab.play(white_noise(0.3, seed=i), role=Role.MUSIC, app=f"App {i}")
        dash = None
        if with_dashboard:
            dash = SessionDashboard(lab)
            dash.visible = True  # as the browser would say
        await asyncio.sleep(0.5)
        sent0 = dash.statistics().frames_sent if dash else 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        frames = (dash.statistics().frames_sent - sent0) if dash else 0
        if dash:
            dash.close()
    return cpu / wall, round(frames / wall)


async def row_change(n: int) -> tuple[int, int, float]:
    """(bytes sent for one session's volume change, bytes of a full sync, kernel ms for that change)."""
    from audiolab.widgets import SessionDashboard

    async with audiolab.open(clock="virtual") as lab:
        streams = [lab.sim.client(f"App {i}").open_stream(role=Role.MUSIC, start=True) for i in range(n)]
        dash = SessionDashboard(lab)
        await lab.sleep(0)
        for _ in range(5):
            await lab.sleep(0)
        c = dash.comm
        c.messages = c.bytes = 0
        target = streams[n // 2].session_id
        mixer = lab.sim.client("Mixer")
        rounds, cpu = 20, 0.0
        for k in range(rounds):
            t0 = time.perf_counter()
            mixer.set_volume(target, 0.5 if k % 2 else 0.4)
            for _ in range(5):
                await lab.sleep(0)
            cpu += time.perf_counter() - t0
        change = c.bytes // rounds
        c.bytes = 0
        dash._command({"kind": "hello"})  # a new view: every row
        full = c.bytes
        dash.close()
    return change, full, 1000 * cpu / rounds


BENCH_NOTEBOOK = """\
from audiolab.model import Role
from audiolab.tones import white_noise
from audiolab.widgets import SessionDashboard, start_lab
lab = await start_lab()
for i in range({n}):
    await lab.play(white_noise(0.3, seed=i), role=Role.MUSIC, app=f"App {{i}}")
SessionDashboard(lab)
"""


def browser(seconds: float) -> dict[int, tuple[float, float]]:
    """{n: (frames received/s, draws/s)} measured in headless Chromium."""
    import nbformat
    from playwright.sync_api import sync_playwright

    from tests.widgets.jupyter import CHROMIUM_ARGS, jupyter_lab, require_chromium

    results: dict[int, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="audiolab-bench-") as tmp:
        with jupyter_lab(Path(tmp)) as server:
            notebooks = Path(tmp) / "notebooks"
            for n in SIZES:
                nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BENCH_NOTEBOOK.format(n=n))])
                nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
                nbformat.write(nb, notebooks / f"bench-{n}.ipynb")
            with sync_playwright() as p:
                chromium = p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS, headless=True)
                for n in SIZES:
                    page = chromium.new_page(viewport={"width": 1500, "height": 1000})
                    page.set_default_timeout(60_000)
                    page.goto(server.page(f"bench-{n}.ipynb"))
                    page.wait_for_function(
                        "() => /\\| Idle/.test(document.querySelector('#jp-main-statusbar')?.textContent || '')")
                    time.sleep(1.0)
                    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
                    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
                    dash = page.locator(f".al-dash[data-rows='{n + 1}']")
                    dash.wait_for()
                    dash.scroll_into_view_if_needed()
                    time.sleep(1.5)
                    read = "e => [Number(e.dataset.frames || 0), Number(e.dataset.draws || 0), performance.now()]"
                    f0, d0, t0 = dash.evaluate(read)
                    time.sleep(seconds)
                    f1, d1, t1 = dash.evaluate(read)
                    span = (t1 - t0) / 1000
                    results[n] = ((f1 - f0) / span, (d1 - d0) / span)
                    page.close()
                chromium.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    use_serializing_comm()
    print(f"audiolab dashboard benchmark: {FPS:g} fps target, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"anchors: pavucontrol {PAVUCONTROL_HZ} Hz per stream; EarTrumpet {EARTRUMPET_FPS} fps polling; "
          f"goal {FPS:g} fps with 64 sessions under {GOAL_CPU:.0%} of one core\n")

    print("1. kernel, meter path alone (peaks -> trait -> signed, serialized comm message)")
    print(f"{'sessions':>9} {'CPU':>8} {'bytes/s':>9} {'msgs/s':>7} {'pavucontrol msgs/s':>19}")
    isolated_cpu = {}
    for n in SIZES:
        cpu, bps, mps = asyncio.run(isolated(n, args.seconds))
        isolated_cpu[n] = cpu
        print(f"{n:>9} {cpu:>8.2%} {bps:>9.0f} {mps:>7.1f} {n * PAVUCONTROL_HZ:>19}")

    print("\n2. kernel, end to end on the simulated service (real clock, n noise tones)")
    print(f"{'sessions':>9} {'without':>8} {'with':>8} {'dashboard':>10} {'frames/s':>9}")
    for n in SIZES:
        base, _ = asyncio.run(end_to_end(n, args.seconds, False))
        with_dash, fps = asyncio.run(end_to_end(n, args.seconds, True))
        print(f"{n:>9} {base:>8.1%} {with_dash:>8.1%} {with_dash - base:>+10.1%} {fps:>9}")

    print("\n3. kernel, one session's volume change (rows_patch) vs a full sync of every row")
    print(f"{'sessions':>9} {'change bytes':>13} {'full sync bytes':>16} {'change ms':>10}")
    for n in ROW_SIZES:
        change, full, ms = asyncio.run(row_change(n))
        print(f"{n:>9} {change:>13} {full:>16} {ms:>10.2f}")

    if not args.no_browser:
        print("\n4. browser (headless Chromium, JupyterLab): frames received and meter draws per second")
        print(f"{'sessions':>9} {'frames/s':>9} {'draws/s':>8} {'EarTrumpet':>11}")
        for n, (frames, draws) in browser(args.seconds).items():
            print(f"{n:>9} {frames:>9.1f} {draws:>8.1f} {EARTRUMPET_FPS:>11}")

    verdict = "meets" if isolated_cpu[64] < GOAL_CPU else "MISSES"
    print(f"\n64 sessions at {FPS:g} fps: {isolated_cpu[64]:.2%} of one core in the kernel's meter path "
          f"({verdict} the {GOAL_CPU:.0%} goal); one message per frame whatever the number of sessions, "
          f"vs {64 * PAVUCONTROL_HZ} messages/s for pavucontrol's per-stream meters.")


if __name__ == "__main__":
    main()
