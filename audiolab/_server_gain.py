"""A gain the server applies to a session outside its own volume, and how a duck measured from it is explained.

The duck detector (:mod:`audiolab.detect`) keeps, per session, each :class:`ServerGain` the backend reports
when it changes; around a trigger it compares the one in force just before it with the one at the end of the
after-window(s).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ._by_fields import by_fields
from .reason import Reason

STEP_DB = 0.5
"""A change of the server's gain smaller than this (dB) is no change (servers round volumes)."""


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class ServerGain:
    """A gain the server applies to a session outside the session's own volume, as the server shows it: a
    WirePlumber 0.4 role endpoint's monitor volume (see :mod:`audiolab.backends._pulse.endpoints`)."""

    gain: float
    """The linear amplitude gain (1.0: untouched, 0.0: silent)."""
    where: str
    """The server object that holds it (``control.endpoint.multimedia.monitor``)."""
    shown: str
    """Its setting as the server's own tools show it (``67%``)."""
    what: str
    """One phrase naming it, for a reason's text."""


def server_step(
    gains: Sequence[tuple[float, ServerGain]], before: float, ends: Iterable[float]
) -> tuple[ServerGain, ServerGain] | None:
    """The server's gain in force at ``before`` and, of those in force at each of ``ends``, the highest (a step
    down must hold over every window); None when either is unknown or they differ by less than STEP_DB."""
    old = _at(gains, before)
    news = [_at(gains, end) for end in ends]
    if old is None or not news or any(n is None for n in news):
        return None
    new = max((n for n in news if n is not None), key=lambda g: g.gain)
    if old.gain == new.gain or (old.gain > 0 and new.gain > 0 and abs(20 * math.log10(new.gain / old.gain)) < STEP_DB):
        return None
    return old, new


def measured_by(why: Reason, step: tuple[ServerGain, ServerGain], *, on_meter: bool) -> Reason:
    """``why`` with how the change was measured: on the session's meter (the server's setting named beside it)
    or, ``on_meter`` False, from the server's setting alone."""
    old, new = step
    if new.gain <= 0 or old.gain <= 0:
        change = "silence" if new.gain <= 0 else "from silence"
    else:
        change = f"{20 * math.log10(new.gain / old.gain):+.1f} dB"
    setting = f"{old.shown} -> {new.shown}"
    if on_meter:
        how = f"Measured on the meter; the server shows the change as {new.what}: {setting} ({change})."
    else:
        how = f"Measured as {new.what}: {setting} ({change}); the session's meter gave no level to compare."
    rule = {**why.rule, "measured_from": "meter" if on_meter else new.where, "server_setting": setting}
    return replace(why, text=f"{why.text} {how}", rule=rule)


def _at(gains: Sequence[tuple[float, ServerGain]], when: float) -> ServerGain | None:
    found = None
    for at, gain in gains:
        if at > when:
            break
        found = gain
    return found
