"""A session's focus gain, made from the ducks the focus engine reports per stream.

The focus engine decides per stream (a HarmonyOS renderer, a PulseAudio sink-input); the simulated service
mixes a session's streams before its gain, and reports ``Ducked`` / ``Unducked`` per *session*, as Windows
shows a ducked session. :class:`SessionGains` keeps each stream's last duck and says when the session's gain
(its most ducked stream's) changes: one duck of a session with two streams is one event, with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ...focus import Duck, Unduck
from ...focus.request import StreamKey


class SessionGains:
    """Each stream's live duck, and each session's gain as last reported."""

    def __init__(self) -> None:
        self._ducks: dict[StreamKey, Duck] = {}  # in the order they were reported, the newest last
        self._shown: dict[str, Duck] = {}  # a session's last reported duck; absent: reported at full gain

    def note(self, action: Duck | Unduck) -> None:
        """The engine reported a stream's new focus gain."""
        assert action.stream_id is not None  # the engine ducks streams
        key = (action.session_id, action.stream_id)
        self._ducks.pop(key, None)
        if isinstance(action, Duck):
            self._ducks[key] = action

    def forget(self, key: StreamKey) -> None:
        """The engine forgot the stream (it stopped, or was stopped): nothing of its ducks lives on."""
        self._ducks.pop(key, None)

    def forget_session(self, session_id: str) -> None:
        """The session is gone."""
        self._shown.pop(session_id, None)
        for key in [k for k in self._ducks if k[0] == session_id]:
            del self._ducks[key]

    def prune(self, exists: Callable[[str], bool]) -> None:
        """Forget the sessions that ended (``exists`` says which are left)."""
        for session_id in [sid for sid in self._shown if not exists(sid)]:
            self.forget_session(session_id)

    def clear(self) -> None:
        self._ducks.clear()
        self._shown.clear()

    def settle(
        self, session_id: str, now: float, trigger: Duck | Unduck | None = None, *, at_once: bool = False
    ) -> Duck | Unduck | None:
        """The session-level Duck or Unduck to apply and report when the session's gain (or the rule holding
        it) changed since it was last reported, else None. ``trigger`` is the stream action that caused the
        change, whose reason, cause and fade an unduck takes; without one it undoes the last reported duck
        (over its fade, or ``at_once``: the session was silent meanwhile)."""
        shown = self._shown.get(session_id)
        target = self._holding(session_id, shown)
        if target is None:
            if shown is None:
                return None
            del self._shown[session_id]
            if isinstance(trigger, Unduck):
                return replace(trigger, timestamp=now, stream_id=None)
            why = shown.reason.release() if shown.reason is not None else None
            return Unduck(timestamp=now, session_id=session_id, stream_id=None, cause_session_id=shown.cause_session_id,
                          cause_stream_id=shown.cause_stream_id, reason=why,
                          fade_seconds=0.0 if at_once else shown.fade_seconds)
        if shown is not None and (target.gain, target.reason) == (shown.gain, shown.reason):
            return None
        self._shown[session_id] = target
        return replace(target, timestamp=now, stream_id=None)

    def _holding(self, session_id: str, shown: Duck | None) -> Duck | None:
        """The duck that sets the session's gain: the deepest; among equals, the one already reported, else
        the newest."""
        ducks = [d for (sid, _), d in self._ducks.items() if sid == session_id]
        if not ducks:
            return None
        deepest = min(d.gain for d in ducks)
        ties = [d for d in ducks if d.gain == deepest]
        for duck in ties:
            if shown is not None and (duck.gain, duck.reason) == (shown.gain, shown.reason):
                return shown
        return ties[-1]
