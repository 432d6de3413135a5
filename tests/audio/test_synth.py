from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from audiolab.audio.patterns import DTMF_FREQUENCIES, EDGE_SECONDS
from audiolab.audio.synth import (
    Tone,
    beeps,
    dbfs,
    dtmf,
    pink_noise,
    ring,
    sawtooth,
    sine,
    square,
    sweep,
    to_dbfs,
    triangle,
    white_noise,
)

SR = 48000


def spectral_peak(x: np.ndarray, sr: int = SR) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * sr / len(x))


def top_peaks(x: np.ndarray, count: int, sr: int = SR) -> list[float]:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    found: list[float] = []
    for _ in range(count):
        i = int(np.argmax(spectrum))
        found.append(i * sr / len(x))
        spectrum[max(0, i - 4) : i + 5] = 0
    return sorted(found)


# --- description and validation ---------------------------------------------------------------------


def test_dbfs_round_trip() -> None:
    assert dbfs(-6) == pytest.approx(0.501187, abs=1e-6)
    assert to_dbfs(dbfs(-12.5)) == pytest.approx(-12.5)
    assert to_dbfs(0) == -math.inf
    assert sine(440, amplitude_db=-6).amplitude == pytest.approx(0.501187, abs=1e-6)


def test_describe() -> None:
    assert sine(440, amplitude_db=-6).describe() == "sine 440 Hz -6.0 dBFS"
    assert beeps(sine(1000, amplitude_db=-12), 0.1, 0.4).describe() == "sine 1000 Hz -12.0 dBFS, cadence 0.1/0.4 s"
    assert ring().describe() == "sine 440+480 Hz -6.0 dBFS, cadence 2/4 s"
    assert dtmf("12#").describe() == "dtmf '12#' -6.0 dBFS, 0.6 s"
    assert pink_noise(0.25, pan=-0.5).describe() == "pink noise -12.0 dBFS, pan L0.5"
    assert sweep(20, 20000, 5).describe() == "sweep 20-20000 Hz in 5 s -6.0 dBFS, 5 s"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"frequency": math.nan}, ValueError),
        ({"frequency": -1.0}, ValueError),
        ({"frequency": 0.0}, ValueError),
        ({"amplitude": 1.5}, ValueError),
        ({"amplitude": -0.1}, ValueError),
        ({"amplitude": math.inf}, ValueError),
        ({"amplitude": "0.5"}, TypeError),
        ({"amplitude": True}, TypeError),
        ({"pan": 2.0}, ValueError),
        ({"fade_in": -1.0}, ValueError),
        ({"duration": 0.0}, ValueError),
        ({"duration": 1.0, "fade_in": 0.6, "fade_out": 0.6}, ValueError),
        ({"waveform": "organ"}, ValueError),
        ({"seed": 1.5}, TypeError),
        ({"cadence": (0.1,)}, ValueError),
        ({"cadence": [0.1, 0.1]}, TypeError),
        ({"cadence": (0.0, 1.0)}, ValueError),
        ({"waveform": "square", "frequency2": 480.0}, ValueError),
        ({"waveform": "sweep"}, ValueError),
        ({"waveform": "dtmf", "digits": "12x"}, ValueError),
    ],
)
def test_tone_validation(kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        Tone(**kwargs)


def test_nyquist_checked_at_render() -> None:
    tone = sine(30000)
    with pytest.raises(ValueError, match="Nyquist"):
        tone.render(48000)
    assert tone.render(96000).read(10).shape == (10, 2)
    with pytest.raises(ValueError, match="Nyquist"):
        dtmf("D").render(3000)
    with pytest.raises(ValueError, match="sample_rate"):
        sine().render(0)
    with pytest.raises(ValueError, match="channels"):
        sine().render(SR, channels=0)


# --- continuity, state -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tone",
    [sine(440), square(441), sawtooth(97.3), triangle(1234.5), sine(440, frequency2=480), sweep(50, 5000, 0.3, repeat=True),
     white_noise(seed=3), pink_noise(seed=3), dtmf("159#"), beeps(sine(800), 0.05, 0.05)],
    ids=lambda t: t.describe(),
)
def test_blocks_equal_one_read(tone: Tone) -> None:
    whole = tone.render(SR).read(SR)
    src = tone.render(SR)
    pieces = np.concatenate([src.read(480) for _ in range(100)])
    odd = tone.render(SR)
    uneven = np.concatenate([odd.read(n) for n in (1, 511, 512, 513, 7000, SR - 8537)])
    for other in (pieces, uneven):
        error = np.abs(whole - other)
        if tone.waveform in ("square", "sawtooth"):  # a sample exactly on a jump may round to either side
            assert np.mean(error > 1e-4) < 1e-3
        else:
            assert np.max(error) < 1e-4


def test_long_running_sine_stays_accurate() -> None:
    src = sine(997, 0.5).render(SR, 1)
    for _ in range(3600):  # one hour in 1 s blocks
        src.read(SR)
    t = (src.frames_played + np.arange(480)) / SR
    expected = 0.5 * np.sin(2 * np.pi * 997 * t)
    assert np.max(np.abs(src.read(480)[:, 0] - expected)) < 2e-4


def test_set_amplitude_applies_next_block() -> None:
    src = sine(440, 0.5).render(SR, 1)
    assert np.abs(src.read(SR // 10)).max() == pytest.approx(0.5, abs=1e-3)
    src.set_amplitude(0.1)
    assert np.abs(src.read(SR // 10)).max() == pytest.approx(0.1, abs=1e-3)
    with pytest.raises(ValueError):
        src.set_amplitude(math.nan)
    with pytest.raises(ValueError):
        src.set_amplitude(1.01)
    assert src.amplitude == 0.1


def test_finite_tone_finishes() -> None:
    src = sine(440, duration=0.25).render(SR)
    x = src.read(SR)
    assert src.finished and src.frames_played == SR
    assert np.abs(x[: SR // 4]).max() == pytest.approx(0.5, abs=1e-3)
    assert not x[SR // 4 :].any()


def test_stop_fades_out_and_finishes() -> None:
    src = sine(440, fade_out=0.1).render(SR, 1)
    src.read(4800)
    assert not src.finished
    src.stop()
    tail = src.read(SR)[:, 0]
    assert src.finished
    assert not tail[4800:].any()
    env = np.abs(signal.hilbert(tail[:4800]))
    assert env[100] > env[2400] > env[4600]  # decreasing
    assert np.max(np.abs(np.diff(tail))) < 2 * np.pi * 440 / SR * 0.5 + 1e-3  # no click


def test_stop_without_fade_uses_edge_ramp() -> None:
    src = sine(440).render(SR, 1)
    src.read(100)
    src.stop()
    x = src.read(1000)[:, 0]
    edge = round(EDGE_SECONDS * SR)
    assert not x[edge:].any() and src.finished
    assert np.max(np.abs(np.diff(x))) < 0.05


# --- signal correctness -------------------------------------------------------------------------------


def test_sine_peak_and_frequency() -> None:
    x = sine(440, 0.5).render(SR, 1).read(SR)[:, 0]
    assert np.abs(x).max() == pytest.approx(0.5, abs=1e-4)
    assert spectral_peak(x) == pytest.approx(440, abs=1)
    assert np.sqrt(np.mean(x**2)) == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 96000])
def test_any_sample_rate(rate: int) -> None:
    x = sine(1000, 0.5).render(rate, 1).read(rate)[:, 0]
    assert spectral_peak(x, rate) == pytest.approx(1000, abs=1)


@pytest.mark.parametrize(
    ("builder", "rms_factor", "harmonic2", "harmonic3"),
    [
        (square, 1.0, 0.0, 1 / 3),  # odd harmonics 1/n
        (sawtooth, 1 / np.sqrt(3), 1 / 2, 1 / 3),  # all harmonics 1/n
        (triangle, 1 / np.sqrt(3), 0.0, 1 / 9),  # odd harmonics 1/n^2
    ],
)
def test_classic_waveforms(builder, rms_factor: float, harmonic2: float, harmonic3: float) -> None:
    x = builder(200, 0.5).render(SR, 1).read(SR)[:, 0].astype(np.float64)
    assert np.abs(x).max() == pytest.approx(0.5, abs=1e-3)
    assert spectral_peak(x) == pytest.approx(200, abs=1)
    assert np.sqrt(np.mean(x**2)) == pytest.approx(0.5 * rms_factor, rel=0.01)
    spectrum = np.abs(np.fft.rfft(x))  # 1 s: bin i is i Hz, integer periods so no window needed
    assert spectrum[400] / spectrum[200] == pytest.approx(harmonic2, abs=0.01)
    assert spectrum[600] / spectrum[200] == pytest.approx(harmonic3, abs=0.01)


def test_white_noise_bounded_flat_and_seeded() -> None:
    a = white_noise(0.5, seed=7).render(SR, 1).read(4 * SR)[:, 0]
    b = white_noise(0.5, seed=7).render(SR, 1).read(4 * SR)[:, 0]
    c = white_noise(0.5, seed=8).render(SR, 1).read(4 * SR)[:, 0]
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert 0.49 < np.abs(a).max() <= 0.5
    assert np.sqrt(np.mean(a**2)) == pytest.approx(0.5 / np.sqrt(3), rel=0.01)
    f, p = signal.welch(a, SR, nperseg=4096)
    low, high = p[(f > 100) & (f < 1000)].mean(), p[(f > 10000) & (f < 20000)].mean()
    assert 10 * np.log10(high / low) == pytest.approx(0, abs=0.5)


def test_pink_noise_slope_is_minus_3_db_per_octave() -> None:
    x = pink_noise(0.5, seed=1).render(SR, 1).read(20 * SR)[:, 0].astype(np.float64)
    assert np.abs(x).max() <= 0.5
    f, p = signal.welch(x, SR, nperseg=1 << 15)
    band = (f >= 40) & (f <= 6000)  # more than 7 octaves
    slope_per_decade = np.polyfit(np.log10(f[band]), 10 * np.log10(p[band]), 1)[0]
    slope_per_octave = slope_per_decade * np.log10(2)
    assert slope_per_octave == pytest.approx(-3.01, abs=0.4)


@pytest.mark.parametrize("digit", ["1", "5", "9", "0", "#", "D"])
def test_dtmf_digit_has_its_two_frequencies(digit: str) -> None:
    x = dtmf(digit, 0.5, on=0.5, off=0.0).render(SR, 1).read(SR // 2)[:, 0]
    low, high = DTMF_FREQUENCIES[digit]
    found = top_peaks(x, 2)
    assert found[0] == pytest.approx(low, abs=3)
    assert found[1] == pytest.approx(high, abs=3)
    assert np.abs(x).max() <= 0.5


def test_dtmf_sequence_timing() -> None:
    src = dtmf("12", 0.5, on=0.1, off=0.05).render(SR, 1)
    assert src.end_frame == round(0.3 * SR)
    x = src.read(SR)[:, 0]
    assert src.finished
    on = np.abs(x) > 1e-6
    assert not on[round(0.105 * SR) : round(0.145 * SR)].any()  # the gap
    assert spectral_peak(x[: round(0.1 * SR)] * 1.0) in (pytest.approx(697, abs=12), pytest.approx(1209, abs=12))


def test_sweep_is_logarithmic() -> None:
    f0, f1, seconds = 100.0, 6400.0, 2.0
    x = sweep(f0, f1, seconds, 0.5).render(SR, 1).read(int(seconds * SR))[:, 0].astype(np.float64)
    assert np.abs(x).max() == pytest.approx(0.5, abs=1e-3)
    phase = np.unwrap(np.angle(signal.hilbert(x)))
    inst = np.diff(phase) * SR / (2 * np.pi)
    for frac in (0.1, 0.3, 0.5, 0.7, 0.9):
        i = int(frac * seconds * SR)
        measured = np.median(inst[i - 200 : i + 200])
        assert measured == pytest.approx(f0 * (f1 / f0) ** frac, rel=0.01)


def test_sweep_finishes_unless_repeat() -> None:
    once = sweep(100, 1000, 0.5).render(SR)
    once.read(SR)
    assert once.finished
    again = sweep(100, 1000, 0.5, repeat=True).render(SR, 1)
    y = again.read(SR)[:, 0]
    assert not again.finished
    assert np.max(np.abs(np.diff(y))) < 2 * np.pi * 1000 / SR * 0.5 * 1.01  # phase-continuous wrap


@pytest.mark.parametrize(("pan", "left", "right"), [(0.0, 1.0, 1.0), (1.0, 0.0, 1.0), (-1.0, 1.0, 0.0), (0.5, 0.5, 1.0), (-0.25, 1.0, 0.75)])
def test_pan_balance_law(pan: float, left: float, right: float) -> None:
    x = sine(440, 0.5, pan=pan).render(SR, 2).read(SR // 10)
    assert np.abs(x[:, 0]).max() == pytest.approx(0.5 * left, abs=1e-3)
    assert np.abs(x[:, 1]).max() == pytest.approx(0.5 * right, abs=1e-3)
    mono = sine(440, 0.5, pan=pan).render(SR, 1).read(SR // 10)
    assert np.abs(mono).max() == pytest.approx(0.5, abs=1e-3)


def test_fades_are_linear() -> None:
    x = sine(1000, 1.0, fade_in=0.1, fade_out=0.2, duration=1.0).render(SR, 1).read(SR)[:, 0].astype(np.float64)
    env = np.abs(signal.hilbert(x))
    for t, expected in ((0.025, 0.25), (0.05, 0.5), (0.075, 0.75), (0.5, 1.0), (0.85, 0.75), (0.9, 0.5), (0.95, 0.25)):
        assert env[int(t * SR)] == pytest.approx(expected, abs=0.02), t
    assert x[0] == 0 and abs(x[-1]) < 1e-3


def test_beeps_and_ring_cadences() -> None:
    src = beeps(sine(1000, 0.5), on=0.1, off=0.2, count=3).render(SR, 1)
    x = src.read(SR)[:, 0]
    assert src.finished and src.end_frame == round(0.9 * SR)
    active = [np.abs(x[int(t * SR) : int((t + 0.01) * SR)]).max() for t in (0.05, 0.15, 0.35, 0.5, 0.65, 0.95)]
    assert active == [pytest.approx(0.5, abs=1e-3), 0, pytest.approx(0.5, abs=1e-3), 0, pytest.approx(0.5, abs=1e-3), 0]
    edge = round(EDGE_SECONDS * SR)
    assert np.max(np.abs(np.diff(x))) < 0.5 / edge + 2 * np.pi * 1000 / SR * 0.5  # no clicks at the edges
    uk = ring(cadence="uk").render(SR, 1).read(3 * SR)[:, 0]
    on_time = np.mean(np.abs(uk.reshape(-1, 480)).max(axis=1) > 1e-3) * 3.0
    assert on_time == pytest.approx(0.8 + 0.02, abs=0.03)
    assert top_peaks(uk[: int(0.4 * SR)], 2) == [pytest.approx(440, abs=3), pytest.approx(480, abs=3)]
    with pytest.raises(ValueError):
        ring(cadence="mars")
