"""`RoleMatrixView`: the role matrix in a notebook. One coloured grid per policy, side by side, with the
measured duck level in each cell. Hovering a cell shows what happened and the rule behind it (the cell's
``why``). Policies are picked with toggle buttons; each is computed once (by running the simulated
service, see :mod:`audiolab.scenarios.matrix`) and kept.

    RoleMatrixView(["harmonyos", "android", "wireplumber"])
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

import ipywidgets as widgets

from ..focus.policy import BUILTIN
from ..scenarios.matrix import ABBREVIATIONS, LEGEND, Cell, RoleMatrix, role_matrix
from .matrix_plot import COLOURS, cell_text, save_matrix_png


class RoleMatrixView(widgets.VBox):  # type: ignore[misc]  # ipywidgets has no types
    """The role matrices of the chosen policies. ``.matrices`` holds them; :meth:`save_png` draws them."""

    def __init__(self, policies: Iterable[str] = ("harmonyos", "windows", "android", "wireplumber")) -> None:
        chosen = tuple(policies)
        unknown = [p for p in chosen if p not in BUILTIN]
        if unknown or not chosen:
            raise ValueError(f"policies are {', '.join(BUILTIN)}; got {', '.join(unknown) or 'none'}")
        self._cache: dict[str, RoleMatrix] = {}
        self.picker = widgets.ToggleButtons(options=BUILTIN, value=None, description="add:",
                                            style={"button_width": "auto"})
        self.grids = widgets.HTML()
        self.legend = widgets.HTML(f"<pre style='font-size:11px'>{escape(LEGEND)}</pre>")
        super().__init__([self.picker, self.grids, self.legend])
        self._shown: list[str] = list(dict.fromkeys(chosen))
        self.picker.observe(self._toggle, names="value")
        self._draw()

    @property
    def matrices(self) -> list[RoleMatrix]:
        """The matrices shown, in order."""
        return [self._matrix(p) for p in self._shown]

    def show(self, policy: str) -> None:
        """Add ``policy``'s grid (or remove it when it is shown)."""
        if policy not in BUILTIN:
            raise ValueError(f"policies are {', '.join(BUILTIN)}; got {policy!r}")
        if policy in self._shown:
            if len(self._shown) > 1:
                self._shown.remove(policy)
        else:
            self._shown.append(policy)
        self._draw()

    def save_png(self, path: str) -> None:
        """Write the grids shown into a PNG (matplotlib)."""
        save_matrix_png(self.matrices, path)

    def _toggle(self, change: dict[str, object]) -> None:
        if isinstance(change["new"], str):
            self.show(change["new"])
            self.picker.value = None

    def _matrix(self, policy: str) -> RoleMatrix:
        if policy not in self._cache:
            self._cache[policy] = role_matrix(policy)
        return self._cache[policy]

    def _draw(self) -> None:
        tables = "".join(html_grid(m) for m in self.matrices)
        self.grids.value = f"<div style='display:flex;flex-wrap:wrap;gap:18px'>{tables}</div>"


def html_grid(m: RoleMatrix) -> str:
    """One matrix as an HTML table; each cell's ``title`` (its hover text) is its label and its reason."""
    names = [ABBREVIATIONS.get(r, r.value[:5]) for r in m.roles]
    head = "".join(f"<th style='writing-mode:vertical-rl;font-weight:normal'>{n}</th>" for n in names)
    rows = []
    for role, name in zip(m.roles, names, strict=True):
        cells = "".join(_td(m.cell(role, incoming)) for incoming in m.roles)
        rows.append(f"<tr><th style='text-align:right;font-weight:normal'>{name}</th>{cells}</tr>")
    return (f"<table style='border-collapse:collapse;font-size:10px'><caption style='text-align:left'>"
            f"<b>{escape(m.policy)}</b></caption><tr><th></th>{head}</tr>{''.join(rows)}</table>")


def _td(cell: Cell) -> str:
    hover = f"{cell.existing.value} plays, {cell.incoming.value} starts: {cell.label}"
    if cell.why is not None:
        hover += f"\n{cell.why.text}"
    if cell.told:
        hover += "\ntold: " + "; ".join(cell.told)
    dark = cell.outcome in ("pause", "stop", "deny")
    stripes = ";background-image:repeating-linear-gradient(45deg,transparent 0 3px,rgba(0,0,0,.25) 3px 4px)" \
        if cell.target == "incoming" and cell.outcome != "deny" else ""
    style = (f"background:{COLOURS[cell.outcome]}{stripes};color:{'white' if dark else 'black'};width:30px;"
             "height:24px;text-align:center;border:1px solid white;padding:0")
    text = escape(cell_text(cell)).replace("\n", "<br>")
    return f"<td style='{style}' title='{escape(hover, quote=True)}'>{text}</td>"
