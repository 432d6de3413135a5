"""What each system would do: one scenario run under several policies, side by side."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .format import Scenario
from .runner import PlayerSummary, ScenarioResult, run_scenario_async
from .shipped import resolve


@dataclass
class Comparison:
    scenario: Scenario
    results: dict[str, ScenarioResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results.values())

    def cell(self, policy: str, player: str) -> str:
        """What happened to ``player`` under ``policy`` (see :func:`describe_fate`)."""
        summary = self.results[policy].players.get(player)
        return "-" if summary is None else describe_fate(summary)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "description": self.scenario.description,
            "passed": self.passed,
            "policies": {
                name: {
                    "passed": r.passed,
                    "expectations": [c.to_dict() for c in r.checks],
                    "players": {k: p.to_dict() for k, p in r.players.items()},
                }
                for name, r in self.results.items()
            },
        }


def describe_fate(summary: PlayerSummary) -> str:
    """One short phrase: "denied", "ducked to 0.20", "paused, resumed", "stopped for good", "full"."""
    if summary.denied:
        return "denied"
    if summary.stopped_by_policy:
        return "stopped for good"
    if summary.paused_by_policy:
        return "paused, resumed" if summary.state == "playing" else "paused"
    if summary.min_gain is None:
        return "played"
    return f"ducked to {summary.min_gain:.2f}" if summary.min_gain < 0.995 else "full"


async def compare_scenario(path_or_scenario: str | Path | Scenario, policies: list[str] | None = None) -> Comparison:
    """Run the scenario under every policy (default: the scenario's ``policies``)."""
    scenario = path_or_scenario if isinstance(path_or_scenario, Scenario) else resolve(path_or_scenario)
    results = {p: await run_scenario_async(scenario, p) for p in (policies or scenario.policies)}
    return Comparison(scenario, results)
