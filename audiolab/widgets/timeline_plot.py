"""The focus timeline drawn with matplotlib: a gain panel (effective gain in dB, solid while Active, the meter's
measured gain dashed beside it), a lane of states per session with an arrow from each cause to its effect, and
a peak panel when meters were recorded. Drawn from a :class:`~.timeline_model.Recording`.

It uses matplotlib's object API (no pyplot state), so it is safe in any thread.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..audio.synth import to_dbfs
from ..model import SessionState
from .timeline_model import Recording, Track, Transition, gain_at, measured_gains

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FLOOR_DB = -60.0
"""The bottom of the gain scale, drawn as "silent"."""
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
PALETTE = ["#2563eb", "#db2777", "#059669", "#ea580c", "#7c3aed", "#0891b2", "#65a30d", "#b45309"]


def to_db(gain: float) -> float:
    """A gain in dB for the plot: :func:`audiolab.audio.synth.to_dbfs`, floored at ``FLOOR_DB`` (silent)."""
    return max(FLOOR_DB, to_dbfs(gain))


@dataclass
class _Canvas:
    """What every part of one drawing shares: the sessions shown, their colours and lanes, the time span."""

    recording: Recording
    figure: Figure
    axes: Any  # matplotlib's array of Axes: gain, lanes[, peaks]
    shown: list[str]
    colour: dict[str, str]
    lane: dict[str, int]
    t0: float
    start: float
    t_end: float
    has_meter: bool

    @property
    def gain(self) -> Axes:
        return self.axes[0]  # type: ignore[no-any-return]

    @property
    def lanes(self) -> Axes:
        return self.axes[1]  # type: ignore[no-any-return]

    @property
    def span(self) -> float:
        return self.t_end - self.start

    def rel(self, t: float) -> float:
        """A time on the plot's axis: seconds since the recording began."""
        return t - self.t0


def draw(recording: Recording, *, title: str = "Audio focus timeline") -> Figure:
    """The timeline as a matplotlib Figure (no pyplot: safe in any thread)."""
    canvas = _layout(recording)
    any_measured = False
    for sid in canvas.shown:
        track = recording.tracks[sid]
        _draw_track(canvas, sid, track)
        any_measured |= _draw_meter(canvas, sid, track)
    if any_measured:
        canvas.gain.plot([], [], color="#64748b", lw=1.0, ls="--", label="measured by the meter")
    kinds_seen: set[str] = set()
    for transition in recording.transitions:
        if transition.session_id in canvas.lane:
            kinds_seen.add(transition.kind)
            _draw_transition(canvas, transition)
    _draw_policy_switches(canvas)
    _label_axes(canvas, title, kinds_seen)
    return canvas.figure


def png_bytes(recording: Recording, title: str, dpi: int = 110) -> bytes:
    """The timeline as PNG bytes."""
    fig = draw(recording, title=title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _layout(recording: Recording) -> _Canvas:
    """The figure and its panels, sized to the sessions shown: those that played or took part in a transition."""
    from matplotlib.figure import Figure

    involved = {tr.cause_id for tr in recording.transitions if tr.cause_id}
    involved.update(tr.session_id for tr in recording.transitions)
    shown = [sid for sid, tr in recording.tracks.items() if tr.was_active or sid in involved]
    start = recording.start
    has_meter = any(recording.tracks[sid].peaks for sid in shown)
    n = max(len(shown), 1)
    ratios = [3.2, 0.42 * n + 0.6] + ([1.6] if has_meter else [])
    fig = Figure(figsize=(11, 3.6 + 0.42 * n + (1.6 if has_meter else 0)), dpi=110, layout="constrained")
    axes = fig.subplots(len(ratios), 1, sharex=True, gridspec_kw={"height_ratios": ratios})
    return _Canvas(
        recording=recording,
        figure=fig,
        axes=axes,
        shown=shown,
        colour={sid: PALETTE[i % len(PALETTE)] for i, sid in enumerate(shown)},
        lane={sid: n - 1 - i for i, sid in enumerate(shown)},
        t0=recording.t0 or 0.0,
        start=start,
        t_end=start + max(recording.t_last - start, 1.0) * 1.04,
        has_meter=has_meter,
    )


def _draw_track(canvas: _Canvas, sid: str, track: Track) -> None:
    """One session: its gain (dotted, solid while Active) and its lane of states, ended or expired."""
    rel, colour, lane = canvas.rel, canvas.colour[sid], canvas.lane[sid]
    end = track.end if track.end is not None else canvas.t_end
    xs = [rel(t) for t, _ in track.gains] + [rel(end)]
    ys = [to_db(g) for _, g in track.gains] + [to_db(track.gains[-1][1])]
    canvas.gain.plot(xs, ys, color=colour, lw=1.4, ls=":", alpha=0.8)  # solid below while Active
    first_active = next((s for s, st in track.states if st is SessionState.ACTIVE), None)
    states = [*track.states, (end, SessionState.EXPIRED)]
    for (ta, state), (tb, _) in itertools.pairwise(states):
        if state is SessionState.ACTIVE and tb > ta:
            seg = [(ta, gain_at(track.gains, ta))] + [p for p in track.gains if ta < p[0] < tb] + \
                  [(tb, gain_at(track.gains, tb - 1e-9))]
            canvas.gain.plot([rel(t) for t, _ in seg], [to_db(g) for _, g in seg], color=colour, lw=2.6,
                             solid_capstyle="butt", label=track.label if ta == first_active else None)
        if tb > ta:
            canvas.lanes.broken_barh([(rel(ta), tb - ta)], (lane - 0.32, 0.64),
                                     facecolors=STATE_COLOURS[state], edgecolor="white", lw=0.5)
    if track.end is not None:
        expired = track.states[-1][1] is SessionState.EXPIRED
        canvas.lanes.text(rel(track.end) + 0.05, lane, "expired" if expired else "ended", va="center",
                          fontsize=8, color="#b91c1c" if expired else "#475569")


def _draw_meter(canvas: _Canvas, sid: str, track: Track) -> bool:
    """One session's peaks, and the gain they measure in the gain panel. Whether a measured gain was drawn."""
    if not (canvas.has_meter and track.peaks):
        return False
    rel, colour = canvas.rel, canvas.colour[sid]
    canvas.axes[2].plot([rel(t) for t, _ in track.peaks], [to_db(p) for _, p in track.peaks], color=colour,
                        lw=1.0, alpha=0.85)
    measured = measured_gains(track)
    if not measured:
        return False
    # what the meter says, beside what the events say (a real server ducks without an event)
    canvas.gain.plot([rel(t) for t, _ in measured], [to_db(g) for _, g in measured], color=colour,
                     lw=1.0, alpha=0.7, ls="--")
    return True


def _draw_transition(canvas: _Canvas, tr: Transition) -> None:
    """A transition's marker on the gain line, and an arrow from its cause's lane (or a marker on its lane)."""
    rel, lane = canvas.rel, canvas.lane
    marker, col, _ = KIND_STYLE[tr.kind]
    track = canvas.recording.tracks[tr.session_id]
    y = to_db(gain_at(track.gains, tr.t + 1e-6))
    canvas.gain.plot([rel(tr.t)], [y], marker=marker, color=col, ms=9, mec="white", mew=0.8, ls="none", zorder=5)
    canvas.gain.axvline(rel(tr.t), color=col, lw=0.8, alpha=0.25, zorder=0)
    canvas.lanes.axvline(rel(tr.t), color=col, lw=0.8, alpha=0.25, zorder=0)
    if tr.cause_id not in lane or tr.cause_id == tr.session_id:
        canvas.lanes.plot([rel(tr.t)], [lane[tr.session_id]], marker=marker, color=col, ms=8, ls="none", zorder=6)
        return
    y0, y1 = lane[tr.cause_id], lane[tr.session_id]
    down = y1 < y0
    canvas.lanes.annotate("", xy=(rel(tr.t), y1 + (0.33 if down else -0.33)),
                          xytext=(rel(tr.t), y0 + (-0.05 if down else 0.05)),
                          arrowprops={"arrowstyle": "-|>", "color": col, "lw": 1.8, "mutation_scale": 14,
                                      "connectionstyle": "arc3,rad=-0.35"}, zorder=6)
    late = tr.t > canvas.start + 0.8 * canvas.span
    label = f"{tr.text}\n{tr.rule}" if tr.rule else tr.text
    canvas.lanes.text(rel(tr.t) + (-1 if late else 1) * 0.006 * canvas.span, (y0 + y1) / 2, label, fontsize=8,
                      color=col, va="center", ha="right" if late else "left", fontweight="bold",
                      bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85}, zorder=7)


def _draw_policy_switches(canvas: _Canvas) -> None:
    """A dashed line across every panel at each policy switch (the marks right of it follow from it)."""
    for t, name in canvas.recording.policies:
        for ax in canvas.axes:
            ax.axvline(canvas.rel(t), color="#0f172a", lw=1.2, ls="--", alpha=0.7, zorder=1)
        canvas.gain.text(canvas.rel(t) + 0.004 * canvas.span, 4.5, f"policy: {name}", fontsize=8, color="#0f172a",
                         va="top", fontweight="bold",
                         bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})


def _label_axes(canvas: _Canvas, title: str, kinds_seen: set[str]) -> None:
    """Scales, labels, the title and the legends (sessions and the kinds of transition drawn)."""
    from matplotlib.patches import Patch

    ax_gain, ax_lanes, axes = canvas.gain, canvas.lanes, canvas.axes
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
    lane = canvas.lane
    ax_lanes.set_yticks(list(lane.values()), [canvas.recording.tracks[sid].label for sid in lane])
    ax_lanes.set_ylim(-0.7, max(len(canvas.shown), 1) - 0.3)
    ax_lanes.set_ylabel("state")
    ax_lanes.legend(handles=[Patch(color=c, label=s.value) for s, c in STATE_COLOURS.items()], loc="upper right",
                    fontsize=8, ncol=3, framealpha=0.9)
    if canvas.has_meter:
        axes[2].set_ylim(FLOOR_DB - 3, 3)
        axes[2].set_ylabel("peak (dBFS)")
        axes[2].grid(True, axis="y", alpha=0.3)
    axes[-1].set_xlabel("time (s)")
    axes[-1].set_xlim(canvas.rel(canvas.start), canvas.rel(canvas.t_end))
