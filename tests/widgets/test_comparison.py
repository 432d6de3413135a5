"""ScenarioComparison: the scenario and policies picked, the picture and the table drawn, Compare again."""

from __future__ import annotations

import pytest

from audiolab import ScenarioError

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"  # widgets live on the kernel's asyncio loop


async def test_compares_draws_and_recompares(recording_comms):
    from audiolab.widgets import ScenarioComparison

    view = ScenarioComparison("music-navigation", ["harmonyos", "windows"])
    comparison = await view.ready()
    assert comparison is not None and list(comparison.results) == ["harmonyos", "windows"]
    assert bytes(view._image.value).startswith(b"\x89PNG")
    assert "ducked to 0.20" in view._table.value and "expectations" not in view._table.value
    assert not view._button.disabled

    view._scenario.value = "music-call"
    view._policies.value = ("pulseaudio",)
    view._button.click()
    again = await view.ready()
    assert again is not comparison and again.scenario.name == "music-call" and list(again.results) == ["pulseaudio"]
    assert "paused, resumed" in view._table.value


async def test_the_expectations_row_on_request(recording_comms):
    from audiolab.widgets import ScenarioComparison

    view = ScenarioComparison("music-navigation", ["harmonyos"], expectations=True)
    await view.ready()
    assert "expectations  " in view._table.value


async def test_bad_input_is_refused_before_anything_is_shown(recording_comms, tmp_path):
    from audiolab.widgets import ScenarioComparison

    with pytest.raises(ValueError, match="unknown policies \\['macos'\\]"):
        ScenarioComparison("music-call", ["harmonyos", "macos"])
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario]\n", encoding="utf-8")
    with pytest.raises(ScenarioError):
        ScenarioComparison(str(bad))
    assert recording_comms == []
