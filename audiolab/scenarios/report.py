"""Plain-text reports of scenario runs and comparisons, for the CLI and notebooks."""

from __future__ import annotations

from .compare import Comparison
from .format import Scenario
from .runner import ScenarioResult


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """A fixed-width table with a rule under the header."""
    rows = [header, *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_report(result: ScenarioResult) -> str:
    """The transitions table (each focus transition followed by the rule behind it), each expectation's
    pass/fail, and the timing."""
    s = result.scenario
    out = [f"scenario {s.name}: {s.description}", f"policy: {result.policy}", ""]
    rows = [(f"{t.t:7.3f}s", t.kind, t.text) for t in result.transitions]
    lines = table(rows, ("t", "what", "transition (cause -> effect), then the rule behind it")).splitlines()
    indent = " " * (len(lines[0]) - len(lines[0].lstrip()) + lines[1].rfind(" ") + 3)
    out += lines[:2]
    said = None
    for t, line in zip(result.transitions, lines[2:], strict=False):
        out.append(line)
        if t.why is not None and t.why != said:  # a Ducked and its InterruptEvent share one rule
            out.append(f"{indent}why: {t.why}")
        said = t.why if t.why is not None else said
    out.append("")
    if result.checks:
        out.append("expectations:")
        out += ["  " + c.describe() + (f"  # {c.note}" if c.note else "") for c in result.checks]
    else:
        out.append(f"expectations: none apply to {result.policy}")
    passed = sum(c.passed for c in result.checks)
    out += ["", f"{passed}/{len(result.checks)} expectations passed; {result.virtual_seconds:g} s of virtual time "
                f"in {result.wall_seconds:.2f} s ({result.speedup:.0f}x real time)"]
    return "\n".join(out)


def compare_report(comparison: Comparison) -> str:
    """Per player, per policy in columns: what happened to it (and each policy's expectations)."""
    s = comparison.scenario
    policies = list(comparison.results)
    players = list(s.players())
    rows = [(pid, *(comparison.cell(p, pid) for p in policies)) for pid in players]
    checks = []
    for p in policies:
        r = comparison.results[p]
        checks.append(f"{sum(c.passed for c in r.checks)}/{len(r.checks)} ok")
    rows.append(("expectations", *checks))
    out = [f"scenario {s.name}: {s.description}", "", table(rows, ("player", *policies))]
    explained = comparison.explanations()
    if explained:
        out += ["", "why the cells differ:"]
        for player, by_policy in explained.items():
            for policy, why in by_policy.items():
                out.append(f"  {player} under {policy} ({comparison.cell(policy, player)}): {why}")
    for p in policies:
        for c in comparison.results[p].failures:
            out.append(f"{p}: {c.describe()}")
    return "\n".join(out)


def list_report(scenarios: list[Scenario]) -> str:
    """A table of scenarios: name, policy and what each shows."""
    return table([(s.name, s.policy, s.description) for s in scenarios], ("scenario", "policy", "what it shows"))
