"""One scenario under several focus policies, drawn as one timeline row per policy: each player's gain as the
meters measured it (dB), the focus transitions marked with the rule's few words, the settings a scenario
switches between shaded, and each row titled with what happened.

    comparison = await compare_scenario("music-call", ["harmonyos", "windows", "pulseaudio"])
    save_comparison_png(comparison, "compare.png")     # or: audiolab scenario compare music-call --png compare.png

matplotlib only (its object API, no pyplot state).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..scenarios.actions import StartAction, StopAction
from ..scenarios.fates import phases
from .timeline_plot import FLOOR_DB, KIND_STYLE, to_db

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..scenarios.compare import Comparison
    from ..scenarios.runner import ScenarioResult

PALETTE = ("#2563eb", "#db2777", "#059669", "#ea580c", "#7c3aed", "#0891b2", "#65a30d", "#b45309")
_MARK = {"Ducked": "duck", "Unducked": "unduck", "FocusDenied": "denied", "SessionDeactivated": "deactivated"}
_HINTS = {"pause": "pause", "resume": "resume", "stop": "stop"}


def draw_comparison(comparison: Comparison, *, title: str | None = None) -> Figure:
    """The comparison as a matplotlib Figure: one row per policy, time shared."""
    from matplotlib.figure import Figure

    policies = list(comparison.results)
    players = list(comparison.scenario.players())
    colour = {pid: PALETTE[i % len(PALETTE)] for i, pid in enumerate(players)}
    end = max((r.virtual_seconds for r in comparison.results.values()), default=1.0)
    fig = Figure(figsize=(11, 1.2 + 1.9 * len(policies)), dpi=110, layout="constrained")
    axes = fig.subplots(len(policies), 1, sharex=True, squeeze=False)[:, 0]
    for ax, policy in zip(axes, policies, strict=True):
        _row(ax, comparison, comparison.results[policy], colour, end)
    handles = [axes[0].plot([], [], color=colour[p], lw=2.4)[0] for p in players]
    fig.legend(handles, players, loc="outside lower center", ncol=min(len(players), 6), fontsize=8, frameon=False)
    scenario = comparison.scenario
    fig.suptitle(title or f"{scenario.name}: {scenario.description}", x=0.01, ha="left", fontsize=11,
                 fontweight="bold")
    axes[-1].set_xlabel("time (s)")
    axes[-1].set_xlim(0, end)
    return fig


def _row(ax: Axes, comparison: Comparison, result: ScenarioResult, colour: dict[str, str], end: float) -> None:
    for i, phase in enumerate(phases(result.scenario, result.policy, end)):
        ax.axvspan(phase.start, phase.end, color="#e2e8f0" if i % 2 == 0 else "#f8fafc", zorder=0)
        ax.text(phase.start + 0.1, 2.5, phase.label, fontsize=7, color="#334155", va="bottom")
    for pid in result.scenario.players():
        points = result.gains.get(pid)
        if points:
            ax.plot([t for t, _ in points], [to_db(g) for _, g in points], color=colour[pid], lw=2.0)
        else:  # not measured (a ring): a dotted line at 0 dB over the time it was started
            span = _span(result, pid, end)
            if span is not None:
                ax.plot(span, [0.0, 0.0], color=colour[pid], lw=2.0, ls=":")
    by_session = {s.session_id: pid for pid, s in result.players.items() if s.session_id}
    said: set[str] = set()  # each rule is labelled once a row: the first time it acts
    for event in result.events:
        who = by_session.get(event.session_id)
        kind: str | None = _MARK.get(event.kind) or _HINTS.get(getattr(getattr(event, "hint", None), "value", ""))
        if who is None or kind is None or (event.kind == "InterruptEvent" and kind not in _HINTS.values()):
            continue
        marker, col, _ = KIND_STYLE[kind]
        y = to_db(_gain_near(result.gains.get(who, []), event.timestamp + 0.05))
        ax.plot([event.timestamp], [y], marker=marker, color=col, ms=8, mec="white", mew=0.8, ls="none", zorder=5)
        why = getattr(event, "why", None)
        label = why.label if why is not None and why.label else kind
        if not (why is not None and why.released) and label not in said:
            said.add(label)
            ax.annotate(f"{who}: {label}", (event.timestamp, y), xytext=(4, -10), textcoords="offset points",
                        fontsize=7, color=col, zorder=6)
    cells = "; ".join(f"{pid} {comparison.cell(result.policy, pid)}" for pid in result.scenario.players())
    ax.set_title(f"{result.policy}: {cells}", loc="left", fontsize=9)
    ax.set_ylim(FLOOR_DB - 4, 8)
    ax.set_yticks([0, -14, -40, -60], ["0", "-14", "-40", "silent"])
    ax.set_ylabel("gain (dB)", fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)


def _gain_near(points: list[tuple[float, float]], t: float) -> float:
    before = [g for tp, g in points if tp <= t]
    return before[-1] if before else 1.0


def _span(result: ScenarioResult, pid: str, end: float) -> list[float] | None:
    start = next((a for a in result.scenario.actions if isinstance(a, StartAction) and a.id == pid
                  and a.applies_to(result.policy)), None)
    if start is None:
        return None
    stop = next((a.at for a in result.scenario.actions if isinstance(a, StopAction) and a.id == pid
                 and a.at >= start.at and a.applies_to(result.policy)), end)
    duration = start.duration
    return [start.at, min(stop, start.at + duration) if duration else stop]


def comparison_png(comparison: Comparison, dpi: int = 110) -> bytes:
    """The drawing as PNG bytes."""
    buffer = io.BytesIO()
    draw_comparison(comparison).savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def save_comparison_png(comparison: Comparison, path: str | os.PathLike[str], dpi: int = 110) -> None:
    """Write the drawing to ``path``; missing folders are made."""
    data = comparison_png(comparison, dpi)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(data)
