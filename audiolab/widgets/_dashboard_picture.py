"""The dashboard as a PNG (matplotlib's object API, no pyplot state): its rows as the browser shows them, for
exported notebooks (see pictures.py)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

BG, PANEL, LINE, TEXT, DIM = "#10151d", "#161d28", "#263142", "#e8edf5", "#8f9bb0"
STATE_COLOURS = {"active": "#1f9d55", "inactive": "#3b4758", "expired": "#9b2c2c"}
FOCUS_COLOURS = {"ducked": "#f5c518", "paused": "#4da3ff", "stopped": "#ff6b6b", "denied": "#ff6b6b",
                 "deactivated": "#b794f4"}
FLOOR_DB = -60.0
COLUMNS = (0.015, 0.22, 0.33, 0.43, 0.575, 0.715)  # session, role, state, volume, peak, focus (figure fraction)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def dashboard_png(title: str, backend: str, rows: Sequence[dict[str, Any]], peaks: Sequence[float] = (),
                  dpi: int = 100) -> bytes:
    """The rows (``Board.row_dict`` dicts, in display order) with their newest meter peaks, as PNG bytes."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch, Rectangle

    n = len(rows)
    row_h, head_h = 0.5, 0.85
    height = head_h + row_h * max(n, 1) + 0.15
    fig = Figure(figsize=(11.0, height), dpi=dpi, facecolor=BG)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    ax.text(0.015, 0.32, title, color=TEXT, fontsize=14, fontweight="bold", va="center")
    ax.text(0.985, 0.32, f"{n} session{'s' if n != 1 else ''} \u00b7 {backend} \u00b7 picture of the last state",
            color=DIM, fontsize=9, va="center", ha="right")
    metered = any(p > 0 for p in peaks)  # no view on screen, no meters: the column is left out
    for x, name in zip(COLUMNS, ("SESSION", "ROLE", "STATE", "VOLUME", "PEAK", "FOCUS"), strict=True):
        if name != "PEAK" or metered:
            ax.text(x, 0.68, name, color=DIM, fontsize=8, va="center")
    if not rows:
        ax.text(0.5, head_h + row_h / 2, "No audio sessions yet.", color=DIM, fontsize=10, ha="center", va="center")
    for i, row in enumerate(rows):
        y = head_h + i * row_h
        mid = y + row_h / 2
        ax.add_patch(Rectangle((0.005, y + 0.02), 0.99, row_h - 0.04, color=PANEL, lw=0))
        ended = row.get("state") == "expired"
        ax.text(COLUMNS[0], mid - 0.08, _clip(str(row.get("name", "")), 28), color=DIM if ended else TEXT,
                fontsize=10, fontweight="bold", va="center")
        sub = row.get("app") if row.get("app") != row.get("name") else row.get("id")
        ax.text(COLUMNS[0], mid + 0.12, _clip(str(sub), 34), color=DIM, fontsize=7.5, va="center")
        ax.text(COLUMNS[1], mid, str(row.get("role", "")), color=TEXT, fontsize=9, va="center")
        state = str(row.get("state", ""))
        ax.add_patch(FancyBboxPatch((COLUMNS[2], mid - 0.11), 0.07, 0.22, boxstyle="round,pad=0,rounding_size=0.05",
                                    color=STATE_COLOURS.get(state, LINE), lw=0))
        ax.text(COLUMNS[2] + 0.035, mid, state.capitalize(), color=TEXT, fontsize=8.5, ha="center", va="center")
        volume = float(row.get("volume", 0.0))
        ax.add_patch(Rectangle((COLUMNS[3], mid - 0.04), 0.09, 0.08, color=LINE, lw=0))
        ax.add_patch(Rectangle((COLUMNS[3], mid - 0.04), 0.09 * volume, 0.08,
                               color=DIM if row.get("muted") else "#4da3ff", lw=0))
        label = "muted" if row.get("muted") else f"{round(volume * 100)}%"
        ax.text(COLUMNS[3] + 0.097, mid, label, color=TEXT, fontsize=8.5, va="center")
        if metered:
            peak = peaks[i] if i < len(peaks) else 0.0
            db = 20 * math.log10(peak) if peak > 1e-6 else -math.inf
            frac = 0.0 if not db > FLOOR_DB else min(1.0, 1 - db / FLOOR_DB)
            ax.add_patch(Rectangle((COLUMNS[4], mid - 0.07), 0.12, 0.14, color=LINE, lw=0))
            if frac > 0:
                ax.add_patch(Rectangle((COLUMNS[4], mid - 0.07), 0.12 * frac, 0.14, color="#1fbf75", lw=0))
        focus = str(row.get("focus") or "\u2014")
        colour = FOCUS_COLOURS.get(str(row.get("focus_kind") or ""), TEXT)
        why = str(row.get("why") or "") if row.get("focus") else ""
        ax.text(COLUMNS[5], mid - (0.08 if why else 0), _clip(focus, 48), color=colour, fontsize=9, va="center")
        if why:
            ax.text(COLUMNS[5], mid + 0.12, _clip(f"why: {why}", 58), color=DIM, fontsize=7, va="center")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor=BG)
    return buffer.getvalue()
