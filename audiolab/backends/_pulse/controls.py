"""The pulse backend's volume and mute control: each change sent per stream of the session, then re-read, so the
new state and its event (origin THIS_CLIENT, see :mod:`.control`) are in place when the call returns."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from ..._by_fields import by_fields
from ..._exceptions import AudiolabError, SessionNotFound
from ...clock import Clock
from ...events import ChannelVolumeChanged, Event, VolumeChanged
from ...model import Flow, Origin, Session, check_level
from .connection import Connection, pulsectl
from .control import Origins
from .mapping import RawStream, is_own, session_id_of
from .mirror import Mirror
from .volume import scaled_to

__all__ = ("ControlWiring", "Controls")

_Change = tuple[RawStream, list[float] | None, bool | None]
"""A stream, the volumes to set on it (or None) and the mute to set on it (or None)."""


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class ControlWiring:
    """What the controls need of the backend that holds them."""

    require: Callable[[], Connection]
    """The live connection, or raise (ClosedResourceError once closed, BackendDisconnected while lost)."""
    session: Callable[[str], Session]
    """The session, or raise SessionNotFound (ClosedResourceError once closed)."""
    reread: Callable[[list[RawStream]], Awaitable[None]]
    """Re-read the streams and emit what changed (under the pump's lock)."""
    send: Callable[[Iterable[Event]], None]


class Controls:
    """Volume and mute control of the sessions in ``mirror``, with origin tracking in ``origins``."""

    def __init__(self, mirror: Mirror, origins: Origins, clock: Clock, wiring: ControlWiring) -> None:
        self._mirror = mirror
        self._origins = origins
        self._clock = clock
        self._wiring = wiring

    async def set_volume(self, session_id: str, volume: float) -> None:
        """Set every stream of the session to ``volume`` (keeping their balance)."""
        level = check_level(volume)
        streams = self._session_streams(session_id)
        await self._apply(session_id, [(s, scaled_to(s.volumes, level), None) for s in streams], None)

    async def set_channel_volume(self, session_id: str, channel: int, volume: float) -> None:
        """Set one channel of every stream of the session that has it."""
        if isinstance(channel, bool) or not isinstance(channel, int):
            raise TypeError(f"channel must be an int, not {type(channel).__name__}")
        level = check_level(volume, "channel volume")
        streams = self._session_streams(session_id)
        channels = len(self._wiring.session(session_id).channel_volumes)
        if not 0 <= channel < channels:
            raise ValueError(f"channel must be in 0..{channels - 1}, got {channel}")
        changes: list[_Change] = []
        for s in streams:
            if channel < len(s.volumes):
                values = list(s.volumes)
                values[channel] = level
                changes.append((s, values, None))
        await self._apply(session_id, changes, channel)

    async def set_mute(self, session_id: str, muted: bool) -> None:
        """Mute or unmute every stream of the session."""
        if not isinstance(muted, bool):
            raise TypeError(f"muted must be a bool, not {type(muted).__name__}")
        streams = self._session_streams(session_id)
        await self._apply(session_id, [(s, None, muted) for s in streams], None)

    def _session_streams(self, session_id: str) -> list[RawStream]:
        self._wiring.require()
        self._wiring.session(session_id)
        own = self._mirror.own_client
        streams = [s for s in self._mirror.streams.values() if not is_own(s, own) and session_id_of(s) == session_id]
        if not streams:
            raise SessionNotFound(f"no session {session_id!r}")
        return sorted(streams, key=lambda s: s.index)

    async def _apply(self, session_id: str, changes: list[_Change], channel: int | None) -> None:
        """Send the changes, then re-read the streams, so the new state and its event (origin THIS_CLIENT) are
        in place when the call returns. Like Windows, a change that leaves the value as it was still emits
        its event (VolumeChanged, or ChannelVolumeChanged for ``channel``)."""
        conn = self._wiring.require()
        mono = time.monotonic()
        wanted = ChannelVolumeChanged if channel is not None else VolumeChanged
        sent_before = self._origins.sent(session_id, wanted)
        calls = []
        for stream, volumes, muted in changes:
            self._origins.expect(stream, tuple(volumes) if volumes is not None else None, muted, mono)
            render = stream.flow is Flow.RENDER
            if volumes is not None:
                method = "sink_input_volume_set" if render else "source_output_volume_set"
                calls.append(conn.call(method, stream.index, pulsectl.PulseVolumeInfo(list(volumes))))
            if muted is not None:
                calls.append(conn.call("sink_input_mute" if render else "source_output_mute", stream.index, muted))
        results = await asyncio.gather(*calls, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        try:
            await self._wiring.reread([stream for stream, _, _ in changes])
        finally:
            for stream, _, _ in changes:
                self._origins.settled(stream)
        if failures:
            if session_id not in self._mirror.sessions:
                raise SessionNotFound(f"session {session_id!r} ended") from failures[0]
            error = failures[0]
            if isinstance(error, AudiolabError):
                raise error
            raise AudiolabError(f"the PulseAudio server refused the change: {error}") from error
        session = self._mirror.sessions.get(session_id)
        if session is None:
            return
        # Sent once (see control.py): here only for a change that left the value as it was (no notice).
        if self._origins.sent(session_id, wanted) == sent_before:
            now = self._clock.now()
            if channel is not None:
                event: Event = ChannelVolumeChanged(timestamp=now, session_id=session_id,
                                                    channel_volumes=session.channel_volumes, channel=channel,
                                                    origin=Origin.THIS_CLIENT)
            else:
                event = VolumeChanged(timestamp=now, session_id=session_id, volume=session.volume,
                                      muted=session.muted, origin=Origin.THIS_CLIENT)
            self._wiring.send([event])
