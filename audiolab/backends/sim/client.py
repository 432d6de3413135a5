"""Other "apps" of the simulated service: code and notebooks act as them to show every rule live."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from ..._exceptions import ClosedResourceError, StreamNotFound
from ...model import NULL_GUID, Flow, Origin, Role, Session, Stream

if TYPE_CHECKING:
    from ...focus.request import FocusAttributes
    from .engine import SimEngine

_pids = itertools.count(4100)


class SimStream:
    """A stream an app opened; its session is fixed for its whole life."""

    def __init__(self, client: SimClient, stream_id: str) -> None:
        self._client = client
        self.id = stream_id
        self.session_id = client._engine.stream_session_id(stream_id)

    def start(self) -> None:
        """IAudioClient::Start: the stream runs, its session becomes Active."""
        self._client._engine.start_stream(self.id)

    def stop(self) -> None:
        """IAudioClient::Stop: the stream stops; the session goes Inactive if no stream of it still runs."""
        self._client._engine.stop_stream(self.id)

    def release(self) -> None:
        """Release the stream; the last stream released ends its session."""
        self._client._engine.release_stream(self.id)
        self._client._streams.discard(self)

    @property
    def info(self) -> Stream:
        return self._client._engine.stream(self.id)

    @property
    def session(self) -> Session:
        return self._client._engine.session(self.session_id)

    def __repr__(self) -> str:
        return f"<SimStream {self.id} of {self.session_id}>"


class SimClient:
    """An app (a process with a pid) of the simulated service. Its calls report ``Origin.OTHER_CLIENT``."""

    def __init__(self, engine: SimEngine, app: str, pid: int | None = None) -> None:
        if not isinstance(app, str) or not app:
            raise ValueError("an app needs a non-empty name")
        if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0):
            raise ValueError(f"pid must be a positive int, got {pid!r}")
        self._engine = engine
        self.app = app
        self.pid = pid if pid is not None else next(_pids)
        self._streams: set[SimStream] = set()
        self._closed = False

    def open_stream(
        self,
        device: str | None = None,
        *,
        flow: Flow = Flow.RENDER,
        session_guid: str = NULL_GUID,
        cross_process: bool = False,
        role: Role = Role.UNKNOWN,
        display_name: str | None = None,
        icon_path: str | None = None,
        loopback: bool = False,
        start: bool = False,
        focus: FocusAttributes | None = None,
    ) -> SimStream:
        """Open a stream (IAudioClient::Initialize) in the session named by (``session_guid``,
        ``cross_process``) on ``device`` (the default device for the role when None). ``focus`` says how it
        asks for focus in Android's or iOS's terms (a gain type and flags, a category and options)."""
        if self._closed:
            raise ClosedResourceError(f"app {self.app!r} has exited")
        stream_id = self._engine.open_stream(
            pid=self.pid, app=self.app, device_id=device, flow=flow, session_guid=session_guid,
            cross_process=cross_process, loopback=loopback, role=role, display_name=display_name,
            icon_path=icon_path, focus=focus,
        )
        stream = SimStream(self, stream_id)
        self._streams.add(stream)
        if start:
            try:
                stream.start()
            except BaseException:
                stream.release()  # a refused start (focus denied) must not leave an orphan stream
                raise
        return stream

    def set_volume(self, session_id: str, volume: float) -> None:
        self._engine.set_volume(session_id, volume, Origin.OTHER_CLIENT)

    def set_mute(self, session_id: str, muted: bool) -> None:
        self._engine.set_mute(session_id, muted, Origin.OTHER_CLIENT)

    def set_channel_volume(self, session_id: str, channel: int, volume: float) -> None:
        self._engine.set_channel_volume(session_id, channel, volume, Origin.OTHER_CLIENT)

    def set_display_name(self, session_id: str, name: str) -> None:
        self._engine.set_display_name(session_id, name, Origin.OTHER_CLIENT)

    def set_icon_path(self, session_id: str, path: str) -> None:
        self._engine.set_icon_path(session_id, path, Origin.OTHER_CLIENT)

    def set_grouping_param(self, session_id: str, grouping_param: str) -> None:
        self._engine.set_grouping_param(session_id, grouping_param, Origin.OTHER_CLIENT)

    def close(self) -> None:
        """The process exits: every stream it still holds is released."""
        if self._closed:
            return
        self._closed = True
        for stream in list(self._streams):
            try:
                stream.release()
            except StreamNotFound:
                pass  # already gone with a service restart
        self._streams.clear()

    def __repr__(self) -> str:
        return f"<SimClient {self.app!r} pid={self.pid}>"
