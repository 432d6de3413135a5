"""Rendering of `Tone` descriptions: stateful `ToneSource` objects and the vectorised kernels they share
with `ToneBank`.

Phase is kept per source in float64 cycles in [0, 1) between blocks; inside a block it is built in float32
chunks of at most ``CHUNK`` frames, so the phase error stays below ~1e-4 radians whatever the block size
and reading a tone in blocks equals reading it in one call to that tolerance.
"""

from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING

import numpy as np

from .patterns import DTMF_FREQUENCIES, EDGE_SECONDS, PERIODIC_WAVEFORMS, gate

if TYPE_CHECKING:
    from .synth import Tone

__all__ = ("ToneSource", "envelope", "make_source", "pan_gains", "periodic_into")

CHUNK = 512
NO_END = np.iinfo(np.int64).max // 4
_K32 = np.arange(CHUNK, dtype=np.float32)
_TWO_PI32 = np.float32(2.0 * np.pi)
PINK_ROWS = 16


def pan_gains(pan: float, channels: int) -> np.ndarray:
    """Per-channel gains (float64) of the balance pan law: unity at centre, opposite side fades to 0."""
    g = np.ones(channels)
    if channels >= 2:
        g[0] = min(1.0, 1.0 - pan)
        g[1] = min(1.0, 1.0 + pan)
    return g


def periodic_into(kind: str, phase: np.ndarray, inc: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` (S, n) float32 with unit-amplitude ``kind`` waves; return the phases after n frames.

    ``phase`` and ``inc`` are (S,) float64 in cycles and cycles per frame.
    """
    n = out.shape[1]
    inc32 = inc.astype(np.float32)[:, None]
    for c0 in range(0, n, CHUNK):
        m = min(CHUNK, n - c0)
        o = out[:, c0 : c0 + m]
        start = np.mod(phase + inc * c0, 1.0).astype(np.float32)[:, None]
        np.multiply(inc32, _K32[:m], out=o)
        o += start
        o -= np.floor(o)  # exact in float32: o is now the phase in [0, 1)
        _shape(kind, o)
    return np.asarray(np.mod(phase + inc * n, 1.0))


def _shape(kind: str, p: np.ndarray) -> None:
    """Turn phases p in [0, 1) into a waveform in place; every shape starts at 0 except square."""
    if kind == "sine":
        p *= _TWO_PI32
        np.sin(p, out=p)
    elif kind == "square":
        np.copyto(p, np.where(p < 0.5, np.float32(1.0), np.float32(-1.0)))
    elif kind == "sawtooth":
        upper = p >= 0.5
        p *= 2.0
        p -= 2.0 * upper
    elif kind == "triangle":
        p += 0.25
        p -= p >= 1.0
        p -= 0.5
        np.abs(p, out=p)
        p *= -4.0
        p += 1.0
    else:  # pragma: no cover - guarded by Tone validation
        raise ValueError(kind)


def envelope(t0: np.ndarray, n: int, fade_in: np.ndarray, fade_out: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Fade-in / fade-out / end gain (S, n) float64 for rows starting at absolute frames ``t0`` (S,).

    Linear fades: the gain is t/fade_in at the start and (end - t)/fade_out before ``end``; 0 from ``end`` on.
    """
    t = t0[:, None].astype(np.float64) + np.arange(n, dtype=np.float64)
    fi = fade_in[:, None]
    fo = fade_out[:, None]
    e = end[:, None].astype(np.float64)
    g = np.where(fi > 0, t / np.maximum(fi, 1), 1.0)
    np.minimum(g, np.where(fo > 0, (e - t) / np.maximum(fo, 1), 1.0), out=g)
    g[t >= e] = 0.0
    np.clip(g, 0.0, 1.0, out=g)
    return g


def in_transition(t0: np.ndarray, n: int, fade_in: np.ndarray, fade_out: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Rows whose next n frames are not at constant unity envelope (fading, ending or ended)."""
    return np.asarray((t0 < fade_in) | (t0 + n > end - fade_out))


SKIP_CHUNK = 48000
"""Noise and other stateful sources skip by rendering and dropping up to this many frames at a time."""


class ToneSource:
    """A tone being played: ``read(frames)`` returns the next (frames, channels) float32 block.

    Stateful and phase-continuous across reads; not thread-safe. After ``finished`` it reads silence.
    """

    def __init__(self, tone: Tone, sample_rate: int, channels: int) -> None:
        self.tone = tone
        self.sample_rate = sample_rate
        self.channels = channels
        self.frames_played = 0
        self._amplitude = tone.amplitude
        self._pan = pan_gains(tone.pan, channels)
        self._edge = max(1, round(EDGE_SECONDS * sample_rate))
        self._fade_in = round(tone.fade_in * sample_rate)
        self._fade_out = round(tone.fade_out * sample_rate)
        self._end = NO_END if tone.duration is None else round(tone.duration * sample_rate)
        self._cadence = np.array(tone.cadence) * sample_rate if tone.cadence else None

    @property
    def amplitude(self) -> float:
        return self._amplitude

    def set_amplitude(self, amplitude: float) -> None:
        """Change the linear amplitude (0..1) from the next block on (no ramp here; the mixer ramps gains)."""
        self._amplitude = _check_amplitude(amplitude)

    @property
    def finished(self) -> bool:
        return self.frames_played >= self._end

    @property
    def end_frame(self) -> int | None:
        """The frame at which the tone ends, or None while it is endless."""
        return None if self._end == NO_END else self._end

    def stop(self) -> None:
        """Fade out (over ``fade_out``, at least 5 ms) and finish. Idempotent."""
        self._fade_out = max(self._fade_out, self._edge)
        if self.frames_played > self._end - self._fade_out:
            return  # already fading out or finished
        self._end = self.frames_played + self._fade_out

    def read(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames as a new (frames, channels) float32 array."""
        buf = np.empty((_check_frames(frames), self.channels), dtype=np.float32)
        self.read_into(buf.T)
        return buf

    def read_into(self, out: np.ndarray) -> None:
        """Write the next frames into ``out``, a (channels, frames) float32 array or view (planar)."""
        n = out.shape[1]
        t0 = self.frames_played
        if t0 >= self._end:
            out.fill(0.0)
            self.frames_played += n
            return
        mono = self._mono(n)
        one = np.array([t0])
        if in_transition(one, n, np.array([self._fade_in]), np.array([self._fade_out]), np.array([self._end]))[0]:
            mono *= envelope(one, n, np.array([self._fade_in]), np.array([self._fade_out]), np.array([self._end]))[0]
        if self._cadence is not None:
            mono *= gate(np.arange(t0, t0 + n, dtype=np.float64), self._cadence, self._edge)
        np.multiply(mono[None, :], (self._amplitude * self._pan)[:, None], out=out, casting="unsafe")
        self.frames_played += n

    def _mono(self, n: int) -> np.ndarray:
        """The next n frames of the unit-amplitude waveform (before envelope, amplitude and pan)."""
        raise NotImplementedError

    def skip(self, frames: int) -> None:
        """Move on ``frames`` frames without keeping them (as ``read`` would, so what follows is the same)."""
        scratch = np.empty((self.channels, min(frames, SKIP_CHUNK)), dtype=np.float32)
        left = frames
        while left > 0:
            view = scratch[:, : min(left, SKIP_CHUNK)]
            self.read_into(view)
            left -= view.shape[1]


class PeriodicSource(ToneSource):
    """Sine, square, sawtooth, triangle, and the dual-tone sine (two partials at half level each)."""

    def __init__(self, tone: Tone, sample_rate: int, channels: int) -> None:
        super().__init__(tone, sample_rate, channels)
        freqs = [tone.frequency] + ([tone.frequency2] if tone.frequency2 is not None else [])
        self._inc = np.array(freqs, dtype=np.float64) / sample_rate
        self._phase = np.zeros(len(freqs))

    def skip(self, frames: int) -> None:
        """Move on ``frames`` frames: only the phase and the position change (nothing is rendered)."""
        self._phase = np.mod(self._phase + self._inc * frames, 1.0)
        self.frames_played += frames

    def _mono(self, n: int) -> np.ndarray:
        buf = np.empty((len(self._inc), n), dtype=np.float32)
        self._phase = periodic_into(self.tone.waveform, self._phase, self._inc, buf)
        if len(buf) == 1:
            return np.asarray(buf[0])
        return np.asarray(buf.mean(axis=0, dtype=np.float32))


class WhiteSource(ToneSource):
    def __init__(self, tone: Tone, sample_rate: int, channels: int) -> None:
        super().__init__(tone, sample_rate, channels)
        self._rng = np.random.default_rng(tone.seed)

    def _mono(self, n: int) -> np.ndarray:
        return self._rng.uniform(-1.0, 1.0, n)


class PinkSource(ToneSource):
    """Voss-McCartney pink noise: the mean of PINK_ROWS uniform rows, row k redrawn every 2**k frames."""

    def __init__(self, tone: Tone, sample_rate: int, channels: int) -> None:
        super().__init__(tone, sample_rate, channels)
        # one generator per row, so the draws do not depend on how the tone is cut into blocks
        self._rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(tone.seed).spawn(PINK_ROWS)]
        self._index = np.full(PINK_ROWS, -1, dtype=np.int64)  # index of each row's current value
        self._value = np.zeros(PINK_ROWS)
        self._t = 0

    def _mono(self, n: int) -> np.ndarray:
        t = np.arange(self._t, self._t + n, dtype=np.int64)
        acc = np.zeros(n)
        for k in range(PINK_ROWS):
            steps = (t >> k) - self._index[k]  # 0 = keep the current value, i = i-th new draw
            fresh = int(steps[-1])
            values = np.empty(fresh + 1)
            values[0] = self._value[k]
            values[1:] = self._rngs[k].uniform(-1.0, 1.0, fresh)
            acc += values[steps]
            self._index[k] += fresh
            self._value[k] = values[-1]
        self._t += n
        acc /= PINK_ROWS
        return acc


class SweepSource(ToneSource):
    """Exponential sweep: f(t) = f0 * (f1/f0)**(t/T); repeats phase-continuously every T seconds."""

    def __init__(self, tone: Tone, sample_rate: int, channels: int) -> None:
        super().__init__(tone, sample_rate, channels)
        assert tone.sweep_end is not None and tone.sweep_seconds is not None
        self._f0 = tone.frequency
        self._period = tone.sweep_seconds
        self._rate = np.log(tone.sweep_end / tone.frequency)  # log of the total frequency ratio
        self._t = 0

    def _cycles(self, tau: np.ndarray) -> np.ndarray:
        if abs(self._rate) < 1e-12:
            return self._f0 * tau
        return np.asarray(self._f0 * self._period / self._rate * np.expm1(self._rate * tau / self._period))

    def _mono(self, n: int) -> np.ndarray:
        t = np.arange(self._t, self._t + n, dtype=np.float64) / self.sample_rate
        sweeps, tau = np.divmod(t, self._period)
        per_sweep = float(np.mod(self._cycles(np.array(self._period)), 1.0))
        cycles = np.mod(sweeps * per_sweep, 1.0) + np.mod(self._cycles(tau), 1.0)
        self._t += n
        return np.asarray(np.sin(2.0 * np.pi * cycles))


class DtmfSource(ToneSource):
    """Each key's two frequencies at half level, starting at phase 0, for digit_on s then digit_off s."""

    def __init__(self, tone: Tone, sample_rate: int, channels: int) -> None:
        super().__init__(tone, sample_rate, channels)
        pairs = np.array([DTMF_FREQUENCIES[d] for d in tone.digits.upper()])
        self._low, self._high = pairs[:, 0], pairs[:, 1]
        self._on = round(tone.digit_on * sample_rate)
        self._slot = self._on + round(tone.digit_off * sample_rate)

    def _mono(self, n: int) -> np.ndarray:
        t = np.arange(self.frames_played, self.frames_played + n, dtype=np.int64)
        digit, within = np.divmod(t, self._slot)
        digit %= len(self._low)
        w = within / self.sample_rate
        signal = 0.5 * (np.sin(2.0 * np.pi * self._low[digit] * w) + np.sin(2.0 * np.pi * self._high[digit] * w))
        edge = np.minimum(within, self._on - within) / self._edge
        np.clip(edge, 0.0, 1.0, out=edge)
        return np.asarray(signal * edge)


_SOURCES: dict[str, type[ToneSource]] = {
    **dict.fromkeys(PERIODIC_WAVEFORMS, PeriodicSource),
    "white": WhiteSource,
    "pink": PinkSource,
    "sweep": SweepSource,
    "dtmf": DtmfSource,
}


def check_format(sample_rate: int, channels: int) -> tuple[int, int]:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, Integral) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive int, got {sample_rate!r}")
    if isinstance(channels, bool) or not isinstance(channels, Integral) or channels < 1:
        raise ValueError(f"channels must be a positive int, got {channels!r}")
    return int(sample_rate), int(channels)


def check_nyquist(tone: Tone, sample_rate: int) -> None:
    if tone.max_frequency >= sample_rate / 2:
        raise ValueError(
            f"{tone.describe()}: {tone.max_frequency:g} Hz is at or above the Nyquist frequency "
            f"({sample_rate / 2:g} Hz) of {sample_rate} Hz"
        )


def make_source(tone: Tone, sample_rate: int, channels: int) -> ToneSource:
    """The right `ToneSource` for ``tone`` (see `Tone.render`)."""
    if getattr(tone, "waveform", None) not in _SOURCES:  # a Tone (not imported: synth imports this module)
        raise TypeError(f"expected a Tone, got {type(tone).__name__}")
    sample_rate, channels = check_format(sample_rate, channels)
    check_nyquist(tone, sample_rate)
    return _SOURCES[tone.waveform](tone, sample_rate, channels)


def _check_amplitude(amplitude: float) -> float:
    if isinstance(amplitude, bool) or not isinstance(amplitude, (int, float, np.floating, np.integer)):
        raise TypeError(f"amplitude must be a real number, got {type(amplitude).__name__}")
    a = float(amplitude)
    if not 0.0 <= a <= 1.0:  # also rejects NaN
        raise ValueError(f"amplitude must be within 0..1 (linear), got {amplitude}")
    return a


def _check_frames(frames: int) -> int:
    if isinstance(frames, bool) or not isinstance(frames, Integral) or frames < 0:
        raise ValueError(f"frames must be an int >= 0, got {frames!r}")
    return int(frames)
