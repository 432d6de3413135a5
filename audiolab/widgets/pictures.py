"""Static pictures of live widgets, for notebooks exported to HTML or opened where no kernel runs.

A live widget's output holds only a reference to a model in the kernel, so an export shows an empty box. A
widget that has a picture is displayed with a PNG beside that reference in the same output bundle
(``image/png``): Jupyter front ends draw the live widget, and where no widget can be drawn (nbconvert's HTML
of a notebook saved without widget state, GitHub, nbviewer, a notebook opened without a kernel) the PNG shows.

The picture is refreshed whenever a cell ends (IPython's ``post_run_cell``), if it changed, through
``update_display`` on the output's display id. So the saved notebook, and an ``nbconvert --execute`` export,
carry the widget's last state. In JupyterLab and Notebook 7 an update draws the live view again (ipywidgets
renders a new view of the same model into the output); the listen player belongs to the model, so sound
goes on.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import weakref
from collections.abc import Callable
from typing import Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

__all__ = ("display_with_picture",)

_counter = itertools.count()
_live: weakref.WeakKeyDictionary[Any, _Shown] = weakref.WeakKeyDictionary()
_hooked: list[Any] = []  # the IPython shell whose post_run_cell refreshes the pictures


class _Shown:
    def __init__(self, picture: Callable[[], bytes]) -> None:
        self.picture = picture
        self.display_ids: list[str] = []
        self.digest = b""


def bundle(widget: Any, png: bytes) -> dict[str, Any]:
    """The widget's own bundle (its view reference, its text) with ``png`` beside them."""
    own = widget._repr_mimebundle_()
    data = dict(own[0] if isinstance(own, tuple) else own)  # anywidget returns (data, metadata)
    data["image/png"] = base64.b64encode(png).decode("ascii")
    return data


def display_with_picture(widget: Any, picture: Callable[[], bytes]) -> None:
    """Display ``widget`` with ``picture()`` (PNG bytes) in its output bundle, refreshed when a cell ends."""
    from IPython.display import display

    shown = _live.get(widget)
    if shown is None:
        shown = _live[widget] = _Shown(picture)
    png = picture()
    shown.digest = hashlib.blake2b(png, digest_size=16).digest()
    display_id = f"audiolab-picture-{next(_counter)}"
    shown.display_ids.append(display_id)
    display(bundle(widget, png), raw=True, display_id=display_id)
    _hook()


def forget(widget: Any) -> None:
    """Stop refreshing ``widget``'s pictures (it closed; its outputs keep the last one)."""
    _live.pop(widget, None)


def refresh() -> int:
    """Redraw every live picture that changed; returns how many outputs were updated."""
    from IPython.display import update_display

    updated = 0
    for widget, shown in list(_live.items()):
        png = shown.picture()
        digest = hashlib.blake2b(png, digest_size=16).digest()
        if digest == shown.digest:
            continue
        shown.digest = digest
        data = bundle(widget, png)
        for display_id in shown.display_ids:
            update_display(data, raw=True, display_id=display_id)
            updated += 1
    return updated


def _post_run_cell(*_: Any) -> None:
    try:
        refresh()
    except Exception:  # noqa: BLE001 - a picture must never break the user's cell
        from ._loop import log

        log.exception("audiolab: could not refresh a widget's picture")


def _hook() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or shell in _hooked:
        return
    shell.events.register("post_run_cell", _post_run_cell)
    _hooked.append(shell)
