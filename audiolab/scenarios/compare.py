"""What each system would do: one scenario run under several policies, side by side."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..focus import load_policy
from ..focus.explain import why_nothing
from ..reason import Reason
from .fates import fate
from .format import Scenario
from .runner import ScenarioResult, run_scenario_async
from .shipped import resolve


@dataclass
class Comparison:
    """One scenario run under several policies: the result of each, by policy name."""

    scenario: Scenario
    results: dict[str, ScenarioResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results.values())

    def cell(self, policy: str, player: str) -> str:
        """What happened to ``player`` under ``policy``, in words (see :mod:`audiolab.scenarios.fates`)."""
        return fate(self.results[policy], player)

    def explanations(self) -> dict[str, dict[str, Reason]]:
        """For each player whose fate differs between policies, the reason of its fate under each policy:
        the rule that acted on it, or, where nothing did, why the rule that acted elsewhere did not fire."""
        out: dict[str, dict[str, Reason]] = {}
        for player in self.scenario.players():
            cells = {p: self.cell(p, player) for p in self.results}
            if len(set(cells.values())) < 2:
                continue
            causes = [t.cause for r in self.results.values() for t in r.transitions
                      if t.subject == player and t.cause is not None and t.why is not None]
            out[player] = {}
            for policy, result in self.results.items():
                why = _acting_reason(result, player) or _inaction_reason(result, policy, player, causes)
                if why is not None:
                    out[player][policy] = why
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "scenario": self.scenario.name,
            "description": self.scenario.description,
            "passed": self.passed,
            "explanations": {player: {p: why.to_dict() for p, why in by.items()}
                             for player, by in self.explanations().items()},
            "policies": {
                name: {
                    "passed": r.passed,
                    "expectations": [c.to_dict() for c in r.checks],
                    "players": {k: p.to_dict() for k, p in r.players.items()},
                }
                for name, r in self.results.items()
            },
        }


def _acting_reason(result: ScenarioResult, player: str) -> Reason | None:
    """The first rule that acted on the player (a duck, a pause, a stop, a denial), else the first that
    notified it (a Windows duck notification)."""
    acting = [t for t in result.transitions if t.subject == player and t.why is not None and not t.why.released]
    effects = [t for t in acting if t.kind not in _NOTIFICATIONS]
    return (effects or acting)[0].why if acting else None


_NOTIFICATIONS = ("DuckNotification", "UnduckNotification")


def _inaction_reason(result: ScenarioResult, policy: str, player: str, causes: list[str]) -> Reason | None:
    """Why no rule acted on the player, judged against what acted on it under the other policies."""
    mine = result.requests.get(player)
    theirs = next((result.requests[c] for c in causes if c in result.requests), None)
    if mine is None or theirs is None:
        return None
    settings = result.scenario.settings.get(policy, {})
    return why_nothing(load_policy(policy, **settings), mine, theirs)


async def compare_scenario(path_or_scenario: str | Path | Scenario, policies: list[str] | None = None) -> Comparison:
    """Run the scenario under every policy (default: the scenario's ``policies``)."""
    scenario = path_or_scenario if isinstance(path_or_scenario, Scenario) else resolve(path_or_scenario)
    results = {p: await run_scenario_async(scenario, p) for p in (policies or scenario.policies)}
    return Comparison(scenario, results)
