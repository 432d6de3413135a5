"""listen.js's jitter buffer on its own, in headless Chromium, fed 20 ms chunks of a 330 Hz tone by a script of
arrivals: it starts at a first guess (100 ms buffered); a stall is one underrun that fades out; it resumes from the stall's
backlog at its newest audio; stalls that recur are absorbed after the second, and once they stop the surplus is
spliced out a little at a time (past 400 ms, at once). A click is a sample-to-sample step larger than the tone's own."""

from __future__ import annotations

import math
from collections.abc import Iterator
from importlib import resources

import pytest

from .jupyter import CHROMIUM_ARGS, require_chromium

pytestmark = pytest.mark.browser
RATE, QUANTUM, CHUNK = 24000, 128, 480  # the player's rate, Web Audio's render quantum, a 20 ms chunk
AMPLITUDE, FREQ = 0.5, 330.0
NATURAL_STEP = AMPLITUDE * 2 * math.pi * FREQ / RATE  # the tone's own largest step
FADE_STEP = AMPLITUDE / (0.005 * RATE)  # what a 5 ms fade adds at most

# Plays the shipped rules against a kernel that makes a 20 ms chunk every 20 ms of the output's clock and
# delivers it when it is complete, but for the script's steps: ["steady", s] on time for s seconds;
# ["stall", ms] nothing for ms, then the backlog at once; ["ahead", n] the kernel's clock jumps n chunks ahead
# (as a clock that runs fast does, slowly). After each step: the buffer's figures, the largest sample-to-sample step, the peak,
# and the latency (output frame minus the frame the chunk's first sample was made at) of the chunks played.
RUN_JS = """([rate, quantum, chunk, amplitude, freq, steps]) => {
  const j = audiolabListen.makeJitter(rate, audiolabListen.JITTER);
  let sent = 0, frame = 0, prev = 0, firstSound = null, lead = 0;
  const deliver = (upTo) => {
    for (; sent < upTo; sent++) {
      const pcm = new Int16Array(chunk);
      for (let i = 0; i < chunk; i++) pcm[i] = Math.round(32767 * amplitude * Math.sin(2 * Math.PI * freq * (sent * chunk + i) / rate));
      j.push(pcm, sent, sent * chunk / rate);
    }
  };
  const due = () => Math.floor(frame / chunk) + lead;  // the chunks complete by now
  const result = [];
  for (const [kind, arg] of steps) {
    let maxStep = 0, peak = 0;
    const lat = [];
    const play = (seconds, feed) => {
      for (const end = frame + seconds * rate; frame < end; frame += quantum) {
        if (feed) deliver(due());
        const buf = new Float32Array(quantum), starts = [];
        j.pull(buf, frame, starts);
        for (let i = 0; i < quantum; i++) {
          maxStep = Math.max(maxStep, Math.abs(buf[i] - prev));
          peak = Math.max(peak, Math.abs(buf[i]));
          if (firstSound === null && buf[i] !== 0) firstSound = frame + i;
          prev = buf[i];
        }
        for (const [, t0, f] of starts) lat.push((f - t0 * rate) * 1000 / rate);
      }
    };
    if (kind === "steady") play(arg, true);
    else if (kind === "stall") play(arg / 1000, false);
    else {
      lead += arg;
      deliver(due());
    }
    result.push({kind, arg, maxStep, peak, last: prev, lat, ...j.stats()});
  }
  return {steps: result, firstSound};
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


def run(page, steps: list[list[object]]) -> dict:
    return page.evaluate(RUN_JS, [RATE, QUANTUM, CHUNK, AMPLITUDE, FREQ, steps])


@pytest.fixture(scope="module")
def rules(page) -> dict[str, float]:
    """The shipped rules (listen.js's JITTER): the expectations below follow them."""
    return page.evaluate("() => audiolabListen.JITTER")


def ms(frames: float) -> float:
    return frames * 1000 / RATE


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def test_starts_at_its_first_guess_and_a_stall_is_one_faded_underrun_then_the_newest_audio(page, rules):
    result = run(page, [["steady", 2], ["stall", 300], ["steady", 2]])
    steady, stall, after = result["steps"]
    # Nothing plays before the first guess (startMs) and one chunk are buffered.
    first = rules["startMs"] + 20
    assert first <= ms(result["firstSound"]) <= first + ms(QUANTUM)
    assert steady["peak"] == pytest.approx(AMPLITUDE, abs=0.01) and steady["underruns"] == 0
    assert steady["maxStep"] < NATURAL_STEP + 1e-3  # playing steadily: the tone and nothing else
    assert median(steady["lat"]) == pytest.approx(first, abs=ms(QUANTUM))  # what was buffered at the start

    assert stall["underruns"] == 1 and stall["last"] == 0.0 and not stall["playing"]
    assert stall["maxStep"] < NATURAL_STEP + FADE_STEP + 1e-3  # faded out as it ran dry: no click
    # The backlog comes at once and is skipped: it plays on from the newest audio, the margin to spare.
    assert after["underruns"] == 1 and after["dropped"] == 1
    assert median(after["lat"]) == pytest.approx(rules["marginMs"] + 20, abs=ms(QUANTUM))
    assert after["maxStep"] < NATURAL_STEP + FADE_STEP + 1e-3


def test_stalls_that_recur_are_absorbed_and_the_surplus_goes_when_they_stop(page, rules):
    cycle = [["steady", 3], ["stall", 150]]
    assert rules["budget"] == 1 and rules["shrinkMs"] == 20
    result = run(page, [["steady", 2], *cycle * 8, ["steady", 3], ["steady", rules["windowS"] + 15]])
    steps = result["steps"]
    recurring, calm = steps[-2], steps[-1]
    # The first two stalls underrun (one stall in the window may: the budget); then the buffer keeps enough
    # for them: the stall, the margin and the chunk.
    assert recurring["underruns"] == 2
    assert median(recurring["lat"]) == pytest.approx(150 + rules["marginMs"] + 20, abs=15)
    # Once they stop (and leave the window), the surplus is spliced out, 20 ms a second at most, back to the
    # margin to spare.
    assert calm["underruns"] == 2 and calm["dropped"] >= recurring["dropped"] + 150 / 20 - 1
    assert calm["lat"][-1] == pytest.approx(rules["marginMs"] + 20, abs=ms(QUANTUM) + 10)
    # A splice jumps by whole periods of the tone and crossfades: no click, no dip.
    assert max(s["maxStep"] for s in steps[1:]) < NATURAL_STEP + FADE_STEP + 1e-3
    assert calm["maxStep"] < NATURAL_STEP + 2e-3
    assert calm["peak"] == pytest.approx(AMPLITUDE, abs=0.01)


def test_more_than_400_ms_buffered_is_spliced_at_once(page):
    result = run(page, [["steady", 2], ["ahead", 25], ["steady", 0.1]])
    steady, ahead, after = result["steps"]
    assert steady["underruns"] == 0 and steady["dropped"] == 0 and ms(ahead["buffered"]) > 400
    assert after["dropped"] == 1 and ms(after["buffered"]) < 100 and after["underruns"] == 0
    assert after["maxStep"] < NATURAL_STEP + 2e-3
