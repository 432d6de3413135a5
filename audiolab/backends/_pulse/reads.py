"""The pulse backend's reads of the server: subscription events mark objects dirty; each dirty object is then
re-read once and the answer handed to the mirror's reducer (:mod:`.mirror`).

New streams are also read at once, ahead of the pump (a stream that lives a few ms is often gone by the
pump's re-read, and is still reported from that reading; see :mod:`.settling`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from ..._exceptions import SessionNotFound
from ...model import Flow
from .connection import (
    FACILITY_CLIENT,
    FACILITY_SINK,
    FACILITY_SINK_INPUT,
    FACILITY_SOURCE,
    FACILITY_SOURCE_OUTPUT,
    TYPE_NEW,
    TYPE_REMOVE,
    Connection,
)
from .mirror import ClientRead, DeviceRead, Mirror, Read, StreamRead, StreamUnread

__all__ = ("Reads",)

_LIST_THRESHOLD = 16
"""More dirty objects of one kind than this are re-read with one list query instead of one query each."""
_MAX_PREFETCHED = 256
"""New streams read ahead of the pump at most at once (a burst beyond that is read by the pump only)."""

# facility -> (info query, list query, flow)
_STREAM_FACILITIES = {
    FACILITY_SINK_INPUT: ("sink_input_info", "sink_input_list", Flow.RENDER),
    FACILITY_SOURCE_OUTPUT: ("source_output_info", "source_output_list", Flow.CAPTURE),
}
_DEVICE_FACILITIES = {
    FACILITY_SINK: ("sink_info", "sink_list", Flow.RENDER),
    FACILITY_SOURCE: ("source_info", "source_list", Flow.CAPTURE),
}


def _retrieve(task: asyncio.Future[object]) -> None:
    """A read-ahead's outcome is looked at later or never: mark its exception retrieved."""
    if not task.cancelled():
        task.exception()


class Reads:
    """The dirty objects of one backend's server, their reads ahead and re-reads, into ``mirror``."""

    def __init__(
        self, mirror: Mirror, connection: Callable[[], Connection | None], require: Callable[[], Connection]
    ) -> None:
        """``connection``: the connection, or None (then nothing is read ahead); ``require``: the live
        connection, or raise (as re-reads must)."""
        self._mirror = mirror
        self._connection = connection
        self._require = require
        self.dirty: dict[int, set[int]] = {}
        """Objects to re-read, by facility."""
        self._prefetched: dict[tuple[Flow, int], asyncio.Future[object]] = {}
        """New streams' first readings (see _prefetch), taken by the pump's next re-read of them."""
        self.server_events = 0

    def on_server_event(self, facility: int, kind: int, index: int) -> None:
        """One subscription event: the object is dirty (a removed one is gone at once, a new stream read ahead)."""
        self.server_events += 1
        if kind == TYPE_REMOVE:
            self._forget(facility, index)
        elif kind == TYPE_NEW and facility in _STREAM_FACILITIES:
            self._prefetch(facility, index)
        self.mark(facility, index)

    def mark(self, facility: int, index: int) -> None:
        """Have the object re-read by the next :meth:`refresh` of :meth:`take`'s answer."""
        self.dirty.setdefault(facility, set()).add(index)

    def mark_stream(self, flow: Flow, index: int) -> None:
        """Have a stream re-read (see :meth:`mark`)."""
        self.mark(FACILITY_SINK_INPUT if flow is Flow.RENDER else FACILITY_SOURCE_OUTPUT, index)

    def take(self) -> dict[int, set[int]]:
        """The dirty objects, and none left dirty."""
        dirty, self.dirty = self.dirty, {}
        return dirty

    def drop(self) -> None:
        """The connection went away: cancel the reads ahead."""
        for early in self._prefetched.values():
            early.cancel()
        self._prefetched.clear()

    async def refresh(self, dirty: dict[int, set[int]]) -> None:
        """Re-read the ``dirty`` objects, then any client or device the streams name and the mirror lacks."""
        await self._refresh(dirty)
        missing: dict[int, set[int]] = {}
        clients, devices = self._mirror.missing()
        if clients:
            missing[FACILITY_CLIENT] = clients
        for flow, index in devices:
            missing.setdefault(FACILITY_SINK if flow is Flow.RENDER else FACILITY_SOURCE, set()).add(index)
        if missing:
            await self._refresh(missing)

    def _prefetch(self, facility: int, index: int) -> None:
        """Read a new stream at once, before the pump's re-read: a stream that lives a few ms (a 30 ms sound) is
        often gone by then, and is still reported from this reading (see :mod:`.settling`)."""
        conn = self._connection()
        info_q, _, flow = _STREAM_FACILITIES[facility]
        if conn is None or len(self._prefetched) >= _MAX_PREFETCHED:
            return
        key = (flow, index)
        if key in self._prefetched:
            # PipeWire reuses an index at once: a second "new" before the pump read the first means the first
            # stream is gone; report it now, or the new reading would take its place unseen.
            self._gone_before_read("stream", flow, index)
            if key in self._mirror.streams:  # its early reading was stored: it is gone too (its "remove" came before)
                self._mirror.apply(StreamRead(flow, index, None), time.monotonic())
        task = asyncio.ensure_future(conn.query(info_q, index))
        self._prefetched[key] = task
        task.add_done_callback(_retrieve)

    def _drop_prefetched(self, flow: Flow | None, index: int) -> None:
        early = self._prefetched.pop((flow, index), None) if flow is not None else None
        if early is not None:
            early.cancel()

    def _gone_before_read(self, what: str, flow: Flow | None, index: int) -> None:
        """A stream the server announced was gone when the pump read it: it is still reported, from its reading
        ahead when that got it, else as an unread stream (see :mod:`.settling`)."""
        if what != "stream" or flow is None:
            return
        early = self._prefetched.pop((flow, index), None)
        if early is None or (flow, index) in self._mirror.streams:
            return
        if early.done() and not early.cancelled() and early.exception() is None:
            self._store(what, flow, index, early.result())  # the next store (None) reports it, then gone
        else:
            early.cancel()
            self._mirror.apply(StreamUnread(flow, index), time.monotonic())

    def _forget(self, facility: int, index: int) -> None:
        if facility in _STREAM_FACILITIES:
            self._mirror.apply(StreamRead(_STREAM_FACILITIES[facility][2], index, None), time.monotonic())
        elif facility in _DEVICE_FACILITIES:
            self._mirror.apply(DeviceRead(_DEVICE_FACILITIES[facility][2], index, None), time.monotonic())
        elif facility == FACILITY_CLIENT:
            self._mirror.apply(ClientRead(index, None), time.monotonic())

    async def _refresh(self, dirty: dict[int, set[int]]) -> None:
        conn = self._require()
        jobs = []
        for facility, indices in dirty.items():
            if facility in _STREAM_FACILITIES:
                info_q, list_q, flow = _STREAM_FACILITIES[facility]
                jobs.append(self._refresh_kind(conn, indices, info_q, list_q, flow, "stream"))
            elif facility in _DEVICE_FACILITIES:
                info_q, list_q, flow = _DEVICE_FACILITIES[facility]
                jobs.append(self._refresh_kind(conn, indices, info_q, list_q, flow, "device"))
            elif facility == FACILITY_CLIENT:
                jobs.append(self._refresh_kind(conn, indices, "client_info", "client_list", None, "client"))
        await asyncio.gather(*jobs)

    async def _refresh_kind(
        self, conn: Connection, indices: set[int], info_q: str, list_q: str, flow: Flow | None, what: str
    ) -> None:
        if len(indices) > _LIST_THRESHOLD:
            infos = list(await conn.query(list_q))  # type: ignore[call-overload]
            seen = {info.index for info in infos}
            for index in indices - seen:
                self._gone_before_read(what, flow, index)
                self._store(what, flow, index, None)
            for info in infos:
                self._drop_prefetched(flow, info.index)
                self._store(what, flow, info.index, info)
            return

        async def one(index: int) -> None:
            try:
                info = await conn.query(info_q, index)
            except SessionNotFound:
                info = None
                self._gone_before_read(what, flow, index)
            else:
                self._drop_prefetched(flow, index)
            self._store(what, flow, index, info)

        await asyncio.gather(*(one(i) for i in indices))

    def _store(self, what: str, flow: Flow | None, index: int, info: Any) -> None:
        """Hand one answer of the server to the mirror's reducer."""
        if what == "client":
            read: Read = ClientRead(index, info)
        else:
            assert flow is not None
            read = DeviceRead(flow, index, info) if what == "device" else StreamRead(flow, index, info)
        self._mirror.apply(read, time.monotonic())
