"""Focus policies as data: :func:`load_policy` and the registry of policy kinds (types in
:mod:`.policy_types`, the classic builders in :mod:`.policy_builders`).

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
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._data import data_dir
from .._exceptions import PolicyError as PolicyError  # re-exported: the systems' builders raise it
from .._files import read_regular_file
from .policy_builders import BUILDERS as _BUILDERS
from .policy_builders import PA_VOLUME_NORM as PA_VOLUME_NORM
from .policy_builders import _level, _roles
from .policy_builders import pulse_volume_to_gain as pulse_volume_to_gain
from .policy_types import PLAY_RULE as PLAY_RULE
from .policy_types import DuckGroup as DuckGroup
from .policy_types import FocusPolicy as FocusPolicy
from .policy_types import HarmonyOSPolicy as HarmonyOSPolicy
from .policy_types import HarmonyRule as HarmonyRule
from .policy_types import NoPolicy as NoPolicy
from .policy_types import PulseAudioPolicy as PulseAudioPolicy
from .policy_types import RoleSink as RoleSink
from .policy_types import WindowsPolicy as WindowsPolicy
from .policy_types import WirePlumberPolicy as WirePlumberPolicy

FORMAT = "audiolab.focus/1"
BUILTIN = ("harmonyos", "windows", "pulseaudio", "wireplumber", "wireplumber-0.4", "android", "android-automotive", "ios",
           "none")


def datasets_dir() -> Path:
    """Where the bundled policy files live (see :func:`audiolab._data.data_dir`)."""
    return data_dir("focus")




# --- loading -------------------------------------------------------------------------------------------


def load_policy(name_or_path: str | os.PathLike[str], **settings: object) -> FocusPolicy:
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
    if isinstance(kind, str) and kind not in _BUILDERS:  # a kind whose builder lives with its system
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
            from .._toml import tomllib  # here: the bundled policies are JSON, and a cold start reads one

            return tomllib.loads(raw.decode("utf-8"))
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except ValueError as exc:  # UnicodeDecodeError, tomllib.TOMLDecodeError
        raise PolicyError(f"{path}: not valid {path.suffix[1:].upper()}: {exc}") from None
    except RecursionError:
        raise PolicyError(f"{path}: nested too deeply") from None



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
