"""pulsectl-asyncio's private members audiolab uses (all in _pulse/adapter.py) are still there, in the same shape.

This fails loudly, naming what changed, when an upgrade of pulsectl-asyncio renames or reshapes one of them;
pyproject bounds the version to the range checked here."""

from __future__ import annotations

import importlib.metadata
import pathlib
import re

import pytest

from audiolab.backends._pulse.adapter import PRIVATE_MEMBERS, PulseAdapter, check_upstream

pytestmark = [pytest.mark.anyio]


async def test_the_private_members_used_are_upstream_as_expected() -> None:
    client = PulseAdapter("audiolab-adapter-check")  # not connected: only its attributes are looked at
    try:
        assert check_upstream(client) == [], f"pulsectl-asyncio {importlib.metadata.version('pulsectl-asyncio')}"
    finally:
        client.close()


def test_the_check_notices_a_change(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pulsectl_asyncio

    monkeypatch.delattr(pulsectl_asyncio.PulseAsync, "_event_mask_set")
    assert check_upstream() == ["PulseAsync has no method '_event_mask_set'"]


def test_no_other_module_touches_them() -> None:
    root = pathlib.Path(__file__).resolve().parents[2] / "audiolab"
    for path in root.rglob("*.py"):
        if path.name == "adapter.py":
            continue
        text = path.read_text()
        for name in PRIVATE_MEMBERS:
            if name != "_ctx":  # a common name (the Windows fake has a _ctx method of its own)
                assert not re.search(rf"\.{name}\b|def {name}\b", text), f"{path} uses pulsectl-asyncio's {name}"
        assert not re.search(r"_pulse\._ctx\b", text), f"{path} uses pulsectl-asyncio's _ctx"
