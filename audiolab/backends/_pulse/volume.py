"""Volume scale: PulseAudio's volumes in audiolab's 0..1 scale.

PulseAudio stores a channel volume as an integer where ``PA_VOLUME_NORM`` (0x10000) is 100 %. ``pactl`` shows
that integer as a percentage; audiolab's ``volume`` is the same fraction: **audiolab volume = pactl % / 100**.
pulsectl already turns the integers into those fractions (raw / PA_VOLUME_NORM) both ways, so the conversions
here start from fractions: :func:`levels_from_fractions` / :func:`master_level` (what a session reports) and
:func:`gain_from_level` (what a meter measures, used by the ducking measurement).
It is PulseAudio's "software" (cubic) scale, so the amplitude gain a stream gets is ``volume ** 3`` (50 % ->
0.125, about -18 dB); :func:`gain_from_level` says so. PipeWire's pulse server uses the same cubic mapping.

PulseAudio allows volumes above 100 %; audiolab reports them capped at 1.0 (audiolab rejects levels above 1).
A session's master ``volume`` is its loudest channel; setting it scales every channel so the loudest one gets
the new value and the balance between channels is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

PA_VOLUME_NORM = 0x10000
PA_VOLUME_MAX = 0x7FFFFFFF


def levels_from_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    """pulsectl's per-channel fractions (raw / PA_VOLUME_NORM) as audiolab channel levels."""
    return tuple(min(1.0, max(0.0, f)) for f in fractions)


def master_level(fractions: Sequence[float]) -> float:
    """The master volume of a set of channel fractions: the loudest channel, capped at 1.0."""
    return min(1.0, max(fractions, default=0.0))


def scaled_to(fractions: Sequence[float], level: float) -> list[float]:
    """Channel fractions rescaled so the loudest channel is ``level``, keeping the balance.

    All-silent channels (nothing to keep) all get ``level``."""
    loudest = max(fractions, default=0.0)
    if loudest <= 0.0:
        return [level] * len(fractions)
    return [min(level, f / loudest * level) for f in fractions]  # f / loudest first: denormals stay exact


def gain_from_level(level: float) -> float:
    """The amplitude gain PulseAudio applies for a volume level (its cubic software scale)."""
    return level**3


def same_volume(a: Sequence[float], b: Sequence[float], tolerance: float = 1e-3) -> bool:
    """Whether two channel-fraction lists are the same volume (PipeWire rounds through floats)."""
    return len(a) == len(b) and all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))
