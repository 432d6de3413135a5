"""Test tones as data: a frozen `Tone` describes a sound; `Tone.render()` makes a stateful `ToneSource`.

    >>> t = beeps(sine(1000, amplitude_db=-12), on=0.1, off=0.4)
    >>> t.describe()
    'sine 1000 Hz -12.0 dBFS, cadence 0.1/0.4 s'
    >>> src = t.render(48000, channels=2)
    >>> src.read(480).shape
    (480, 2)

Amplitude is the linear peak of each channel (0..1, 1 = full scale). For noise it is the bound of the peak:
white noise is uniform in [-a, a]; pink noise stays within [-a, a] and its RMS is much lower.

Pan law ("balance"): at pan 0 both channels carry the full amplitude; panning right attenuates the left
channel linearly to 0 at pan +1 and leaves the right one at unity (and mirrored for pan < 0). This keeps
"a tone of amplitude 0.5 meters 0.5" true for centred tones. Mono output ignores pan; with more than two
channels pan affects the first two, the others get unity.

Fades are linear. ``fade_in`` starts from silence at frame 0; ``fade_out`` ends at ``duration`` (or, for an
endless tone, after `ToneSource.stop()`).

Square, sawtooth and triangle are computed naively from the phase (not band-limited): exact peaks and
fundamental, with some aliasing of the upper harmonics, which is fine for test tones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, TypedDict

from .._by_fields import by_fields
from .patterns import DTMF_FREQUENCIES, PERIODIC_WAVEFORMS, RING_CADENCES, WAVEFORMS, validate_cadence

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .sources import ToneSource

__all__ = (
    "PERIODIC_WAVEFORMS",
    "WAVEFORMS",
    "PeriodicOptions",
    "Tone",
    "ToneOptions",
    "beeps",
    "dbfs",
    "dtmf",
    "pink_noise",
    "ring",
    "sawtooth",
    "sine",
    "square",
    "sweep",
    "to_dbfs",
    "triangle",
    "white_noise",
)



class ToneOptions(TypedDict, total=False):
    """The `Tone` fields every builder also takes by keyword."""

    pan: float
    fade_in: float
    fade_out: float
    duration: float | None
    cadence: tuple[float, ...]


class PeriodicOptions(ToneOptions, total=False):
    """A periodic builder's keywords: those of every tone and, for a sine, a second partial."""

    frequency2: float | None


def dbfs(db: float) -> float:
    """Linear amplitude of a level in dBFS (0 dBFS = 1.0; -6 dBFS ~ 0.501)."""
    db = _real("db", db)
    if db > 0:
        raise ValueError(f"a level above 0 dBFS would clip, got {db} dBFS")
    return float(10.0 ** (db / 20.0))


def to_dbfs(amplitude: float) -> float:
    """Level in dBFS of a linear amplitude (-inf for 0)."""
    return 20.0 * math.log10(amplitude) if amplitude > 0 else -math.inf


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}")
    return number


@by_fields
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Tone:
    """Description of a test tone; validated at construction, rendered with `render()`.

    Prefer the builders (`sine`, `square`, `sweep`, `dtmf`, `beeps`, `ring`, ...) over calling this directly.
    """

    waveform: str = "sine"
    frequency: float = 440.0  # Hz; start frequency of a sweep; ignored by noise and dtmf
    amplitude: float = 0.5  # linear peak, 0..1
    pan: float = 0.0  # -1 (left) .. +1 (right), balance law (see module docstring)
    fade_in: float = 0.0  # seconds
    fade_out: float = 0.0  # seconds
    duration: float | None = None  # seconds; None = until stopped
    seed: int | None = None  # noise generator seed (None = fresh entropy)
    frequency2: float | None = None  # sine only: a second partial at equal level (dual tone)
    sweep_end: float | None = None  # sweep: end frequency in Hz
    sweep_seconds: float | None = None  # sweep: seconds from start to end frequency (then it repeats)
    digits: str = ""  # dtmf: the keys to play
    digit_on: float = 0.1  # dtmf: seconds per key
    digit_off: float = 0.1  # dtmf: silence after each key
    cadence: tuple[float, ...] = ()  # on/off pattern in seconds, repeated; () = continuous

    def __post_init__(self) -> None:
        if not isinstance(self.waveform, str) or self.waveform not in WAVEFORMS:
            raise ValueError(f"waveform must be one of {WAVEFORMS}, got {self.waveform!r}")
        _check_common(self)
        _WAVEFORM_CHECKS.get(self.waveform, _check_periodic)(self)
        if not isinstance(self.cadence, tuple):
            raise TypeError(f"cadence must be a tuple of seconds, got {type(self.cadence).__name__}")
        if self.cadence:
            object.__setattr__(self, "cadence", validate_cadence(self.cadence))

    def to_dict(self) -> dict[str, object]:
        """The tone as JSON-ready data (what traces, scenario runs and the tone child processes carry)."""
        data = asdict(self)
        data["cadence"] = list(self.cadence)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Tone:
        """The tone :meth:`to_dict` gave (a cadence may come back as a JSON list); bad data raises
        ``ValueError`` or ``TypeError``."""
        if not isinstance(data, Mapping):
            raise TypeError(f"a tone's data is a mapping, not {type(data).__name__}")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"not fields of a Tone: {', '.join(map(str, unknown))}")
        values = dict(data)
        if isinstance(values.get("cadence"), list):
            values["cadence"] = tuple(values["cadence"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]

    @property
    def max_frequency(self) -> float:
        """The highest frequency the tone contains by design (0 for noise); checked against Nyquist."""
        if self.waveform in ("white", "pink"):
            return 0.0
        if self.waveform == "dtmf":
            return max(DTMF_FREQUENCIES[d][1] for d in self.digits.upper())
        return max(self.frequency, self.frequency2 or 0.0, self.sweep_end or 0.0)

    @property
    def batchable(self) -> bool:
        """True if `ToneBank` renders this tone on its vectorised path (plain periodic waveforms)."""
        return self.waveform in PERIODIC_WAVEFORMS and self.frequency2 is None and not self.cadence

    def describe(self) -> str:
        """A short human label, e.g. ``'sine 440 Hz -6.0 dBFS'``."""
        level = to_dbfs(self.amplitude)
        lvl = "-inf dBFS" if level == -math.inf else f"{level:.1f} dBFS"
        if self.waveform in ("white", "pink"):
            head = f"{self.waveform} noise {lvl}"
        elif self.waveform == "sweep":
            head = f"sweep {_hz(self.frequency)}-{_hz(self.sweep_end or 0)} Hz in {self.sweep_seconds:g} s {lvl}"
        elif self.waveform == "dtmf":
            head = f"dtmf {self.digits!r} {lvl}"
        elif self.frequency2 is not None:
            head = f"{self.waveform} {_hz(self.frequency)}+{_hz(self.frequency2)} Hz {lvl}"
        else:
            head = f"{self.waveform} {_hz(self.frequency)} Hz {lvl}"
        parts = [head]
        if self.pan:
            parts.append(f"pan {'L' if self.pan < 0 else 'R'}{abs(self.pan):g}")
        if self.cadence:
            parts.append("cadence " + "/".join(f"{x:g}" for x in self.cadence) + " s")
        if self.duration is not None:
            parts.append(f"{self.duration:g} s")
        return ", ".join(parts)

    def render(self, sample_rate: int, channels: int = 2) -> ToneSource:
        """A fresh stateful source producing this tone at ``sample_rate`` into ``channels`` channels.

        Raises ValueError if a frequency of the tone is at or above the Nyquist frequency.
        """
        from .sources import make_source

        return make_source(self, sample_rate, channels)

    def with_amplitude(self, amplitude: float) -> Tone:
        """A copy at another linear amplitude."""
        return replace(self, amplitude=amplitude)


def _check_common(tone: Tone) -> None:
    """The fields every waveform has: numbers that are finite, a level within 0..1, fades within the tone."""
    for name in ("frequency", "amplitude", "pan", "fade_in", "fade_out", "digit_on", "digit_off"):
        object.__setattr__(tone, name, _real(name, getattr(tone, name)))
    for name in ("duration", "frequency2", "sweep_end", "sweep_seconds"):
        if getattr(tone, name) is not None:
            object.__setattr__(tone, name, _real(name, getattr(tone, name)))
    if not 0.0 <= tone.amplitude <= 1.0:
        raise ValueError(f"amplitude must be within 0..1 (linear), got {tone.amplitude}")
    if not -1.0 <= tone.pan <= 1.0:
        raise ValueError(f"pan must be within -1..1, got {tone.pan}")
    if tone.fade_in < 0 or tone.fade_out < 0:
        raise ValueError("fade_in and fade_out must be >= 0 seconds")
    if tone.duration is not None:
        if tone.duration <= 0:
            raise ValueError(f"duration must be > 0 seconds (or None), got {tone.duration}")
        if tone.fade_in + tone.fade_out > tone.duration:
            raise ValueError("fade_in + fade_out must not exceed duration")
    if tone.seed is not None and (isinstance(tone.seed, bool) or not isinstance(tone.seed, Integral)):
        raise TypeError(f"seed must be an int or None, got {type(tone.seed).__name__}")


def _check_frequency2(tone: Tone) -> None:
    if tone.frequency2 is not None:
        if tone.waveform != "sine":
            raise ValueError("frequency2 (dual tone) is only supported for sine")
        if tone.frequency2 <= 0:
            raise ValueError(f"frequency2 must be > 0 Hz, got {tone.frequency2}")


def _check_periodic(tone: Tone) -> None:
    if tone.frequency <= 0:
        raise ValueError(f"frequency must be > 0 Hz, got {tone.frequency}")
    _check_frequency2(tone)


def _check_sweep(tone: Tone) -> None:
    _check_periodic(tone)  # a sweep's frequency2 is refused there, as for any waveform but sine
    if tone.sweep_end is None or tone.sweep_end <= 0:
        raise ValueError("a sweep needs sweep_end > 0 Hz")
    if tone.sweep_seconds is None or tone.sweep_seconds <= 0:
        raise ValueError("a sweep needs sweep_seconds > 0")


def _check_dtmf(tone: Tone) -> None:
    _check_unpitched(tone)
    if not isinstance(tone.digits, str) or not tone.digits:
        raise ValueError("dtmf needs at least one digit")
    bad = sorted({d for d in tone.digits.upper() if d not in DTMF_FREQUENCIES})
    if bad:
        raise ValueError(f"not DTMF keys: {''.join(bad)!r} (use 0-9, *, #, A-D)")
    if tone.digit_on <= 0 or tone.digit_off < 0:
        raise ValueError("digit_on must be > 0 and digit_off >= 0 seconds")


def _check_unpitched(tone: Tone) -> None:
    """Noise and DTMF ignore ``frequency`` (0 by their builders), but a negative one is still refused."""
    if tone.frequency < 0:
        raise ValueError(f"frequency must be >= 0 Hz, got {tone.frequency}")
    _check_frequency2(tone)


_WAVEFORM_CHECKS: dict[str, Callable[[Tone], None]] = {
    "sweep": _check_sweep, "dtmf": _check_dtmf, "white": _check_unpitched, "pink": _check_unpitched,
}
"""Each waveform's own checks; the periodic waveforms (sine, square, sawtooth, triangle) use the default."""


def _hz(f: float) -> str:
    return f"{f:g}"


def _level(amplitude: float, amplitude_db: float | None) -> float:
    return dbfs(amplitude_db) if amplitude_db is not None else amplitude


def _periodic(waveform: str, frequency: float, amplitude: float, amplitude_db: float | None,
              **options: Unpack[PeriodicOptions]) -> Tone:
    return Tone(waveform=waveform, frequency=frequency, amplitude=_level(amplitude, amplitude_db), **options)


def sine(frequency: float = 440.0, amplitude: float = 0.5, *, amplitude_db: float | None = None,
         **options: Unpack[PeriodicOptions]) -> Tone:
    """A sine tone. ``options`` are other `Tone` fields (pan, fade_in, fade_out, duration, cadence, frequency2)."""
    return _periodic("sine", frequency, amplitude, amplitude_db, **options)


def square(frequency: float = 440.0, amplitude: float = 0.5, *, amplitude_db: float | None = None,
           **options: Unpack[PeriodicOptions]) -> Tone:
    """A square wave (naive, +-amplitude, 50 % duty)."""
    return _periodic("square", frequency, amplitude, amplitude_db, **options)


def sawtooth(frequency: float = 440.0, amplitude: float = 0.5, *, amplitude_db: float | None = None,
             **options: Unpack[PeriodicOptions]) -> Tone:
    """A rising sawtooth (naive), starting at 0."""
    return _periodic("sawtooth", frequency, amplitude, amplitude_db, **options)


def triangle(frequency: float = 440.0, amplitude: float = 0.5, *, amplitude_db: float | None = None,
             **options: Unpack[PeriodicOptions]) -> Tone:
    """A triangle wave, starting at 0 and rising."""
    return _periodic("triangle", frequency, amplitude, amplitude_db, **options)


def white_noise(amplitude: float = 0.5, *, amplitude_db: float | None = None, seed: int | None = None,
                **options: Unpack[ToneOptions]) -> Tone:
    """Uniform white noise in [-amplitude, amplitude]; reproducible with ``seed``."""
    return Tone(waveform="white", frequency=0.0, amplitude=_level(amplitude, amplitude_db), seed=seed, **options)


def pink_noise(amplitude: float = 0.5, *, amplitude_db: float | None = None, seed: int | None = None,
               **options: Unpack[ToneOptions]) -> Tone:
    """Pink (1/f, -3 dB/octave) noise bounded by ``amplitude``; reproducible with ``seed``."""
    return Tone(waveform="pink", frequency=0.0, amplitude=_level(amplitude, amplitude_db), seed=seed, **options)


def sweep(
    f0: float,
    f1: float,
    seconds: float,
    amplitude: float = 0.5,
    *,
    amplitude_db: float | None = None,
    repeat: bool = False,
    **options: Unpack[ToneOptions],
) -> Tone:
    """A logarithmic (exponential) sine sweep from ``f0`` to ``f1`` Hz over ``seconds``.

    It finishes after one sweep unless ``repeat`` (then it starts again at ``f0``, phase-continuously).
    """
    if not repeat:
        options.setdefault("duration", seconds)
    return Tone(
        waveform="sweep",
        frequency=f0,
        sweep_end=f1,
        sweep_seconds=seconds,
        amplitude=_level(amplitude, amplitude_db),
        **options,
    )


def dtmf(
    digits: str,
    amplitude: float = 0.5,
    *,
    amplitude_db: float | None = None,
    on: float = 0.1,
    off: float = 0.1,
    **options: Unpack[ToneOptions],
) -> Tone:
    """DTMF key tones: each key's two frequencies (each at amplitude/2) for ``on`` s, then ``off`` s silence."""
    if isinstance(digits, str):
        options.setdefault("duration", len(digits) * (on + off) if digits else None)
    return Tone(
        waveform="dtmf",
        frequency=0.0,
        digits=digits,
        digit_on=on,
        digit_off=off,
        amplitude=_level(amplitude, amplitude_db),
        **options,
    )


def beeps(tone: Tone, on: float = 0.2, off: float = 0.2, *, count: int | None = None) -> Tone:
    """``tone`` switched on for ``on`` s and off for ``off`` s, repeatedly (``count`` times, or forever)."""
    if not isinstance(tone, Tone):
        raise TypeError(f"beeps() needs a Tone, got {type(tone).__name__}")
    duration = tone.duration
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, Integral) or count < 1:
            raise ValueError(f"count must be a positive int, got {count!r}")
        duration = count * (float(on) + float(off))
    return replace(tone, cadence=(on, off), duration=duration)


def ring(tone: Tone | None = None, cadence: str | tuple[float, ...] = "us") -> Tone:
    """A telephone ring cadence ("us" 2/4 s, "uk" 0.4/0.2/0.4/2 s, "eu" 1/4 s, or your own tuple).

    The default tone is the North American ringback, 440 + 480 Hz at -6 dBFS.
    """
    if tone is None:
        tone = sine(440.0, 0.5, frequency2=480.0)
    if isinstance(cadence, str):
        try:
            cadence = RING_CADENCES[cadence]
        except KeyError:
            raise ValueError(f"unknown ring cadence {cadence!r}; known: {sorted(RING_CADENCES)}") from None
    return replace(tone, cadence=tuple(cadence))
