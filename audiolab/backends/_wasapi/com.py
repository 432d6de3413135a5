"""The narrow interface the WASAPI backend is written against.

It has two implementations: :mod:`.windows` (pycaw and comtypes, Windows only) and :mod:`.fake` (pure Python,
for tests anywhere). Both follow the Core Audio rules:

- every method is called on the backend's COM thread (initialised for the multithreaded apartment), except
  that a ``SessionCreated`` callback may wrap the session it is given;
- every :class:`SessionControl` and :class:`SessionManager` object owns exactly one COM reference, given up
  by :meth:`release` (once; a second release is a bug the fake reports);
- callbacks (:class:`SessionEvents`, created and duck callbacks) arrive on threads that are not ours;
- getters return what the COM method returns; the two whose *success code* carries meaning return it:
  ``process_id()`` gives ``(hresult, pid)`` (AUDCLNT_S_NO_SINGLE_PROCESS for a cross-process session) and
  ``is_system_sounds_session()`` gives S_OK or S_FALSE.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..._by_fields import by_fields
from ...model import DeviceRole, Flow

S_OK = 0
S_FALSE = 1
AUDCLNT_S_NO_SINGLE_PROCESS = 0x0889000D
AUDCLNT_E_DEVICE_INVALIDATED = 0x88890004 - (1 << 32)
"""HRESULTs are signed 32-bit values; failure codes are negative."""


class ComCallFailed(Exception):
    """A COM method returned a failure HRESULT."""

    def __init__(self, method: str, hresult: int) -> None:
        super().__init__(f"{method} failed with HRESULT 0x{hresult & 0xFFFFFFFF:08X}")
        self.method = method
        self.hresult = hresult


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class EndpointInfo:
    """An active audio endpoint device (IMMDevice)."""

    id: str
    name: str
    flow: Flow
    channels: int = 2
    default_for: frozenset[DeviceRole] = frozenset()


class SessionEvents(Protocol):
    """IAudioSessionEvents as plain calls. ``context`` is the event-context GUID (lower case) or None."""

    def display_name_changed(self, name: str, context: str | None) -> None: ...

    def icon_path_changed(self, path: str, context: str | None) -> None: ...

    def simple_volume_changed(self, volume: float, muted: bool, context: str | None) -> None: ...

    def channel_volume_changed(self, volumes: tuple[float, ...], changed: int | None, context: str | None) -> None:
        """``changed`` is the channel index, or None when several channels may have changed."""

    def grouping_param_changed(self, grouping_param: str, context: str | None) -> None: ...

    def state_changed(self, state: int) -> None:
        """AudioSessionState: 0 inactive, 1 active, 2 expired."""

    def disconnected(self, reason: int) -> None:
        """AudioSessionDisconnectReason: 0 device removal ... 5 exclusive-mode override."""


class Registration(abc.ABC):
    """A registered callback; :meth:`unregister` undoes it and releases the callback object (once)."""

    @abc.abstractmethod
    def unregister(self) -> None: ...


class SessionControl(abc.ABC):
    """One session: IAudioSessionControl2 with its ISimpleAudioVolume, IChannelAudioVolume and
    IAudioMeterInformation (all obtained by QueryInterface, owned together, released together)."""

    @abc.abstractmethod
    def instance_identifier(self) -> str: ...

    @abc.abstractmethod
    def session_identifier(self) -> str: ...

    @abc.abstractmethod
    def process_id(self) -> tuple[int, int]:
        """(HRESULT, pid); AUDCLNT_S_NO_SINGLE_PROCESS for a cross-process session."""

    @abc.abstractmethod
    def is_system_sounds_session(self) -> int:
        """S_OK for the system sounds session, S_FALSE otherwise."""

    @abc.abstractmethod
    def state(self) -> int: ...

    @abc.abstractmethod
    def display_name(self) -> str: ...

    @abc.abstractmethod
    def icon_path(self) -> str: ...

    @abc.abstractmethod
    def grouping_param(self) -> str: ...

    @abc.abstractmethod
    def master_volume(self) -> float: ...

    @abc.abstractmethod
    def mute(self) -> bool: ...

    @abc.abstractmethod
    def channel_volumes(self) -> tuple[float, ...]: ...

    @abc.abstractmethod
    def peaks(self) -> tuple[float, tuple[float, ...]]:
        """IAudioMeterInformation: the session peak and its per-channel peaks (0..1)."""

    @abc.abstractmethod
    def set_master_volume(self, level: float, context: str) -> None: ...

    @abc.abstractmethod
    def set_mute(self, muted: bool, context: str) -> None: ...

    @abc.abstractmethod
    def set_channel_volume(self, channel: int, level: float, context: str) -> None: ...

    @abc.abstractmethod
    def set_display_name(self, name: str, context: str) -> None: ...

    @abc.abstractmethod
    def set_icon_path(self, path: str, context: str) -> None: ...

    @abc.abstractmethod
    def set_grouping_param(self, grouping_param: str, context: str) -> None: ...

    @abc.abstractmethod
    def set_ducking_preference(self, opt_out: bool) -> None: ...

    @abc.abstractmethod
    def register_events(self, events: SessionEvents) -> Registration: ...

    @abc.abstractmethod
    def release(self) -> None: ...


CreatedCallback = Callable[[SessionControl], None]
"""Receives a new session it owns (it must release it, on the COM thread)."""
DuckCallback = Callable[[str, int], None]
UnduckCallback = Callable[[str], None]


class SessionManager(abc.ABC):
    """IAudioSessionManager2 of one endpoint."""

    endpoint: EndpointInfo

    @abc.abstractmethod
    def sessions(self) -> list[SessionControl]:
        """Enumerate (IAudioSessionEnumerator); each control returned is a new reference the caller owns."""

    @abc.abstractmethod
    def register_session_created(self, callback: CreatedCallback) -> Registration: ...

    @abc.abstractmethod
    def register_duck(self, on_duck: DuckCallback, on_unduck: UnduckCallback) -> Registration:
        """RegisterDuckNotification with a NULL session id: every duck and unduck notification."""

    @abc.abstractmethod
    def release(self) -> None: ...


class ComApi(abc.ABC):
    """The entry point: thread set-up and the endpoints."""

    @abc.abstractmethod
    def enter_thread(self) -> None:
        """CoInitializeEx(COINIT_MULTITHREADED) on the calling thread."""

    @abc.abstractmethod
    def leave_thread(self) -> None:
        """CoUninitialize on the calling thread."""

    @abc.abstractmethod
    def endpoints(self) -> list[EndpointInfo]:
        """Every active render and capture endpoint."""

    @abc.abstractmethod
    def open_manager(self, endpoint: EndpointInfo) -> SessionManager: ...

    @abc.abstractmethod
    def process_name(self, pid: int) -> str:
        """The executable name of a process without extension, or "" if it cannot be read."""
