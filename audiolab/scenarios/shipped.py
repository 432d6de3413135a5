"""The shipped scenarios (``datasets/scenarios``; in a wheel ``audiolab/_datasets/scenarios``): listing them
and resolving a name or a path."""

from __future__ import annotations

from pathlib import Path

from .._data import data_dir
from .._exceptions import ScenarioError
from .format import Scenario, load_scenario


def scenarios_dir() -> Path:
    """The folder of the shipped scenarios (see :func:`audiolab._data.data_dir`)."""
    return data_dir("scenarios")


def shipped() -> list[Path]:
    """Every shipped scenario file, sorted by name."""
    return sorted(scenarios_dir().glob("*.toml"))


def resolve(name_or_path: str | Path) -> Scenario:
    """Load a shipped scenario by name (``"music-navigation"``) or any scenario file by path."""
    path = Path(name_or_path)
    if not path.exists() and isinstance(name_or_path, str) and "/" not in name_or_path:
        candidate = scenarios_dir() / f"{name_or_path.removesuffix('.toml')}.toml"
        if candidate.exists():
            path = candidate
        else:
            names = ", ".join(p.stem for p in shipped())
            raise ScenarioError(f"no scenario file or shipped scenario {name_or_path!r}; shipped: {names}")
    return load_scenario(path)
