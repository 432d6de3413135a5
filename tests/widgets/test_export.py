"""Lessons exported to HTML carry pictures of their widgets: every lesson, executed headless without widget
state (as JupyterLab saves a notebook by default), then exported with nbconvert's HTMLExporter. Below the
dashboard's live output, an output holds a PNG of its last state; the timeline's output is a PNG of the
timeline; lesson 6's scenario comparison has its picture too. The HTML files go to the test's tmp_path."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import nbclient
import nbformat
import pytest
from matplotlib.image import imread
from nbconvert import HTMLExporter

from audiolab.widgets._dashboard_picture import picture_height

from .jupyter import NOTEBOOKS, private_jupyter_env

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
LESSONS = sorted(p.name for p in NOTEBOOKS.glob("0[1-9]-*.ipynb"))
DASHBOARD_PICTURE = "a picture of SessionDashboard's last state"
# Appended to the executed copy: how many rows the lesson's dashboard shows once the lesson is over.
ROWS_AT_THE_END = ("import gc\nfrom audiolab.widgets import SessionDashboard\n"
                   "print('rows at the end:', *[o.row_count for o in gc.get_objects() if isinstance(o, SessionDashboard)])")


def execute(name: str, tmp_path, monkeypatch) -> list[dict[str, Any]]:
    """Run lesson ``name`` as `jupyter nbconvert --execute --ExecutePreprocessor.store_widget_state=False`
    would, with one cell appended (:data:`ROWS_AT_THE_END`); returns the executed notebook."""
    for key, value in private_jupyter_env(tmp_path / "jupyter").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AUDIOLAB_LESSON_TRACE", "1")  # lesson 7 on its shipped trace: the same outputs, faster
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(ROWS_AT_THE_END))
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120, store_widget_state=False,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [out for cell in nb.cells for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert errors == []
    return nb


def outputs_of(nb) -> list[dict[str, Any]]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def text_of(out: dict[str, Any]) -> str:
    return out.get("data", {}).get("text/plain", "")


def png_of(out: dict[str, Any]) -> bytes:
    picture = base64.b64decode(out["data"]["image/png"])
    assert picture.startswith(b"\x89PNG")
    return picture


def in_html(nb, name: str, tmp_path, pictures: list[dict[str, Any]]) -> None:
    """Export ``nb`` to HTML; each of ``pictures`` (outputs) is an image in it."""
    html, _ = HTMLExporter().from_notebook_node(nb)
    images = {i.strip() for i in re.findall(r'src="data:image/png;base64,([^"]+)"', html)}
    for out in pictures:
        assert out["data"]["image/png"].strip() in images, text_of(out)
    (tmp_path / name.replace(".ipynb", ".html")).write_text(html, encoding="utf-8")


def dashboard_picture(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """The picture output below the lesson's one live dashboard (pinned: the live view is still its cell's)."""
    live = [i for i, out in enumerate(outputs) if "SessionDashboard object" in text_of(out)]
    assert len(live) == 1, [text_of(out) for out in outputs]
    assert WIDGET_VIEW in outputs[live[0]]["data"]  # the live view, and below it its picture
    picture = outputs[live[0] + 1]
    assert text_of(picture) == DASHBOARD_PICTURE
    return picture


def test_tour_exported_to_html_shows_the_dashboard_and_the_timeline(tmp_path, monkeypatch):
    nb = execute("01-tour.ipynb", tmp_path, monkeypatch)
    outputs = outputs_of(nb)
    dashboard = dashboard_picture(outputs)
    timeline = [out for out in outputs if "FocusTimeline" in text_of(out)]
    assert len(timeline) == 1 and "image/png" in timeline[0]["data"]

    # The picture is the dashboard's last state (refreshed as each cell ended), not the empty one it was
    # displayed with: drawn again from the kernel's rows, it has the height of four rows.
    assert imread(io.BytesIO(png_of(dashboard))).shape[0] == picture_height(4)
    in_html(nb, "01-tour.ipynb", tmp_path, [dashboard, timeline[0]])


@pytest.mark.parametrize("name", [n for n in LESSONS if n != "01-tour.ipynb"])
def test_every_lesson_exported_to_html_shows_its_dashboard_and_timeline(name, tmp_path, monkeypatch):
    nb = execute(name, tmp_path, monkeypatch)
    outputs = outputs_of(nb)
    dashboard = dashboard_picture(outputs)
    # The picture is the dashboard's last state, refreshed as each cell ended: the rows it shows at the end.
    rows = re.search(r"rows at the end: (\d+)$", outputs[-1]["text"].strip())
    assert rows, outputs[-1]
    assert imread(io.BytesIO(png_of(dashboard))).shape[0] == picture_height(int(rows.group(1)))
    timelines = [out for out in outputs if text_of(out).startswith("<FocusTimeline recorded")]
    assert len(timelines) == 1 and png_of(timelines[0])
    pictures = [dashboard, timelines[0]]
    if name.startswith("06-"):  # the scenario comparison: one timeline row per policy
        comparison = [out for out in outputs if text_of(out) == "a picture of ScenarioComparison's last state"]
        assert len(comparison) == 1 and png_of(comparison[0])
        pictures.append(comparison[0])
    in_html(nb, name, tmp_path, pictures)
