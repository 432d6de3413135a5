"""listen.js's jitter buffer on its own, in headless Chromium: it waits for 150 ms before playing, fades out as
it runs dry (one underrun, no click), fades back in once refilled, and skips ahead (with fades) when a burst
leaves more than 400 ms buffered, or more than 230 ms for a whole second. A click is a sample-to-sample step larger than the signal's own."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from importlib import resources

import pytest

from .jupyter import CHROMIUM_ARGS, require_chromium

pytestmark = pytest.mark.browser
RATE, QUANTUM, CHUNK = 24000, 128, 960  # the player's rate, Web Audio's render quantum, a 40 ms chunk
AMPLITUDE, FREQ = 0.5, 330.0

RUN_JS = """([rate, quantum, chunk, amplitude, freq]) => {
  const j = audiolabListen.makeJitter(rate, 150, 400, 5);
  let written = 0, frame = 0;
  const out = [], stats = [];
  const push = (chunks) => {
    for (let c = 0; c < chunks; c++) {
      const pcm = new Int16Array(chunk);
      for (let i = 0; i < chunk; i++, written++) pcm[i] = Math.round(32767 * amplitude * Math.sin(2 * Math.PI * freq * written / rate));
      j.push(pcm, written, 0);
    }
  };
  const pull = (quanta) => {
    for (let q = 0; q < quanta; q++, frame += quantum) {
      const buf = new Float32Array(quantum);
      j.pull(buf, frame, []);
      out.push(...buf);
    }
    stats.push(j.stats());
  };
  // steady: a chunk every 40 ms of output (7.5 quanta), for 1 s
  for (let k = 0; k < 25; k++) { push(1); pull(k % 2 ? 8 : 7); }
  const steadyEnd = out.length;
  pull(60);                       // the kernel stalls: the buffer runs dry
  const dryEnd = out.length;
  for (let k = 0; k < 25; k++) { push(1); pull(k % 2 ? 8 : 7); }   // it comes back
  push(15);                       // a burst: 600 ms at once
  for (let k = 0; k < 25; k++) { push(1); pull(k % 2 ? 8 : 7); }
  const burstStats = j.stats();
  push(4);                        // a smaller one: 160 ms more, under the 400 ms bound
  for (let k = 0; k < 40; k++) { push(1); pull(k % 2 ? 8 : 7); }
  return {out, steadyEnd, dryEnd, stats, burstStats};
}"""


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    source = resources.files("audiolab.widgets").joinpath("listen.js").read_text(encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_content("<!doctype html><html><body></body></html>")
            page.add_script_tag(content=source)
            yield page
        finally:
            browser.close()


def test_jitter_buffer_plays_gaps_and_bursts_without_clicks(page):
    result = page.evaluate(RUN_JS, [RATE, QUANTUM, CHUNK, AMPLITUDE, FREQ])
    out = result["out"]
    first = next(i for i, x in enumerate(out) if x != 0.0)
    # Nothing plays before 150 ms are buffered: the 4th chunk (3840 frames) comes after 7 + 8 + 7 quanta.
    assert (7 + 8 + 7) * QUANTUM <= first <= (7 + 8 + 7) * QUANTUM + 3
    assert max(abs(x) for x in out[first:result["steadyEnd"]]) == pytest.approx(AMPLITUDE, abs=0.01)

    # The signal's own largest step, and the largest step in the output: equal within the fade's share.
    natural = AMPLITUDE * 2 * math.pi * FREQ / RATE
    steps = max(abs(b - a) for a, b in itertools.pairwise(out))
    assert steps < natural + AMPLITUDE / (0.005 * RATE) + 1e-3, (steps, natural)

    stats = result["stats"]
    assert stats[-1]["underruns"] == 1  # the stall: one underrun, counted
    dry = out[result["steadyEnd"]:result["dryEnd"]]
    assert dry[-1] == 0.0 and any(x != 0.0 for x in dry[:100])  # faded out as it ran dry
    burst = result["burstStats"]
    assert burst["dropped"] == 1 and burst["buffered"] <= 0.4 * RATE  # the burst: skipped back under 400 ms
    # 160 ms too many for a whole second: skipped back too, so the latency does not stay up
    assert stats[-1]["dropped"] == 2 and stats[-1]["buffered"] <= 0.23 * RATE
    assert stats[-1]["playing"] and stats[-1]["underruns"] == 1
