"""The session model: frozen dataclasses and enums shared by every backend.

A *session* follows the Windows concept (WASAPI): a group of streams on one endpoint device that the
user controls as one (volume, mute). Its identity is a :class:`SessionKey`: the session GUID, whether the
session is cross-process or process-specific, the owning process for a process-specific session, and
the endpoint device. A session holds render streams or capture streams, never both.
"""

from __future__ import annotations

import enum
import math
import numbers
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._by_fields import by_fields

if TYPE_CHECKING:
    import uuid

NULL_GUID = "00000000-0000-0000-0000-000000000000"
"""GUID_NULL: the default session of a process (or, cross-process, the shared default session)."""


class Flow(enum.Enum):
    """Direction of a device, stream or session."""

    RENDER = "render"
    CAPTURE = "capture"


class SessionState(enum.Enum):
    """AudioSessionState: ACTIVE while a stream runs, INACTIVE when none does, EXPIRED after a while inactive."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    EXPIRED = "expired"


class StreamState(enum.Enum):
    """Whether a stream is running (started) or stopped."""

    STOPPED = "stopped"
    RUNNING = "running"


class Origin(enum.Enum):
    """Who caused a change: the event context of Windows, told apart where the backend can."""

    THIS_CLIENT = "this_client"
    OTHER_CLIENT = "other_client"
    UNKNOWN = "unknown"


class DisconnectReason(enum.Enum):
    """The six reasons of IAudioSessionEvents::OnSessionDisconnected."""

    DEVICE_REMOVAL = "device_removal"
    SERVER_SHUTDOWN = "server_shutdown"
    FORMAT_CHANGED = "format_changed"
    SESSION_LOGOFF = "session_logoff"
    SESSION_DISCONNECTED = "session_disconnected"
    EXCLUSIVE_MODE_OVERRIDE = "exclusive_mode_override"


class DeviceRole(enum.Enum):
    """Windows ERole for render devices: which default a stream is meant for."""

    CONSOLE = "console"
    MULTIMEDIA = "multimedia"
    COMMUNICATIONS = "communications"


class Role(enum.Enum):
    """What a stream is for. One enum that maps onto HarmonyOS stream usages, PulseAudio ``media.role``
    and the Windows device role (eConsole / eCommunications)."""

    UNKNOWN = "unknown"
    MUSIC = "music"
    MOVIE = "movie"
    GAME = "game"
    AUDIOBOOK = "audiobook"
    NAVIGATION = "navigation"
    VOICE_COMMUNICATION = "voice_communication"
    VOICE_MESSAGE = "voice_message"
    RINGTONE = "ringtone"
    ALARM = "alarm"
    NOTIFICATION = "notification"
    SYSTEM = "system"
    ASSISTANT = "assistant"
    ACCESSIBILITY = "accessibility"
    VOICE_RECOGNITION = "voice_recognition"
    RECORDING = "recording"

    @property
    def pulse_media_role(self) -> str:
        """The freedesktop ``media.role`` property value for this role."""
        return _PULSE_ROLES.get(self, "")

    @property
    def windows_device_role(self) -> DeviceRole:
        """Communication roles go to the eCommunications device, the rest to eConsole."""
        if self in (Role.VOICE_COMMUNICATION, Role.RINGTONE):
            return DeviceRole.COMMUNICATIONS
        return DeviceRole.CONSOLE

    @classmethod
    def from_pulse_media_role(cls, value: str | None) -> Role:
        """Map a PulseAudio ``media.role`` back to a role (UNKNOWN for anything not recognised)."""
        return _ROLES_BY_PULSE.get((value or "").strip().lower(), Role.UNKNOWN)


_PULSE_ROLES = {
    Role.MUSIC: "music",
    Role.AUDIOBOOK: "music",
    Role.MOVIE: "video",
    Role.GAME: "game",
    Role.NAVIGATION: "navigation",
    Role.VOICE_COMMUNICATION: "phone",
    Role.VOICE_MESSAGE: "phone",
    Role.RINGTONE: "phone",
    Role.ALARM: "alarm",
    Role.NOTIFICATION: "event",
    Role.SYSTEM: "event",
    Role.ASSISTANT: "assistant",
    Role.ACCESSIBILITY: "a11y",
    Role.VOICE_RECOGNITION: "phone",
    Role.RECORDING: "production",
}
_ROLES_BY_PULSE = {
    "music": Role.MUSIC,
    "video": Role.MOVIE,
    "movie": Role.MOVIE,
    "game": Role.GAME,
    "navigation": Role.NAVIGATION,
    "phone": Role.VOICE_COMMUNICATION,
    "communication": Role.VOICE_COMMUNICATION,
    "alarm": Role.ALARM,
    "event": Role.NOTIFICATION,
    "notification": Role.NOTIFICATION,
    "assistant": Role.ASSISTANT,
    "a11y": Role.ACCESSIBILITY,
    "accessibility": Role.ACCESSIBILITY,
    "production": Role.RECORDING,
}


_HEX_DIGITS = frozenset("0123456789abcdef")


def _is_canonical_guid(text: str) -> bool:
    """``text`` is already in the form :func:`normalize_guid` returns (lower-case, 8-4-4-4-12)."""
    return (len(text) == 36 and text[8] == text[13] == text[18] == text[23] == "-"
            and _HEX_DIGITS.issuperset(text.replace("-", "")) and text.count("-") == 4)


def normalize_guid(value: str | uuid.UUID) -> str:
    """Return the canonical lower-case form of a GUID, or raise ValueError for anything else."""
    if isinstance(value, str) and _is_canonical_guid(value):
        return value
    import uuid  # here: loading uuid (and the platform module it loads) would cost every start of the CLI

    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"a session GUID must be a str or uuid.UUID, not {type(value).__name__}")
    try:
        return str(uuid.UUID(value.strip("{}")))
    except ValueError:
        raise ValueError(f"{value!r} is not a GUID") from None


def _is_numpy_bool(value: object) -> bool:
    return type(value).__module__ == "numpy" and type(value).__name__ in ("bool_", "bool")


def is_real(value: object) -> bool:
    """A real number (int, float, numpy scalars), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not _is_numpy_bool(value)


def check_bool(value: object, what: str) -> bool:
    """A bool (numpy's included) as a plain bool; TypeError for anything else (no truthiness)."""
    if isinstance(value, bool) or _is_numpy_bool(value):
        return bool(value)
    raise TypeError(f"{what} must be a bool (True or False), not {type(value).__name__} {value!r}")


def check_index(value: object, what: str) -> int:
    """An integer (numpy's included) as a plain int; TypeError for anything else (a bool included)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and not _is_numpy_bool(value):
        return int(value)
    raise TypeError(f"{what} must be an int, not {type(value).__name__}")


def check_session_id(value: object) -> str:
    """A session id is a str, on every backend."""
    if not isinstance(value, str):
        raise TypeError(f"a session id is a str, not {type(value).__name__}")
    return value


def check_level(value: object, what: str = "volume") -> float:
    """Validate a linear level in 0..1 and return it as float; raise on NaN, out of range or wrong type."""
    if not is_real(value):
        raise TypeError(f"{what} must be a number in 0..1, not {type(value).__name__}")
    level = float(value)  # type: ignore[arg-type]  # a numbers.Real, checked above
    if math.isnan(level) or not 0.0 <= level <= 1.0:
        raise ValueError(f"{what} must be in 0..1, got {value!r}")
    return level


def _items(data: dict[str, object], key: str) -> tuple[object, ...]:
    """``data[key]`` as a tuple (empty when absent); TypeError when it is not a list."""
    value = data.get(key, ())
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{key} must be a list, not {type(value).__name__}")
    return tuple(value)


def _mapping(value: object, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be an object, not {type(value).__name__}")
    return value


def _optional_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int or null, got {value!r}")
    return value


def _strict_bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be true or false, got {value!r}")
    return value


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Device:
    """An audio endpoint device."""

    id: str
    name: str
    flow: Flow
    channels: int = 2
    default_for: frozenset[DeviceRole] = frozenset()

    @property
    def is_communications(self) -> bool:
        return DeviceRole.COMMUNICATIONS in self.default_for


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class SessionKey:
    """What makes a session unique on the machine (see the module docstring).

    ``pid`` is set for a process-specific session and ``None`` for a cross-process one.
    """

    guid: str
    cross_process: bool
    pid: int | None
    device_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "guid", normalize_guid(self.guid))
        if self.cross_process and self.pid is not None:
            raise ValueError("a cross-process session key has no pid")
        if not self.cross_process and self.pid is None:
            raise ValueError("a process-specific session key needs the owning pid")



@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Stream:
    """One audio stream inside a session. ``volume``/``muted`` are the stream's own where the backend has
    them per stream (PulseAudio, PipeWire), else None."""

    id: str
    flow: Flow
    state: StreamState = StreamState.STOPPED
    pid: int | None = None
    loopback: bool = False
    name: str = ""
    volume: float | None = None
    muted: bool | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"id": self.id, "flow": self.flow.value, "state": self.state.value, "pid": self.pid,
                                  "loopback": self.loopback, "name": self.name}
        if self.volume is not None:
            out["volume"] = self.volume
        if self.muted is not None:
            out["muted"] = self.muted
        return out

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Stream:
        return cls(
            id=str(data["id"]),
            flow=Flow(data["flow"]),
            state=StreamState(data["state"]),
            pid=_optional_int(data.get("pid")),
            loopback=bool(data.get("loopback", False)),
            name=str(data.get("name", "")),
            volume=float(data["volume"]) if data.get("volume") is not None else None,  # type: ignore[arg-type]
            muted=bool(data["muted"]) if data.get("muted") is not None else None,
        )


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Session:
    """A snapshot of one audio session, as a backend reports it at one moment."""

    id: str
    key: SessionKey
    flow: Flow
    state: SessionState
    app: str = ""
    pid: int | None = None
    display_name: str = ""
    icon_path: str = ""
    grouping_param: str = NULL_GUID
    volume: float = 1.0
    channel_volumes: tuple[float, ...] = (1.0, 1.0)
    muted: bool = False
    is_system_sounds: bool = False
    role: Role = Role.UNKNOWN
    streams: tuple[Stream, ...] = field(default=())
    ducking_opt_out: bool = False

    @property
    def device_id(self) -> str:
        return self.key.device_id

    @property
    def session_identifier(self) -> str:
        """Like IAudioSessionControl2::GetSessionIdentifier: it tells applications apart, and only instances
        of the same application (other pids) share one; a cross-process session has one for all its processes."""
        scope = "x" if self.key.cross_process else f"p:{self.app}"
        return f"{self.key.device_id}|{{{self.key.guid}}}|{scope}"

    @property
    def label(self) -> str:
        """What a mixer UI shows: the display name, else the app name, else the id."""
        return self.display_name or self.app or self.id

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (used by the CLI and recorded traces)."""
        return {
            "id": self.id,
            "app": self.app,
            "pid": self.pid,
            "display_name": self.display_name,
            "flow": self.flow.value,
            "device": self.key.device_id,
            "state": self.state.value,
            "volume": round(self.volume, 6),
            "channel_volumes": [round(v, 6) for v in self.channel_volumes],
            "muted": self.muted,
            "role": self.role.value,
            "guid": self.key.guid,
            "cross_process": self.key.cross_process,
            "icon_path": self.icon_path,
            "grouping_param": self.grouping_param,
            "is_system_sounds": self.is_system_sounds,
            "streams": [s.to_dict() for s in self.streams],
            "ducking_opt_out": self.ducking_opt_out,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Session:
        """The inverse of :meth:`to_dict` (for recorded traces); KeyError/ValueError/TypeError when malformed."""
        cross = bool(data["cross_process"])
        pid = _optional_int(data.get("pid"))
        return cls(
            id=str(data["id"]),
            key=SessionKey(str(data["guid"]), cross, None if cross else pid, str(data["device"])),
            flow=Flow(data["flow"]),
            state=SessionState(data["state"]),
            app=str(data.get("app", "")),
            pid=pid,
            display_name=str(data.get("display_name", "")),
            icon_path=str(data.get("icon_path", "")),
            grouping_param=normalize_guid(str(data.get("grouping_param", NULL_GUID))),
            volume=check_level(data["volume"]),
            channel_volumes=tuple(check_level(v, "channel volume") for v in _items(data, "channel_volumes")),
            muted=_strict_bool(data["muted"], "muted"),
            is_system_sounds=bool(data.get("is_system_sounds", False)),
            role=Role(data.get("role", "unknown")),
            streams=tuple(Stream.from_dict(_mapping(s, "a stream")) for s in _items(data, "streams")),
            ducking_opt_out=bool(data.get("ducking_opt_out", False)),
        )


class ForceType(enum.Enum):
    """HarmonyOS InterruptForceType: FORCE, the system acted; SHARE, the app is told and decides."""

    FORCE = "force"
    SHARE = "share"


class InterruptHint(enum.Enum):
    """HarmonyOS InterruptHint."""

    NONE = "none"
    RESUME = "resume"
    PAUSE = "pause"
    STOP = "stop"
    DUCK = "duck"
    UNDUCK = "unduck"


class ConcurrencyMode(enum.Enum):
    """HarmonyOS AudioConcurrencyMode, the strategy given to AudioSessionManager.activate."""

    DEFAULT = "default"
    MIX_WITH_OTHERS = "mix_with_others"
    DUCK_OTHERS = "duck_others"
    PAUSE_OTHERS = "pause_others"


class DeactivationReason(enum.Enum):
    """HarmonyOS AudioSessionDeactivatedReason."""

    LOWER_PRIORITY = "lower_priority"
    TIMEOUT = "timeout"


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class MeterFrame:
    """One tick of peak meters: the peak of every session (after its gain, as Windows meters it), per-channel
    peaks, and each endpoint device's mixed peak. Levels are linear, 0..1 (1.0 = full scale). ``unmeasured``
    names the sessions whose peak is not a measurement, with the reason (a Linux server that did not mix the
    stream, or a stream left without a meter); their peak reads 0."""

    timestamp: float
    peaks: dict[str, float]
    channel_peaks: dict[str, tuple[float, ...]]
    device_peaks: dict[str, float] = field(default_factory=dict)
    sequence: int = 0
    unmeasured: dict[str, str] = field(default_factory=dict)
