"""Event types: one small frozen dataclass each.

Every event carries ``timestamp`` (seconds on the backend's monotonic clock; virtual seconds on a virtual
clock) and ``session_id`` (the session it is about). Focus events also name their ``cause_session_id``, so a
timeline can draw an arrow from the call to the music it ducked, and carry ``why``: the
:class:`~audiolab.reason.Reason` (the policy and the rule that fired), None only where no policy is known.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from dataclasses import dataclass

from ._by_fields import by_fields
from .model import (
    DeactivationReason,
    DisconnectReason,
    ForceType,
    InterruptHint,
    Origin,
    Session,
    SessionState,
    Stream,
)
from .reason import Reason

if typing.TYPE_CHECKING:
    from .focus.in_force import PolicyInForce


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Event:
    """Base of every event."""

    timestamp: float
    session_id: str

    @property
    def kind(self) -> str:
        return type(self).__name__


# --- session lifecycle and properties (the IAudioSessionEvents family) ---------------------------------


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class SessionCreated(Event):
    """A session appeared (IAudioSessionNotification::OnSessionCreated); ``session`` is its first state."""

    session: Session


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class StateChanged(Event):
    """The session's state changed (OnStateChanged): Active, Inactive or Expired."""

    old: SessionState
    new: SessionState


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class VolumeChanged(Event):
    """The session's master volume or mute changed (OnSimpleVolumeChanged); ``origin`` says who changed it."""

    volume: float
    muted: bool
    origin: Origin = Origin.UNKNOWN


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ChannelVolumeChanged(Event):
    """One or more of the session's channel volumes changed (OnChannelVolumeChanged)."""

    channel_volumes: tuple[float, ...]
    channel: int | None
    """The channel that changed, or None when several did."""
    origin: Origin = Origin.UNKNOWN


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class DisplayNameChanged(Event):
    """The session's display name changed (OnDisplayNameChanged)."""

    display_name: str
    origin: Origin = Origin.UNKNOWN


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class IconPathChanged(Event):
    """The session's icon path changed (OnIconPathChanged)."""

    icon_path: str
    origin: Origin = Origin.UNKNOWN


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class GroupingParamChanged(Event):
    """The session's grouping parameter changed (OnGroupingParamChanged)."""

    grouping_param: str
    origin: Origin = Origin.UNKNOWN


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class StreamsChanged(Event):
    """A stream was added to, removed from or changed state, volume or mute inside a session."""

    streams: tuple[Stream, ...]


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class SessionDisconnected(Event):
    """The session was disconnected (OnSessionDisconnected) for ``reason``; it ends."""

    reason: DisconnectReason


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class SessionExpired(Event):
    """The session stayed inactive long enough to expire; it leaves the enumeration."""


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class SessionRemoved(Event):
    """The session ended (its last stream was released, or its client went away)."""


# --- focus and ducking -----------------------------------------------------------------------------------


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class InterruptEvent(Event):
    """A focus interruption delivered to a session: HarmonyOS's InterruptEvent (hints PAUSE, RESUME, STOP, DUCK,
    UNDUCK; SHARE leaves the decision to the app), and, under the other policies, a stream the system pauses and
    resumes (PulseAudio's role-cork corks it, WirePlumber cuts its link): hint PAUSE or RESUME, force FORCE."""

    force_type: ForceType
    hint: InterruptHint
    cause_session_id: str | None = None
    why: Reason | None = None
    native: str = ""
    """The system's own name for what the app was told, where it has one: Android's focus change
    ("AUDIOFOCUS_LOSS_TRANSIENT", "AUDIOFOCUS_GAIN", ...), iOS's interruption ("began", "ended shouldResume")."""


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class FocusDenied(Event):
    """The session asked for focus (a stream started) and the policy refused it."""

    cause_session_id: str | None = None
    why: Reason | None = None


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Ducked(Event):
    """The session's effective gain was lowered by the focus policy (or measured lowered on a real server)."""

    gain: float
    cause_session_id: str | None = None
    fade_seconds: float = 0.0
    why: Reason | None = None
    measured_db: float | None = None
    """The change its meter measured (dB, ``-inf`` for silenced), when the duck was measured on a real server."""

    @property
    def attenuation_db(self) -> float:
        return 20.0 * math.log10(self.gain) if self.gain > 0 else -math.inf


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Unducked(Event):
    """The session's effective gain was restored after a duck (or measured restored on a real server)."""

    gain: float = 1.0
    cause_session_id: str | None = None
    fade_seconds: float = 0.0
    why: Reason | None = None
    measured_db: float | None = None
    """The change its meter measured (dB), when the unduck was measured on a real server."""


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class DuckNotification(Event):
    """IAudioVolumeDuckNotification::OnVolumeDuckNotification, delivered to ``session_id``.

    ``communications_session_id`` is the instance id of the communications session that started,
    ``count`` the number of communications sessions now active."""

    communications_session_id: str
    count: int
    why: Reason | None = None


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class UnduckNotification(Event):
    """IAudioVolumeDuckNotification::OnVolumeUnduckNotification, delivered to ``session_id``."""

    communications_session_id: str
    why: Reason | None = None


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class SessionDeactivated(Event):
    """A HarmonyOS-style audio session was deactivated by the system (not by its own app)."""

    reason: DeactivationReason
    cause_session_id: str | None = None
    why: Reason | None = None


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class PolicyChanged(Event):
    """The focus policy in force changed: a module that ducks or corks was loaded or unloaded, a stream-restore
    entry changed, or the simulated service's policy was switched. ``session_id`` is "" (no session)."""

    policy: PolicyInForce


FOCUS_EVENT_TYPES: tuple[type[Event], ...] = (
    InterruptEvent,
    FocusDenied,
    Ducked,
    Unducked,
    DuckNotification,
    UnduckNotification,
    SessionDeactivated,
)
"""The focus events: each names its cause and carries ``why``."""


def event_to_dict(event: Event) -> dict[str, object]:
    """A JSON-ready dict of an event, with its ``kind``; enums become their values."""
    out: dict[str, object] = {"kind": event.kind}
    for name, value in vars(event).items():
        out[name] = _jsonable(value)
    return out


def _jsonable(value: object) -> object:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):  # the value types events carry (Session, Stream, Reason, PolicyInForce) say their JSON
        return to_dict()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_EVENT_TYPES: dict[str, type[Event]] = {}


def event_types() -> dict[str, type[Event]]:
    """Every concrete event class by its ``kind``."""
    if not _EVENT_TYPES:
        pending = list(Event.__subclasses__())
        while pending:
            cls = pending.pop()
            _EVENT_TYPES[cls.__name__] = cls
            pending.extend(cls.__subclasses__())
    return _EVENT_TYPES


def event_from_dict(data: dict[str, object]) -> Event:
    """The inverse of :func:`event_to_dict`. Raises KeyError, ValueError or TypeError on malformed input."""
    if not isinstance(data, dict):
        raise TypeError("an event is a JSON object")
    kind = data.get("kind")
    cls = event_types().get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event kind {kind!r}")
    from .focus.in_force import PolicyInForce  # noqa: PLC0415 - the focus package imports this module

    hints = typing.get_type_hints(cls, localns={"PolicyInForce": PolicyInForce})
    values: dict[str, typing.Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING:
                raise KeyError(f"{kind} needs {f.name!r}")
            continue
        values[f.name] = _from_json(hints[f.name], data[f.name], f.name)
    return cls(**values)


def _from_json(hint: object, value: object, name: str) -> object:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if value is None else _from_json(options[0], value, name)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise TypeError(f"{name} must be a list")
        return tuple(_from_json(item, v, name) for v in value)
    if isinstance(hint, type) and hasattr(hint, "from_dict"):  # Session, Stream, Reason, PolicyInForce
        return hint.from_dict(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if hint is float:
        if value is None:
            return math.nan  # event_to_dict writes non-finite floats as null
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name} must be a number")
        return float(value)
    if hint in (int, str, bool) and type(value) is not hint:
        raise TypeError(f"{name} must be a {hint.__name__}")
    return value
