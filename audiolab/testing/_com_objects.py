"""The fake Core Audio objects behind :class:`~audiolab.testing.FakeCom`: sessions, their controls and
managers, the streams and processes of the other apps a test plays, and the registrations they hand out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..backends._wasapi.com import (
    AUDCLNT_S_NO_SINGLE_PROCESS,
    S_FALSE,
    S_OK,
    ComCallFailed,
    CreatedCallback,
    DuckCallback,
    EndpointInfo,
    Registration,
    SessionControl,
    SessionEvents,
    SessionManager,
    UnduckCallback,
)
from ..model import NULL_GUID, DeviceRole, Flow, normalize_guid

if TYPE_CHECKING:
    from ._fake_com import FakeCom

E_INVALIDARG = 0x80070057 - (1 << 32)
SYSTEM_SOUNDS_GUID = "b1a6c8f2-3d4e-4f50-8a61-7c2d9e0f1a23"
INACTIVE, ACTIVE, EXPIRED = 0, 1, 2


def default_endpoints() -> tuple[EndpointInfo, ...]:
    """Speakers (default console device), a headset (default communications device), a microphone."""
    return (
        EndpointInfo("{0.0.0.00000000}.{5f3c1e2a-0000-4000-8000-000000000001}", "Speakers (Fake Audio)",
                     Flow.RENDER, 2, frozenset({DeviceRole.CONSOLE, DeviceRole.MULTIMEDIA})),
        EndpointInfo("{0.0.0.00000000}.{5f3c1e2a-0000-4000-8000-000000000002}", "Headset Earphone (Fake Audio)",
                     Flow.RENDER, 2, frozenset({DeviceRole.COMMUNICATIONS})),
        EndpointInfo("{0.0.1.00000000}.{5f3c1e2a-0000-4000-8000-000000000003}", "Microphone (Fake Audio)",
                     Flow.CAPTURE, 1, frozenset(DeviceRole)),
    )


class FakeComError(AssertionError):
    """A protocol violation: what would be a crash or a leak with real COM."""


# --- the audio engine's side ---------------------------------------------------------------------------------


@dataclass(eq=False)
class _Session:
    endpoint: EndpointInfo
    guid: str
    cross_process: bool
    pid: int
    process_name: str
    identifier: str
    instance_id: str
    channels: list[float]
    system_sounds: bool = False
    state: int = INACTIVE
    display_name: str = ""
    icon_path: str = ""
    grouping_param: str = NULL_GUID
    volume: float = 1.0
    muted: bool = False
    ducking_opt_out: bool = False
    listed: bool = False
    streams: list[FakeStream] = field(default_factory=list)
    events: list[_Registration] = field(default_factory=list)


class FakeStream:
    """A stream of a fake process (IAudioClient): start, stop, release; ``level`` is what it plays (0..1)."""

    def __init__(self, fake: FakeCom, session: _Session, level: float) -> None:
        self._fake = fake
        self._session = session
        self.level = level
        self.running = False
        self.released = False

    @property
    def session_id(self) -> str:
        """The instance identifier of the stream's session."""
        return self._session.instance_id

    def start(self) -> None:
        self._fake._stream_running(self, True)

    def stop(self) -> None:
        self._fake._stream_running(self, False)

    def release(self) -> None:
        self._fake._release_stream(self)


class FakeProcess:
    """Another app: a process with a pid and an executable name."""

    def __init__(self, fake: FakeCom, name: str, pid: int) -> None:
        self._fake = fake
        self.name = name
        self.pid = pid
        self.streams: list[FakeStream] = []

    def open_stream(
        self,
        endpoint_id: str | None = None,
        *,
        session_guid: str = NULL_GUID,
        cross_process: bool = False,
        display_name: str | None = None,
        level: float = 0.5,
        start: bool = False,
    ) -> FakeStream:
        """IAudioClient::Initialize on ``endpoint_id`` (the default console device of its flow when None)."""
        stream = self._fake._open_stream(self, endpoint_id, normalize_guid(session_guid), cross_process,
                                         display_name, level)
        self.streams.append(stream)
        if start:
            stream.start()
        return stream

    def exit(self) -> None:
        """The process ends: its streams are released."""
        for stream in list(self.streams):
            if not stream.released:
                stream.release()


# --- COM objects handed to the backend -----------------------------------------------------------------------


class _Owned:
    """One COM reference: counted while alive, released once."""

    def __init__(self, fake: FakeCom) -> None:
        self._fake = fake
        self._released = False
        fake._add_reference()

    def _check(self, what: str) -> None:
        self._fake._check_thread(what)
        if self._released:
            self._fake._violation(f"{what} on a released {type(self).__name__}")

    def release(self) -> None:
        self._fake._check_thread("Release")
        if self._released:
            self._fake._violation(f"second Release of a {type(self).__name__}")
        self._released = True
        self._fake._drop_reference()


class _Registration(Registration):
    def __init__(self, fake: FakeCom, kind: str, target: list[_Registration], callback: Any) -> None:
        self._fake = fake
        self.kind = kind
        self._target = target
        self.callback = callback
        self.active = True
        with fake._lock:
            target.append(self)
            fake._registrations += 1

    def unregister(self) -> None:
        self._fake._check_thread(f"Unregister {self.kind}")
        with self._fake._lock:
            if not self.active:
                self._fake._violation(f"second Unregister of a {self.kind} registration")
            self.active = False
            if self in self._target:
                self._target.remove(self)
            self._fake._registrations -= 1


class _Control(_Owned, SessionControl):
    def __init__(self, fake: FakeCom, session: _Session) -> None:
        super().__init__(fake)
        self._s = session

    def instance_identifier(self) -> str:
        self._check("GetSessionInstanceIdentifier")
        return self._s.instance_id

    def session_identifier(self) -> str:
        self._check("GetSessionIdentifier")
        return self._s.identifier

    def process_id(self) -> tuple[int, int]:
        self._check("GetProcessId")
        if self._s.system_sounds:
            return S_OK, 0
        if self._s.cross_process:
            return AUDCLNT_S_NO_SINGLE_PROCESS, self._s.pid  # the process that created it
        return S_OK, self._s.pid

    def is_system_sounds_session(self) -> int:
        self._check("IsSystemSoundsSession")
        return S_OK if self._s.system_sounds else S_FALSE

    def state(self) -> int:
        self._check("GetState")
        return self._s.state

    def display_name(self) -> str:
        self._check("GetDisplayName")
        return self._s.display_name

    def icon_path(self) -> str:
        self._check("GetIconPath")
        return self._s.icon_path

    def grouping_param(self) -> str:
        self._check("GetGroupingParam")
        return self._s.grouping_param

    def master_volume(self) -> float:
        self._check("GetMasterVolume")
        return self._s.volume

    def mute(self) -> bool:
        self._check("GetMute")
        return self._s.muted

    def channel_volumes(self) -> tuple[float, ...]:
        self._check("GetChannelVolume")
        return tuple(self._s.channels)

    def peaks(self) -> tuple[float, tuple[float, ...]]:
        self._check("GetPeakValue")
        return self._fake._peaks(self._s)

    def set_master_volume(self, level: float, context: str) -> None:
        self._check("SetMasterVolume")
        self._fake.set_volume_elsewhere(self._s.instance_id, level, context=context)

    def set_mute(self, muted: bool, context: str) -> None:
        self._check("SetMute")
        self._fake.set_mute_elsewhere(self._s.instance_id, muted, context=context)

    def set_channel_volume(self, channel: int, level: float, context: str) -> None:
        self._check("SetChannelVolume")
        self._fake.set_channel_volume_elsewhere(self._s.instance_id, channel, level, context=context)

    def set_display_name(self, name: str, context: str) -> None:
        self._check("SetDisplayName")
        self._fake.set_display_name_elsewhere(self._s.instance_id, name, context=context)

    def set_icon_path(self, path: str, context: str) -> None:
        self._check("SetIconPath")
        self._fake._set_property(self._s, "icon_path", path, context, "icon_path_changed")

    def set_grouping_param(self, grouping_param: str, context: str) -> None:
        self._check("SetGroupingParam")
        self._fake._set_property(self._s, "grouping_param", normalize_guid(grouping_param), context,
                                 "grouping_param_changed")

    def set_ducking_preference(self, opt_out: bool) -> None:
        self._check("SetDuckingPreference")
        self._s.ducking_opt_out = bool(opt_out)

    def register_events(self, events: SessionEvents) -> Registration:
        self._check("RegisterAudioSessionNotification")
        return _Registration(self._fake, "session events", self._s.events, events)


class _Manager(_Owned, SessionManager):
    def __init__(self, fake: FakeCom, endpoint: EndpointInfo) -> None:
        super().__init__(fake)
        self.endpoint = endpoint
        self.enumerated = False
        self.created: list[_Registration] = []

    def sessions(self) -> list[SessionControl]:
        self._check("GetSessionEnumerator")
        self.enumerated = True
        with self._fake._lock:
            listed = [s for s in self._fake._sessions.values() if s.endpoint.id == self.endpoint.id and s.listed]
        return [_Control(self._fake, s) for s in listed]

    def register_session_created(self, callback: CreatedCallback) -> Registration:
        self._check("RegisterSessionNotification")
        return _Registration(self._fake, "session created", self.created, callback)

    def register_duck(self, on_duck: DuckCallback, on_unduck: UnduckCallback) -> Registration:
        self._check("RegisterDuckNotification")
        return _Registration(self._fake, "duck", self._fake._duck_registrations, (on_duck, on_unduck))

    def release(self) -> None:
        super().release()
        with self._fake._lock:
            if self in self._fake._managers:
                self._fake._managers.remove(self)


def _check_level(value: float, method: str) -> None:
    if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ComCallFailed(method, E_INVALIDARG)
