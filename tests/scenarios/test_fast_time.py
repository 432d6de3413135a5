"""Fast virtual time: blocks nobody listens to are skipped, and probing renders only what a measurement needs.
The fast run must tell the same story, and measure the same gains, as the run that renders every block."""

from __future__ import annotations

import numpy as np
import pytest

from audiolab.audio.bank import ToneBank
from audiolab.scenarios import load_scenario, run_scenario, shipped
from audiolab.tones import beeps, sine, white_noise

FILES = shipped()
TOLERANCE = 0.01


def _story(result):
    return [(round(t.t, 4), t.kind, t.subject, t.cause, t.text, None if t.why is None else t.why.to_dict())
            for t in result.transitions]


def _cases():
    for path in FILES:
        for policy in load_scenario(path).policies:
            yield pytest.param(path, policy, id=f"{path.stem}-{policy}")


@pytest.mark.parametrize(("path", "policy"), list(_cases()))
def test_fast_run_tells_the_same_story_and_measures_the_same_gains(path, policy):
    fast = run_scenario(path, policy)
    full = run_scenario(path, policy, every_block=True)
    assert not fast.every_block and full.every_block
    assert fast.blocks_rendered < full.blocks_rendered / 5
    assert _story(fast) == _story(full)
    assert [(c.at, c.subject, c.what, c.passed) for c in fast.checks] == \
           [(c.at, c.subject, c.what, c.passed) for c in full.checks]
    for a, b in zip(fast.checks, full.checks, strict=True):
        if isinstance(b.observed, float):
            assert a.observed == pytest.approx(b.observed, abs=TOLERANCE), a.describe()
        else:
            assert a.observed == b.observed, a.describe()
    assert fast.players.keys() == full.players.keys()
    for name, summary in full.players.items():
        for field in ("min_gain", "final_gain"):
            want, got = getattr(summary, field), getattr(fast.players[name], field)
            assert (got is None) == (want is None), (name, field)
            if want is not None:
                assert got == pytest.approx(want, abs=TOLERANCE), (name, field)
        for t, gain in fast.gains.get(name, []):  # every probed frame is one of the full run's frames
            assert gain == pytest.approx(dict(full.gains[name])[t], abs=TOLERANCE), (name, t)


@pytest.mark.parametrize("tone", [sine(440, 0.5, duration=0.537, fade_out=0.02), beeps(sine(660, 0.4), on=0.2, off=0.2),
                                  white_noise(0.3, seed=7)], ids=["sine-with-end", "beeps", "noise"])
def test_a_skipped_bank_renders_what_a_rendering_bank_would_next(tone):
    rendered, skipped = ToneBank(48000), ToneBank(48000)
    rendered.add("t", tone)
    skipped.add("t", tone)
    for _ in range(23):
        rendered.render(480)
    skipped.skip(23 * 480)
    _, a = rendered.render(480)
    a = a.copy()
    _, b = skipped.render(480)
    np.testing.assert_allclose(b, a, atol=1e-5)
    assert rendered.frames_played("t") == skipped.frames_played("t")


def test_frames_to_first_end_counts_down_to_the_tone_that_ends_first():
    bank = ToneBank(48000)
    bank.add("endless", sine(440, 0.5))
    assert bank.frames_to_first_end() is None
    bank.add("short", sine(550, 0.5, duration=0.25))
    assert bank.frames_to_first_end() == 12000
    bank.skip(4800)
    assert bank.frames_to_first_end() == 7200


def test_every_block_must_be_a_bool():
    with pytest.raises(TypeError, match="every_block"):
        run_scenario("music-navigation", every_block="yes")


def test_a_lab_nobody_listens_to_skips_its_blocks_and_still_ends_tones_in_their_block():
    import anyio

    import audiolab
    from audiolab.events import StateChanged

    async def run(metered: bool) -> tuple[int, int, list[float]]:
        async with audiolab.open("sim", clock="virtual") as lab, lab.events() as events:
            engine = lab.sim.engine
            if metered:
                async with lab.meters(rate=100):
                    await lab.play(sine(440, 0.5, duration=3.333), app="Short")
                    await lab.sleep(10)
            else:
                await lab.play(sine(440, 0.5, duration=3.333), app="Short")
                await lab.sleep(10)
            ends = []
            while True:
                try:
                    event = events.receive_nowait()
                except anyio.WouldBlock:
                    break
                if isinstance(event, StateChanged) and event.new.value == "inactive":
                    ends.append(event.timestamp)
            return engine.audio.blocks_rendered, engine.audio.blocks_skipped, ends

    quiet_rendered, quiet_skipped, quiet_ends = anyio.run(run, False)
    loud_rendered, _, loud_ends = anyio.run(run, True)
    assert quiet_rendered == 0 and quiet_skipped >= 334
    assert loud_rendered >= 334
    assert quiet_ends == loud_ends and len(quiet_ends) == 1


def test_a_tones_last_block_is_probed_even_when_it_is_the_very_next_one():
    from audiolab.backends.sim.engine import SimEngine

    engine = SimEngine(emit=lambda event: None, now=lambda: 0.0)
    engine.start_probing()
    stream = engine.open_stream(pid=7, app="Beep", tone=sine(440, 0.5, duration=0.02))
    engine.start_stream(stream)  # the change at 0 asks for blocks 2 and 3; the tone ends in block 2
    engine.advance_to(0.1)
    stamps = [round(f.timestamp, 3) for f in engine.probe_frames]
    assert stamps == [0.01, 0.02]  # block 1, its last full block, found only when block 1 is next
    assert engine.probe_frames[0].peaks[engine.stream_session_id(stream)] == pytest.approx(0.5, abs=0.01)
