"""Plain-text reports of scenario runs and comparisons, for the CLI and notebooks."""

from __future__ import annotations

from collections.abc import Sequence

from ..reason import Reason
from .compare import Comparison
from .fates import LEGEND, per_phase, phases
from .format import Scenario
from .runner import ScenarioResult


def table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> str:
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


def compare_report(comparison: Comparison, *, expectations: bool = False) -> str:
    """Per player, per policy in columns: what happened to it; per setting where the scenario switches a
    policy's settings; what the words "full" and "played" mean where they appear; why the cells differ. Each
    policy's expectations count is a last row only with ``expectations=True``; a failed one is always listed."""
    s = comparison.scenario
    policies = list(comparison.results)
    players = list(s.players())
    rows = [(pid, *(comparison.cell(p, pid) for p in policies)) for pid in players]
    if expectations:
        rows.append(("expectations", *(_passed(comparison.results[p]) for p in policies)))
    out = [f"scenario {s.name}: {s.description}", "", table(rows, ("player", *policies))]
    for policy in policies:
        out += _per_setting(comparison.results[policy])
    words = {cell for row in rows for cell in row[1:]}
    legend = [f"  {word}: {meaning}" for word, meaning in LEGEND.items() if word in words]
    if legend:
        out += ["", "what the words mean:", *legend]
    explained = comparison.explanations()
    if explained:
        out += ["", "why the cells differ:"]
        for player, by_policy in explained.items():
            for policy, why in by_policy.items():
                split = _phase_reasons(comparison.results[policy], player)
                if split:
                    out += [f"  {player} under {policy}, {label} ({word}): {reason}" for label, word, reason in split]
                else:
                    out.append(f"  {player} under {policy} ({comparison.cell(policy, player)}): {why}")
    failures = [f"{p}: {c.describe()}" for p in policies for c in comparison.results[p].failures]
    if failures:
        out += ["", "expectations that failed:", *("  " + f for f in failures)]
    return "\n".join(out)


def _phase_reasons(result: ScenarioResult, player: str) -> list[tuple[str, str, Reason]]:
    """Per setting the player was measured under: the setting, what it did, and the first rule that acted on
    the player then (a duck), else the first that told it something (a Windows duck notification)."""
    split = per_phase(result, player) or {}
    out = []
    for phase, word in split.items():
        inside = [t for t in result.transitions if t.subject == player and t.why is not None
                  and not t.why.released and phase.start <= t.t < phase.end]
        acting = [t for t in inside if t.kind not in ("DuckNotification", "UnduckNotification")] or inside
        why = acting[0].why if acting else None
        if why is not None:
            out.append((phase.label, word, why))
    return out


def _passed(result: ScenarioResult) -> str:
    return f"{sum(c.passed for c in result.checks)}/{len(result.checks)} ok"


def _per_setting(result: ScenarioResult) -> list[str]:
    """A small table: what each setting the scenario switched to did to each player it measured."""
    measured = {pid: per_phase(result, pid) for pid in result.scenario.players()}
    split = {pid: by for pid, by in measured.items() if by is not None}
    if not split:
        return []
    settings = phases(result.scenario, result.policy, result.virtual_seconds)
    rows = [(f"{p.label} ({p.start:g}-{p.end:g} s)", *(by.get(p, "-") for by in split.values())) for p in settings]
    return ["", f"what each setting did under {result.policy} (the lowest gain measured, as a reduction):",
            table(rows, ("setting", *split))]


def list_report(scenarios: list[Scenario]) -> str:
    """A table of scenarios: name, policy and what each shows."""
    return table([(s.name, s.policy, s.description) for s in scenarios], ("scenario", "policy", "what it shows"))
