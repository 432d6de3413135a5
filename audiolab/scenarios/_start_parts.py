"""Reading the keys of a ``do = "start"`` action: its role (or usage), level, device and focus attributes."""

from __future__ import annotations

from typing import Any

from ..focus.policy import PolicyError, load_policy
from ..focus.request import FocusAttributes, FocusRequest
from ..model import Flow, Role
from ._tables import Table, Where, number, optional_name


def role(table: Table, where: Where) -> Role:
    if "role" in table and "usage" in table:
        raise where.error("give 'role' or 'usage', not both", "usage")
    if "usage" in table:
        from ..focus.policy_types import HarmonyOSPolicy  # noqa: PLC0415

        harmony = load_policy("harmonyos")
        assert isinstance(harmony, HarmonyOSPolicy)
        usage = table["usage"]
        by_usage = {u: r for r, u in harmony.role_to_usage.items()}
        if usage not in by_usage:
            raise where.error(f"unknown usage {usage!r}; known: {', '.join(sorted(by_usage))}", "usage")
        return by_usage[usage]
    value = table.get("role", "music")
    try:
        return Role(value)
    except ValueError:
        raise where.error(f"unknown role {value!r}; known: {', '.join(r.value for r in Role)}", "role") from None


def amplitude(raw: Table, where: Where) -> float:
    if "amplitude" in raw and "level_db" in raw:
        raise where.error("give 'amplitude' or 'level_db', not both", "level_db")
    if "level_db" in raw:
        db = raw["level_db"]
        if not number(db) or db > 0:
            raise where.error(f"'level_db' must be a level <= 0 dBFS, got {db!r}", "level_db")
        amplitude: Any = 10 ** (db / 20)
    else:
        amplitude = raw.get("amplitude", 0.5)
    if not number(amplitude) or not 0 < amplitude <= 1:
        raise where.error(f"'amplitude' must be a linear peak in (0, 1], got {amplitude!r}", "amplitude")
    return float(amplitude)


def device(raw: Table, where: Where) -> str | None:
    device = optional_name(raw, "device", where)
    from ..backends.sim.devices import default_devices  # noqa: PLC0415 - keep the format module light

    render = [d.id for d in default_devices() if d.flow is Flow.RENDER]
    if device is not None and device not in render:
        raise where.error(f"'device' must be a render device of the simulated service ({', '.join(render)}), "
                          f"got {device!r}", "device")
    return device


_ATTRIBUTE_KEYS = {"gain": "gain", "flags": "flags", "target_sdk": "target_sdk", "category": "category",
                   "options": "options", "mode": "mode", "notify_others": "notify_others_on_deactivation",
                   "media_role": "media_role"}


def attributes(raw: Table, where: Where, role: Role) -> FocusAttributes | None:
    """How the player asks for focus in Android's terms (gain, flags, target_sdk) or iOS's (category,
    options, mode, notify_others); None when the role's defaults apply."""
    given = {attribute: raw[key] for key, attribute in _ATTRIBUTE_KEYS.items() if key in raw}
    if not given:
        return None
    for key in ("flags", "options"):
        if key in given and not (isinstance(given[key], list) and all(isinstance(v, str) for v in given[key])):
            raise where.error(f"'{key}' must be a list of names", key)
    try:
        attributes = FocusAttributes(**given)
    except ValueError as exc:
        bad = next((k for k in _ATTRIBUTE_KEYS if k in raw and k in str(exc)), None)
        raise where.error(str(exc), bad) from None
    if "category" in raw or "options" in raw:
        from ..focus.ios import IOSPolicy  # noqa: PLC0415

        ios = load_policy("ios")
        assert isinstance(ios, IOSPolicy)
        try:  # an option its category does not allow, checked now rather than when iOS runs the start
            ios.config(FocusRequest("check", "check", role, attributes=attributes))
        except PolicyError as exc:
            raise where.error(str(exc), "options" if "options" in raw else "category") from None
    return attributes
