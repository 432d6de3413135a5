"""Cold start of `audiolab sessions --backend sim --json` against `python -c "import anyio"`, measured in turns.

    python benchmarks/bench_cli_start.py [--runs 5]

Each run is a fresh interpreter (wall time of the whole process, output to /dev/null). In a source checkout
run with PYTHONDONTWRITEBYTECODE set, audiolab's modules would be compiled on every start: the script first
writes their bytecode (as pip does when it installs a wheel). The two commands are
run alternately so that load from other processes falls on both alike; the medians of wall time and of CPU
time (user + system) are printed with their differences. The goal: audiolab at most 100 ms above the anchor.
The floor, an empty ``anyio.run`` on asyncio, shows how much of that any anyio program pays.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

# The installed command, beside this interpreter (the console script a user runs).
AUDIOLAB = str(Path(sys.executable).with_name("audiolab"))
# What any anyio program on asyncio pays to run at all (asyncio and anyio's backend): audiolab's own share is
# what the command adds to this.
EMPTY_RUN = "import anyio\nasync def main():\n    async with anyio.create_task_group():\n        pass\nanyio.run(main)"
COMMANDS = {
    "anchor: python -c 'import anyio'": [sys.executable, "-c", "import anyio"],
    "floor: an empty anyio.run on asyncio": [sys.executable, "-c", EMPTY_RUN],
    "audiolab sessions --backend sim --json": [AUDIOLAB, "sessions", "--backend", "sim", "--json"],
}
GOAL_MS = 100.0


def run_ms(argv: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run, in ms."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (default 5)")
    args = parser.parse_args()
    import compileall

    import audiolab

    compileall.compile_dir(str(Path(audiolab.__file__).parent), quiet=1)
    for argv in COMMANDS.values():  # warm the file cache once, not counted
        run_ms(argv)
    walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
    cpus: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, argv in COMMANDS.items():
            wall, cpu = run_ms(argv)
            walls[name].append(wall)
            cpus[name].append(cpu)
    for name in COMMANDS:
        print(f"{name:42s} median {statistics.median(walls[name]):6.1f} ms wall, "
              f"{statistics.median(cpus[name]):6.1f} ms CPU  (wall runs: {', '.join(f'{v:.0f}' for v in walls[name])})")
    anchor, floor, ours = COMMANDS
    extra_wall = statistics.median(walls[ours]) - statistics.median(walls[anchor])
    extra_cpu = statistics.median(cpus[ours]) - statistics.median(cpus[anchor])
    print(f"audiolab adds {extra_wall:.1f} ms wall ({extra_cpu:.1f} ms CPU) to the anchor "
          f"(goal: at most {GOAL_MS:.0f} ms; wall time grows with the machine's load, CPU time less)")
    own_cpu = statistics.median(cpus[ours]) - statistics.median(cpus[floor])
    print(f"of which audiolab's own part (over the floor): {own_cpu:.1f} ms CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
