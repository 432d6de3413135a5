"""The backend seam, published for anyone who writes a backend (as :mod:`anyio.abc` publishes anyio's).

    from audiolab.abc import Backend, Capability

    class MyBackend(Backend):
        name = "mine"
        capabilities = frozenset({Capability.METERS})
        ...

    async with audiolab.open(MyBackend()) as lab:      # an instance, as httpx takes a transport
        ...

A backend reports a snapshot of sessions and pushes events through the :data:`EventSink` it is started with;
the Lab fans them out to its subscribers and brings control calls, already checked, to the backend. A tone
player returns a :class:`Playback` for a :class:`PlayRequest`; time comes from the backend's :class:`Clock`.
"""

from __future__ import annotations

from .audio.playback import Playback, PlayRequest
from .backends._base import Backend, Capability, EventSink
from .clock import Clock

__all__ = ("Backend", "Capability", "Clock", "EventSink", "PlayRequest", "Playback")
