"""What a client may change on a session of the simulated service: volume, mute, a channel's volume, display
name, icon, grouping parameter and ducking preference. Each call checks its input first (bad input raises
and changes nothing), then changes the session and reports it with the caller's ``origin``."""

from __future__ import annotations

from collections.abc import Callable

from ...events import (
    ChannelVolumeChanged,
    DisplayNameChanged,
    Event,
    GroupingParamChanged,
    IconPathChanged,
    VolumeChanged,
)
from ...model import Origin, check_level, normalize_guid
from .sessions import SessionTable


class SessionControl:
    """The setters of the service's sessions (ISimpleAudioVolume, IChannelAudioVolume, IAudioSessionControl)."""

    def __init__(self, table: SessionTable, emit: Callable[[Event], None]) -> None:
        self._table = table
        self._emit = emit

    def set_volume(self, session_id: str, volume: float, origin: Origin) -> None:
        """The session's master volume, 0..1."""
        session = self._table.session(session_id)
        level = check_level(volume)
        session.volume = level
        self._table.update_gain(session)
        self._emit(VolumeChanged(timestamp=self._table.now, session_id=session.id, volume=level,
                                 muted=session.muted, origin=origin))

    def set_mute(self, session_id: str, muted: bool, origin: Origin) -> None:
        """Mute or unmute the session."""
        session = self._table.session(session_id)
        if not isinstance(muted, bool):
            raise TypeError(f"muted must be a bool, not {type(muted).__name__}")
        session.muted = muted
        self._table.update_gain(session)
        self._emit(VolumeChanged(timestamp=self._table.now, session_id=session.id, volume=session.volume,
                                 muted=muted, origin=origin))

    def set_channel_volume(self, session_id: str, channel: int, volume: float, origin: Origin) -> None:
        """One channel's volume, 0..1."""
        session = self._table.session(session_id)
        if isinstance(channel, bool) or not isinstance(channel, int):
            raise TypeError(f"channel must be an int, not {type(channel).__name__}")
        if not 0 <= channel < len(session.channel_volumes):
            raise ValueError(f"channel must be in 0..{len(session.channel_volumes) - 1}, got {channel}")
        level = check_level(volume, "channel volume")
        session.channel_volumes[channel] = level
        self._table.update_gain(session)
        self._emit(ChannelVolumeChanged(timestamp=self._table.now, session_id=session.id,
                                        channel_volumes=tuple(session.channel_volumes), channel=channel,
                                        origin=origin))

    def set_display_name(self, session_id: str, name: str, origin: Origin) -> None:
        """The name a volume mixer shows (never persisted)."""
        session = self._table.session(session_id)
        if not isinstance(name, str):
            raise TypeError("a display name is a str")
        session.display_name = name
        self._emit(DisplayNameChanged(timestamp=self._table.now, session_id=session.id, display_name=name,
                                      origin=origin))

    def set_icon_path(self, session_id: str, path: str, origin: Origin) -> None:
        """The icon a volume mixer shows (never persisted)."""
        session = self._table.session(session_id)
        if not isinstance(path, str):
            raise TypeError("an icon path is a str")
        session.icon_path = path
        self._emit(IconPathChanged(timestamp=self._table.now, session_id=session.id, icon_path=path,
                                   origin=origin))

    def set_grouping_param(self, session_id: str, grouping_param: str, origin: Origin) -> None:
        """The GUID that groups sessions under one volume control."""
        session = self._table.session(session_id)
        value = normalize_guid(grouping_param)
        session.grouping_param = value
        self._emit(GroupingParamChanged(timestamp=self._table.now, session_id=session.id, grouping_param=value,
                                        origin=origin))

    def set_ducking_opt_out(self, session_id: str, opt_out: bool) -> None:
        """SetDuckingPreference: an opted-out session is notified of a duck but not ducked."""
        session = self._table.session(session_id)
        if not isinstance(opt_out, bool):
            raise TypeError("opt_out must be a bool")
        session.ducking_opt_out = opt_out
