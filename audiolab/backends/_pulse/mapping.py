"""From PulseAudio objects to audiolab sessions, and from two session maps to the events between them.

A session is one client's streams on one device: its sink-inputs on one sink (render) or its source-outputs
on one source (capture). Streams without a client (module-loopback and the like) group by owner module,
else stand alone. Session ids are stable strings for as long as the server keeps its indices:
``pulse:client/<client>/sink/<sink>``, ``pulse:client/<client>/source/<source>`` (``module/<m>`` or
``stream/<i>`` in place of ``client/<c>``). Stream ids are ``pulse:sink-input/<i>`` / ``pulse:source-output/<i>``.

Several streams in one session: the session's ``volume`` and ``channel_volumes`` are those of its loudest
stream, ``muted`` is true only when every stream is muted, the role is the first stream's that has one, and
the session is ACTIVE when any stream is uncorked. Setting a volume or mute applies to every stream. Each
``Stream`` carries its own ``volume`` and ``muted``: a change of one stream that leaves the session's figure as
it was is reported as ``StreamsChanged`` (and as ``VolumeChanged`` too when it changes the session's figure).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ..._by_fields import by_fields
from ...events import (
    ChannelVolumeChanged,
    Event,
    SessionCreated,
    SessionRemoved,
    StateChanged,
    StreamsChanged,
    VolumeChanged,
)
from ...model import Flow, Origin, Role, Session, SessionKey, SessionState, Stream, StreamState
from .volume import levels_from_fractions, master_level

PA_INVALID_INDEX = 2**32 - 1
SESSION_GUID_NAMESPACE = uuid.UUID("7d3c2b9e-52f4-4c1e-9d0a-6a75646f6c62")
"""uuid5 namespace of session GUIDs: GUID = uuid5(namespace, "<binary>\\0<app name>")."""

METER_PROPERTY = "audiolab.meter"
"""Proplist key set on audiolab's own meter streams (they are also filtered by client index)."""


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class RawClient:
    index: int
    name: str
    props: Mapping[str, str] = field(default_factory=dict)


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class RawDevice:
    index: int
    name: str
    flow: Flow
    monitor_of: int | None = None
    monitor_source: str | None = None
    """For a sink: the name of its monitor source (what meters record from)."""
    volume: float | None = None
    """Its master volume in audiolab's scale (pactl % / 100), None when the server did not say."""
    muted: bool = False


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class RawStream:
    """What audiolab keeps of a sink-input (render) or source-output (capture)."""

    index: int
    flow: Flow
    device: int
    client: int | None
    owner_module: int | None
    corked: bool
    muted: bool
    volumes: tuple[float, ...]
    """Per-channel fractions of PA_VOLUME_NORM, uncapped."""
    name: str = ""
    props: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"pulse:{'sink-input' if self.flow is Flow.RENDER else 'source-output'}/{self.index}"

    @property
    def key(self) -> tuple[Flow, int]:
        return (self.flow, self.index)


def _index(value: object) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return None if number in (PA_INVALID_INDEX, -1) else number


def stream_from_info(info: object, flow: Flow) -> RawStream:
    """A RawStream from a pulsectl PulseSinkInputInfo / PulseSourceOutputInfo."""
    device = info.sink if flow is Flow.RENDER else info.source  # type: ignore[attr-defined]
    return RawStream(
        index=int(info.index),  # type: ignore[attr-defined]
        flow=flow,
        device=int(device),
        client=_index(info.client),  # type: ignore[attr-defined]
        owner_module=_index(info.owner_module),  # type: ignore[attr-defined]
        corked=bool(info.corked),  # type: ignore[attr-defined]
        muted=bool(info.mute),  # type: ignore[attr-defined]
        volumes=tuple(float(v) for v in info.volume.values),  # type: ignore[attr-defined]
        name=str(info.name or ""),  # type: ignore[attr-defined]
        props=dict(info.proplist),  # type: ignore[attr-defined]
    )


UNREAD_NAME = "(ended before it could be read)"


def unread_stream(flow: Flow, index: int) -> RawStream:
    """A stream the server announced and removed before audiolab could read it: all that is known is its index."""
    return RawStream(index=index, flow=flow, device=PA_INVALID_INDEX, client=None, owner_module=None, corked=True,
                     muted=False, volumes=(), name=UNREAD_NAME)


def client_from_info(info: object) -> RawClient:
    return RawClient(int(info.index), str(info.name or ""), dict(info.proplist))  # type: ignore[attr-defined]


def device_from_info(info: object, flow: Flow) -> RawDevice:
    monitor_of = _index(getattr(info, "monitor_of_sink", None)) if flow is Flow.CAPTURE else None
    monitor_source = getattr(info, "monitor_source_name", None) if flow is Flow.RENDER else None
    values = list(getattr(getattr(info, "volume", None), "values", None) or [])
    volume = master_level(values) if values else None
    return RawDevice(int(info.index), str(info.name), flow, monitor_of, monitor_source,  # type: ignore[attr-defined]
                     volume, bool(getattr(info, "mute", False)))


def session_id_of(stream: RawStream) -> str:
    if stream.client is not None:
        owner = f"client/{stream.client}"
    elif stream.owner_module is not None:
        owner = f"module/{stream.owner_module}"
    else:
        owner = f"stream/{stream.index}"
    kind = "sink" if stream.flow is Flow.RENDER else "source"
    return f"pulse:{owner}/{kind}/{stream.device}"


def is_own(stream: RawStream, own_client: int | None) -> bool:
    """audiolab's own streams (meters) never show as sessions."""
    return (own_client is not None and stream.client == own_client) or METER_PROPERTY in stream.props


def session_guid(binary: str, app: str) -> str:
    return str(uuid.uuid5(SESSION_GUID_NAMESPACE, f"{binary}\0{app}"))


def _prop(name: str, *sources: Mapping[str, str]) -> str:
    for props in sources:
        value = props.get(name)
        if value:
            return str(value)
    return ""


def build_sessions(
    streams: Iterable[RawStream],
    clients: Mapping[int, RawClient],
    devices: Mapping[tuple[Flow, int], RawDevice],
    own_client: int | None = None,
) -> dict[str, Session]:
    """Group streams into sessions, ordered by their first stream's index."""
    groups: dict[str, list[RawStream]] = {}
    for stream in sorted(streams, key=lambda s: (s.flow.value, s.index)):
        # PipeWire shows a stream before WirePlumber links it, with no device (and no volume) yet: it joins a
        # session once it is on a device.
        if stream.device != PA_INVALID_INDEX and not is_own(stream, own_client):
            groups.setdefault(session_id_of(stream), []).append(stream)
    return {sid: make_session(sid, members, clients, devices) for sid, members in groups.items()}


def make_session(
    session_id: str,
    streams: list[RawStream],
    clients: Mapping[int, RawClient],
    devices: Mapping[tuple[Flow, int], RawDevice],
) -> Session:
    first = streams[0]
    client = clients.get(first.client) if first.client is not None else None
    cprops: Mapping[str, str] = client.props if client else {}
    sprops = [s.props for s in streams]
    binary = _prop("application.process.binary", cprops, *sprops)
    app = _prop("application.name", cprops, *sprops) or (client.name if client else "") or first.name
    named = _prop("application.name", *sprops)
    if named and app == binary:  # a native PipeWire client (pw-cat) is named after its binary, its streams better
        app = named
    pid_text = _prop("application.process.id", cprops, *sprops)
    pid = int(pid_text) if pid_text.isdigit() else None
    role = Role.UNKNOWN
    for props in (*sprops, cprops):
        if props.get("media.role"):
            role = Role.from_pulse_media_role(props["media.role"])
            break
    device = devices.get((first.flow, first.device))
    device_id = device.name if device else f"#{first.device}"
    loudest = max(streams, key=lambda s: (max(s.volumes, default=0.0), -s.index))
    members = tuple(
        Stream(
            id=s.id,
            flow=s.flow,
            state=StreamState.STOPPED if s.corked else StreamState.RUNNING,
            pid=pid,
            loopback=bool(device and device.monitor_of is not None),
            name=s.name,
            volume=master_level(s.volumes),
            muted=s.muted,
        )
        for s in streams
    )
    return Session(
        id=session_id,
        key=SessionKey(guid=session_guid(binary, app), cross_process=pid is None, pid=pid, device_id=device_id),
        flow=first.flow,
        state=SessionState.ACTIVE if any(not s.corked for s in streams) else SessionState.INACTIVE,
        app=app,
        pid=pid,
        icon_path=_prop("application.icon_name", cprops, *sprops),
        volume=master_level(loudest.volumes),
        channel_volumes=levels_from_fractions(loudest.volumes),
        muted=all(s.muted for s in streams),
        role=role,
        streams=members,
    )


def diff_sessions(
    old: Mapping[str, Session],
    new: Mapping[str, Session],
    now: float,
    origin_of: Callable[[str], Origin],
) -> list[Event]:
    """The events that turn ``old`` into ``new`` (``origin_of(session_id)`` for volume changes)."""
    events: list[Event] = []
    for sid, gone in old.items():
        if sid not in new:
            events.append(StateChanged(timestamp=now, session_id=sid, old=gone.state, new=SessionState.EXPIRED))
            events.append(SessionRemoved(timestamp=now, session_id=sid))
    for sid, after in new.items():
        before = old.get(sid)
        if before is None:
            events.append(SessionCreated(timestamp=now, session_id=sid, session=after))
            continue
        if before.state != after.state:
            events.append(StateChanged(timestamp=now, session_id=sid, old=before.state, new=after.state))
        volume_changed = before.volume != after.volume or before.muted != after.muted
        channels_changed = before.channel_volumes != after.channel_volumes and not _reshaped(
            before.channel_volumes, after.channel_volumes
        )
        if volume_changed or channels_changed:
            origin = origin_of(sid)
            if volume_changed:
                events.append(
                    VolumeChanged(timestamp=now, session_id=sid, volume=after.volume, muted=after.muted, origin=origin)
                )
            if channels_changed:
                changed = [
                    i
                    for i, (a, b) in enumerate(zip(before.channel_volumes, after.channel_volumes, strict=False))
                    if a != b
                ]
                channel = changed[0] if len(changed) == 1 and len(before.channel_volumes) == len(after.channel_volumes) else None
                events.append(
                    ChannelVolumeChanged(
                        timestamp=now, session_id=sid, channel_volumes=after.channel_volumes, channel=channel, origin=origin
                    )
                )
        if before.streams != after.streams:
            events.append(StreamsChanged(timestamp=now, session_id=sid, streams=after.streams))
    return events


def blink_events(
    stream: RawStream,
    clients: Mapping[int, RawClient],
    devices: Mapping[tuple[Flow, int], RawDevice],
    now: float,
    session_id: str | None = None,
) -> list[Event]:
    """A session made of one stream that ended before it was ever reported: created, then removed (under
    ``session_id`` when its own id is taken by a live session of another app)."""
    session = make_session(session_id or session_id_of(stream), [stream], clients, devices)
    return [
        SessionCreated(timestamp=now, session_id=session.id, session=session),
        StateChanged(timestamp=now, session_id=session.id, old=session.state, new=SessionState.EXPIRED),
        SessionRemoved(timestamp=now, session_id=session.id),
    ]


def _reshaped(before: tuple[float, ...], after: tuple[float, ...]) -> bool:
    """Only the channel count changed, every channel at the same level (a stream reopened in mono): nobody
    changed a volume, so there is no ChannelVolumeChanged (the new stream is a StreamsChanged)."""
    return len(before) != len(after) and len(set(before)) == 1 and set(before) == set(after)
