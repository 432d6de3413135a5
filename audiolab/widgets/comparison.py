"""``ScenarioComparison``: pick a scenario and focus policies, and see what each system does with it: one
timeline row per policy (:mod:`audiolab.widgets.comparison_plot`) above the comparison table.

    view = ScenarioComparison("windows-call-ducking", ["harmonyos", "windows", "pulseaudio"])
    view                  # in a notebook: the controls, the picture and the table
    await view.ready()    # wait for the comparison being drawn (also after pressing Compare)
    view.comparison       # the audiolab.scenarios.Comparison drawn

The scenarios run on virtual time on the kernel's loop; the widget never blocks the kernel.
"""

from __future__ import annotations

import asyncio
import html

import ipywidgets

from ..focus.policy import BUILTIN
from ..scenarios import compare_report, compare_scenario, resolve, shipped
from ..scenarios.compare import Comparison
from ._loop import KernelLoop
from .comparison_plot import comparison_png


class ScenarioComparison(ipywidgets.VBox):  # type: ignore[misc]
    """A shipped scenario (or a .toml path) compared under several policies, redrawn on *Compare*."""

    def __init__(self, scenario: str = "music-call", policies: list[str] | None = None, *,
                 expectations: bool = False) -> None:
        names = [p.stem for p in shipped()]
        chosen = resolve(scenario)  # a ScenarioError names a bad file before anything is shown
        wanted = policies or chosen.policies
        unknown = [p for p in wanted if p not in BUILTIN]
        if unknown:
            raise ValueError(f"unknown policies {unknown}; the policies are {', '.join(BUILTIN)}")
        self._loop = KernelLoop()
        self._expectations = expectations
        self.comparison: Comparison | None = None
        """The comparison shown (None until the first one is drawn)."""
        self._scenario = ipywidgets.Dropdown(options=names if scenario in names else [scenario, *names],
                                             value=scenario, description="scenario")
        self._policies = ipywidgets.SelectMultiple(options=BUILTIN, value=tuple(wanted), rows=5,
                                                   description="policies")
        self._button = ipywidgets.Button(description="Compare", button_style="primary")
        self._button.on_click(lambda _: self._start())
        self._image = ipywidgets.Image(format="png", layout={"max_width": "100%"})
        self._table = ipywidgets.HTML()
        self._done = asyncio.Event()
        super().__init__([ipywidgets.HBox([self._scenario, self._policies, self._button]), self._image,
                          self._table])
        self._start()

    def _start(self) -> None:
        self._done.clear()
        self._button.disabled = True
        self._loop.spawn(self._run_comparison, "audiolab-scenario-comparison")

    async def _run_comparison(self) -> None:
        try:
            comparison = await compare_scenario(self._scenario.value, list(self._policies.value) or None)
            png = await asyncio.to_thread(comparison_png, comparison)
            self.comparison = comparison
            self._image.value = png
            text = compare_report(comparison, expectations=self._expectations)
            self._table.value = f"<pre style='font-size:12px;line-height:1.3'>{html.escape(text)}</pre>"
        except Exception as exc:  # shown in the widget: a bad scenario file is the user's to fix
            self._table.value = f"<pre style='color:#b91c1c'>{html.escape(str(exc))}</pre>"
            raise
        finally:
            self._button.disabled = False
            self._done.set()

    def _ipython_display_(self) -> None:
        # The live widget, with the comparison's picture below it for exports (see pictures.py).
        from .pictures import display_with_picture

        display_with_picture(self, self._picture)

    def _picture(self) -> bytes:
        return bytes(self._image.value or b"")

    async def ready(self) -> Comparison | None:
        """Wait until the comparison being made is drawn; returns it."""
        await self._done.wait()
        return self.comparison
