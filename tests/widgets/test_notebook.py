"""The tour notebook, executed headless with nbclient on a kernel of the project venv."""

from __future__ import annotations

import re

import nbclient
import nbformat
import pytest

from .jupyter import NOTEBOOKS, private_jupyter_env

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


@pytest.fixture
def private_jupyter(tmp_path, monkeypatch):
    for key, value in private_jupyter_env(tmp_path / "jupyter").items():
        monkeypatch.setenv(key, value)
    return tmp_path


def test_tour_notebook_runs_and_leaves_the_dashboard_in_a_known_state(private_jupyter):
    nb = nbformat.read(NOTEBOOKS / "01-tour.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=120, store_widget_state=True,
                                     resources={"metadata": {"path": str(private_jupyter)}})
    client.execute()

    text = "\n".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
                     if out.get("output_type") == "stream")
    assert "music: ducked to 20% (-14 dB) by Maps" in text
    assert "music after the prompt: not ducked" in text
    assert "music: paused by Phone / inactive" in text
    assert "music after the call: active" in text
    assert re.search(r"^rows=4 music volume=0\.80$", text, re.MULTILINE), text
    errors = [out for cell in nb.cells for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert errors == []

    # The widget state nbclient recorded (it keeps only messages sent on behalf of the running cell, so the
    # rows added later by the dashboard's background task are checked through the printed row count above).
    models = nb.metadata["widgets"][WIDGET_STATE]["state"]
    dashboards = [m["state"] for m in models.values()
                  if m["state"].get("_anywidget_id", "").endswith("SessionDashboard")]
    assert len(dashboards) == 1
    state = dashboards[0]
    assert (state["title"], state["fps"], state["group_by_app"], state["backend"]) == (
        "Audio sessions", 30.0, False, "sim")
    assert "export default" in state["_esm"]
    # The timeline cell shows a PNG with the four focus transitions.
    timeline = [out for cell in nb.cells for out in cell.get("outputs", [])
                if "image/png" in out.get("data", {}) and "FocusTimeline" in out["data"]["text/plain"]]
    assert timeline and "4 focus transitions" in timeline[0]["data"]["text/plain"]
