"""Listen in a real JupyterLab 4 and a real Notebook 7, in Debian's headless Chromium (through Playwright).

A notebook starts a Lab (HarmonyOS policy) with a dashboard and a music tone, then waits until a view listens.
The test clicks the dashboard's "listen" toggle (the user gesture), connects an AnalyserNode to the player's
output and samples it: the music's level alone, its 330 Hz line about -14 dB lower while a navigation prompt
ducks it, then back. The latency (kernel mix block -> AudioContext output) over the run is under the README's
goal; it and the underruns are printed.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterator

import nbformat
import pytest

from audiolab.widgets.listen import CHUNK_SECONDS

from .jupyter import ARTIFACTS, LabServer, chromium_page, jupyter_lab, require_chromium

pytestmark = pytest.mark.browser
LATENCY_GOAL_MS = 250.0  # README: latency from the kernel's mix block to the AudioContext's output
SHOTS = ARTIFACTS / "browser"
NOTEBOOK = "listen-test.ipynb"
BASELINE_S, PROMPT_S, AFTER_S = 3.0, 3.0, 3.0
CELLS = [
    """import asyncio
from audiolab import Role
from audiolab.tones import beeps, sine
from audiolab.widgets import SessionDashboard, start_lab

lab = await start_lab(policy="harmonyos")
dash = SessionDashboard(lab)
music = await lab.play(sine(330, 0.5), role=Role.MUSIC, app="Music")
dash""",
    f"""while not dash.listen.listening:  # the test presses "listen"
    await asyncio.sleep(0.1)
print("listening")
await lab.sleep({BASELINE_S})
nav = await lab.play(beeps(sine(880, 0.5), on=0.15, off=0.1), role=Role.NAVIGATION, app="Maps",
                     duration={PROMPT_S})
await nav.wait()
await lab.sleep({AFTER_S})
print("listen done", dash.listen.statistics())""",
]
# Samples the player's output 20 times a second: the time-domain peak and the strongest bin near 330 Hz.
ANALYSE_JS = """() => {
  const player = document.querySelector('.al-listen').audiolabPlayer;
  const ctx = player.ctx;
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 8192;
  analyser.smoothingTimeConstant = 0;
  player.output.connect(analyser);
  const wave = new Float32Array(analyser.fftSize);
  const spectrum = new Float32Array(analyser.frequencyBinCount);
  const hz = ctx.sampleRate / analyser.fftSize;
  const lo = Math.floor(320 / hz), hi = Math.ceil(340 / hz);
  window.alLevels = [];
  window.alTimer = setInterval(() => {
    analyser.getFloatTimeDomainData(wave);
    analyser.getFloatFrequencyData(spectrum);
    let peak = 0;
    for (const x of wave) peak = Math.max(peak, Math.abs(x));
    let line = -Infinity;
    for (let i = lo; i <= hi; i++) line = Math.max(line, spectrum[i]);
    window.alLevels.push([performance.now(), peak, line]);
  }, 50);
}"""
PLAYER_JS = """() => { const p = document.querySelector('.al-listen').audiolabPlayer;
  return {underruns: p.stats.underruns, dropped: p.stats.dropped, latencies: p.latencies, chunks: p.chunks}; }"""
OUTPUTS_JS = ("() => [...document.querySelectorAll('.jp-OutputArea-output')].map(e => e.textContent)"
              ".join('\\n')")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LabServer]:
    require_chromium()
    root = tmp_path_factory.mktemp("jupyter-listen")
    with jupyter_lab(root) as lab_server:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "audiolab venv", "language": "python"}
        nbformat.write(nb, root / "notebooks" / NOTEBOOK)
        yield lab_server


def wait_for_text(page, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outputs = page.evaluate(OUTPUTS_JS)
        if text in outputs:
            return outputs
        time.sleep(0.2)
    page.screenshot(path=str(SHOTS / "listen-timeout.png"))
    raise AssertionError(f"no output {text!r} after {timeout} s: {page.evaluate(OUTPUTS_JS)!r}")


def db(x: float) -> float:
    return 20 * math.log10(max(x, 1e-9))


@pytest.mark.parametrize("front_end", ["lab", "notebook"])
def test_listen_hears_the_duck(server, front_end):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page(1500, 1000) as page:
        if front_end == "lab":
            page.goto(server.page(NOTEBOOK))
        else:
            page.goto(f"{server.url}/notebooks/{NOTEBOOK}?token={server.token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        page.wait_for_function(
            "() => /Idle/.test(document.body.textContent) || document.querySelector('.jp-Notebook-ExecutionIndicator[data-status=\"idle\"]')")
        # Notebook 7 is its own application (notebook's page), not JupyterLab's
        assert page.evaluate("() => document.body.dataset.notebook") == (
            "notebooks" if front_end == "notebook" else None)
        time.sleep(1.0)
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
        button = page.locator(".al-listen-button")
        button.wait_for()
        button.click()  # the user gesture
        page.wait_for_function("() => document.querySelector('.al-listen').audiolabPlayer.ctx?.state === 'running'")
        page.evaluate(ANALYSE_JS)
        wait_for_text(page, "listening", 30)
        outputs = wait_for_text(page, "listen done", 60)
        page.evaluate("() => clearInterval(window.alTimer)")
        page.locator(".al-dash").screenshot(path=str(SHOTS / f"listen-{front_end}.png"))
        levels = page.evaluate("() => window.alLevels")
        player = page.evaluate(PLAYER_JS)

    # Until the prompt: the music alone, at its level (0.5 = -6 dBFS).
    start = next(i for i, (_, peak, _) in enumerate(levels) if peak > 0.1)
    base = levels[start + 5: start + 5 + int(BASELINE_S * 20 * 0.6)]
    assert statistics.median(peak for _, peak, _ in base) == pytest.approx(0.5, abs=0.03)
    line = statistics.median(v for *_, v in base)
    # While the prompt speaks: the 330 Hz line about 14 dB down (the mix also carries the prompt's 880 Hz).
    ducked = [v for *_, v in levels[start:] if v < line - 7]
    assert len(ducked) >= PROMPT_S * 20 * 0.6, (line, [round(v, 1) for *_, v in levels])
    assert statistics.median(ducked) - line == pytest.approx(-14.0, abs=1.5)
    # After it: back to the music's level.
    last_ducked = max(i for i, (*_, v) in enumerate(levels) if v < line - 7)
    after = levels[last_ducked + 10:]
    assert len(after) >= AFTER_S * 20 * 0.5, [(round(t), round(p, 2), round(v, 1)) for t, p, v in levels]
    assert statistics.median(v for *_, v in after) == pytest.approx(line, abs=1.0)
    # The latency from the kernel's mix block to the browser's output: the README's goal, under 250 ms, for the
    # median over the run (one stall of a loaded machine may raise it for a while, not for most of the run).
    latencies = sorted(player["latencies"])
    assert latencies and player["chunks"] > (BASELINE_S + PROMPT_S + AFTER_S) / CHUNK_SECONDS * 0.8
    p50 = latencies[len(latencies) // 2]
    assert 0 < p50 < LATENCY_GOAL_MS, (p50, player["underruns"])
    print(f"listen in {front_end}: {player['chunks']} chunks, {player['underruns']} underruns, "
          f"{player['dropped']} skips, latency p50 {p50:.0f} ms, p95 {latencies[int(len(latencies) * 0.95)]:.0f} ms; "
          f"duck {statistics.median(ducked) - line:.1f} dB; kernel: {outputs.split('listen done')[-1].strip()[:300]}")
