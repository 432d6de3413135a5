"""Cold start of `audiolab sessions --backend sim --json` against `python -c "import anyio"`, measured in turns.

    python benchmarks/bench_cli_start.py [--runs 5]

Each run is a fresh interpreter (wall time of the whole process, output to /dev/null). In a source checkout
run with PYTHONDONTWRITEBYTECODE set, audiolab's modules would be compiled on every start: the script first
writes their bytecode (as pip does when it installs a wheel). The two commands are
run alternately so that load from other processes falls on both alike; the medians are printed with their
difference. The goal: audiolab at most 100 ms above the anchor.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

# The installed command, beside this interpreter (the console script a user runs).
AUDIOLAB = str(Path(sys.executable).with_name("audiolab"))
COMMANDS = {
    "anchor: python -c 'import anyio'": [sys.executable, "-c", "import anyio"],
    "audiolab sessions --backend sim --json": [AUDIOLAB, "sessions", "--backend", "sim", "--json"],
}
GOAL_MS = 100.0


def wall_ms(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (default 5)")
    args = parser.parse_args()
    import compileall

    import audiolab

    compileall.compile_dir(str(Path(audiolab.__file__).parent), quiet=1)
    for argv in COMMANDS.values():  # warm the file cache once, not counted
        wall_ms(argv)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, argv in COMMANDS.items():
            times[name].append(wall_ms(argv))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        print(f"{name:42s} median {medians[name]:6.1f} ms  (runs: {', '.join(f'{v:.0f}' for v in values)})")
    anchor, ours = medians.values()
    print(f"audiolab adds {ours - anchor:.1f} ms to the anchor (goal: at most {GOAL_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
