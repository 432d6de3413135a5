"""Two short waits of the mirror, so that what it reports is what happened, not how the server got there.

- A session that disappears is reported gone only after LEAVE_GRACE_SECONDS without it. A client that reopens
  its stream (gst's probe stream, the ALSA plugin) makes the server remove the stream and add a new one in the
  same session, sometimes in two separate notices a few ms apart (measured: within 2 ms); within the grace the
  session simply goes on (its new stream is a ``StreamsChanged``), instead of SessionRemoved + SessionCreated.
  A session that was created and removed within the grace is still reported, created then removed.
- On PipeWire, a new stream can be announced before its volume is known, with a volume of 0 that becomes its
  real volume within a millisecond or two (pipewire-pulse reports the node before its Props arrive). A new
  stream whose every channel reads 0 is kept out of the sessions until a re-read shows its volume, or for at most
  VOLUME_GRACE_SECONDS (a stream really at 0 is then reported at 0).
- Every stream the server announced is reported: one that ended before it was ever part of a session (held for
  its volume above, or never linked to a device: PipeWire shows a stream before WirePlumber links it) is
  reported as a session created and removed at once, unless its session lives on (the same app: a stream of
  that session came and went; another app under the same client index, which PipeWire reuses at once: it is
  reported under an id of its own, ``<session id>#<stream index>``). A new stream is read at once when announced
  (the backend's read-ahead; a second announcement of the same index reports the first stream gone), and one
  that was gone even for that is reported by its index alone, named UNREAD_NAME. Measured with 500 pacat sounds
  of 30 ms, 8 at a time, 6 runs each: 500 of 500 on PulseAudio (0-5 by index alone) and on PipeWire (3-121 by
  index alone: pipewire-pulse answers late under that load).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ...model import Flow, Session
from .mapping import RawStream

LEAVE_GRACE_SECONDS = 0.05
"""How long a session that disappeared may come back before it is reported removed."""
VOLUME_GRACE_SECONDS = 0.2
"""How long a new PipeWire stream announced at volume 0 waits for its real volume."""


@dataclass
class Settling:
    """The sessions on their way out and the streams whose volume is not known yet, with their deadlines."""

    pipewire: bool = False
    leaving: dict[str, tuple[Session, float]] = field(default_factory=dict)
    unsettled: dict[tuple[Flow, int], float] = field(default_factory=dict)
    shown: set[tuple[Flow, int]] = field(default_factory=set)
    """Streams that have been part of a session."""
    vanished: list[RawStream] = field(default_factory=list)
    """Streams that ended without ever being part of a session, to report once."""

    def stream_read(self, before: RawStream | None, after: RawStream | None, now: float) -> None:
        """Note a re-read stream (``after`` None: gone)."""
        if after is None:
            if before is not None and before.key not in self.shown:
                self.vanished.append(before)
            if before is not None:
                self.shown.discard(before.key)
                self.unsettled.pop(before.key, None)
            return
        key = after.key
        if before is None and self.pipewire and after.volumes and not any(after.volumes):
            self.unsettled.setdefault(key, now + VOLUME_GRACE_SECONDS)
        elif any(after.volumes):
            self.unsettled.pop(key, None)

    def visible(self, streams: Iterable[RawStream], now: float) -> list[RawStream]:
        """The streams that may be part of sessions now."""
        for key in [k for k, deadline in self.unsettled.items() if deadline <= now]:
            del self.unsettled[key]
        return [s for s in streams if s.key not in self.unsettled]

    def mark_shown(self, sessions: Iterable[Session]) -> None:
        """Note the streams that are part of ``sessions`` now."""
        for session in sessions:
            for member in session.streams:
                self.shown.add((member.flow, int(member.id.rsplit("/", 1)[1])))

    def take_vanished(self) -> list[RawStream]:
        """The streams that ended unseen since the last call."""
        out, self.vanished = self.vanished, []
        return out

    def before_diff(self, old: Mapping[str, Session], new: Mapping[str, Session], now: float) -> dict[str, Session]:
        """The 'before' side of the diff: sessions that left are held back (they leave the snapshot at once but
        are reported removed only by :meth:`expired`), and one that came back within its grace is diffed
        against its last state, as if it never left."""
        before = {sid: s for sid, s in old.items() if sid in new}
        for sid, session in old.items():
            if sid not in new:
                self.leaving[sid] = (session, now + LEAVE_GRACE_SECONDS)
        for sid in new:
            back = self.leaving.pop(sid, None)
            if back is not None and sid not in before:
                before[sid] = back[0]
        return before

    def expired(self, now: float) -> dict[str, Session]:
        """The sessions whose grace ran out: now they are gone."""
        due = {sid: s for sid, (s, deadline) in self.leaving.items() if deadline <= now}
        for sid in due:
            del self.leaving[sid]
        return due

    def flush(self) -> dict[str, Session]:
        """Every session on its way out, at once (the connection is gone)."""
        gone = {sid: s for sid, (s, _) in self.leaving.items()}
        self.leaving.clear()
        self.unsettled.clear()
        self.shown.clear()
        self.vanished.clear()
        return gone

    def next_deadline(self) -> float | None:
        deadlines = [d for _, d in self.leaving.values()] + list(self.unsettled.values())
        return min(deadlines, default=None)
