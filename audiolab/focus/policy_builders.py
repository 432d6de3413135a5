"""The builders of the four classic policy kinds (HarmonyOS, Windows, PulseAudio, WirePlumber and "none"):
each turns a policy file's merged settings and data into its frozen policy, raising PolicyError on bad input.
The other systems (Android, iOS, ...) bring their builders in their own modules."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .._exceptions import PolicyError
from ..model import ForceType, Role
from .policy_types import (
    DuckGroup,
    FocusPolicy,
    HarmonyOSPolicy,
    HarmonyRule,
    NoPolicy,
    PulseAudioPolicy,
    RoleSink,
    WindowsPolicy,
    WirePlumberPolicy,
)

PA_VOLUME_NORM = 0x10000

# --- shared value checks (the other systems' builders use them too, as policy.level / policy.role_table) ---


def _level(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise PolicyError(f"{what} must be a number in 0..1, got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise PolicyError(f"{what} must be in 0..1, got {value!r}")
    return float(value)


def _bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "yes", "true", "on", "0", "no", "false", "off"):
        return value.lower() in ("1", "yes", "true", "on")
    raise PolicyError(f"{what} must be a boolean, got {value!r}")


def _roles(mapping: Any, what: str) -> dict[Role, Any]:
    if not isinstance(mapping, dict):
        raise PolicyError(f"{what} must be an object")
    out = {}
    for key, value in mapping.items():
        try:
            out[Role(key)] = value
        except ValueError:
            raise PolicyError(f"{what}: unknown role {key!r}") from None
    return out


_ACTIONS = {"PLAY": "PLAY", "DUCK": "DUCK", "PAUSE": "PAUSE", "STOP": "STOP", "REJECT": "STOP"}
_TARGETS = ("incoming", "existing", "both")
_FORCED = {"true": ForceType.FORCE, "false": ForceType.SHARE}


def _harmony_rule(cell: Any, where: str) -> HarmonyRule:
    if not isinstance(cell, list) or len(cell) != 4:
        raise PolicyError(f"{where}: a table cell must be [group, action_type, action_on, is_forced]")
    group, action, on, forced = cell
    if group == "deny":
        return HarmonyRule("DENY", "incoming", ForceType.FORCE, "deny")
    if group not in ("shared", "private"):
        raise PolicyError(f"{where}: unknown group {group!r}")
    if action not in _ACTIONS:
        raise PolicyError(f"{where}: unknown action_type {action!r} (known: {sorted(_ACTIONS)})")
    if on not in _TARGETS:
        raise PolicyError(f"{where}: unknown action_on {on!r} (known: {list(_TARGETS)})")
    if forced not in _FORCED:
        raise PolicyError(f"{where}: is_forced must be 'true' or 'false', got {forced!r}")
    return HarmonyRule(_ACTIONS[action], on, _FORCED[forced], group)


def _build_harmonyos(name: str, settings: dict[str, Any], data: dict[str, Any]) -> HarmonyOSPolicy:
    table = data.get("table")
    if not isinstance(table, dict) or not table:
        raise PolicyError("'table' must be a non-empty object of objects")
    rules: dict[tuple[str, str], HarmonyRule] = {}
    for existing, row in table.items():
        if not isinstance(row, dict):
            raise PolicyError(f"table[{existing!r}] must be an object")
        for incoming, cell in row.items():
            rules[(existing, incoming)] = _harmony_rule(cell, f"table[{existing!r}][{incoming!r}]")
    usage_map = data.get("usage_to_focus_type")
    if not isinstance(usage_map, dict):
        raise PolicyError("'usage_to_focus_type' must be an object")
    for usage, focus_type in usage_map.items():
        if not isinstance(focus_type, str) or not focus_type:
            raise PolicyError(f"usage_to_focus_type[{usage!r}] must be a stream type name, got {focus_type!r}")
    role_to_usage = _roles(data.get("role_to_usage"), "'role_to_usage'")
    for role, usage in role_to_usage.items():
        if not isinstance(usage, str) or usage not in usage_map:
            raise PolicyError(f"role_to_usage[{role.value!r}] = {usage!r} is not in usage_to_focus_type")
    if len(role_to_usage) < len(Role) and "STREAM_USAGE_UNKNOWN" not in usage_map:
        unmapped = sorted(r.value for r in Role if r not in role_to_usage)
        raise PolicyError(f"roles {unmapped} have no usage, and STREAM_USAGE_UNKNOWN (their fallback) is not in "
                          "usage_to_focus_type")
    session_types = data.get("session_types", {})
    if not isinstance(session_types, dict) or not all(isinstance(v, str) for v in session_types.values()):
        raise PolicyError("'session_types' must be an object of type names")
    return HarmonyOSPolicy(
        name=name,
        settings=settings,
        source=data.get("source", {}),
        table=rules,
        role_to_usage=role_to_usage,
        usage_to_focus_type=dict(usage_map),
        session_types=dict(session_types),
        duck_gain=_level(settings.get("duck_gain", 0.2), "duck_gain"),
    )


def _build_windows(name: str, settings: dict[str, Any], data: dict[str, Any]) -> WindowsPolicy:
    levels = data.get("ducking_levels")
    if not isinstance(levels, dict) or not levels:
        raise PolicyError("'ducking_levels' must be a non-empty object")
    ducking = settings.get("ducking")
    if ducking not in levels:
        raise PolicyError(f"ducking must be one of {list(levels)}, got {ducking!r}")
    gain = levels[ducking]
    fade = settings.get("fade_seconds", 1.0)
    if isinstance(fade, bool) or not isinstance(fade, (int, float)) or not 0 <= fade < math.inf:
        raise PolicyError(f"fade_seconds must be a finite number >= 0, got {fade!r}")
    system = _roles(dict.fromkeys(data.get("system_sounds_roles", []), True), "'system_sounds_roles'")
    return WindowsPolicy(
        name=name,
        settings=settings,
        source=data.get("source", {}),
        gain=None if gain is None else _level(gain, f"ducking_levels[{ducking!r}]"),
        fade_seconds=float(fade),
        system_sounds_roles=frozenset(system),
    )


def pulse_volume_to_gain(value: object) -> float:
    """A PulseAudio module volume ("-20dB", "30%", raw integer) -> linear amplitude; a float in 0..1 is
    taken as linear amplitude already."""
    if isinstance(value, float):
        return _level(value, "volume")
    raw: float
    if isinstance(value, int) and not isinstance(value, bool):
        raw = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if text.endswith("%"):
                raw = float(text[:-1]) / 100 * PA_VOLUME_NORM
            elif text.lower().endswith("db"):
                db = float(text[:-2])
                if math.isnan(db) or db > 0:
                    raise PolicyError(f"a ducking volume must be <= 0dB, got {value!r}")
                return 10 ** (db / 20)
            else:
                raw = int(text)
        except ValueError:
            raise PolicyError(f"volume {value!r} is not 'NdB', 'N%' or an unsigned integer") from None
    else:
        raise PolicyError(f"volume must be 'NdB', 'N%', an integer or a linear float, got {value!r}")
    if not 0 <= raw <= PA_VOLUME_NORM:
        raise PolicyError(f"a ducking volume must be between 0 and 100% (65536), got {value!r}")
    return (raw / PA_VOLUME_NORM) ** 3


def _role_groups(value: Any, what: str) -> list[tuple[str, ...]]:
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{what} must be a non-empty string like 'phone' or 'phone/notification'")
    groups = []
    for part in value.split("/"):
        roles = tuple(r.strip() for r in part.split(",") if r.strip())
        if not roles:
            raise PolicyError(f"{what}: empty role group in {value!r}")
        groups.append(roles)
    return groups


def _build_pulseaudio(name: str, settings: dict[str, Any], data: dict[str, Any]) -> PulseAudioPolicy:
    duck: list[DuckGroup] = []
    if _bool(settings.get("role_ducking", True), "role_ducking"):
        triggers = _role_groups(settings.get("trigger_roles"), "trigger_roles")
        targets = _role_groups(settings.get("ducking_roles"), "ducking_roles")
        volumes = settings.get("volume")
        volumes = volumes.split("/") if isinstance(volumes, str) else [volumes]
        if not len(triggers) == len(targets) == len(volumes):
            raise PolicyError(
                "trigger_roles, ducking_roles and volume must have the same number of '/' groups, "
                f"got {len(triggers)}, {len(targets)}, {len(volumes)}"
            )
        for trig, roles, vol in zip(triggers, targets, volumes, strict=True):
            duck.append(DuckGroup(trig, roles, pulse_volume_to_gain(vol)))
    cork: list[DuckGroup] = []
    if _bool(settings.get("role_cork", True), "role_cork"):
        triggers = _role_groups(settings.get("cork_trigger_roles"), "cork_trigger_roles")
        targets = _role_groups(settings.get("cork_roles"), "cork_roles")
        if len(triggers) != len(targets):
            raise PolicyError(
                f"cork_trigger_roles and cork_roles must have the same number of '/' groups, "
                f"got {len(triggers)}, {len(targets)}"
            )
        cork = [DuckGroup(trig, roles) for trig, roles in zip(triggers, targets, strict=True)]
    return PulseAudioPolicy(
        name=name,
        settings=settings,
        source=data.get("source", {}),
        duck_groups=tuple(duck),
        duck_global=_bool(settings.get("global", False), "global"),
        cork_groups=tuple(cork),
        cork_global=_bool(settings.get("cork_global", False), "cork_global"),
    )


_WP_ACTIONS = ("mix", "duck", "cork")


def _build_wireplumber(name: str, settings: dict[str, Any], data: dict[str, Any]) -> WirePlumberPolicy:
    sinks_data = data.get("sinks")
    if not isinstance(sinks_data, dict) or not sinks_data:
        raise PolicyError("'sinks' must be a non-empty object")
    sinks = []
    for sink_name, spec in sinks_data.items():
        if not isinstance(spec, dict):
            raise PolicyError(f"sinks[{sink_name!r}] must be an object")
        prio = spec.get("priority")
        if isinstance(prio, bool) or not isinstance(prio, int):
            raise PolicyError(f"sinks[{sink_name!r}].priority must be an integer, got {prio!r}")
        actions = [spec.get("same_priority", "mix"), spec.get("lower_priority", "mix")]
        for action in actions:
            if action not in _WP_ACTIONS:
                raise PolicyError(f"sinks[{sink_name!r}]: action must be one of {_WP_ACTIONS}, got {action!r}")
        roles = spec.get("roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise PolicyError(f"sinks[{sink_name!r}].roles must be a list of strings")
        sinks.append(RoleSink(sink_name, tuple(roles), prio, actions[0], actions[1]))
    return WirePlumberPolicy(
        name=name,
        settings=settings,
        source=data.get("source", {}),
        sinks=tuple(sinks),
        role_to_media_role=_roles(data.get("role_to_media_role", {}), "'role_to_media_role'"),
        default_media_role=settings.get("default_media_role"),
        duck_level=_level(settings.get("duck_level", 0.3), "duck_level"),
    )


def _build_none(name: str, settings: dict[str, Any], data: dict[str, Any]) -> NoPolicy:
    return NoPolicy(name=name, settings=settings, source=data.get("source", {}))


BUILDERS: dict[str, Callable[[str, dict[str, Any], dict[str, Any]], FocusPolicy]] = {
    "harmonyos": _build_harmonyos,
    "windows": _build_windows,
    "pulseaudio": _build_pulseaudio,
    "wireplumber": _build_wireplumber,
    "none": _build_none,
}
