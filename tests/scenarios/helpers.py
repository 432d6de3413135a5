"""Shared by the focus-on-sim and scenario tests: meter recording and event draining."""

from __future__ import annotations

from audiolab.scenarios._run import drain
from audiolab.scenarios.meterlog import MeterLog, record_meters

__all__ = ("MeterLog", "drain", "gains_between", "metered")

metered = record_meters


def gains_between(log: MeterLog, session_id: str, t0: float, t1: float, amplitude: float) -> list[float]:
    """The session's metered gain (peak / tone amplitude) for each frame within (t0, t1]."""
    values = [peak / amplitude for _, peak in log.between(session_id, t0, t1)]
    assert values, f"no meter frames for {session_id} within ({t0}, {t1}]"
    return values
