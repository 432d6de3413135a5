"""One table of how each audiolab :class:`~audiolab.model.Role` asks for focus in every system's own vocabulary:
HarmonyOS stream usage, PulseAudio ``media.role``, WirePlumber 0.5 role and 0.4 endpoint role, Android usage and
gain type, Android Automotive context, iOS category, options and mode. Built from the bundled policy files, so
the table in ``docs/focus-systems.md`` is checked against the data (``tests/focus/test_roles.py``)."""

from __future__ import annotations

from ..model import Role
from .android import AndroidPolicy
from .automotive import AutomotivePolicy
from .ios import IOSPolicy
from .policy import HarmonyOSPolicy, WirePlumberPolicy, load_policy
from .request import FocusRequest
from .wireplumber04 import WirePlumber04Policy

COLUMNS = ("role", "HarmonyOS usage", "PulseAudio media.role", "WirePlumber 0.5", "WirePlumber 0.4 endpoint",
           "Android usage, gain", "Automotive context, gain", "iOS category (options; mode)")


def role_mapping() -> list[tuple[str, ...]]:
    """One row per role, in :data:`COLUMNS` order."""
    harmony, wp5, wp4 = load_policy("harmonyos"), load_policy("wireplumber"), load_policy("wireplumber-0.4")
    android, car, ios = load_policy("android"), load_policy("android-automotive"), load_policy("ios")
    assert isinstance(harmony, HarmonyOSPolicy) and isinstance(wp5, WirePlumberPolicy)
    assert isinstance(wp4, WirePlumber04Policy) and isinstance(android, AndroidPolicy)
    assert isinstance(car, AutomotivePolicy) and isinstance(ios, IOSPolicy)
    rows: list[tuple[str, ...]] = []
    for role in Role:
        req = FocusRequest("row", "row", role)
        sink = wp5.sink_for(role)
        endpoint, fallback = wp4.endpoint_role(wp4.media_role(req))
        media_role = wp4.media_role(req)
        ask, drive, config = android.usage_of(req), car.usage_of(req), ios.config(req)
        options = ", ".join(sorted(config.options)) or "-"
        rows.append((
            role.value,
            harmony.role_to_usage.get(role, "STREAM_USAGE_UNKNOWN").removeprefix("STREAM_USAGE_"),
            role.pulse_media_role or "(none)",
            f"{wp5.role_to_media_role.get(role) or wp5.default_media_role} -> {sink.name if sink else '(no sink)'}",
            f"{media_role or '(none)'} -> {endpoint.name}{' (fallback)' if fallback else ''}",
            f"{ask.usage.removeprefix('USAGE_')}, {ask.gain}",
            f"{drive.context}, {drive.gain}",
            f"{config.category} ({options}; {config.mode})",
        ))
    return rows


def markdown_table() -> str:
    """The mapping as a Markdown table."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in role_mapping()]
    return "\n".join(lines) + "\n"
