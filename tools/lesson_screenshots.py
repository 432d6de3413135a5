"""Draw the README's picture of each lesson into docs/screenshots/lesson-NN.png.

Lessons 02-05 and 07 end with a focus timeline: the lesson is executed headless (nbclient) and its last PNG
output is saved. Lesson 06's picture is its comparison, drawn as ``audiolab scenario compare --png`` draws it.

    .venv/bin/python tools/lesson_screenshots.py [docs/screenshots]
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import anyio
import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]


def last_png(notebook: Path) -> bytes:
    nb = nbformat.read(notebook, as_version=4)
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(notebook.parent)}}).execute()
    pngs = [out["data"]["image/png"] for cell in nb.cells if cell.cell_type == "code"
            for out in cell.get("outputs", []) if "image/png" in out.get("data", {})]
    if not pngs:
        raise SystemExit(f"{notebook.name} shows no picture")
    return base64.b64decode(pngs[-1])


def main(out: Path) -> None:
    from audiolab.scenarios import compare_scenario
    from audiolab.widgets.comparison_plot import save_comparison_png

    out.mkdir(parents=True, exist_ok=True)
    for notebook in sorted((ROOT / "notebooks").glob("0[2-9]-*.ipynb")):
        target = out / f"lesson-{notebook.name[:2]}.png"
        if notebook.name.startswith("06-"):
            comparison = anyio.run(compare_scenario, "windows-call-ducking", ["harmonyos", "windows", "pulseaudio"])
            save_comparison_png(comparison, target)
        else:
            target.write_bytes(last_png(notebook))
        print("wrote", target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
