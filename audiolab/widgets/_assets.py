"""The widgets' front-end files (JavaScript and CSS shipped beside the modules), read as text."""

from __future__ import annotations

from importlib import resources


def asset(name: str) -> str:
    """The text of ``name`` in the widgets package (``dashboard.css``, ``listen.js``, ...)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
