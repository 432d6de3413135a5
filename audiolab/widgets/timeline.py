"""``FocusTimeline``: each session's effective gain (dB) and state over time, focus transitions marked, and an
arrow from each cause to its effect (the navigation prompt that ducked the music, the call that paused it).

    FocusTimeline.from_events(events).save_png("timeline.png")   # a recorded list of events
    timeline = FocusTimeline(lab)    # live: records lab.events() and meters; display it in a notebook

Effective gain = volume x focus gain while the session plays; 0 ("silent") while it is muted or not Active
(inactive, paused by another session, expired). Drawn in dB from -60 dB ("silent") to 0 dB.

A live timeline keeps a window of the last ``window`` seconds (default :data:`LIVE_WINDOW_SECONDS`, 5 minutes):
older events, gain and state points, peaks, transitions and ended sessions are dropped (pruned about once a
second of recording), so it can run for hours in a notebook. A recorded timeline (``from_events``) keeps
everything it was given.

Drawing uses matplotlib's object API (no pyplot state); live views render off the kernel's loop thread.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import math
import os
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..audio.synth import to_dbfs
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

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..lab import Lab

FLOOR_DB = -60.0
METER_RATE = 10.0
LIVE_WINDOW_SECONDS = 300.0
"""What a live FocusTimeline keeps: the last 5 minutes."""
PRUNE_EVERY_SECONDS = 1.0
STATE_COLOURS = {SessionState.ACTIVE: "#22c55e", SessionState.INACTIVE: "#cbd5e1", SessionState.EXPIRED: "#ef4444"}
KIND_STYLE = {  # marker, colour, label
    "duck": ("v", "#d97706", "ducked"),
    "unduck": ("^", "#0891b2", "unducked"),
    "pause": ("s", "#2563eb", "paused"),
    "resume": (">", "#16a34a", "resumed"),
    "stop": ("X", "#b91c1c", "stopped"),
    "denied": ("x", "#dc2626", "focus denied"),
    "deactivated": ("D", "#7c3aed", "deactivated"),
}


def to_db(gain: float) -> float:
    """A gain in dB for the plot: :func:`audiolab.audio.synth.to_dbfs`, floored at ``FLOOR_DB`` (silent)."""
    return max(FLOOR_DB, to_dbfs(gain))


@dataclass
class _Track:
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


@dataclass(frozen=True)
class Transition:
    """A focus transition: ``kind`` happened to ``session_id`` at ``t``, caused by ``cause_id``."""

    t: float
    session_id: str
    cause_id: str | None
    kind: str
    text: str
    rule: str = ""
    """A few words naming the rule that fired (the reason's label), written on the arrow."""


class _Recording:
    """Tracks and transitions folded from events (and meter frames); with a ``window`` (seconds), only what
    happened in the last ``window`` seconds is kept."""

    def __init__(self, window: float | None = None) -> None:
        self.window = window
        self.tracks: dict[str, _Track] = {}
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
        for session in sessions:
            self._add(session, self._time(t))

    def _add(self, session: Session, t: float) -> _Track:
        track = _Track(session.label, session.is_system_sounds, session.volume, session.muted)
        track.state = session.state
        track.was_active = session.state is SessionState.ACTIVE
        track.gains.append((t, track.effective))
        track.states.append((t, session.state))
        self.tracks[session.id] = track
        self.apps[session.id] = session.app
        return track

    def _gain_changed(self, track: _Track, t: float, fade: float = 0.0) -> None:
        old = track.gains[-1][1] if track.gains else track.effective
        track.gains.append((t, old))
        track.gains.append((t + fade, track.effective))

    def add(self, event: Event) -> None:  # noqa: PLR0912 - one branch per event kind
        self.events.append(event)
        t = self._time(event.timestamp)
        if isinstance(event, SessionCreated):
            self._add(event.session, t)
            return
        if isinstance(event, PolicyChanged):
            self.policies.append((t, event.policy.policy.name))
            return
        if isinstance(event, SessionDeactivated):
            for sid, track in self.tracks.items():
                if track.end is None and self._app(sid) == event.session_id:
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
        t = self._time(frame.timestamp)
        for sid, peak in frame.peaks.items():
            track = self.tracks.get(sid)
            # (frames may be added after the events, as a recorded timeline does: keep those of its lifetime)
            if track is not None and (track.end is None or t <= track.end):
                track.peaks.append((t, peak))

    def copy(self) -> _Recording:
        """A copy safe to draw in another thread while recording goes on (without the events)."""
        other = _Recording(self.window)
        other.t0, other.t_last = self.t0, self.t_last
        other.transitions = deque(self.transitions)
        other.policies = deque(self.policies)
        other.apps = dict(self.apps)
        for sid, tr in self.tracks.items():
            other.tracks[sid] = _Track(tr.label, tr.system, tr.volume, tr.muted, tr.focus, tr.state,
                                       deque(tr.gains), deque(tr.states), tr.end, tr.was_active, deque(tr.peaks))
        return other

    def size(self) -> int:
        """How many things are kept: events, transitions, and every track's gain, state and peak points."""
        return len(self.events) + len(self.transitions) + sum(
            len(tr.gains) + len(tr.states) + len(tr.peaks) for tr in self.tracks.values())


def _gain_at(points: list[tuple[float, float]], t: float) -> float:
    points = list(points)
    value = points[0][1] if points else 1.0
    for (ta, va), (tb, vb) in zip(points, [*points[1:], (math.inf, points[-1][1])], strict=True):
        if ta <= t < tb:
            return va if tb == math.inf or tb == ta else va + (vb - va) * (t - ta) / (tb - ta)
        if t >= ta:
            value = va
    return value


def measured_gains(track: _Track) -> list[tuple[float, float]]:
    """The session's gain as its meter measured it: each peak over the session's own level when nothing acts
    on it (the 90th percentile of peak / the gain the events give, where they give full gain). Empty without
    peaks or without a moment at full gain."""
    ratios = sorted(p / g for t, p in track.peaks if (g := _gain_at(track.gains, t)) >= 0.999 and p > 0)
    if not ratios:
        return []
    reference = ratios[min(len(ratios) - 1, int(0.9 * len(ratios)))]
    first = next(i for i, (_, p) in enumerate(track.peaks) if p > 0)  # before it, the meter was still starting
    return [(t, p / reference) for t, p in list(track.peaks)[first:]]


def draw(recording: _Recording, *, title: str = "Audio focus timeline") -> Figure:
    """The timeline as a matplotlib Figure (no pyplot: safe in any thread)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    involved = {tr.cause_id for tr in recording.transitions if tr.cause_id}
    involved.update(tr.session_id for tr in recording.transitions)
    shown = [sid for sid, tr in recording.tracks.items() if tr.was_active or sid in involved]
    t0 = recording.t0 or 0.0
    start = recording.start
    t_end = start + max(recording.t_last - start, 1.0) * 1.04
    span = t_end - start
    has_meter = any(recording.tracks[sid].peaks for sid in shown)
    n = max(len(shown), 1)
    ratios = [3.2, 0.42 * n + 0.6] + ([1.6] if has_meter else [])
    fig = Figure(figsize=(11, 3.6 + 0.42 * n + (1.6 if has_meter else 0)), dpi=110, layout="constrained")
    axes = fig.subplots(len(ratios), 1, sharex=True, gridspec_kw={"height_ratios": ratios})
    ax_gain, ax_lanes = axes[0], axes[1]
    palette = ["#2563eb", "#db2777", "#059669", "#ea580c", "#7c3aed", "#0891b2", "#65a30d", "#b45309"]
    colour = {sid: palette[i % len(palette)] for i, sid in enumerate(shown)}
    lane = {sid: n - 1 - i for i, sid in enumerate(shown)}

    def rel(t: float) -> float:
        return t - t0

    any_measured = False

    for sid in shown:
        track = recording.tracks[sid]
        end = track.end if track.end is not None else t_end
        xs = [rel(t) for t, _ in track.gains] + [rel(end)]
        ys = [to_db(g) for _, g in track.gains] + [to_db(track.gains[-1][1])]
        ax_gain.plot(xs, ys, color=colour[sid], lw=1.4, ls=":", alpha=0.8)  # solid below while Active
        states = [*track.states, (end, SessionState.EXPIRED)]
        for (ta, state), (tb, _) in itertools.pairwise(states):
            if state is SessionState.ACTIVE and tb > ta:
                seg = [(ta, _gain_at(track.gains, ta))] + [p for p in track.gains if ta < p[0] < tb] + \
                      [(tb, _gain_at(track.gains, tb - 1e-9))]
                ax_gain.plot([rel(t) for t, _ in seg], [to_db(g) for _, g in seg], color=colour[sid], lw=2.6,
                             solid_capstyle="butt", label=track.label if ta == next(
                                 (s for s, st in track.states if st is SessionState.ACTIVE), None) else None)
            if tb > ta:
                ax_lanes.broken_barh([(rel(ta), tb - ta)], (lane[sid] - 0.32, 0.64),
                                     facecolors=STATE_COLOURS[state], edgecolor="white", lw=0.5)
        if track.end is not None:
            expired = track.states[-1][1] is SessionState.EXPIRED
            ax_lanes.text(rel(track.end) + 0.05, lane[sid], "expired" if expired else "ended", va="center",
                          fontsize=8, color="#b91c1c" if expired else "#475569")
        if has_meter and track.peaks:
            axes[2].plot([rel(t) for t, _ in track.peaks], [to_db(p) for _, p in track.peaks], color=colour[sid],
                         lw=1.0, alpha=0.85)
            measured = measured_gains(track)
            if measured:  # what the meter says, beside what the events say (a real server ducks without an event)
                ax_gain.plot([rel(t) for t, _ in measured], [to_db(g) for _, g in measured], color=colour[sid],
                             lw=1.0, alpha=0.7, ls="--")
                any_measured = True

    kinds_seen: set[str] = set()
    if any_measured:
        ax_gain.plot([], [], color="#64748b", lw=1.0, ls="--", label="measured by the meter")
    for tr in recording.transitions:
        if tr.session_id not in lane:
            continue
        marker, col, _ = KIND_STYLE[tr.kind]
        kinds_seen.add(tr.kind)
        track = recording.tracks[tr.session_id]
        y = to_db(_gain_at(track.gains, tr.t + 1e-6))
        ax_gain.plot([rel(tr.t)], [y], marker=marker, color=col, ms=9, mec="white", mew=0.8, ls="none", zorder=5)
        ax_gain.axvline(rel(tr.t), color=col, lw=0.8, alpha=0.25, zorder=0)
        ax_lanes.axvline(rel(tr.t), color=col, lw=0.8, alpha=0.25, zorder=0)
        if tr.cause_id in lane and tr.cause_id != tr.session_id:
            y0, y1 = lane[tr.cause_id], lane[tr.session_id]
            down = y1 < y0
            ax_lanes.annotate("", xy=(rel(tr.t), y1 + (0.33 if down else -0.33)),
                              xytext=(rel(tr.t), y0 + (-0.05 if down else 0.05)),
                              arrowprops={"arrowstyle": "-|>", "color": col, "lw": 1.8, "mutation_scale": 14,
                                          "connectionstyle": "arc3,rad=-0.35"}, zorder=6)
            late = tr.t > start + 0.8 * span
            label = f"{tr.text}\n{tr.rule}" if tr.rule else tr.text
            ax_lanes.text(rel(tr.t) + (-1 if late else 1) * 0.006 * span, (y0 + y1) / 2, label, fontsize=8,
                          color=col, va="center", ha="right" if late else "left", fontweight="bold",
                          bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85}, zorder=7)
        else:
            ax_lanes.plot([rel(tr.t)], [lane[tr.session_id]], marker=marker, color=col, ms=8, ls="none", zorder=6)

    for t, name in recording.policies:  # a switch re-evaluates what plays: the marks right of it follow from it
        for ax in axes:
            ax.axvline(rel(t), color="#0f172a", lw=1.2, ls="--", alpha=0.7, zorder=1)
        ax_gain.text(rel(t) + 0.004 * span, 4.5, f"policy: {name}", fontsize=8, color="#0f172a", va="top",
                     fontweight="bold", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})

    ax_gain.set_ylim(FLOOR_DB - 3, 6)
    ax_gain.set_yticks([0, -6, -14, -20, -40, -60], ["0", "-6", "-14", "-20", "-40", "silent"])
    ax_gain.set_ylabel("effective gain (dB)")
    ax_gain.grid(True, axis="y", alpha=0.3)
    ax_gain.set_title(title, loc="left", fontsize=13, fontweight="bold")
    handles, labels = ax_gain.get_legend_handles_labels()
    handles += [ax_gain.plot([], [], marker=KIND_STYLE[k][0], color=KIND_STYLE[k][1], ls="none")[0]
                for k in KIND_STYLE if k in kinds_seen]
    labels += [KIND_STYLE[k][2] for k in KIND_STYLE if k in kinds_seen]
    if handles:
        # above the "silent" floor, where paused and inactive sessions' lines and markers lie
        ax_gain.legend(handles, labels, loc="lower left", bbox_to_anchor=(0.0, 0.1), fontsize=8,
                       ncol=min(len(handles), 6), framealpha=0.9)
    ax_lanes.set_yticks(list(lane.values()), [recording.tracks[sid].label for sid in lane])
    ax_lanes.set_ylim(-0.7, n - 0.3)
    ax_lanes.set_ylabel("state")
    ax_lanes.legend(handles=[Patch(color=c, label=s.value) for s, c in STATE_COLOURS.items()], loc="upper right",
                    fontsize=8, ncol=3, framealpha=0.9)
    if has_meter:
        axes[2].set_ylim(FLOOR_DB - 3, 3)
        axes[2].set_ylabel("peak (dBFS)")
        axes[2].grid(True, axis="y", alpha=0.3)
    axes[-1].set_xlabel("time (s)")
    axes[-1].set_xlim(rel(start), rel(t_end))
    return fig


def png_bytes(recording: _Recording, title: str, dpi: int = 110) -> bytes:
    fig = draw(recording, title=title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


class FocusTimeline:
    """Effective gain and state of every session over time, with focus transitions and cause -> effect
    arrows. ``FocusTimeline(lab)`` records live (display it: it redraws at most every ``refresh`` seconds) and
    keeps the last ``window`` seconds (5 minutes by default; ``None`` keeps everything, growing without bound);
    ``FocusTimeline.from_events(events)`` draws a recorded list, all of it."""

    def __init__(self, lab: Lab | None = None, *, title: str = "Audio focus timeline", refresh: float = 1.0,
                 meters: bool = True, window: float | None = LIVE_WINDOW_SECONDS) -> None:
        if window is not None and not window > 0:
            raise ValueError(f"window must be a positive number of seconds or None, got {window!r}")
        self.title = title
        self.refresh = refresh
        self._rec = _Recording(window if lab is not None else None)
        self._lab = lab
        self._image: Any = None
        self._picture_key: tuple[int, float] | None = None
        self._picture_png = b""
        self._dirty = False
        self._stopped = lab is None
        self._kernel: Any = None
        if lab is not None:
            from ._loop import KernelLoop

            self._kernel = KernelLoop()
            self._subscription = lab.events()
            self._rec.seed(lab.snapshot(), lab.clock.now())
            self._kernel.spawn(self._record_events, "audiolab-timeline-events")
            if meters:
                self._kernel.spawn(self._record_meters, "audiolab-timeline-meters")

    @classmethod
    def from_events(cls, events: Iterable[Event], *, sessions: Iterable[Session] = (),
                    title: str = "Audio focus timeline", start: float | None = None) -> FocusTimeline:
        """A timeline of recorded events (``sessions`` that existed before the first event may be given, as
        they were at ``start``, by default the first event's time)."""
        timeline = cls(title=title)
        events = list(events)
        if sessions:
            timeline._rec.seed(sessions, start if start is not None else events[0].timestamp if events else 0.0)
        for event in events:
            timeline.add(event)
        return timeline

    # --- recording -----------------------------------------------------------------------------------------

    def add(self, event: Event) -> None:
        """Fold one event in."""
        self._rec.add(event)
        self._dirty = True

    def add_meter_frame(self, frame: MeterFrame) -> None:
        self._rec.add_meter(frame)
        self._dirty = True

    @property
    def events(self) -> list[Event]:
        """The events kept (a live timeline: those of its window)."""
        return list(self._rec.events)

    @property
    def window(self) -> float | None:
        """Seconds of history kept (None: everything)."""
        return self._rec.window

    @property
    def transitions(self) -> list[Transition]:
        return list(self._rec.transitions)

    async def _record_events(self) -> None:
        from .._exceptions import AudiolabError

        try:
            async for event in self._subscription:
                self.add(event)
        except AudiolabError:
            pass
        finally:
            self._stopped = True

    async def _record_meters(self) -> None:
        from .._exceptions import AudiolabError

        assert self._lab is not None
        try:
            async with self._lab.meters(rate=METER_RATE) as frames:
                async for frame in frames:
                    if self._stopped:
                        break
                    self.add_meter_frame(frame)
        except AudiolabError:
            pass

    def stop(self) -> None:
        """Stop recording (the drawing keeps what was recorded)."""
        self._stopped = True
        if self._lab is not None:
            self._subscription.close()
        if self._kernel is not None:
            self._kernel.cancel_all()
            if self._image is not None:
                self._image.value = self.png()

    # --- drawing -------------------------------------------------------------------------------------------

    def figure(self) -> Figure:
        """The timeline as a matplotlib Figure."""
        return draw(self._rec, title=self.title)

    def png(self, dpi: int = 110) -> bytes:
        return png_bytes(self._rec, self.title, dpi)

    def save_png(self, path: str | os.PathLike[str], dpi: int = 110) -> None:
        """Write the timeline as a PNG file."""
        with open(path, "wb") as f:
            f.write(self.png(dpi))

    def _repr_png_(self) -> bytes:
        return self.png()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        if self._kernel is None or self._stopped:
            return {"image/png": self.png(), "text/plain": repr(self)}
        return self._live_image()._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        if self._kernel is None or self._stopped:
            import base64

            from IPython.display import display

            png = base64.b64encode(self.png()).decode("ascii")
            display({"image/png": png, "text/plain": repr(self)}, raw=True)  # type: ignore[no-untyped-call]
            return
        # The live image, with the picture beside it for exports (refreshed when a cell ends): see pictures.py.
        from .pictures import display_with_picture

        display_with_picture(self._live_image(), self._picture)

    def _live_image(self) -> Any:
        if self._image is None:
            import ipywidgets

            self._image = ipywidgets.Image(value=self.png(), format="png",
                                           layout=ipywidgets.Layout(max_width="100%"))
            self._kernel.spawn(self._refresh, "audiolab-timeline-refresh")
        return self._image

    def _picture(self) -> bytes:
        """The PNG for exports, drawn again only when something was recorded since."""
        key = (self._rec.size(), self._rec.t_last)
        if self._picture_key != key:
            self._picture_key, self._picture_png = key, self.png()
        return self._picture_png

    async def _refresh(self) -> None:
        while not self._stopped:
            await asyncio.sleep(self.refresh)
            if self._dirty:
                self._dirty = False
                snapshot = self._rec.copy()
                self._image.value = await asyncio.to_thread(png_bytes, snapshot, self.title)

    def __repr__(self) -> str:
        mode = "live" if not self._stopped else "recorded"
        return (f"<FocusTimeline {mode}: {len(self._rec.tracks)} sessions, {len(self._rec.events)} events, "
                f"{len(self._rec.transitions)} focus transitions>")
