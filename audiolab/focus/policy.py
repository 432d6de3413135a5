"""Focus policies as data: the policy types and :func:`load_policy`.

A policy file is JSON (or TOML) with ``format = "audiolab.focus/1"``, a ``kind`` and ``settings``; the
bundled ones live in ``datasets/focus/<name>.json``. ``load_policy(name_or_path, **settings)`` reads one,
overrides its settings and validates everything, raising :class:`PolicyError` (naming the file and the
field) on anything malformed. The policy objects are frozen; the decisions are made by
:class:`audiolab.focus.FocusEngine`.

Gains are *linear amplitude* factors (1.0 = unchanged, 0.0 = silent). PulseAudio volumes are converted:
``"-20dB"`` -> 10**(-20/20) = 0.1; ``"30%"`` is on PulseAudio's cubic scale -> 0.30**3 = 0.027 (-31.4 dB);
a raw integer v -> (v / 65536)**3.
"""

from __future__ import annotations

import importlib
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._data import data_dir
from .._exceptions import PolicyError as PolicyError  # re-exported: the systems' builders raise it
from .._files import read_regular_file
from .._toml import tomllib
from ..model import ForceType, Role

FORMAT = "audiolab.focus/1"
BUILTIN = ("harmonyos", "windows", "pulseaudio", "wireplumber", "wireplumber-0.4", "android", "android-automotive", "ios",
           "none")
PA_VOLUME_NORM = 0x10000


def datasets_dir() -> Path:
    """Where the bundled policy files live (see :func:`audiolab._data.data_dir`)."""
    return data_dir("focus")


# --- policy types --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FocusPolicy:
    """Base of every policy: a name, the effective settings and the provenance of the data."""

    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    kind = "base"

    @property
    def version(self) -> str | None:
        """Where the policy's data came from: the file's ``source.version``, else the source repository and
        commit it was taken from, else None."""
        version = self.source.get("version")
        if isinstance(version, str):
            return version
        repo, commit = self.source.get("repository"), self.source.get("commit")
        if isinstance(repo, str) and isinstance(commit, str):
            return f"{repo}@{commit[:12]}"
        return None


@dataclass(frozen=True)
class NoPolicy(FocusPolicy):
    """Everything mixes."""

    kind = "none"


@dataclass(frozen=True)
class HarmonyRule:
    """One cell of the HarmonyOS table: what happens when ``incoming`` starts while ``existing`` plays.

    ``action`` is PLAY, DUCK, PAUSE, STOP (REJECT is read as STOP) or DENY; ``on`` is "incoming",
    "existing" or "both"; ``force`` FORCE (the system acts) or SHARE (the app is told and decides)."""

    action: str
    on: str
    force: ForceType
    group: str

    @property
    def deny(self) -> bool:
        return self.action == "DENY"


PLAY_RULE = HarmonyRule("PLAY", "incoming", ForceType.FORCE, "default")


@dataclass(frozen=True)
class HarmonyOSPolicy(FocusPolicy):
    """The OpenHarmony default interrupt table plus the usage/role mapping and session types."""

    table: Mapping[tuple[str, str], HarmonyRule] = field(default_factory=dict, repr=False)
    role_to_usage: Mapping[Role, str] = field(default_factory=dict, repr=False)
    usage_to_focus_type: Mapping[str, str] = field(default_factory=dict, repr=False)
    session_types: Mapping[str, str] = field(default_factory=dict, repr=False)
    duck_gain: float = 0.2

    kind = "harmonyos"

    def focus_type(self, role: Role, usage: str | None = None) -> str:
        """The table's stream type for a role (or an explicit StreamUsage/SourceType name)."""
        name = usage or self.role_to_usage.get(role, "STREAM_USAGE_UNKNOWN")
        try:
            return self.usage_to_focus_type[name]
        except KeyError:
            raise PolicyError(f"harmonyos: unknown stream usage {name!r}") from None

    def rule(self, existing: str, incoming: str) -> HarmonyRule:
        """The table cell for a pair; a pair the table does not list plays both."""
        return self.table.get((existing, incoming), PLAY_RULE)

    def same_session_type(self, a: str, b: str) -> bool:
        ta, tb = self.session_types.get(a), self.session_types.get(b)
        return ta is not None and ta == tb


@dataclass(frozen=True)
class WindowsPolicy(FocusPolicy):
    """Windows communications-activity ducking. ``gain`` is None for the "Do nothing" setting. A stream is a
    communications stream when it plays on the default communications device, whatever its role."""

    gain: float | None = 0.2
    fade_seconds: float = 1.0
    system_sounds_roles: frozenset[Role] = frozenset()

    kind = "windows"


@dataclass(frozen=True)
class DuckGroup:
    """One slash-separated group of module-role-ducking (or, with gain None, of module-role-cork)."""

    trigger_roles: tuple[str, ...]
    roles: tuple[str, ...]
    gain: float | None = None


@dataclass(frozen=True)
class PulseAudioPolicy(FocusPolicy):
    """module-role-ducking (``duck_groups``) and module-role-cork (``cork_groups``)."""

    duck_groups: tuple[DuckGroup, ...] = ()
    duck_global: bool = False
    cork_groups: tuple[DuckGroup, ...] = ()
    cork_global: bool = False

    kind = "pulseaudio"


@dataclass(frozen=True)
class RoleSink:
    """A WirePlumber loopback role sink."""

    name: str
    roles: tuple[str, ...]
    priority: int
    same_priority: str
    lower_priority: str


@dataclass(frozen=True)
class WirePlumberPolicy(FocusPolicy):
    """WirePlumber role-based linking: role sinks with priorities and mix/duck/cork actions."""

    sinks: tuple[RoleSink, ...] = ()
    role_to_media_role: Mapping[Role, str | None] = field(default_factory=dict, repr=False)
    default_media_role: str | None = "Multimedia"
    duck_level: float = 0.3

    kind = "wireplumber"

    def sink_for(self, role: Role) -> RoleSink | None:
        media_role = self.role_to_media_role.get(role) or self.default_media_role
        for sink in self.sinks:
            if media_role in sink.roles:
                return sink
        return None


# --- loading -------------------------------------------------------------------------------------------


def load_policy(name_or_path: str | os.PathLike[str], **settings: Any) -> FocusPolicy:
    """Load a bundled policy by name (one of :data:`BUILTIN`: ``"harmonyos"``, ``"windows"``, ``"pulseaudio"``,
    ``"wireplumber"``, ``"wireplumber-0.4"``, ``"android"``, ``"android-automotive"``, ``"ios"``, ``"none"``) or a
    policy file by path, with settings overridden by keyword.

    Raises PolicyError for an unknown name, a malformed file or an invalid setting."""
    path = _resolve(name_or_path)
    data = _read(path)
    where = str(path)
    if not isinstance(data, dict):
        raise PolicyError(f"{where}: the top level must be an object")
    if data.get("format") != FORMAT:
        raise PolicyError(f"{where}: 'format' must be {FORMAT!r}, got {data.get('format')!r}")
    kind = data.get("kind")
    if isinstance(kind, str):
        load_system(kind)
    if not isinstance(kind, str) or kind not in _BUILDERS:
        raise PolicyError(f"{where}: 'kind' must be one of {sorted({*_BUILDERS, *SYSTEM_MODULES})}, got {kind!r}")
    base = data.get("settings", {})
    if not isinstance(base, dict):
        raise PolicyError(f"{where}: 'settings' must be an object")
    if not isinstance(data.get("source", {}), dict):
        raise PolicyError(f"{where}: 'source' (the provenance of the data) must be an object")
    settings = {("global" if k == "global_" else k): v for k, v in settings.items()}
    unknown = sorted(set(settings) - set(base) - _ALIASES.get(kind, {}).keys())
    if unknown:
        raise PolicyError(f"{kind}: unknown setting(s) {unknown}; known: {sorted(base)}")
    merged = dict(base)
    for key, value in settings.items():
        merged[_ALIASES.get(kind, {}).get(key, key)] = value
    name = path.stem if path.parent == datasets_dir() else str(path)
    try:
        return _BUILDERS[kind](name, merged, data)
    except PolicyError as exc:
        raise PolicyError(f"{where}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PolicyError(f"{where}: malformed {kind} policy: {exc!r}") from None


_ALIASES = {"pulseaudio": {"ducking_volume": "volume"}}


def as_policy(policy: object, **settings: Any) -> FocusPolicy:
    """What ``policy=`` and ``set_policy()`` take: a bundled name or a policy file (str or os.PathLike,
    loaded with ``settings``), or a policy object (as it is). Anything else is a TypeError."""
    if isinstance(policy, FocusPolicy):
        if settings:
            raise TypeError(f"settings {sorted(settings)} apply to a policy name or file, not to a policy object")
        return policy
    if isinstance(policy, (str, os.PathLike)):
        return load_policy(policy, **settings)
    raise TypeError(f"a focus policy is one of {list(BUILTIN)}, a .json/.toml path or a policy object, "
                    f"not {type(policy).__name__}")


def _resolve(name_or_path: str | os.PathLike[str]) -> Path:
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(f"load_policy() takes a policy name or a path, not {type(name_or_path).__name__}")
    if isinstance(name_or_path, str) and name_or_path in BUILTIN:
        return datasets_dir() / f"{name_or_path}.json"
    path = Path(name_or_path)
    if path.suffix not in (".json", ".toml"):
        raise PolicyError(f"unknown policy {str(name_or_path)!r}: use one of {list(BUILTIN)} or a .json/.toml path")
    return path


def _read(path: Path) -> Any:
    try:
        raw = read_regular_file(path)
        if raw is None:
            raise FileNotFoundError(f"no such file: {path}")
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise PolicyError(f"cannot read policy file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        if path.suffix == ".toml":
            return tomllib.loads(raw.decode("utf-8"))
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path}: not valid {path.suffix[1:].upper()}: {exc}") from None
    except RecursionError:
        raise PolicyError(f"{path}: nested too deeply") from None


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


def pulse_volume_to_gain(value: Any) -> float:
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


_BUILDERS: dict[str, Callable[[str, dict[str, Any], dict[str, Any]], FocusPolicy]] = {
    "harmonyos": _build_harmonyos,
    "windows": _build_windows,
    "pulseaudio": _build_pulseaudio,
    "wireplumber": _build_wireplumber,
    "none": _build_none,
}


def register_builder(kind: str, builder: Callable[[str, dict[str, Any], dict[str, Any]], FocusPolicy]) -> None:
    """Let :func:`load_policy` read files of ``kind`` with ``builder(name, settings, data)``."""
    _BUILDERS[kind] = builder


SYSTEM_MODULES = {
    "harmonyos": "harmonyos",
    "windows": "windows",
    "pulseaudio": "pulseaudio",
    "wireplumber": "wireplumber",
    "wireplumber-0.4": "wireplumber04",
    "android": "android",
    "android-automotive": "automotive",
    "ios": "ios",
}
"""The module of :mod:`audiolab.focus` that implements each policy kind, imported the first time the kind is
used (a command reads one policy; importing all eight systems would cost every start)."""


def load_system(kind: str) -> None:
    """Import the module of ``kind``'s focus system (it registers its system and builder); a no-op for others."""
    module = SYSTEM_MODULES.get(kind)
    if module is not None:
        importlib.import_module(f"{__package__}.{module}")


level = _level
"""A setting that is a linear gain in 0..1 (PolicyError otherwise), for the systems' own builders."""
role_table = _roles
"""An object keyed by role names -> {Role: value} (PolicyError for an unknown role)."""
