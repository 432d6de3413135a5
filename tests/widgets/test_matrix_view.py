"""The role matrix widget: a grid per policy, hover text with the reason, policies toggled on and off."""

from __future__ import annotations

import re
from html import unescape

import pytest

from audiolab.widgets import RoleMatrixView


def test_each_cell_hovers_with_its_outcome_and_reason_and_policies_toggle(tmp_path):
    view = RoleMatrixView(["harmonyos"])
    titles = [unescape(t) for t in re.findall(r"title='([^']*)'", view.grids.value)]
    assert len(titles) == 14 * 14
    nav = next(t for t in titles if t.startswith("music plays, navigation starts"))
    assert "music ducked to 0.20" in nav and "STREAM_NAVIGATION" in nav and "DUCK" in nav
    view.picker.value = "wireplumber"  # a click on a policy adds its grid ...
    assert [m.policy for m in view.matrices] == ["harmonyos", "wireplumber"] and view.picker.value is None
    assert "<b>wireplumber</b>" in view.grids.value
    view.show("harmonyos")  # ... and another click removes it
    assert [m.policy for m in view.matrices] == ["wireplumber"]
    view.show("wireplumber")  # the last one stays
    assert [m.policy for m in view.matrices] == ["wireplumber"]
    png = tmp_path / "m.png"
    view.save_png(str(png))
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_unknown_policies_are_refused():
    with pytest.raises(ValueError, match="policies are"):
        RoleMatrixView(["harmonyos", "beos"])
    view = RoleMatrixView(["none"])
    with pytest.raises(ValueError, match="policies are"):
        view.show("beos")
    assert [m.policy for m in view.matrices] == ["none"]
