"""Fast virtual time: virtual seconds per wall second for the shipped scenarios and for the full role matrix,
each beside the same work with every 10 ms block rendered (the way it ran before) in the same run.

    python benchmarks/bench_scenarios.py [--rounds 3] [--anchor-policies harmonyos]

The shipped scenarios each run under their own policy; fast and every-block alternate round by round, so
load from other processes falls on both alike, and the median round counts. The matrix is every pair of
render roles under every shipped policy (3.5 virtual seconds a pair); its every-block anchor runs the pairs
of ``--anchor-policies`` only (it is that slow) and checks they give the same cells. Wall time and CPU time
of this process (one core: nothing here runs on another thread) are both printed. Goals: the shipped
scenarios at 1000x real time or more; the full matrix in under 10 s on one core.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

SCENARIO_GOAL = 1000.0
MATRIX_GOAL_SECONDS = 10.0


def timed(work):  # type: ignore[no-untyped-def]
    """(result, wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def scenarios_round(every_block: bool) -> tuple[float, float, float]:
    from audiolab.scenarios import run_scenario, shipped

    def work() -> float:
        total = 0.0
        for path in shipped():
            result = run_scenario(path, every_block=every_block)
            assert result.passed, f"{path.stem} failed"
            total += result.virtual_seconds
        return total

    return timed(work)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the shipped scenarios (default 3)")
    parser.add_argument("--anchor-policies", default="harmonyos",
                        help="comma-separated policies whose matrix also runs every block (default harmonyos)")
    args = parser.parse_args()
    from audiolab.focus.policy import BUILTIN
    from audiolab.scenarios.matrix import PAIR_SECONDS, role_matrices

    scenarios_round(False)  # imports, data files and caches: not counted
    fast, full = [], []
    for _ in range(args.rounds):
        fast.append(scenarios_round(False))
        full.append(scenarios_round(True))
    virtual = fast[0][0]
    f_wall, f_cpu = statistics.median(r[1] for r in fast), statistics.median(r[2] for r in fast)
    b_wall, b_cpu = statistics.median(r[1] for r in full), statistics.median(r[2] for r in full)
    print(f"shipped scenarios ({virtual:g} virtual s, median of {args.rounds} rounds):")
    print(f"  fast virtual time : {virtual / f_wall:8.0f}x real time (wall {f_wall:.3f} s), "
          f"{virtual / f_cpu:8.0f}x per CPU second ({f_cpu:.3f} s)")
    print(f"  anchor, every block: {virtual / b_wall:7.0f}x real time (wall {b_wall:.3f} s), "
          f"{virtual / b_cpu:8.0f}x per CPU second ({b_cpu:.3f} s)")
    print(f"  speed-up {b_cpu / f_cpu:.1f}x (CPU); goal >= {SCENARIO_GOAL:g}x real time: "
          f"{'met' if virtual / f_cpu >= SCENARIO_GOAL else 'NOT met'} on one core")

    matrices, m_wall, m_cpu = timed(lambda: role_matrices(BUILTIN))
    pairs = sum(len(m.cells) for m in matrices)
    anchor = [p.strip() for p in args.anchor_policies.split(",") if p.strip()]
    slow, a_wall, a_cpu = timed(lambda: role_matrices(anchor, every_block=True))
    a_pairs = sum(len(m.cells) for m in slow)
    by_policy = {m.policy: m for m in matrices}
    for m in slow:
        for pair, cell in m.cells.items():
            quick = by_policy[m.policy].cells[pair]
            assert (quick.outcome, quick.target) == (cell.outcome, cell.target), (m.policy, pair)
            assert abs(quick.level - cell.level) <= 0.01, (m.policy, pair)
    print(f"\nrole matrix: {pairs} pairs ({len(matrices)} policies x {len(matrices[0].roles)}^2 roles), "
          f"{pairs * PAIR_SECONDS:g} virtual s:")
    print(f"  fast virtual time : {pairs * PAIR_SECONDS / m_wall:8.0f}x real time (wall {m_wall:.2f} s), "
          f"{pairs * PAIR_SECONDS / m_cpu:8.0f}x per CPU second ({m_cpu:.2f} s)")
    print(f"  anchor, every block ({', '.join(anchor)}: {a_pairs} pairs, the same cells): "
          f"{a_pairs * PAIR_SECONDS / a_wall:.0f}x real time (wall {a_wall:.2f} s), "
          f"{a_pairs * PAIR_SECONDS / a_cpu:.0f}x per CPU second; the full matrix so: "
          f"~{a_cpu / a_pairs * pairs:.0f} CPU s")
    print(f"  goal: the full matrix in < {MATRIX_GOAL_SECONDS:g} s on one core: "
          f"{'met' if m_cpu < MATRIX_GOAL_SECONDS else 'NOT met'} ({m_cpu:.2f} CPU s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
