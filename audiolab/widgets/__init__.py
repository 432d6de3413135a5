"""Notebook widgets: a live session dashboard, a focus timeline plot and a teaching panel.

    lab = await start_lab(policy="harmonyos")   # a Lab that stays open across cells
    SessionDashboard(lab)                       # one live row per session
    timeline = FocusTimeline(lab)               # gain and state over time, with cause -> effect arrows
    TeachingPanel(lab)                          # start/stop tones, switch the focus policy
    RoleMatrixView(["harmonyos", "android"])    # what each policy does to every pair of roles
    ScenarioComparison("music-call")            # one scenario under several policies, a row each

Needs the ``widgets`` extra. Names load on first use, so ``FocusTimeline.from_events(...)`` (matplotlib only)
does not import ipywidgets or anywidget.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._loop import start_lab, stop_lab
    from .comparison import ScenarioComparison
    from .dashboard import SessionDashboard
    from .matrix import RoleMatrixView
    from .panel import TeachingPanel
    from .timeline import FocusTimeline

__all__ = ("FocusTimeline", "RoleMatrixView", "ScenarioComparison", "SessionDashboard", "TeachingPanel", "start_lab",
           "stop_lab")

_WHERE = {
    "FocusTimeline": ".timeline",
    "RoleMatrixView": ".matrix",
    "ScenarioComparison": ".comparison",
    "SessionDashboard": ".dashboard",
    "TeachingPanel": ".panel",
    "start_lab": "._loop",
    "stop_lab": "._loop",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
