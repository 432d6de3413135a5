"""Keep a table of sessions up to date from events alone (for replays, recorders and UIs)."""

from __future__ import annotations

from dataclasses import replace

from ._exceptions import SessionNotFound
from .events import (
    ChannelVolumeChanged,
    DisplayNameChanged,
    Event,
    GroupingParamChanged,
    IconPathChanged,
    SessionCreated,
    SessionExpired,
    SessionRemoved,
    StateChanged,
    StreamsChanged,
    VolumeChanged,
)
from .model import Session, SessionState


class SessionTable:
    """Sessions by id, changed by :meth:`apply`. Expired sessions are kept (they may come back) but left out
    of :meth:`snapshot`, as a backend's enumeration leaves them out."""

    def __init__(self, sessions: list[Session] | None = None) -> None:
        self._sessions: dict[str, Session] = {s.id: s for s in sessions or ()}

    def snapshot(self) -> list[Session]:
        return [s for s in self._sessions.values() if s.state is not SessionState.EXPIRED]

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def put(self, session: Session) -> None:
        """Take a session as a backend reports it now (for changes that come with no event of their own)."""
        self._sessions[session.id] = session

    def enumerable(self, session_id: str, where: str = "") -> Session:
        """The session with this id if :meth:`snapshot` lists it; SessionNotFound (naming ``where``) if not."""
        session = self._sessions.get(session_id)
        if session is None or session.state is SessionState.EXPIRED:
            raise SessionNotFound(f"no session {session_id!r}{where}")
        return session

    def apply(self, event: Event) -> None:  # noqa: PLR0911 - one branch per event kind
        if isinstance(event, SessionCreated):
            self._sessions[event.session_id] = event.session
            return
        if isinstance(event, SessionRemoved):
            self._sessions.pop(event.session_id, None)
            return
        session = self._sessions.get(event.session_id)
        if session is None:
            return
        if isinstance(event, StateChanged):
            session = replace(session, state=event.new)
        elif isinstance(event, SessionExpired):
            session = replace(session, state=SessionState.EXPIRED)
        elif isinstance(event, VolumeChanged):
            session = replace(session, volume=event.volume, muted=event.muted)
        elif isinstance(event, ChannelVolumeChanged):
            session = replace(session, channel_volumes=event.channel_volumes)
        elif isinstance(event, DisplayNameChanged):
            session = replace(session, display_name=event.display_name)
        elif isinstance(event, IconPathChanged):
            session = replace(session, icon_path=event.icon_path)
        elif isinstance(event, GroupingParamChanged):
            session = replace(session, grouping_param=event.grouping_param)
        elif isinstance(event, StreamsChanged):
            session = replace(session, streams=event.streams)
        else:
            return
        self._sessions[event.session_id] = session
