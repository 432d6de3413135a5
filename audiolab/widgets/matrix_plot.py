"""The role matrix drawn with matplotlib: one grid per policy, side by side, each cell coloured by outcome with
the measured duck level written in it. Needs matplotlib only (no ipywidgets): the CLI's ``--png`` uses it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..scenarios.matrix import ABBREVIATIONS, Cell, RoleMatrix

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS = {"mix": "#d9ead3", "duck": "#ffd966", "pause": "#6fa8dc", "stop": "#e06666", "deny": "#444444"}
"""Outcome -> cell colour (the CSS colours the notebook widget uses too)."""
WORDS = {"mix": "both play", "duck": "duck", "pause": "pause", "stop": "stop", "deny": "deny (new one)"}
PER_ROW = 3


def cell_text(cell: Cell) -> str:
    """What is written in a cell: the duck level, and "new" where it was done to the incoming stream."""
    if cell.outcome == "duck":
        text = f"{cell.level:.2f}"
    elif cell.outcome in ("pause", "stop"):
        text = cell.outcome[0].upper()
    else:
        text = ""
    return f"{text}\nnew" if cell.target == "incoming" and cell.outcome != "deny" else text


def matrix_figure(matrices: Sequence[RoleMatrix]) -> Figure:
    """The matrices as one matplotlib Figure (the object API: no pyplot state, safe in any thread)."""
    from matplotlib.collections import PatchCollection
    from matplotlib.colors import to_rgb
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    if not matrices:
        raise ValueError("no matrix to draw")
    cols = min(PER_ROW, len(matrices))
    rows = -(-len(matrices) // cols)
    fig = Figure(figsize=(6.2 * cols, 6.0 * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[len(matrices):]:
        ax.set_visible(False)
    for ax, m in zip(axes.flat, matrices, strict=False):
        names = [ABBREVIATIONS.get(r, r.value[:5]) for r in m.roles]
        n = len(m.roles)
        grid = [[m.cell(e, i) for i in m.roles] for e in m.roles]
        # one image for the colours and one collection for the hatches: a patch per cell draws far slower
        ax.imshow([[to_rgb(COLOURS[c.outcome]) for c in row] for row in grid], extent=(0, n, n, 0),
                  interpolation="nearest")
        hatched = [Rectangle((x, y), 1, 1) for y, row in enumerate(grid) for x, c in enumerate(row)
                   if c.target == "incoming" and c.outcome != "deny"]
        ax.add_collection(PatchCollection(hatched, facecolor="none", edgecolor="#7f6000", hatch="///",
                                          linewidth=0))
        for y, row in enumerate(grid):
            for x, cell in enumerate(row):
                if text := cell_text(cell):
                    ax.text(x + 0.5, y + 0.5, text, ha="center", va="center", fontsize=6.5,
                            color="black" if cell.outcome in ("mix", "duck") else "white")
        for k in range(n + 1):
            ax.axhline(k, color="white", linewidth=0.8)
            ax.axvline(k, color="white", linewidth=0.8)
        ax.set_xlim(0, n)
        ax.set_ylim(n, 0)
        ax.set_aspect("equal")
        ax.set_xticks([i + 0.5 for i in range(n)], names, rotation=90, fontsize=7)
        ax.set_yticks([i + 0.5 for i in range(n)], names, fontsize=7)
        ax.tick_params(length=0)
        ax.xaxis.set_label_position("top")
        ax.xaxis.tick_top()
        ax.set_xlabel("starts a second later (another app)", fontsize=8)
        ax.set_ylabel("plays", fontsize=8)
        ax.set_title(m.policy, fontsize=11, pad=4, loc="left")
    handles = [Patch(facecolor=c, edgecolor="grey", label=WORDS[k]) for k, c in COLOURS.items()]
    handles.append(Patch(facecolor="white", edgecolor="grey", hatch="///", label="done to the new stream"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8, frameon=False)
    return fig


def save_matrix_png(matrices: Sequence[RoleMatrix], path: str | os.PathLike[str]) -> None:
    """Write :func:`matrix_figure` to ``path``."""
    matrix_figure(matrices).savefig(path, dpi=110)

