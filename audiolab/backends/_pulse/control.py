"""Origin tracking for volume and mute control: which changes the server reports are this client's own.

A control call records what it asked for per stream (:meth:`Origins.expect`) before sending it; the mirror's
rebuild asks :meth:`Origins.origin_of` for every session whose volume or mute changed, which answers
THIS_CLIENT when a stream of it now shows a value this client asked for (consuming that expectation), else
OTHER_CLIENT. :meth:`Origins.sent` counts the THIS_CLIENT events sent per session, so a call sends its own event
only when none was sent for it, by its re-read or by the pump reading the server's notice first: one event per
change, always.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...events import ChannelVolumeChanged, Event, SessionRemoved, VolumeChanged
from ...model import Flow, Origin
from .mapping import RawStream, session_id_of
from .volume import same_volume

PENDING_SECONDS = 5.0
"""How long a requested value waits to be seen before it no longer counts as this client's."""


@dataclass
class _Pending:
    """A volume/mute this client asked for and has not seen applied yet."""

    volumes: tuple[float, ...] | None
    muted: bool | None
    deadline: float


class Origins:
    """What this client asked for and has not seen yet, and the THIS_CLIENT events sent per session."""

    def __init__(self) -> None:
        self._pending: dict[tuple[Flow, int], list[_Pending]] = {}
        self._sent: dict[tuple[str, type[Event]], int] = {}

    def expect(self, stream: RawStream, volumes: tuple[float, ...] | None, muted: bool | None, now: float) -> None:
        """This client is about to ask for ``volumes``/``muted`` on ``stream``."""
        self._pending.setdefault(stream.key, []).append(_Pending(volumes, muted, now + PENDING_SECONDS))

    def settled(self, stream: RawStream) -> None:
        """The server state was read after the change was acknowledged: later changes are not ours."""
        self._pending.pop(stream.key, None)

    def clear(self) -> None:
        self._pending.clear()

    def origin_of(self, session_id: str, streams: Mapping[tuple[Flow, int], RawStream], now: float) -> Origin:
        """THIS_CLIENT when a stream of the session now shows a volume/mute this client asked for."""
        origin = Origin.OTHER_CLIENT
        for key in list(self._pending):
            pending = [p for p in self._pending[key] if p.deadline > now]
            stream = streams.get(key)
            if stream is None or not pending:
                del self._pending[key]
                continue
            self._pending[key] = pending
            if session_id_of(stream) != session_id:
                continue
            for i, p in enumerate(pending):
                if (p.volumes is None or same_volume(p.volumes, stream.volumes)) and (
                    p.muted is None or p.muted == stream.muted
                ):
                    del pending[: i + 1]
                    origin = Origin.THIS_CLIENT
                    break
        return origin

    def note_sent(self, event: Event) -> None:
        """Count an event as it is sent (a removed session's counts go with it)."""
        if isinstance(event, (VolumeChanged, ChannelVolumeChanged)) and event.origin is Origin.THIS_CLIENT:
            key = (event.session_id, type(event))
            self._sent[key] = self._sent.get(key, 0) + 1
        elif isinstance(event, SessionRemoved):
            for kind in (VolumeChanged, ChannelVolumeChanged):
                self._sent.pop((event.session_id, kind), None)

    def sent(self, session_id: str, kind: type[Event]) -> int:
        """THIS_CLIENT events of ``kind`` sent for the session so far."""
        return self._sent.get((session_id, kind), 0)
