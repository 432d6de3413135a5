"""Backends, loaded by name so that importing audiolab imports none of them."""

from __future__ import annotations

import importlib
from typing import Any

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
    cls = getattr(module, attr)
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise TypeError(f"{_BACKENDS[name]} is not an audiolab.abc.Backend subclass")
    return cls


def make_backend(name: str, options: dict[str, Any]) -> Backend:
    """A started-to-be backend for the running event loop: an asyncio-only one under trio runs on an asyncio
    loop in a thread of its own (see :mod:`._bridge`)."""
    cls = backend_class(name)
    if needs_own_loop(cls):
        from ._bridge import BridgedBackend

        return BridgedBackend(lambda: cls(**options))
    return cls(**options)


def needs_own_loop(cls: type[Backend]) -> bool:
    """Whether ``cls`` needs asyncio and the running loop is not asyncio's."""
    if not cls.asyncio_only:
        return False
    import sniffio

    return sniffio.current_async_library() != "asyncio"


async def auto_candidates() -> list[str]:
    """Real backends that say they are usable on this machine, best first."""
    found = []
    for name in _AUTO_ORDER:
        try:
            cls = backend_class(name)
        except BackendUnavailable:
            continue
        if await _probe(cls):
            found.append(name)
    return found


async def _probe(cls: type[Backend]) -> bool:
    """``cls.probe()``, on an asyncio loop of its own when the backend needs one and this is not asyncio."""
    if not needs_own_loop(cls):
        return await cls.probe()
    import anyio

    from ._bridge import AsyncioThread

    thread = AsyncioThread("audiolab-asyncio-probe")
    try:
        return await anyio.to_thread.run_sync(thread.submit(cls.probe()).result)
    finally:
        await thread.close()
