"""Backends, loaded by name so that importing audiolab imports none of them."""

from __future__ import annotations

import importlib

from .._exceptions import BackendUnavailable
from ._base import Backend

_BACKENDS = {
    "sim": "audiolab.backends.sim:SimBackend",
    "pulse": "audiolab.backends.pulse:PulseBackend",
    "pipewire": "audiolab.backends.pulse:PulseBackend",
    "wasapi": "audiolab.backends.wasapi:WasapiBackend",
    "replay": "audiolab.backends.replay:ReplayBackend",
}
_AUTO_ORDER = ("wasapi", "pulse")

BACKEND_NAMES = tuple(_BACKENDS)


def backend_class(name: str) -> type[Backend]:
    """The backend class registered under ``name``; BackendUnavailable if it cannot be loaded here."""
    if not isinstance(name, str) or name not in _BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)} or 'auto'")
    module_name, _, attr = _BACKENDS[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailable(f"backend {name!r} cannot be loaded here: {exc}") from exc
    return getattr(module, attr)


async def auto_candidates() -> list[str]:
    """Real backends that say they are usable on this machine, best first."""
    found = []
    for name in _AUTO_ORDER:
        try:
            cls = backend_class(name)
        except BackendUnavailable:
            continue
        if await cls.probe():
            found.append(name)
    return found
