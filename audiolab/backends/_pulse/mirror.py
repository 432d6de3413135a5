"""The mirror of a PulseAudio-protocol server: its clients, devices and streams as last read, and the sessions
built from them.

Every change goes through one reducer, :meth:`Mirror.apply`, over typed reads (:data:`Read`): a client, device
or stream as the server answered for it (``info`` None: it is gone), or every list at once (:class:`Loaded`).
:meth:`Mirror.rebuild` then turns the tables into sessions and returns the events between the last sessions and
these, with the short waits of :mod:`.settling` applied. No I/O here: the backend reads, the mirror keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..._by_fields import by_fields
from ...events import Event
from ...model import Flow, Origin, Session
from .mapping import (
    RawClient,
    RawDevice,
    RawStream,
    blink_events,
    build_sessions,
    client_from_info,
    device_from_info,
    diff_sessions,
    is_own,
    session_id_of,
    stream_from_info,
    unread_stream,
)
from .settling import Settling


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class ClientRead:
    """A client as the server answered for it (``info`` None: gone)."""

    index: int
    info: object | None


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class DeviceRead:
    """A sink (RENDER) or source (CAPTURE) as the server answered for it (``info`` None: gone)."""

    flow: Flow
    index: int
    info: object | None


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class StreamRead:
    """A sink-input (RENDER) or source-output (CAPTURE) as the server answered for it (``info`` None: gone)."""

    flow: Flow
    index: int
    info: object | None


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class StreamUnread:
    """A stream the server announced and removed before it could be read: only its index is known."""

    flow: Flow
    index: int


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Loaded:
    """Every list at once (connect, reconnect): replaces the tables."""

    clients: Iterable[object]
    sinks: Iterable[object]
    sources: Iterable[object]
    inputs: Iterable[object]
    outputs: Iterable[object]


Read = ClientRead | DeviceRead | StreamRead | StreamUnread | Loaded


class Mirror:
    """The server's state as audiolab last read it, and the sessions built from it."""

    def __init__(self) -> None:
        self.clients: dict[int, RawClient] = {}
        self.devices: dict[tuple[Flow, int], RawDevice] = {}
        self.streams: dict[tuple[Flow, int], RawStream] = {}
        self.sessions: dict[str, Session] = {}
        self.settling = Settling()
        self.own_client: int | None = None

    def apply(self, read: Read, mono: float) -> None:
        """The one reducer: fold one read into the tables (``mono``: time.monotonic of the read)."""
        if isinstance(read, ClientRead):
            if read.info is None:
                self.clients.pop(read.index, None)
            else:
                self.clients[read.index] = client_from_info(read.info)
        elif isinstance(read, DeviceRead):
            if read.info is None:
                self.devices.pop((read.flow, read.index), None)
            else:
                self.devices[(read.flow, read.index)] = device_from_info(read.info, read.flow)
        elif isinstance(read, StreamRead):
            key = (read.flow, read.index)
            before = self.streams.pop(key, None)
            if read.info is not None:
                self.streams[key] = stream_from_info(read.info, read.flow)
            self.settling.stream_read(before, self.streams.get(key), mono)
        elif isinstance(read, StreamUnread):
            if (read.flow, read.index) not in self.streams:
                self.settling.vanished.append(unread_stream(read.flow, read.index))
        else:
            self.clients = {int(c.index): client_from_info(c) for c in read.clients}  # type: ignore[attr-defined]
            self.devices = {}
            for flow, infos in ((Flow.RENDER, read.sinks), (Flow.CAPTURE, read.sources)):
                for info in infos:
                    self.devices[(flow, int(info.index))] = device_from_info(info, flow)  # type: ignore[attr-defined]
            self.streams = {}
            for flow, infos in ((Flow.RENDER, read.inputs), (Flow.CAPTURE, read.outputs)):
                for info in infos:
                    stream = stream_from_info(info, flow)
                    self.streams[stream.key] = stream

    def settle(self) -> None:
        """Take the tables as they are for the sessions, with no events (the first sessions of a connection)."""
        self.sessions = build_sessions(self.streams.values(), self.clients, self.devices, self.own_client)
        self.settling.mark_shown(self.sessions.values())

    def rebuild(self, now: float, mono: float, origin_of: Callable[[str], Origin]) -> list[Event]:
        """Build the sessions anew and return the events from the last ones to these (see :mod:`.settling`)."""
        settling = self.settling
        visible = settling.visible(self.streams.values(), mono)
        new = build_sessions(visible, self.clients, self.devices, self.own_client)
        old, self.sessions = self.sessions, new
        before = settling.before_diff(old, new, mono)
        events = diff_sessions({**before, **settling.expired(mono)}, new, now, origin_of)
        settling.mark_shown(new.values())
        for stream in settling.take_vanished():
            sid = session_id_of(stream)
            if is_own(stream, self.own_client):
                continue
            if sid not in new and sid not in old:
                events.extend(blink_events(stream, self.clients, self.devices, now))
                continue
            # Its id is a live session's. The same app: a stream of that session came and went (no session
            # event). Another app: PipeWire gave the ended client's index to a new client before audiolab read
            # the stream; it is still reported, under an id of its own.
            live = new.get(sid) or old[sid]
            own_app = stream.props.get("application.name")
            if own_app and own_app != live.app:
                others = {index: c for index, c in self.clients.items() if index != stream.client}  # not the new one
                events.extend(blink_events(stream, others, self.devices, now, f"{sid}#{stream.index}"))
        return events

    def clear(self, now: float) -> list[Event]:
        """Forget everything (the connection is gone); the events that end every session reported."""
        gone = diff_sessions({**self.settling.flush(), **self.sessions}, {}, now, lambda sid: Origin.UNKNOWN)
        self.clients, self.devices, self.streams, self.sessions = {}, {}, {}, {}
        return gone

    def missing(self) -> tuple[set[int], set[tuple[Flow, int]]]:
        """Clients and devices that streams name but the tables do not have yet."""
        clients, devices = set(), set()
        for stream in self.streams.values():
            if stream.client is not None and stream.client not in self.clients:
                clients.add(stream.client)
            if (stream.flow, stream.device) not in self.devices:
                devices.add((stream.flow, stream.device))
        return clients, devices
