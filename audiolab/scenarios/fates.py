"""What happened to a player, in the words of a comparison table: over the whole run, per setting of a
policy (a scenario that switches Windows' ducking setting between calls), and a release by a timeout.

The words, and what they mean (:data:`LEGEND` prints them under a table):

* ``full``: its gain was measured on the meters and stayed at 1.0: no rule touched it;
* ``played``: it played and no rule paused, stopped or denied it, but its gain was not measured (a ring or
  beeps tone has no steady level to measure);
* ``ducked to 0.20``: the lowest gain the meters measured; ``paused``, ``paused, resumed``,
  ``stopped for good``, ``denied``: what the policy did to it;
* per setting: ``muted``, ``-80 %``, ``-50 %``, ``nothing``: the lowest gain under that setting.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._by_fields import by_fields
from .actions import SetPolicyAction
from .format import Scenario
from .runner import PlayerSummary, ScenarioResult

LEGEND = {
    "full": "its gain, measured on the meters, stayed at 1.0: nothing touched it",
    "played": "it played and nothing paused, stopped or denied it; its level was not measured (a ring or "
              "beeps tone has no steady level)",
}
MUTED_BELOW = 0.005
FULL_ABOVE = 0.995


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Phase:
    """A stretch of the run under one setting: from a ``set_policy`` action to the next (or the end)."""

    start: float
    end: float
    label: str
    """What was set, e.g. ``ducking = mute``."""


def phases(scenario: Scenario, policy: str, duration: float) -> list[Phase]:
    """The settings ``scenario`` switches between under ``policy``; empty when it switches none."""
    switches = [a for a in scenario.actions if isinstance(a, SetPolicyAction) and a.applies_to(policy)]
    out = []
    for i, action in enumerate(switches):
        end = switches[i + 1].at if i + 1 < len(switches) else duration
        label = ", ".join(f"{k} = {v}" for k, v in action.settings.items()) or f"policy {action.use}"
        out.append(Phase(action.at, end, label))
    return out


def gain_word(gain: float) -> str:
    """A lowest gain as a setting's effect: ``muted``, ``-80 %``, ``-50 %``, ``nothing``."""
    if gain < MUTED_BELOW:
        return "muted"
    if gain > FULL_ABOVE:
        return "nothing"
    return f"-{round((1 - gain) * 100)} %"


def per_phase(result: ScenarioResult, player: str) -> dict[Phase, str] | None:
    """The player's fate under each setting it was measured in; None when it was not measured in two or
    more (a call that lives in one phase only)."""
    points = result.gains.get(player, [])
    out: dict[Phase, str] = {}
    for phase in phases(result.scenario, result.policy, result.virtual_seconds):
        inside = [g for t, g in points if phase.start <= t < phase.end]
        if inside:
            out[phase] = gain_word(min(inside))
    return out if len(out) >= 2 else None  # noqa: PLR2004 - "per setting" needs two settings


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
    return f"ducked to {summary.min_gain:.2f}" if summary.min_gain < FULL_ABOVE else "full"


def timeout_release(result: ScenarioResult, player: str) -> str | None:
    """", released after 60 s idle (TIMEOUT)" when an app's audio session timing out undid, at that instant,
    what was done to the player (", stopped after ..." when it stopped what had been paused); else None."""
    summary = result.players.get(player)
    if summary is None or summary.session_id is None:
        return None
    timeouts = {}
    for event in result.events:
        why = getattr(event, "why", None)
        if event.kind == "SessionDeactivated" and why is not None and why.rule.get("deactivation") == "TIMEOUT":
            timeouts[round(event.timestamp, 6)] = why.rule.get("idle_seconds", 60)
    for event in result.events:
        idle = timeouts.get(round(event.timestamp, 6))
        if idle is None or event.session_id != summary.session_id:
            continue
        hint = getattr(getattr(event, "hint", None), "value", "")
        if event.kind == "Unducked" or hint in ("resume", "unduck", "stop"):
            verb = "stopped" if hint == "stop" else "released"
            return f", {verb} after {idle:g} s idle (TIMEOUT)"
    return None


def fate(result: ScenarioResult, player: str) -> str:
    """The table cell: the whole-run phrase, per setting where the scenario switches settings, and a release
    by a timeout where there was one."""
    summary = result.players.get(player)
    if summary is None:
        return "-"
    split = per_phase(result, player)
    if split is not None:
        return " / ".join(split.values())
    return describe_fate(summary) + (timeout_release(result, player) or "")
