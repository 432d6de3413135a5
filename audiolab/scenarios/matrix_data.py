"""The role matrix read straight from a table-driven system's data file, without the focus engine: what the
table says should happen to each pair. The tests check that the matrix the engine computes by running
(:func:`audiolab.scenarios.matrix.role_matrix`) equals it.

Each function reads the bundled JSON file itself (``datasets/focus/<name>.json``) and returns, for each
(existing, incoming) pair, ``(outcome, target, level)`` as :class:`~audiolab.scenarios.matrix.Cell` has them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from ..focus.policy import datasets_dir
from ..model import Role
from .matrix import RENDER_ROLES

Expected = tuple[str, str, float]
"""(outcome, target, level): a level of 1.0 means "played on at full gain"."""

MIX: Expected = ("mix", "", 1.0)


def _data(name: str) -> dict[str, Any]:
    with (datasets_dir() / f"{name}.json").open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def harmonyos(roles: Iterable[Role] = RENDER_ROLES) -> dict[tuple[Role, Role], Expected]:
    """The OpenHarmony interrupt table: each cell is ``[group, action_type, action_on, is_forced]``."""
    data = _data("harmonyos")
    duck = float(data["settings"]["duck_gain"])

    def focus_type(role: Role) -> str:
        return str(data["usage_to_focus_type"][data["role_to_usage"][role.value]])

    def cell(existing: Role, incoming: Role) -> Expected:
        group, action, on, forced = data["table"].get(focus_type(existing), {}).get(focus_type(incoming)) or \
            ("shared", "PLAY", "incoming", "true")
        if group == "deny" or (action in ("STOP", "REJECT") and on == "incoming"):
            return ("deny", "incoming", 0.0)
        if action == "PLAY" or forced != "true":
            return MIX  # SHARE: the app is told and decides; the system does nothing itself
        target = "incoming" if on == "incoming" else "existing"
        outcome = {"DUCK": "duck", "PAUSE": "pause", "STOP": "stop", "REJECT": "stop"}[action]
        return (outcome, target, duck if outcome == "duck" else 0.0)

    return _grid(cell, roles)


def android_automotive(roles: Iterable[Role] = RENDER_ROLES) -> dict[tuple[Role, Role], Expected]:
    """The car's interaction matrix (holder's context row, requested context column): reject, exclusive or
    concurrent; the holder loses focus for good to a GAIN request, for a while (paused) to a transient one, and
    keeps it beside a concurrent request that allows ducking (the HAL ducks, not the focus service)."""
    data = _data("android-automotive")

    def ask(role: Role) -> tuple[str, str]:
        entry = data["roles"].get(role.value) or data["roles"]["unknown"]
        return data["usage_to_context"][entry["usage"]], entry["gain"]

    def cell(existing: Role, incoming: Role) -> Expected:
        (holder, holder_gain), (wanted, gain) = ask(existing), ask(incoming)
        if gain == "none" or holder_gain == "none":
            return MIX  # not a focus request at all
        if wanted == "NOTIFICATION" and holder_gain == "gain_transient_exclusive":
            return ("deny", "incoming", 0.0)
        interaction = data["matrix"][holder][wanted]
        if interaction == "reject":
            return ("deny", "incoming", 0.0)
        if interaction == "concurrent" and gain == "gain_transient_may_duck":
            return MIX
        return ("stop", "existing", 0.0) if gain == "gain" else ("pause", "existing", 0.0)

    return _grid(cell, roles)


def wireplumber(roles: Iterable[Role] = RENDER_ROLES) -> dict[tuple[Role, Role], Expected]:
    """WirePlumber 0.5's role sinks: the higher priority (the newer on a tie) applies its action for the same
    or a lower priority to the other: mix, duck (to ``duck_level``) or cork (a pause)."""
    data = _data("wireplumber")
    settings = data["settings"]
    duck = float(settings["duck_level"])

    def sink(role: Role) -> dict[str, Any] | None:
        media_role = data["role_to_media_role"].get(role.value) or settings["default_media_role"]
        return next((s for s in data["sinks"].values() if media_role in s["roles"]), None)

    def cell(existing: Role, incoming: Role) -> Expected:
        old, new = sink(existing), sink(incoming)
        if old is None or new is None:
            return MIX
        if new["priority"] >= old["priority"]:
            top, target = new, "existing"
            action = top["same_priority"] if new["priority"] == old["priority"] else top["lower_priority"]
        else:
            top, target = old, "incoming"
            action = top["lower_priority"]
        if action == "duck":
            return ("duck", target, duck)
        if action == "cork":
            return ("pause", target, 0.0)
        return MIX

    return _grid(cell, roles)


TABLE_DRIVEN: dict[str, Callable[..., dict[tuple[Role, Role], Expected]]] = {
    "harmonyos": harmonyos,
    "android-automotive": android_automotive,
    "wireplumber": wireplumber,
}
"""The systems whose matrix is a table in their data file, by policy name."""


def _grid(cell: Callable[[Role, Role], Expected], roles: Iterable[Role]) -> dict[tuple[Role, Role], Expected]:
    chosen = tuple(roles)
    return {(e, i): cell(e, i) for e in chosen for i in chosen}
