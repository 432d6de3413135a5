"""On/off cadences and DTMF tables: the time structure of beeps, rings and key tones.

A cadence is a tuple of seconds ``(on, off, on, off, ...)`` that repeats. The gate it produces has short
linear edges (``EDGE_SECONDS``) so that switching a tone on or off does not click.
"""

from __future__ import annotations

import numpy as np

PERIODIC_WAVEFORMS = ("sine", "square", "sawtooth", "triangle")
WAVEFORMS = (*PERIODIC_WAVEFORMS, "white", "pink", "sweep", "dtmf")

EDGE_SECONDS = 0.005
"""Length of the linear ramp at each on/off edge of a cadence, and of the shortest stop()."""

RING_CADENCES: dict[str, tuple[float, ...]] = {
    "us": (2.0, 4.0),  # North American ringback: 2 s on, 4 s off
    "uk": (0.4, 0.2, 0.4, 2.0),  # British double ring
    "eu": (1.0, 4.0),  # ETSI / most of continental Europe
}

DTMF_ROWS = (697.0, 770.0, 852.0, 941.0)
DTMF_COLUMNS = (1209.0, 1336.0, 1477.0, 1633.0)
_DTMF_KEYS = ("123A", "456B", "789C", "*0#D")
DTMF_FREQUENCIES: dict[str, tuple[float, float]] = {
    key: (DTMF_ROWS[r], DTMF_COLUMNS[c]) for r, row in enumerate(_DTMF_KEYS) for c, key in enumerate(row)
}
"""Digit -> (low, high) frequency in Hz, per ITU-T Q.23."""


def validate_cadence(cadence: tuple[float, ...]) -> tuple[float, ...]:
    """Return the cadence as a tuple of floats, or raise ValueError if it is not (on, off, ...) pairs."""
    values = tuple(float(x) for x in cadence)
    if len(values) % 2 or not values:
        raise ValueError(f"a cadence is (on, off, on, off, ...) in seconds, got {cadence!r}")
    if any(not np.isfinite(x) or x < 0 for x in values):
        raise ValueError(f"cadence durations must be finite and >= 0 seconds, got {cadence!r}")
    if sum(values[0::2]) <= 0:
        raise ValueError(f"a cadence needs some 'on' time, got {cadence!r}")
    return values


def gate(t: np.ndarray, cadence_frames: np.ndarray, edge_frames: int) -> np.ndarray:
    """The 0..1 on/off gain at absolute frame indices ``t`` (float64) for a cadence given in frames.

    Inside an 'on' segment the gain ramps linearly over ``edge_frames`` at both ends, so it is continuous.
    """
    bounds = np.concatenate(([0.0], np.cumsum(cadence_frames)))
    period = bounds[-1]
    pos = np.mod(t, period)
    seg = np.searchsorted(bounds, pos, side="right") - 1
    seg = np.minimum(seg, len(cadence_frames) - 1)
    start = bounds[seg]
    end = bounds[seg + 1]
    on = (seg % 2) == 0
    if edge_frames > 0:
        g = np.minimum(pos - start, end - pos) / edge_frames
        np.clip(g, 0.0, 1.0, out=g)
    else:
        g = np.ones_like(pos)
    g[~on] = 0.0
    return np.asarray(g)
