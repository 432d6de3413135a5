"""Test tones to play through sessions: ``from audiolab.tones import sine, pink_noise, dtmf, ring``.

Builders return a :class:`Tone` description; ``lab.play(tone, ...)`` plays it through a session of its own.
"""

from .audio.synth import (
    PeriodicOptions,
    Tone,
    ToneOptions,
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

__all__ = (
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
