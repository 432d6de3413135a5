from __future__ import annotations

import math

import numpy as np
import pytest

from audiolab.audio.bank import ToneBank
from audiolab.audio.mixer import DeviceMixer
from audiolab.audio.synth import sine

SR = 48000
N = 480


def planar(*sources_blocks: np.ndarray) -> np.ndarray:
    """Stack (frames, ch) blocks into the mixer's (S, ch, frames) layout."""
    return np.stack([b.T for b in sources_blocks]).astype(np.float32)


def sine_block(freq: float, amp: float, frames: int = N, channels: int = 2) -> np.ndarray:
    return sine(freq, amp).render(SR, channels).read(frames)


def test_sine_meters_its_amplitude() -> None:
    m = DeviceMixer()
    r = m.mix(["a"], planar(sine_block(440, 0.5, SR // 10)), [1.0])
    assert r.peak_of("a") == pytest.approx(0.5, abs=0.01)
    assert r.peaks.shape == (1, 2) and np.allclose(r.peaks, 0.5, atol=0.01)
    assert r.device_peak == pytest.approx(0.5, abs=0.01)
    assert r.block.shape == (SR // 10, 2) and r.block.flags.c_contiguous


def test_gain_half_meters_quarter_and_mute_meters_zero() -> None:
    m = DeviceMixer()
    x = planar(sine_block(440, 0.5, SR // 10), sine_block(440, 0.5, SR // 10))
    r = m.mix(["half", "muted"], x, [0.5, 0.0])
    assert r.peak_of("half") == pytest.approx(0.25, abs=0.01)
    assert r.peak_of("muted") == 0.0
    assert np.abs(r.block).max() == pytest.approx(0.25, abs=0.01)
    assert r.peaks_by_session() == {"half": pytest.approx(0.25, abs=0.01), "muted": 0.0}


def test_two_sessions_mix_to_their_sum() -> None:
    a, b = sine_block(440, 0.4), sine_block(660, 0.3)
    r = DeviceMixer().mix([1, 2], planar(a, b), [1.0, 1.0])
    assert np.allclose(r.block, a + b, atol=1e-6)
    r2 = DeviceMixer().mix([1, 2], planar(a, b), [[0.5, 1.0], [1.0, 0.25]])
    assert np.allclose(r2.block[:, 0], 0.5 * a[:, 0] + b[:, 0], atol=1e-6)
    assert np.allclose(r2.block[:, 1], a[:, 1] + 0.25 * b[:, 1], atol=1e-6)
    assert r2.peaks[0] == pytest.approx([0.2, 0.4], abs=0.01)
    assert r2.peaks[1] == pytest.approx([0.3, 0.075], abs=0.01)
    assert r2.device_peaks[0] == pytest.approx(np.abs(r2.block[:, 0]).max())


def test_no_internal_clipping() -> None:
    loud = np.ones((2, 2, N), dtype=np.float32)
    r = DeviceMixer().mix(["a", "b"], loud, [1.0, 1.0])
    assert r.device_peak == pytest.approx(2.0)


def test_volume_step_is_ramped_within_bound() -> None:
    """A DC signal at full scale muted at once: every step is at most 1/ramp_frames, and it lands on 0."""
    m = DeviceMixer(ramp_seconds=0.005)
    assert m.ramp_frames == 240
    dc = np.ones((1, 2, N), dtype=np.float32)
    first = m.mix(["s"], dc, [1.0]).block
    second = m.mix(["s"], dc, [0.0]).block
    y = np.concatenate([first[:, 0], second[:, 0]])
    assert np.max(np.abs(np.diff(y))) <= 1 / 240 + 1e-6
    assert y[N + 239] == pytest.approx(0.0, abs=1e-6) and not y[N + 240 :].any()
    assert y[N] == pytest.approx(1 - 1 / 240, abs=1e-6)


def test_volume_step_on_a_sine_adds_at_most_the_ramp_bound() -> None:
    m = DeviceMixer(ramp_seconds=0.005)
    src = sine(1025, 1.0).render(SR, 2)
    out = [m.mix(["s"], planar(src.read(N)), [1.0]).block]
    out.append(m.mix(["s"], planar(src.read(N)), [0.2]).block)
    out.append(m.mix(["s"], planar(src.read(N)), [0.2]).block)
    y = np.concatenate(out)[:, 0]
    signal_slope = 2 * np.pi * 1025 / SR * 1.0
    assert np.max(np.abs(np.diff(y))) <= signal_slope + 0.8 / m.ramp_frames + 1e-6
    unramped = DeviceMixer(ramp_seconds=0.0)  # 1-frame "ramp": the click the ramp avoids
    src2 = sine(1025, 1.0).render(SR, 2)
    z = np.concatenate([unramped.mix(["s"], planar(src2.read(N)), [g]).block for g in (1.0, 0.2)])[:, 0]
    assert np.max(np.abs(np.diff(z))) > np.max(np.abs(np.diff(y)))


def test_ramp_spans_blocks_and_retargets_from_current_gain() -> None:
    m = DeviceMixer(block_frames=100, ramp_seconds=0.005)  # 240-frame ramp, 100-frame blocks
    dc = np.ones((1, 1, 100), dtype=np.float32)
    m = DeviceMixer(block_frames=100, channels=1, ramp_seconds=0.005)
    m.mix(["s"], dc, [0.0])
    a = m.mix(["s"], dc, [1.0]).block[:, 0]
    assert a[-1] == pytest.approx(100 / 240, abs=1e-6)
    b = m.mix(["s"], dc, [0.0]).block[:, 0]  # new ramp from 100/240 down to 0
    assert b[0] == pytest.approx(100 / 240 * (1 - 1 / 240), abs=1e-6)
    y = np.concatenate([a, b])
    assert np.max(np.abs(np.diff(y))) <= 1 / 240 + 1e-6
    c = np.concatenate([m.mix(["s"], dc, [0.0]).block[:, 0] for _ in range(3)])
    assert c[-1] == 0.0 and m.current_gains()["s"][0] == 0.0


def test_ramp_peak_reflects_ramped_gain() -> None:
    m = DeviceMixer(channels=1)
    dc = np.ones((1, 1, N), dtype=np.float32)
    m.mix(["s"], dc, [0.0])
    r = m.mix(["s"], dc, [0.5])  # ramp 0 -> 0.5 within the block
    assert r.peak_of("s") == pytest.approx(0.5)
    assert r.block[0, 0] == pytest.approx(0.5 / 240)


def test_new_session_starts_at_target_and_vanished_session_is_forgotten() -> None:
    m = DeviceMixer(channels=1)
    dc = np.ones((1, 1, N), dtype=np.float32)
    first = m.mix(["a"], dc, [0.7]).block
    assert np.allclose(first, 0.7)  # no fade-in
    m.mix(["a"], dc, [0.2])
    m.mix(["b"], dc, [1.0])  # "a" vanished
    assert set(m.current_gains()) == {"b"}
    back = m.mix(["a", "b"], np.ones((2, 1, N), np.float32), [0.9, 1.0])
    assert back.peak_of("a") == pytest.approx(0.9)  # a new session again: straight at its target
    assert back.block[0, 0] == pytest.approx(1.9)


def test_ramp_in_new_sessions_when_asked() -> None:
    m = DeviceMixer(channels=1, ramp_in_new_sessions=True)
    y = m.mix(["a"], np.ones((1, 1, N), np.float32), [1.0]).block[:, 0]
    assert y[0] == pytest.approx(1 / 240) and y[239] == pytest.approx(1.0) and y[-1] == 1.0


def test_reordered_sessions_keep_their_state() -> None:
    m = DeviceMixer(channels=1)
    x = np.stack([np.full((1, N), 1.0), np.full((1, N), 10.0)]).astype(np.float32)
    m.mix(["a", "b"], x, [0.5, 0.25])
    r = m.mix(["b", "a"], x[::-1].copy(), [0.25, 0.5])
    assert r.peak_of("a") == pytest.approx(0.5) and r.peak_of("b") == pytest.approx(2.5)
    assert np.allclose(r.block, 3.0)


def test_empty_device_is_silent() -> None:
    r = DeviceMixer().mix([], np.zeros((0, 2, N), np.float32), np.zeros((0, 2)))
    assert r.block.shape == (N, 2) and not r.block.any() and r.device_peak == 0.0


@pytest.mark.parametrize(
    ("ids", "shape", "gains"),
    [
        (["a"], (1, 2, N), [math.nan]),
        (["a"], (1, 2, N), [-0.1]),
        (["a"], (1, 2, N), [[1.0, 1.0, 1.0]]),
        (["a"], (1, 3, N), [1.0]),
        (["a", "a"], (2, 2, N), [1.0, 1.0]),
        (["a", "b"], (1, 2, N), [1.0]),
    ],
)
def test_bad_input_raises_and_changes_nothing(ids, shape, gains) -> None:
    m = DeviceMixer()
    m.mix(["z"], np.ones((1, 2, N), np.float32), [0.3])
    with pytest.raises(ValueError):
        m.mix(ids, np.ones(shape, np.float32), gains)
    assert list(m.current_gains()) == ["z"] and m.current_gains()["z"][0] == pytest.approx(0.3)


def test_spectral_peak_through_bank_and_mixer() -> None:
    bank = ToneBank(SR, 2)
    bank.add("t", sine(440, 0.5))
    m = DeviceMixer()
    out = []
    for _ in range(100):
        keys, blocks = bank.render(N)
        out.append(m.mix(keys, blocks, [1.0]).block)
    y = np.concatenate(out)[:, 0]
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert np.argmax(spectrum) * SR / len(y) == pytest.approx(440, abs=1)
    assert np.abs(y).max() == pytest.approx(0.5, abs=1e-3)
