"""Lessons exported to HTML carry pictures of their widgets: the tour, executed headless without widget state
(as JupyterLab saves a notebook by default), then exported with nbconvert's HTMLExporter: below the dashboard's
live output, an output holds a PNG of its last state; the timeline's output is a PNG of the timeline."""

from __future__ import annotations

import base64
import io
import re

import nbclient
import nbformat
from matplotlib.image import imread
from nbconvert import HTMLExporter

from audiolab.widgets._dashboard_picture import picture_height

from .jupyter import NOTEBOOKS, private_jupyter_env

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_tour_exported_to_html_shows_the_dashboard_and_the_timeline(tmp_path, monkeypatch):
    for key, value in private_jupyter_env(tmp_path / "jupyter").items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(NOTEBOOKS / "01-tour.ipynb", as_version=4)
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120, store_widget_state=False,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    live = [i for i, out in enumerate(outputs) if "SessionDashboard object" in out.get("data", {}).get("text/plain", "")]
    assert live, [out.get("data", {}).get("text/plain") for out in outputs]
    assert len(live) == 1 and WIDGET_VIEW in outputs[live[0]]["data"]  # the live view, and below it its picture
    dashboard = [outputs[live[0] + 1]]
    assert dashboard[0]["data"]["text/plain"] == "a picture of SessionDashboard's last state"
    picture = base64.b64decode(dashboard[0]["data"]["image/png"])
    assert picture.startswith(b"\x89PNG")
    timeline = [out for out in outputs if "FocusTimeline" in out.get("data", {}).get("text/plain", "")]
    assert len(timeline) == 1 and "image/png" in timeline[0]["data"]

    # The picture is the dashboard's last state (refreshed as each cell ended), not the empty one it was
    # displayed with: drawn again from the kernel's rows, it has the height of four rows.
    height = imread(io.BytesIO(picture)).shape[0]
    assert height == picture_height(4)

    html, _ = HTMLExporter().from_notebook_node(nb)
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert dashboard[0]["data"]["image/png"].strip() in [i.strip() for i in images]
    assert timeline[0]["data"]["image/png"].strip() in [i.strip() for i in images]
    (tmp_path / "01-tour.html").write_text(html, encoding="utf-8")
