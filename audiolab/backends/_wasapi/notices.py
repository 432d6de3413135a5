"""What one session's IAudioSessionEvents reports, as typed values the COM side hands to the loop.

Each is the payload of one callback (``IAudioSessionEvents::On...``), with the event context of whoever made
the change where Windows passes one. The tracker turns them into audiolab events on the event loop."""

from __future__ import annotations

from dataclasses import dataclass

from ..._by_fields import by_fields


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class VolumeNotice:
    """OnSimpleVolumeChanged."""

    volume: float
    muted: bool
    context: str | None


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class ChannelVolumeNotice:
    """OnChannelVolumeChanged: every channel's level and the one that changed (None: all)."""

    volumes: tuple[float, ...]
    changed: int | None
    context: str | None


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class DisplayNameNotice:
    """OnDisplayNameChanged."""

    name: str
    context: str | None


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class IconPathNotice:
    """OnIconPathChanged."""

    path: str
    context: str | None


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class GroupingParamNotice:
    """OnGroupingParamChanged (the GUID as Windows gives it; the tracker normalises it)."""

    grouping_param: str
    context: str | None


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class StateNotice:
    """OnStateChanged: AudioSessionState (0 inactive, 1 active, 2 expired)."""

    state: int


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class DisconnectNotice:
    """OnSessionDisconnected: AudioSessionDisconnectReason."""

    reason: int


Notice = (VolumeNotice | ChannelVolumeNotice | DisplayNameNotice | IconPathNotice | GroupingParamNotice | StateNotice
          | DisconnectNotice)
"""Any one of the notices above."""
