"""Every COM object the backend holds, owned in one place and touched only on the COM thread.

By construction:

- one :class:`~.com.SessionControl` and one events registration per session *instance identifier*; a session
  seen again (OnSessionCreated racing the enumerator, or a re-enumeration) is merged: the extra reference is
  released at once and nothing is registered twice, so no event is ever reported twice;
- each wrapper is popped from the table before it is released, so it is released exactly once;
- registrations are undone before the objects they belong to are released (close, expiry, disconnect).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..._exceptions import AudiolabError, SessionNotFound
from ...model import DeviceRole, Flow
from .com import (
    AUDCLNT_E_DEVICE_INVALIDATED,
    ComApi,
    ComCallFailed,
    EndpointInfo,
    Registration,
    SessionControl,
    SessionManager,
)
from .mapping import RawSession, read_session
from .notices import (
    ChannelVolumeNotice,
    DisconnectNotice,
    DisplayNameNotice,
    GroupingParamNotice,
    IconPathNotice,
    Notice,
    StateNotice,
    VolumeNotice,
)

log = logging.getLogger("audiolab.wasapi")

EXPIRED = 2


class Outbox(Protocol):
    """Where the COM side sends what it learns. Every method is thread-safe and never blocks."""

    def seen(self, raw: RawSession) -> None: ...

    def session_event(self, instance_id: str, timestamp: float, notice: Notice) -> None: ...

    def duck(self, timestamp: float, communications_session_id: str, count: int) -> None: ...

    def unduck(self, timestamp: float, communications_session_id: str) -> None: ...

    def meters(self, peaks: dict[str, tuple[float, tuple[float, ...]]]) -> None: ...


class _Events:
    """One session's IAudioSessionEvents: each callback only stamps the time and hands over."""

    def __init__(
        self, instance_id: str, outbox: Outbox, now: Callable[[], float], ended: Callable[[_Events], None]
    ) -> None:
        self.instance_id = instance_id
        self._outbox = outbox
        self._now = now
        self._ended = ended

    def _send(self, notice: Notice) -> None:
        self._outbox.session_event(self.instance_id, self._now(), notice)

    def display_name_changed(self, name: str, context: str | None) -> None:
        self._send(DisplayNameNotice(name, context))

    def icon_path_changed(self, path: str, context: str | None) -> None:
        self._send(IconPathNotice(path, context))

    def simple_volume_changed(self, volume: float, muted: bool, context: str | None) -> None:
        self._send(VolumeNotice(volume, muted, context))

    def channel_volume_changed(self, volumes: tuple[float, ...], changed: int | None, context: str | None) -> None:
        self._send(ChannelVolumeNotice(tuple(volumes), changed, context))

    def grouping_param_changed(self, grouping_param: str, context: str | None) -> None:
        self._send(GroupingParamNotice(grouping_param, context))

    def state_changed(self, state: int) -> None:
        self._send(StateNotice(state))
        if state == EXPIRED:
            self._ended(self)

    def disconnected(self, reason: int) -> None:
        self._send(DisconnectNotice(reason))
        self._ended(self)


@dataclass
class _Entry:
    control: SessionControl
    registration: Registration
    endpoint: EndpointInfo
    events: _Events


class ComTable:
    """The COM side of the backend. Construct anywhere; call every method on the COM thread."""

    def __init__(
        self,
        api: ComApi,
        submit: Callable[[Callable[[], None]], bool],
        outbox: Outbox,
        now: Callable[[], float],
    ) -> None:
        self._api = api
        self._submit = submit
        self._outbox = outbox
        self._now = now
        self._managers: list[SessionManager] = []
        self._registrations: list[Registration] = []
        self._entries: dict[str, _Entry] = {}
        self._closed = False

    # --- opening and enumeration ---------------------------------------------------------------------------

    def open(self) -> tuple[list[EndpointInfo], list[RawSession]]:
        """Open every active endpoint, register for new sessions and ducking, then enumerate."""
        endpoints = self._api.endpoints()
        for endpoint in endpoints:
            manager = self._api.open_manager(endpoint)
            self._managers.append(manager)
            # Register before enumerating: Windows only reports new sessions once the enumerator was asked.
            self._registrations.append(
                manager.register_session_created(functools.partial(self._created, endpoint))
            )
        duck_manager = self._duck_manager()
        if duck_manager is not None:
            # Once, not per endpoint: duck notifications are system-wide, so N registrations meant N copies.
            self._registrations.append(duck_manager.register_duck(self._on_duck, self._on_unduck))
        return endpoints, self.refresh()

    def refresh(self) -> list[RawSession]:
        """Enumerate every endpoint again, merging by instance id; the current reading of every session."""
        for manager in list(self._managers):
            try:
                controls = manager.sessions()
            except ComCallFailed as exc:
                log.warning("audiolab: enumerating %s failed: %s", manager.endpoint.id, exc)
                continue
            for control in controls:
                self._adopt(manager.endpoint, control)
        raws = []
        for instance_id in list(self._entries):
            raw = self._read(instance_id)
            if raw is not None:
                raws.append(raw)
        return raws

    def _duck_manager(self) -> SessionManager | None:
        renders = [m for m in self._managers if m.endpoint.flow is Flow.RENDER]
        for manager in renders:
            if DeviceRole.CONSOLE in manager.endpoint.default_for:
                return manager
        return renders[0] if renders else None

    def _created(self, endpoint: EndpointInfo, control: SessionControl) -> None:
        # On a COM callback thread: only hand the new reference over to the COM thread.
        if not self._submit(lambda: self._adopt_created(endpoint, control)):
            control.release()  # the COM thread has ended; MTA objects may be released from any MTA thread

    def _adopt_created(self, endpoint: EndpointInfo, control: SessionControl) -> None:
        instance_id = self._adopt(endpoint, control)
        if instance_id is not None:
            raw = self._read(instance_id)
            if raw is not None:
                self._outbox.seen(raw)

    def _adopt(self, endpoint: EndpointInfo, control: SessionControl) -> str | None:
        """Take ownership of ``control``; returns its instance id if it is new, else releases it."""
        if self._closed:
            control.release()
            return None
        try:
            instance_id = control.instance_identifier()
            if instance_id in self._entries:
                control.release()
                return None
            if control.state() == EXPIRED:
                control.release()
                return None
            events = _Events(instance_id, self._outbox, self._now, self._ended)
            registration = control.register_events(events)
        except ComCallFailed as exc:
            log.debug("audiolab: skipping a session that went away: %s", exc)
            control.release()
            return None
        self._entries[instance_id] = _Entry(control, registration, endpoint, events)
        return instance_id

    def _ended(self, events: _Events) -> None:
        # On a COM callback thread (the session expired or was disconnected): queue the clean-up. Queued in
        # callback order, it runs before the adoption of a new session that reuses the instance id.
        def drop() -> None:
            entry = self._entries.get(events.instance_id)
            if entry is not None and entry.events is events:
                self.drop(events.instance_id)

        self._submit(drop)

    def _read(self, instance_id: str) -> RawSession | None:
        entry = self._entries[instance_id]
        control = entry.control
        try:
            return read_session(control, entry.endpoint, self._api.process_name)
        except ComCallFailed as exc:
            log.debug("audiolab: reading %s failed: %s", instance_id, exc)
            self.drop(instance_id)
            return None

    # --- ducking callbacks (foreign threads) -----------------------------------------------------------------

    def _on_duck(self, communications_session_id: str, count: int) -> None:
        self._outbox.duck(self._now(), communications_session_id, count)

    def _on_unduck(self, communications_session_id: str) -> None:
        self._outbox.unduck(self._now(), communications_session_id)

    # --- per session -----------------------------------------------------------------------------------------

    def drop(self, instance_id: str) -> None:
        """Forget a session: undo its registration, release its reference."""
        entry = self._entries.pop(instance_id, None)
        if entry is None:
            return
        try:
            entry.registration.unregister()
        except ComCallFailed as exc:
            log.debug("audiolab: unregistering %s failed: %s", instance_id, exc)
        finally:
            entry.control.release()

    def apply(self, instance_id: str, method: str, *args: Any) -> None:
        """Call one control method of a session; COM failures become audiolab errors."""
        entry = self._entries.get(instance_id)
        if entry is None:
            raise SessionNotFound(f"no session {instance_id!r} (unknown, expired or ended)")
        try:
            getattr(entry.control, method)(*args)
        except ComCallFailed as exc:
            if exc.hresult == AUDCLNT_E_DEVICE_INVALIDATED:
                raise SessionNotFound(f"session {instance_id!r} is gone: its device was invalidated") from exc
            raise AudiolabError(f"{method} on {instance_id!r}: {exc}") from exc

    def read_peaks(self) -> None:
        """Poll IAudioMeterInformation of every session and send the peaks to the loop."""
        peaks = {}
        for instance_id, entry in list(self._entries.items()):
            try:
                peaks[instance_id] = entry.control.peaks()
            except ComCallFailed:
                continue
        self._outbox.meters(peaks)

    # --- closing ---------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Undo every registration, then release every reference. Idempotent."""
        if self._closed:
            return
        self._closed = True
        registrations, self._registrations = self._registrations, []
        for registration in registrations:
            try:
                registration.unregister()
            except ComCallFailed as exc:
                log.debug("audiolab: unregistering failed: %s", exc)
        for instance_id in list(self._entries):
            self.drop(instance_id)
        managers, self._managers = self._managers, []
        for manager in managers:
            manager.release()
