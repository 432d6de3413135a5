"""The simulated service's own mutable records of a stream and a session (what the engine keeps; the public,
frozen :class:`~audiolab.Session` and :class:`~audiolab.Stream` are made from them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...model import NULL_GUID, Flow, Role, SessionKey, SessionState, Stream, StreamState

if TYPE_CHECKING:
    from ...focus.request import FocusAttributes


@dataclass
class StreamRecord:
    """One stream: its session is fixed when it opens."""

    id: str
    session_id: str
    flow: Flow
    pid: int
    loopback: bool
    name: str
    role: Role
    app: str = ""
    state: StreamState = StreamState.STOPPED
    focus_held: bool = False  # paused or stopped by the focus policy, not by its app
    focus: FocusAttributes | None = None  # how it asks for focus in Android's or iOS's terms

    def frozen(self) -> Stream:
        """The public, immutable view of this stream."""
        return Stream(self.id, self.flow, self.state, self.pid, self.loopback, self.name)


@dataclass
class SessionRecord:
    """One session, keyed the Windows way, with the settings a client can change."""

    id: str
    key: SessionKey
    flow: Flow
    app: str
    pid: int | None
    role: Role
    persist_key: str | None
    volume: float = 1.0
    channel_volumes: list[float] = field(default_factory=lambda: [1.0, 1.0])
    muted: bool = False
    display_name: str = ""
    icon_path: str = ""
    grouping_param: str = NULL_GUID
    is_system_sounds: bool = False
    ducking_opt_out: bool = False
    state: SessionState = SessionState.INACTIVE
    stream_ids: list[str] = field(default_factory=list)
    inactive_generation: int = 0  # bumped on each state change, so a stale expiry timer does nothing
