"""The event-loop side of the backend: the current sessions, and the events made from COM notifications.

Each notice (:mod:`.notices`) becomes one typed event, and the sessions change only by applying that event
to a :class:`~audiolab.session_table.SessionTable`, the reducer replays and the widgets use too.

Every method runs on the event loop thread (COM threads reach it through ``LoopPoster``). Notifications about
a session the tracker has not been told about yet (they can overtake its creation, which goes through the
COM thread) wait in a bounded pending list and are applied, in order, once it arrives; notifications about a
session that already ended are ignored. The COM side releases ended sessions by itself.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ...events import (
    ChannelVolumeChanged,
    DisplayNameChanged,
    DuckNotification,
    Event,
    GroupingParamChanged,
    IconPathChanged,
    SessionCreated,
    SessionDisconnected,
    SessionRemoved,
    StateChanged,
    UnduckNotification,
    VolumeChanged,
)
from ...model import NULL_GUID, DisconnectReason, MeterFrame, Session, SessionState, normalize_guid
from ...reason import Reason, RuleValue
from ...session_table import SessionTable
from .mapping import ProcessTag, RawSession, disconnect_reason_of, origin_of, retag, state_of, to_session
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

MAX_PENDING_SESSIONS = 256
MAX_PENDING_EVENTS = 64
"""Bounds of the pending list: the oldest session's notifications go first (it was never reported)."""
MAX_GONE = 1024


class SessionTracker:
    """Sessions by instance id, and the events made from what COM reports."""

    def __init__(
        self,
        emit: Callable[[Event], None],
        now: Callable[[], float],
        context: str,
        on_shutdown: Callable[[DisconnectReason], None],
    ) -> None:
        self._emit = emit
        self._now = now
        self._context = context
        self._on_shutdown = on_shutdown
        self._table = SessionTable()
        self._pending: OrderedDict[str, list[tuple[float, Notice]]] = OrderedDict()
        self._gone: OrderedDict[str, float] = OrderedDict()
        """Ended sessions and when they ended: their late notifications are ignored, but a later one may be
        a new session that reuses the instance id (a process opening a stream again), so it is held."""
        self._tags: dict[int, ProcessTag] = {}
        self._peaks: dict[str, tuple[float, tuple[float, ...]]] = {}
        self._meter_sequence = 0
        self._closed = False
        self.pending_dropped = 0

    # --- reading ---------------------------------------------------------------------------------------------

    def snapshot(self) -> list[Session]:
        return self._table.snapshot()

    def get(self, session_id: str) -> Session | None:
        return self._table.get(session_id)

    # --- from the COM side -----------------------------------------------------------------------------------

    def seen(self, raw: RawSession) -> None:
        """A session read on the COM thread: new ones are announced, known ones merged silently."""
        if self._closed:
            return
        session = to_session(raw, self._tags.get(raw.pid) if raw.pid is not None else None)
        known = self._table.get(session.id)
        if known is not None:
            self._table.put(replace(session, ducking_opt_out=known.ducking_opt_out))
            return
        self._gone.pop(session.id, None)
        self._report(SessionCreated(timestamp=self._now(), session_id=session.id, session=session))
        for timestamp, notice in self._pending.pop(session.id, []):
            if self._table.get(session.id) is not None:
                self._apply(session.id, timestamp, notice)

    def session_event(self, instance_id: str, timestamp: float, notice: Notice) -> None:
        if self._closed or timestamp <= self._gone.get(instance_id, float("-inf")):
            return
        if self._table.get(instance_id) is None:
            self._hold(instance_id, (timestamp, notice))
            return
        self._apply(instance_id, timestamp, notice)

    def duck(self, timestamp: float, communications_session_id: str, count: int) -> None:
        if not self._closed:
            why = _windows_reports(communications_session_id, int(count), opened=True)
            self._emit(DuckNotification(timestamp=timestamp, session_id=communications_session_id,
                                        communications_session_id=communications_session_id, count=int(count),
                                        why=why))

    def unduck(self, timestamp: float, communications_session_id: str) -> None:
        if not self._closed:
            why = _windows_reports(communications_session_id, None, opened=False)
            self._emit(UnduckNotification(timestamp=timestamp, session_id=communications_session_id,
                                          communications_session_id=communications_session_id, why=why))

    def meters(self, peaks: dict[str, tuple[float, tuple[float, ...]]]) -> None:
        """Keep the highest peak per session since the last :meth:`read_meters`."""
        for session_id, (peak, channels) in peaks.items():
            if self._table.get(session_id) is None:
                continue
            old_peak, old_channels = self._peaks.get(session_id, (0.0, ()))
            if len(old_channels) == len(channels):
                channels = tuple(max(a, b) for a, b in zip(old_channels, channels, strict=True))
            self._peaks[session_id] = (max(old_peak, peak), tuple(channels))

    def read_meters(self) -> MeterFrame:
        peaks: dict[str, float] = {}
        channel_peaks: dict[str, tuple[float, ...]] = {}
        for session in self._table.snapshot():
            peak, channels = self._peaks.get(session.id, (0.0, (0.0,) * len(session.channel_volumes)))
            peaks[session.id] = float(peak)
            channel_peaks[session.id] = tuple(float(c) for c in channels)
        self._peaks = {}
        self._meter_sequence += 1
        return MeterFrame(timestamp=self._now(), peaks=peaks, channel_peaks=channel_peaks,
                          sequence=self._meter_sequence)

    # --- from the backend ------------------------------------------------------------------------------------

    def assume(self, session_id: str, **changes: Any) -> None:
        """Record a change this client just made (its notification follows and is reported then)."""
        session = self._table.get(session_id)
        if session is not None:
            self._table.put(replace(session, **changes))

    def tag(self, pid: int, tag: ProcessTag) -> None:
        self._tags[pid] = tag
        for session in self._table.snapshot():
            if session.pid == pid:
                self._table.put(retag(session, tag))

    def untag(self, pid: int) -> None:
        """Forget what a process was (it ended; a later process may get its pid). Sessions keep their names."""
        self._tags.pop(pid, None)

    def close(self) -> None:
        self._closed = True
        self._table = SessionTable()
        self._pending.clear()

    # --- internals -------------------------------------------------------------------------------------------

    def _hold(self, instance_id: str, item: tuple[float, Notice]) -> None:
        waiting = self._pending.get(instance_id)
        if waiting is None:
            if len(self._pending) >= MAX_PENDING_SESSIONS:
                _, dropped = self._pending.popitem(last=False)
                self.pending_dropped += len(dropped)
            waiting = self._pending[instance_id] = []
        if len(waiting) >= MAX_PENDING_EVENTS:
            waiting.pop(0)
            self.pending_dropped += 1
        waiting.append(item)

    def _report(self, event: Event) -> None:
        """The one way the sessions change: apply the event to the table, then tell the subscribers."""
        self._table.apply(event)
        self._emit(event)

    def _apply(self, sid: str, ts: float, notice: Notice) -> None:
        session = self._table.get(sid)
        assert session is not None
        match notice:
            case VolumeNotice(volume, muted, context):
                self._report(VolumeChanged(timestamp=ts, session_id=sid, volume=float(volume), muted=bool(muted),
                                           origin=origin_of(context, self._context)))
            case ChannelVolumeNotice(volumes, changed, context):
                self._report(ChannelVolumeChanged(timestamp=ts, session_id=sid,
                                                  channel_volumes=tuple(float(v) for v in volumes), channel=changed,
                                                  origin=origin_of(context, self._context)))
            case DisplayNameNotice(name, context):
                self._report(DisplayNameChanged(timestamp=ts, session_id=sid, display_name=name,
                                                origin=origin_of(context, self._context)))
            case IconPathNotice(path, context):
                self._report(IconPathChanged(timestamp=ts, session_id=sid, icon_path=path,
                                             origin=origin_of(context, self._context)))
            case GroupingParamNotice(value, context):
                try:
                    value = normalize_guid(value)
                except (TypeError, ValueError):
                    value = NULL_GUID
                self._report(GroupingParamChanged(timestamp=ts, session_id=sid, grouping_param=value,
                                                  origin=origin_of(context, self._context)))
            case StateNotice(state):
                new = state_of(state)
                if session.state is not new:
                    self._report(StateChanged(timestamp=ts, session_id=sid, old=session.state, new=new))
                    if new is SessionState.EXPIRED:  # Windows: expired when its last stream is released: ended
                        self._end(sid, ts)
            case DisconnectNotice(code):
                reason = disconnect_reason_of(code)
                self._report(SessionDisconnected(timestamp=ts, session_id=sid, reason=reason))
                self._end(sid, ts)
                if reason is DisconnectReason.SERVER_SHUTDOWN:
                    self._on_shutdown(reason)

    def _end(self, sid: str, ts: float) -> None:
        if self._table.get(sid) is None:
            return
        self._peaks.pop(sid, None)
        self._gone[sid] = ts
        while len(self._gone) > MAX_GONE:
            self._gone.popitem(last=False)
        self._report(SessionRemoved(timestamp=ts, session_id=sid))


def _windows_reports(communications_session_id: str, count: int | None, *, opened: bool) -> Reason:
    """The reason of a duck notification from the real Windows audio service: communications activity on
    the default communications device; how far other sounds drop is the user's Communications setting."""
    what = "opened" if opened else "closed"
    text = (f"Windows reports that a communications session {what} on the default communications device; "
            "it lowers other sounds as the Sound control panel's Communications setting says")
    rule: dict[str, RuleValue] = {"source": "IAudioVolumeDuckNotification",
                                  "communications_session": communications_session_id,
                                  "communications_sessions": count}
    return Reason(policy="windows (this system)", kind="windows", text=text + ".", rule=rule,
                  label="communications activity")
