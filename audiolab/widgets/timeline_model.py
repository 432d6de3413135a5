"""The recording behind a :class:`~audiolab.widgets.timeline.FocusTimeline`: each session's effective gain and
state over time, its meter peaks, and the focus transitions with their causes, folded from events and meter
frames. Plain data and no drawing: :mod:`.timeline_plot` draws it.

Effective gain = volume x focus gain while the session plays; 0 ("silent") while it is muted or not Active
(inactive, paused by another session, expired). With a ``window`` (seconds), what is older than the window is
pruned about once a second of recording.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from .._by_fields import by_fields
from ..events import (
    Ducked,
    Event,
    FocusDenied,
    InterruptEvent,
    PolicyChanged,
    SessionCreated,
    SessionDeactivated,
    SessionDisconnected,
    SessionExpired,
    SessionRemoved,
    StateChanged,
    Unducked,
    VolumeChanged,
)
from ..model import InterruptHint, MeterFrame, Session, SessionState
from ..reason import Reason

PRUNE_EVERY_SECONDS = 1.0
"""How often a windowed recording drops what fell out of its window."""


@dataclass
class Track:
    """One session's history: its gain and state points, its peaks, and what it is now."""

    label: str
    system: bool
    volume: float = 1.0
    muted: bool = False
    focus: float = 1.0
    state: SessionState = SessionState.INACTIVE
    gains: deque[tuple[float, float]] = field(default_factory=deque)
    states: deque[tuple[float, SessionState]] = field(default_factory=deque)
    end: float | None = None
    was_active: bool = False
    peaks: deque[tuple[float, float]] = field(default_factory=deque)

    @property
    def effective(self) -> float:
        """What the session plays at: volume x focus gain while Active, silent while muted or not playing."""
        if self.muted or self.state is not SessionState.ACTIVE:
            return 0.0
        return self.volume * self.focus

    def prune(self, cutoff: float) -> None:
        """Forget what is older than ``cutoff``, keeping the gain and state in force at ``cutoff``."""
        for points in (self.gains, self.states):
            while len(points) > 1 and points[1][0] <= cutoff:
                points.popleft()
        peaks = self.peaks
        while peaks and peaks[0][0] < cutoff:
            peaks.popleft()


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Transition:
    """A focus transition: ``kind`` happened to ``session_id`` at ``t``, caused by ``cause_id``."""

    t: float
    session_id: str
    cause_id: str | None
    kind: str
    text: str
    rule: str = ""
    """A few words naming the rule that fired (the reason's label), written on the arrow."""


class Recording:
    """Tracks and transitions folded from events (and meter frames); with a ``window`` (seconds), only what
    happened in the last ``window`` seconds is kept."""

    def __init__(self, window: float | None = None) -> None:
        self.window = window
        self.tracks: dict[str, Track] = {}
        self.apps: dict[str, str] = {}
        self.transitions: deque[Transition] = deque()
        self.policies: deque[tuple[float, str]] = deque()
        """(time, name) of each policy switch: a vertical line across the timeline."""
        self.events: deque[Event] = deque()
        self.t0: float | None = None
        self.t_last = 0.0
        self._pruned = -math.inf

    @property
    def start(self) -> float:
        """The earliest time shown: the first event, or the start of the window."""
        t0 = self.t0 or 0.0
        return t0 if self.window is None else max(t0, self.t_last - self.window)

    def _time(self, t: float) -> float:
        if self.t0 is None:
            self.t0 = t
        if t > self.t_last:
            self.t_last = t
            if self.window is not None and t - self._pruned >= PRUNE_EVERY_SECONDS:
                self._prune(t - self.window)
                self._pruned = t
        return t

    def _prune(self, cutoff: float) -> None:
        """Drop everything before ``cutoff``: O(tracks + what is dropped), about once a second."""
        for sid in [sid for sid, track in self.tracks.items() if track.end is not None and track.end < cutoff]:
            del self.tracks[sid]
            self.apps.pop(sid, None)
        for track in self.tracks.values():
            track.prune(cutoff)
        while self.transitions and self.transitions[0].t < cutoff:
            self.transitions.popleft()
        while self.policies and self.policies[0][0] < cutoff:
            self.policies.popleft()
        while self.events and self.events[0].timestamp < cutoff:
            self.events.popleft()

    def seed(self, sessions: Iterable[Session], t: float) -> None:
        """Sessions that existed before the first event, as they were at ``t``."""
        for session in sessions:
            self._add(session, self._time(t))

    def _add(self, session: Session, t: float) -> Track:
        track = Track(session.label, session.is_system_sounds, session.volume, session.muted)
        track.state = session.state
        track.was_active = session.state is SessionState.ACTIVE
        track.gains.append((t, track.effective))
        track.states.append((t, session.state))
        self.tracks[session.id] = track
        self.apps[session.id] = session.app
        return track

    def _gain_changed(self, track: Track, t: float, fade: float = 0.0) -> None:
        old = track.gains[-1][1] if track.gains else track.effective
        track.gains.append((t, old))
        track.gains.append((t + fade, track.effective))

    def add(self, event: Event) -> None:  # noqa: PLR0912 - one branch per event kind
        """Fold one event in."""
        self.events.append(event)
        t = self._time(event.timestamp)
        if isinstance(event, SessionCreated):
            self._add(event.session, t)
            return
        if isinstance(event, PolicyChanged):
            self.policies.append((t, event.policy.policy.name))
            return
        if isinstance(event, SessionDeactivated):
            for sid, other in self.tracks.items():
                if other.end is None and self._app(sid) == event.session_id:
                    self._mark(t, sid, event.cause_session_id, "deactivated",
                               f"deactivated ({event.reason.value.replace('_', ' ')})", event.why)
            return
        track = self.tracks.get(event.session_id)
        if track is None or track.end is not None:
            return
        if isinstance(event, StateChanged):
            track.state = event.new
            track.was_active |= event.new is SessionState.ACTIVE
            track.states.append((t, event.new))
            self._gain_changed(track, t)  # silent while not playing
        elif isinstance(event, VolumeChanged):
            track.volume, track.muted = event.volume, event.muted
            self._gain_changed(track, t)
        elif isinstance(event, Ducked):
            track.focus = event.gain
            self._gain_changed(track, t, event.fade_seconds)
            self._mark(t, event.session_id, event.cause_session_id, "duck", f"duck {event.gain:.0%}", event.why)
        elif isinstance(event, Unducked):
            track.focus = event.gain
            self._gain_changed(track, t, event.fade_seconds)
            self._mark(t, event.session_id, event.cause_session_id, "unduck", "unduck", event.why)
        elif isinstance(event, InterruptEvent):
            kind = {InterruptHint.PAUSE: "pause", InterruptHint.RESUME: "resume", InterruptHint.STOP: "stop"}
            if event.hint in kind:
                name = kind[event.hint]
                self._mark(t, event.session_id, event.cause_session_id, name, f"{name} ({event.force_type.value})",
                           event.why)
        elif isinstance(event, FocusDenied):
            self._mark(t, event.session_id, event.cause_session_id, "denied", "denied", event.why)
        elif isinstance(event, SessionExpired):
            track.state = SessionState.EXPIRED
            track.states.append((t, SessionState.EXPIRED))
            self._gain_changed(track, t)
            track.end = t
        elif isinstance(event, (SessionRemoved, SessionDisconnected)):
            track.end = t

    def _app(self, sid: str) -> str:
        app = self.apps.get(sid)
        return app if app is not None else sid.split("@", 1)[0]

    def _mark(self, t: float, sid: str, cause: str | None, kind: str, text: str, why: Reason | None = None) -> None:
        rule = "" if why is None or why.released else why.label  # an undo is the same rule: said once
        self.transitions.append(Transition(t, sid, cause, kind, text, rule))

    def add_meter(self, frame: MeterFrame) -> None:
        """Keep each session's peak of one meter frame."""
        t = self._time(frame.timestamp)
        for sid, peak in frame.peaks.items():
            track = self.tracks.get(sid)
            # (frames may be added after the events, as a recorded timeline does: keep those of its lifetime)
            if track is not None and (track.end is None or t <= track.end):
                track.peaks.append((t, peak))

    def copy(self) -> Recording:
        """A copy safe to draw in another thread while recording goes on (without the events)."""
        other = Recording(self.window)
        other.t0, other.t_last = self.t0, self.t_last
        other.transitions = deque(self.transitions)
        other.policies = deque(self.policies)
        other.apps = dict(self.apps)
        for sid, tr in self.tracks.items():
            other.tracks[sid] = Track(tr.label, tr.system, tr.volume, tr.muted, tr.focus, tr.state,
                                       deque(tr.gains), deque(tr.states), tr.end, tr.was_active, deque(tr.peaks))
        return other

    def size(self) -> int:
        """How many things are kept: events, transitions, and every track's gain, state and peak points."""
        return len(self.events) + len(self.transitions) + sum(
            len(tr.gains) + len(tr.states) + len(tr.peaks) for tr in self.tracks.values())


def gain_at(points: Iterable[tuple[float, float]], t: float) -> float:
    """The gain at ``t`` along ``points`` (time, gain), linear between two points (a fade)."""
    points = list(points)
    value = points[0][1] if points else 1.0
    for (ta, va), (tb, vb) in zip(points, [*points[1:], (math.inf, points[-1][1])], strict=True):
        if ta <= t < tb:
            return va if tb == math.inf or tb == ta else va + (vb - va) * (t - ta) / (tb - ta)
        if t >= ta:
            value = va
    return value


def measured_gains(track: Track) -> list[tuple[float, float]]:
    """The session's gain as its meter measured it: each peak over the session's own level when nothing acts
    on it (the 90th percentile of peak / the gain the events give, where they give full gain). Empty without
    peaks or without a moment at full gain."""
    ratios = sorted(p / g for t, p in track.peaks if (g := gain_at(track.gains, t)) >= 0.999 and p > 0)
    if not ratios:
        return []
    reference = ratios[min(len(ratios) - 1, int(0.9 * len(ratios)))]
    first = next(i for i, (_, p) in enumerate(track.peaks) if p > 0)  # before it, the meter was still starting
    return [(t, p / reference) for t, p in list(track.peaks)[first:]]
