"""From Core Audio values to the session model: plain functions, no COM, no threads."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..._by_fields import by_fields
from ...model import (
    NULL_GUID,
    DisconnectReason,
    Origin,
    Role,
    Session,
    SessionKey,
    SessionState,
    normalize_guid,
)
from .com import AUDCLNT_S_NO_SINGLE_PROCESS, S_OK, EndpointInfo, SessionControl

STATES = (SessionState.INACTIVE, SessionState.ACTIVE, SessionState.EXPIRED)
"""AudioSessionState values 0, 1, 2."""

DISCONNECT_REASONS = (
    DisconnectReason.DEVICE_REMOVAL,
    DisconnectReason.SERVER_SHUTDOWN,
    DisconnectReason.FORMAT_CHANGED,
    DisconnectReason.SESSION_LOGOFF,
    DisconnectReason.SESSION_DISCONNECTED,
    DisconnectReason.EXCLUSIVE_MODE_OVERRIDE,
)
"""AudioSessionDisconnectReason values 0..5."""

# Session identifiers end in "%b{GUID}" (the session GUID); instance identifiers add "|1%b<pid>" after it.
_SESSION_GUID = re.compile(r"%b(\{[0-9A-Fa-f-]{36}\})")


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class RawSession:
    """What the COM getters said about one session, read on the COM thread."""

    instance_id: str
    session_identifier: str
    endpoint: EndpointInfo
    pid: int | None
    process_name: str
    state: int
    display_name: str
    icon_path: str
    grouping_param: str
    volume: float
    muted: bool
    channel_volumes: tuple[float, ...]
    is_system_sounds: bool
    cross_process: bool = False
    """GetProcessId said AUDCLNT_S_NO_SINGLE_PROCESS; ``pid`` is then the process that created the session."""


def state_of(value: int) -> SessionState:
    try:
        return STATES[value]
    except (IndexError, TypeError):
        raise ValueError(f"unknown AudioSessionState {value!r}") from None


def disconnect_reason_of(value: int) -> DisconnectReason:
    try:
        return DISCONNECT_REASONS[value]
    except (IndexError, TypeError):
        raise ValueError(f"unknown AudioSessionDisconnectReason {value!r}") from None


def pid_of(hresult: int, pid: int) -> int | None:
    """GetProcessId's pid: the owner's, or for a cross-process session (AUDCLNT_S_NO_SINGLE_PROCESS) the id
    of the process that created it; None for pid 0 (what the system sounds session reports)."""
    return pid or None


def session_guid_of(identifier: str) -> str:
    """The session GUID inside a session identifier; GUID_NULL when none can be found."""
    found = _SESSION_GUID.findall(identifier)
    return normalize_guid(found[0]) if found else NULL_GUID


def origin_of(context: str | None, ours: str) -> Origin:
    """THIS_CLIENT for our own event context, OTHER_CLIENT for any other, UNKNOWN when none was given."""
    if context is None:
        return Origin.UNKNOWN
    try:
        return Origin.THIS_CLIENT if normalize_guid(context) == ours else Origin.OTHER_CLIENT
    except ValueError:
        return Origin.UNKNOWN


def read_session(
    control: SessionControl, endpoint: EndpointInfo, name_of: Callable[[int], str] = lambda pid: ""
) -> RawSession:
    """Every property of a session through its getters (COM thread only); ``name_of`` names a pid."""
    hresult, raw_pid = control.process_id()
    pid = pid_of(hresult, raw_pid)
    cross_process = hresult == AUDCLNT_S_NO_SINGLE_PROCESS
    return RawSession(
        instance_id=control.instance_identifier(),
        session_identifier=control.session_identifier(),
        endpoint=endpoint,
        pid=pid,
        process_name=name_of(pid) if pid else "",
        state=control.state(),
        display_name=control.display_name(),
        icon_path=control.icon_path(),
        grouping_param=_guid_or_null(control.grouping_param()),
        volume=float(control.master_volume()),
        muted=bool(control.mute()),
        channel_volumes=tuple(float(v) for v in control.channel_volumes()),
        is_system_sounds=control.is_system_sounds_session() == S_OK,
        cross_process=cross_process,
    )


def _guid_or_null(value: str) -> str:
    try:
        return normalize_guid(value)
    except (ValueError, TypeError):
        return NULL_GUID


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class ProcessTag:
    """What the Lab was told about a process (Windows has no app name or role on a session)."""

    app: str | None = None
    role: Role | None = None


def to_session(raw: RawSession, tag: ProcessTag | None = None) -> Session:
    """The model's Session for a raw read. ``Session.id`` is the session instance identifier."""
    tag = tag or ProcessTag()
    cross = raw.cross_process or raw.pid is None
    key = SessionKey(session_guid_of(raw.session_identifier), cross, None if cross else raw.pid, raw.endpoint.id)
    if raw.is_system_sounds:
        app, role = "System Sounds", Role.SYSTEM
    else:
        app = raw.process_name or raw.display_name
        role = Role.UNKNOWN
    return Session(
        id=raw.instance_id,
        key=key,
        flow=raw.endpoint.flow,
        state=state_of(raw.state),
        app=tag.app or app,
        pid=raw.pid,
        display_name=raw.display_name,
        icon_path=raw.icon_path,
        grouping_param=raw.grouping_param,
        volume=raw.volume,
        channel_volumes=raw.channel_volumes,
        muted=raw.muted,
        is_system_sounds=raw.is_system_sounds,
        role=tag.role or role,
    )


def retag(session: Session, tag: ProcessTag) -> Session:
    if tag.app:
        session = replace(session, app=tag.app)
    if tag.role:
        session = replace(session, role=tag.role)
    return session
