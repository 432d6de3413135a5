"""Static pictures of live widgets, for notebooks exported to HTML or opened where no kernel runs.

A live widget's output holds only a reference to a model in the kernel, so an export shows an empty box. A
widget that has a picture is displayed as two outputs:

1. the live widget (its view reference; an empty ``text/html`` where no widget can be drawn);
2. its picture: a PNG (``image/png``) beside the view reference of an invisible placeholder widget. Jupyter
   front ends draw the placeholder (nothing); where no widget can be drawn (nbconvert's HTML of a notebook
   saved without widget state, as JupyterLab saves by default; GitHub; nbviewer) the PNG shows.

The picture is refreshed whenever a cell ends (IPython's ``post_run_cell``), if it changed, through
``update_display`` on the second output's display id, so the saved notebook and an ``nbconvert --execute``
export carry the widget's last state. Only the placeholder is drawn again by the front end, never the live
widget (ipywidgets draws an updated view output anew, which would reset the dashboard mid-lesson).
"""

from __future__ import annotations

import base64
import functools
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
        self.placeholders: list[tuple[Any, str]] = []  # (placeholder widget, display id) per display
        self.digest = b""


def _own_bundle(widget: Any) -> dict[str, Any]:
    own = widget._repr_mimebundle_()
    return dict(own[0] if isinstance(own, tuple) else own)  # anywidget returns (data, metadata)


@functools.cache
def _placeholder_type() -> type:
    import anywidget  # here, so that a recorded timeline's PNG needs matplotlib only

    class PicturePlaceholder(anywidget.AnyWidget):
        """Draws nothing: its output carries a widget's picture for where widgets cannot be drawn."""

        _esm = "export default { render({ el }) { el.style.display = 'none'; } };"

    return PicturePlaceholder


def _placeholder() -> Any:
    return _placeholder_type()()


def picture_bundle(placeholder: Any, png: bytes, alt: str) -> dict[str, Any]:
    """The picture output: the invisible placeholder's view reference, the PNG, and ``alt`` as text. An empty
    ``png`` (nothing drawn yet: a comparison still running) leaves the PNG out until a later refresh."""
    data = _own_bundle(placeholder)
    if png:
        data["image/png"] = base64.b64encode(png).decode("ascii")
    data["text/plain"] = alt
    return data


def display_with_picture(widget: Any, picture: Callable[[], bytes]) -> None:
    """Display ``widget``, then ``picture()`` (PNG bytes, or empty while there is nothing to draw) for where it
    cannot be drawn, refreshed when a cell ends."""
    from IPython.display import display

    shown = _live.get(widget)
    if shown is None:
        shown = _live[widget] = _Shown(picture)
    live = _own_bundle(widget)
    live.setdefault("text/html", "")  # an export without widget state shows the picture below, not this text
    display(live, raw=True)  # type: ignore[no-untyped-call]  # IPython is untyped
    png = picture()
    shown.digest = hashlib.blake2b(png, digest_size=16).digest()
    placeholder = _placeholder()
    display_id = f"audiolab-picture-{next(_counter)}"
    shown.placeholders.append((placeholder, display_id))
    display(picture_bundle(placeholder, png, _alt(widget)), raw=True, display_id=display_id)  # type: ignore[no-untyped-call]
    _hook()


def _alt(widget: Any) -> str:
    return f"a picture of {type(widget).__name__}'s last state"


def forget(widget: Any) -> None:
    """Stop refreshing ``widget``'s pictures (it closed; its outputs keep the last one)."""
    shown = _live.pop(widget, None)
    if shown is not None:
        for placeholder, _ in shown.placeholders:
            placeholder.close()


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
        for placeholder, display_id in shown.placeholders:
            update_display(picture_bundle(placeholder, png, _alt(widget)), raw=True, display_id=display_id)  # type: ignore[no-untyped-call]
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
