"""The real COM layer: pycaw's interface declarations driven through comtypes. Windows only.

NOT YET RUN ON REAL WINDOWS (see docs/windows.md). Rules it follows, from pycaw's and comtypes' bug history:

- a comtypes pointer releases its reference when the Python object is collected; so a wrapper "releases" by
  dropping its only Python reference, on the COM thread, and nothing here ever calls ``Release()`` itself
  or uses ``ctypes.cast`` on an interface pointer (a pointer without its own AddRef, released twice);
- a session handed to OnSessionCreated is kept only through ``QueryInterface`` (which AddRefs);
- comtypes is imported on the COM thread, which is initialised for the multithreaded apartment, so the
  importing thread (the event loop's) is never made an STA as a side effect;
- callback objects stay referenced by their registration until they are unregistered;
- callbacks never raise into COM and only hand over (see ``table._Events``).
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Callable
from ctypes import wintypes
from typing import Any, TypeVar

from ...model import DeviceRole, Flow
from .com import (
    AUDCLNT_S_NO_SINGLE_PROCESS,
    S_FALSE,
    S_OK,
    ComApi,
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

T = TypeVar("T")
COINIT_MULTITHREADED = 0x0
CLSCTX_ALL = 0x17
E_RENDER, E_CAPTURE, E_ALL = 0, 1, 2
DEVICE_STATE_ACTIVE = 0x1
NO_CHANGED_CHANNEL = 0xFFFFFFFF
ROLES = ((0, DeviceRole.CONSOLE), (1, DeviceRole.MULTIMEDIA), (2, DeviceRole.COMMUNICATIONS))

_lib: Any = None
_lib_lock = threading.Lock()


def _load() -> Any:
    """Import comtypes and pycaw (on the COM thread) and build what we declare ourselves. Cached."""
    if sys.platform != "win32":  # also tells type checkers that what follows is Windows code
        raise ImportError("the Windows audio API exists on Windows only")
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        if "comtypes" not in sys.modules:
            # comtypes initialises COM on the importing thread at import; make that the MTA we want.
            had = hasattr(sys, "coinit_flags")
            previous = getattr(sys, "coinit_flags", None)
            sys.coinit_flags = COINIT_MULTITHREADED
            try:
                import comtypes  # noqa: F401
            finally:
                if had:
                    sys.coinit_flags = previous
                else:
                    del sys.coinit_flags
        import types

        import comtypes
        from comtypes import COMMETHOD, GUID, COMObject, IUnknown
        from pycaw.api.audioclient import IChannelAudioVolume, ISimpleAudioVolume
        from pycaw.api.audiopolicy import (
            IAudioSessionControl2,
            IAudioSessionEvents,
            IAudioSessionManager2,
            IAudioSessionNotification,
            IAudioVolumeDuckNotification,
        )
        from pycaw.api.mmdeviceapi import IMMDeviceEnumerator, IMMEndpoint
        from pycaw.constants import CLSID_MMDeviceEnumerator
        from pycaw.utils import AudioUtilities

        class IAudioMeterInformation(IUnknown):
            # All four methods (pycaw declares only the first), in vtable order, from the Windows SDK docs.
            _iid_ = GUID("{C02216F6-8C67-4B5B-9D00-D008E73E0064}")
            _methods_ = (
                COMMETHOD([], ctypes.HRESULT, "GetPeakValue", (["out"], ctypes.POINTER(ctypes.c_float), "peak")),
                COMMETHOD([], ctypes.HRESULT, "GetMeteringChannelCount",
                          (["out"], ctypes.POINTER(wintypes.UINT), "count")),
                COMMETHOD([], ctypes.HRESULT, "GetChannelsPeakValues", (["in"], wintypes.UINT, "count"),
                          (["in"], ctypes.POINTER(ctypes.c_float), "peaks")),
                COMMETHOD([], ctypes.HRESULT, "QueryHardwareSupport",
                          (["out"], ctypes.POINTER(wintypes.DWORD), "mask")),
            )

        class SessionEventsObject(COMObject):
            _com_interfaces_ = (IAudioSessionEvents,)

            def __init__(self, sink: SessionEvents) -> None:
                super().__init__()
                self.sink = sink

            def OnDisplayNameChanged(self, name: str, context: Any) -> None:
                _quietly(self.sink.display_name_changed, name or "", _guid(context))

            def OnIconPathChanged(self, path: str, context: Any) -> None:
                _quietly(self.sink.icon_path_changed, path or "", _guid(context))

            def OnSimpleVolumeChanged(self, volume: float, muted: int, context: Any) -> None:
                _quietly(self.sink.simple_volume_changed, float(volume), bool(muted), _guid(context))

            def OnChannelVolumeChanged(self, count: int, volumes: Any, changed: int, context: Any) -> None:
                values = tuple(float(volumes[i]) for i in range(int(count)))
                which = None if changed == NO_CHANGED_CHANNEL else int(changed)
                _quietly(self.sink.channel_volume_changed, values, which, _guid(context))

            def OnGroupingParamChanged(self, grouping: Any, context: Any) -> None:
                _quietly(self.sink.grouping_param_changed, _guid(grouping) or "", _guid(context))

            def OnStateChanged(self, state: int) -> None:
                _quietly(self.sink.state_changed, int(state))

            def OnSessionDisconnected(self, reason: int) -> None:
                _quietly(self.sink.disconnected, int(reason))

        class SessionCreatedObject(COMObject):
            _com_interfaces_ = (IAudioSessionNotification,)

            def __init__(self, on_created: Callable[[Any], None]) -> None:
                super().__init__()
                self.on_created = on_created

            def OnSessionCreated(self, new_session: Any) -> None:
                # QueryInterface AddRefs: the new pointer is ours; the argument stays the caller's.
                _quietly(lambda: self.on_created(new_session.QueryInterface(IAudioSessionControl2)))

        class DuckObject(COMObject):
            _com_interfaces_ = (IAudioVolumeDuckNotification,)

            def __init__(self, on_duck: DuckCallback, on_unduck: UnduckCallback) -> None:
                super().__init__()
                self.on_duck, self.on_unduck = on_duck, on_unduck

            def OnVolumeDuckNotification(self, session_id: str, count: int) -> None:
                _quietly(self.on_duck, session_id or "", int(count))

            def OnVolumeUnduckNotification(self, session_id: str) -> None:
                _quietly(self.on_unduck, session_id or "")

        _lib = types.SimpleNamespace(
            comtypes=comtypes, GUID=GUID, COMError=comtypes.COMError, IUnknown=IUnknown,
            IChannelAudioVolume=IChannelAudioVolume, ISimpleAudioVolume=ISimpleAudioVolume,
            IAudioSessionControl2=IAudioSessionControl2, IAudioSessionManager2=IAudioSessionManager2,
            IMMDeviceEnumerator=IMMDeviceEnumerator, IMMEndpoint=IMMEndpoint,
            IAudioMeterInformation=IAudioMeterInformation, CLSID_MMDeviceEnumerator=CLSID_MMDeviceEnumerator,
            AudioUtilities=AudioUtilities, SessionEventsObject=SessionEventsObject,
            SessionCreatedObject=SessionCreatedObject, DuckObject=DuckObject,
        )
        return _lib


def _guid(pointer: Any) -> str | None:
    """A GUID* argument as a lower-case string (None for a NULL pointer)."""
    if not pointer:
        return None
    value = pointer.contents if hasattr(pointer, "contents") else pointer
    return str(value).strip("{}").lower()


def _quietly(fn: Callable[..., Any], *args: Any) -> None:
    # A callback must never raise into COM.
    try:
        fn(*args)
    except Exception:  # pragma: no cover - Windows only
        import logging

        logging.getLogger("audiolab.wasapi").exception("audiolab: a COM callback failed")


def _com(method: str, fn: Callable[..., T], *args: Any) -> T:
    """Call a COM method; a COMError becomes ComCallFailed with its HRESULT."""
    lib = _load()
    try:
        return fn(*args)
    except lib.COMError as exc:
        raise ComCallFailed(method, int(exc.hresult)) from exc
    except OSError as exc:  # raw vtable calls raise OSError(winerror=HRESULT)
        raise ComCallFailed(method, int(getattr(exc, "winerror", 0) or -1)) from exc


class _Registration(Registration):
    def __init__(self, what: str, undo: Callable[[Any], None], callback_object: Any) -> None:
        self._what = what
        self._undo: Callable[[Any], None] | None = undo
        self._object = callback_object  # keeps the COMObject alive while COM may call it

    def unregister(self) -> None:
        undo, self._undo = self._undo, None
        if undo is None:
            return
        try:
            _com(self._what, undo, self._object)
        finally:
            self._object = None


class WindowsSessionControl(SessionControl):
    """IAudioSessionControl2 plus the interfaces queried from it; all dropped together in :meth:`release`."""

    def __init__(self, control2: Any) -> None:
        lib = _load()
        self._c: Any = control2
        self._volume: Any = _com("QueryInterface", control2.QueryInterface, lib.ISimpleAudioVolume)
        self._channels: Any = _com("QueryInterface", control2.QueryInterface, lib.IChannelAudioVolume)
        self._meter: Any = _com("QueryInterface", control2.QueryInterface, lib.IAudioMeterInformation)

    def instance_identifier(self) -> str:
        return _com("GetSessionInstanceIdentifier", self._c.GetSessionInstanceIdentifier) or ""

    def session_identifier(self) -> str:
        return _com("GetSessionIdentifier", self._c.GetSessionIdentifier) or ""

    def process_id(self) -> tuple[int, int]:
        # The raw vtable entry gives the success code, which comtypes' wrapper throws away.
        raw = getattr(self._c, "_IAudioSessionControl2__com_GetProcessId", None)
        if raw is None:
            pid = int(_com("GetProcessId", self._c.GetProcessId))
            return (S_OK, pid) if pid else (AUDCLNT_S_NO_SINGLE_PROCESS, 0)
        value = wintypes.DWORD()
        hresult = _com("GetProcessId", raw, ctypes.byref(value))
        return int(hresult or 0) & 0xFFFFFFFF, int(value.value)

    def is_system_sounds_session(self) -> int:
        raw = getattr(self._c, "_IAudioSessionControl2__com_IsSystemSoundsSession", None)
        method = raw if raw is not None else self._c.IsSystemSoundsSession
        result = _com("IsSystemSoundsSession", method)
        return S_OK if not result else S_FALSE

    def state(self) -> int:
        return int(_com("GetState", self._c.GetState))

    def display_name(self) -> str:
        return _com("GetDisplayName", self._c.GetDisplayName) or ""

    def icon_path(self) -> str:
        return _com("GetIconPath", self._c.GetIconPath) or ""

    def grouping_param(self) -> str:
        return _guid(_com("GetGroupingParam", self._c.GetGroupingParam)) or ""

    def master_volume(self) -> float:
        return float(_com("GetMasterVolume", self._volume.GetMasterVolume))

    def mute(self) -> bool:
        return bool(_com("GetMute", self._volume.GetMute))

    def channel_volumes(self) -> tuple[float, ...]:
        count = int(_com("GetChannelCount", self._channels.GetChannelCount))
        return tuple(float(_com("GetChannelVolume", self._channels.GetChannelVolume, i)) for i in range(count))

    def peaks(self) -> tuple[float, tuple[float, ...]]:
        peak = float(_com("GetPeakValue", self._meter.GetPeakValue))
        count = int(_com("GetMeteringChannelCount", self._meter.GetMeteringChannelCount))
        values = (ctypes.c_float * max(count, 1))()
        if count:
            _com("GetChannelsPeakValues", self._meter.GetChannelsPeakValues, count, values)
        return peak, tuple(float(v) for v in values[:count])

    def set_master_volume(self, level: float, context: str) -> None:
        _com("SetMasterVolume", self._volume.SetMasterVolume, level, _context(context))

    def set_mute(self, muted: bool, context: str) -> None:
        _com("SetMute", self._volume.SetMute, int(muted), _context(context))

    def set_channel_volume(self, channel: int, level: float, context: str) -> None:
        _com("SetChannelVolume", self._channels.SetChannelVolume, channel, level, _context(context))

    def set_display_name(self, name: str, context: str) -> None:
        _com("SetDisplayName", self._c.SetDisplayName, name, _context(context))

    def set_icon_path(self, path: str, context: str) -> None:
        _com("SetIconPath", self._c.SetIconPath, path, _context(context))

    def set_grouping_param(self, grouping_param: str, context: str) -> None:
        _com("SetGroupingParam", self._c.SetGroupingParam, _context(grouping_param), _context(context))

    def set_ducking_preference(self, opt_out: bool) -> None:
        # The SDK spells it SetDuckingPreference; pycaw declares it as SetDuckingPreferences.
        method = getattr(self._c, "SetDuckingPreference", None) or self._c.SetDuckingPreferences
        _com("SetDuckingPreference", method, int(opt_out))

    def register_events(self, events: SessionEvents) -> Registration:
        callback_object = _load().SessionEventsObject(events)
        _com("RegisterAudioSessionNotification", self._c.RegisterAudioSessionNotification, callback_object)
        return _Registration("UnregisterAudioSessionNotification", self._unregister_events, callback_object)

    def _unregister_events(self, callback_object: Any) -> None:
        self._c.UnregisterAudioSessionNotification(callback_object)

    def release(self) -> None:
        # Dropping the only references: comtypes releases each one now, on this (the COM) thread.
        self._meter = self._channels = self._volume = self._c = None


def _context(value: str) -> Any:
    return _load().GUID("{" + value.strip("{}") + "}")


class WindowsSessionManager(SessionManager):
    def __init__(self, endpoint: EndpointInfo, manager: Any) -> None:
        self.endpoint = endpoint
        self._m: Any = manager

    def sessions(self) -> list[SessionControl]:
        lib = _load()
        enumerator = _com("GetSessionEnumerator", self._m.GetSessionEnumerator)
        try:
            controls: list[SessionControl] = []
            for i in range(int(_com("GetCount", enumerator.GetCount))):
                control = _com("GetSession", enumerator.GetSession, i)
                controls.append(WindowsSessionControl(_com("QueryInterface", control.QueryInterface,
                                                           lib.IAudioSessionControl2)))
                del control
            return controls
        finally:
            del enumerator

    def register_session_created(self, callback: CreatedCallback) -> Registration:
        callback_object = _load().SessionCreatedObject(lambda ctl2: callback(WindowsSessionControl(ctl2)))
        _com("RegisterSessionNotification", self._m.RegisterSessionNotification, callback_object)
        return _Registration("UnregisterSessionNotification", self._m.UnregisterSessionNotification,
                             callback_object)

    def register_duck(self, on_duck: DuckCallback, on_unduck: UnduckCallback) -> Registration:
        callback_object = _load().DuckObject(on_duck, on_unduck)
        _com("RegisterDuckNotification", self._m.RegisterDuckNotification, None, callback_object)
        return _Registration("UnregisterDuckNotification", self._m.UnregisterDuckNotification, callback_object)

    def release(self) -> None:
        self._m = None


class WindowsCom(ComApi):
    """Core Audio through pycaw/comtypes."""

    def __init__(self) -> None:
        self._devices: dict[str, Any] = {}

    def enter_thread(self) -> None:
        lib = _load()
        lib.comtypes.CoInitializeEx(COINIT_MULTITHREADED)

    def leave_thread(self) -> None:
        self._devices.clear()  # the IMMDevice pointers go now, on the COM thread
        _load().comtypes.CoUninitialize()

    def endpoints(self) -> list[EndpointInfo]:
        lib = _load()
        enumerator = _com("CoCreateInstance", lib.comtypes.CoCreateInstance, lib.CLSID_MMDeviceEnumerator,
                          lib.IMMDeviceEnumerator, lib.comtypes.CLSCTX_INPROC_SERVER)
        defaults: dict[str, set[DeviceRole]] = {}
        for flow in (E_RENDER, E_CAPTURE):
            for number, role in ROLES:
                try:
                    device = enumerator.GetDefaultAudioEndpoint(flow, number)
                except lib.COMError:
                    continue  # no device of that flow
                defaults.setdefault(device.GetId(), set()).add(role)
                del device
        collection = _com("EnumAudioEndpoints", enumerator.EnumAudioEndpoints, E_ALL, DEVICE_STATE_ACTIVE)
        found = []
        for i in range(int(_com("GetCount", collection.GetCount))):
            device = _com("Item", collection.Item, i)
            device_id = _com("GetId", device.GetId)
            endpoint = _com("QueryInterface", device.QueryInterface, lib.IMMEndpoint)
            data_flow = Flow.RENDER if _com("GetDataFlow", endpoint.GetDataFlow) == E_RENDER else Flow.CAPTURE
            try:
                name = lib.AudioUtilities.CreateDevice(device).FriendlyName or device_id
            except Exception:  # noqa: BLE001 - a device without a readable name is still listed
                name = device_id
            self._devices[device_id] = device
            found.append(EndpointInfo(device_id, name, data_flow, 2, frozenset(defaults.get(device_id, ()))))
        return found

    def open_manager(self, endpoint: EndpointInfo) -> SessionManager:
        lib = _load()
        device = self._devices.get(endpoint.id)
        if device is None:
            raise ComCallFailed("Activate", -1)
        unknown = _com("Activate", device.Activate, lib.IAudioSessionManager2._iid_, CLSCTX_ALL, None)
        manager = _com("QueryInterface", unknown.QueryInterface, lib.IAudioSessionManager2)
        return WindowsSessionManager(endpoint, manager)

    def process_name(self, pid: int) -> str:
        return _process_name(pid)


def _process_name(pid: int) -> str:
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ""
    try:
        size = wintypes.DWORD(32768)
        buffer = ctypes.create_unicode_buffer(size.value)
        if not kernel32.QueryFullProcessImageNameW(handle, 0, buffer, ctypes.byref(size)):
            return ""
        return os.path.splitext(os.path.basename(buffer.value))[0]
    finally:
        kernel32.CloseHandle(handle)
