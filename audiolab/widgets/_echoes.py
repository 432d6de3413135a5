"""The volume and mute changes a dashboard made itself, waiting for their events: those events are echoes, which
the browser that made the change already shows, so they are not sent back to it."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Collection

from ..events import VolumeChanged
from ..model import Origin

ECHO_WINDOW_SECONDS = 5.0
"""How long a change the dashboard made waits for its own event before it is forgotten."""
PENDING_PER_SESSION = 256


class OwnChanges:
    """Per session, the (time, volume, muted) states the dashboard asked for, oldest first."""

    def __init__(self) -> None:
        self._pending: dict[str, deque[tuple[float, float, bool]]] = {}

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._pending

    def __len__(self) -> int:
        return len(self._pending)

    def expect(self, session_id: str, volume: float | None, muted: bool | None, now_volume: float,
               now_muted: bool) -> None:
        """The dashboard asked for ``volume`` and/or ``muted`` (None: unchanged) on a session that shows
        ``now_volume``/``now_muted``: what it will look like once this lands, on top of changes on their way."""
        pending = self._pending.setdefault(session_id, deque(maxlen=PENDING_PER_SESSION))
        _, last_volume, last_muted = pending[-1] if pending else (0.0, now_volume, now_muted)
        pending.append((time.monotonic(), last_volume if volume is None else volume,
                        last_muted if muted is None else muted))

    def is_echo(self, event: VolumeChanged) -> bool:
        """True when ``event`` is what a pending change of this dashboard produced (it is then settled)."""
        if event.origin is Origin.OTHER_CLIENT:
            return False
        pending = self._pending.get(event.session_id)
        if not pending:
            return False
        now = time.monotonic()
        while pending and now - pending[0][0] > ECHO_WINDOW_SECONDS:
            pending.popleft()
        found = False
        for i, (_, volume, muted) in enumerate(pending):
            if abs(volume - event.volume) < 1e-3 and muted == event.muted:
                for _ in range(i + 1):
                    pending.popleft()
                found = True
                break
        if not pending:
            del self._pending[event.session_id]
        return found

    def forget(self, session_id: str) -> None:
        """The session is gone: nothing of it is pending any more."""
        self._pending.pop(session_id, None)

    def keep_only(self, session_ids: Collection[str]) -> None:
        """Forget the sessions not in ``session_ids`` (after a resynchronisation)."""
        for sid in [sid for sid in self._pending if sid not in session_ids]:
            del self._pending[sid]
