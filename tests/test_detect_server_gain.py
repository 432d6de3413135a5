"""The duck detector with a gain the server applies outside a session's own volume (WirePlumber 0.4's role
endpoint monitor volume): measured from that gain when the meter gives nothing to compare, named beside the
meter's figure when it does. The real server's case is in tests/backends/test_pulse_detect.py."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from audiolab._server_gain import ServerGain, server_step
from audiolab.detect import DuckDetector, Predicted
from audiolab.events import Ducked, SessionCreated, SessionRemoved, Unducked
from audiolab.model import Flow, MeterFrame, Role, Session, SessionKey, SessionState
from audiolab.reason import Reason

RATE = 30.0
RULE = Reason(policy="wireplumber-0.4", kind="wireplumber-0.4", text="Navigation ducks Multimedia.", predicted_gain=0.3)
MONITOR = "control.endpoint.multimedia.monitor"


def gain(value: float) -> ServerGain:
    return ServerGain(value, MONITOR, f"{value ** (1 / 3):.0%}", f"the volume of {MONITOR}")


def session(sid: str, role: Role) -> Session:
    key = SessionKey(guid="{00000000-0000-0000-0000-000000000001}", cross_process=False, pid=1,
                     device_id=f"control.endpoint.{sid}")
    return Session(id=sid, key=key, flow=Flow.RENDER, state=SessionState.ACTIVE, app=sid, role=role)


def run(level: Callable[[float], float], server: Callable[[float], float], *, predicted: Predicted | None,
        start: float = 4.0, stop: float = 9.0, seconds: float = 14.0) -> list:
    """Music plays; a navigation prompt plays from ``start`` to ``stop``. ``level(t)`` is the music's meter
    reading and ``server(t)`` the gain the server shows for it at ``t``."""
    now = [0.0]
    detector = DuckDetector(lambda playing, trigger, started: {"music": predicted} if predicted else {},
                            server_gain=lambda sid: gain(server(now[0])) if sid == "music" else None)
    detector.seed([session("music", Role.MUSIC)])
    found: list = []
    for i in range(int(seconds * RATE)):
        t = now[0] = i / RATE
        if i == int(start * RATE):
            detector.observe(SessionCreated(timestamp=t, session_id="nav", session=session("nav", Role.NAVIGATION)))
        if i == int(stop * RATE):
            detector.observe(SessionRemoved(timestamp=t, session_id="nav"))
        found += detector.feed(MeterFrame(t, {"music": level(t), "nav": 0.0}, {}, {}))
    return found


def ducked(t: float, low: float, start: float = 4.1, stop: float = 9.1) -> float:
    return low if start <= t < stop else 1.0


def test_a_duck_the_meter_cannot_see_is_measured_from_the_servers_gain():
    found = run(lambda t: 0.0, lambda t: ducked(t, 0.3), predicted=Predicted("duck", 0.3, RULE))
    duck, back = found
    assert isinstance(duck, Ducked) and isinstance(back, Unducked)
    assert duck.measured_db == pytest.approx(20 * math.log10(0.3)) and duck.gain == pytest.approx(0.3)
    assert duck.why.rule["measured_from"] == MONITOR and duck.why.rule["server_setting"] == "100% -> 67%"
    assert duck.why.text.startswith(RULE.text) and f"Measured as the volume of {MONITOR}: 100% -> 67% (-10.5 dB)" \
        in duck.why.text
    assert back.measured_db == pytest.approx(-20 * math.log10(0.3)) and back.why.released
    assert back.why.rule["server_setting"] == "67% -> 100%"


def test_when_the_mix_reflects_it_the_meters_figure_is_kept_and_the_setting_named():
    found = run(lambda t: 0.5 * ducked(t, 0.25), lambda t: ducked(t, 0.3), predicted=Predicted("duck", 0.3, RULE))
    duck, back = found
    assert duck.measured_db == pytest.approx(20 * math.log10(0.25), abs=0.01)  # the meter's figure, not 0.3
    assert duck.why.rule["measured_from"] == "meter" and "Measured on the meter" in duck.why.text
    assert back.measured_db == pytest.approx(-20 * math.log10(0.25), abs=0.01)


def test_nothing_is_reported_when_neither_the_meter_nor_the_server_shows_a_change():
    assert run(lambda t: 0.0, lambda t: 1.0, predicted=Predicted("duck", 0.3, RULE)) == []


def test_a_step_of_the_servers_gain_no_rule_predicts_is_unexplained_when_large_enough():
    (duck,) = [e for e in run(lambda t: 0.0, lambda t: ducked(t, 0.25), predicted=None) if isinstance(e, Ducked)]
    assert duck.why.kind == "unexplained" and duck.measured_db == pytest.approx(-12.04, abs=0.01)
    assert duck.why.rule["measured_from"] == MONITOR
    assert run(lambda t: 0.0, lambda t: ducked(t, 0.8), predicted=None) == []  # -1.9 dB: below the threshold


def test_a_step_must_hold_and_exceed_the_rounding_of_volumes():
    history = [(0.0, gain(1.0)), (5.0, gain(0.3))]
    assert server_step(history, 4.0, [6.0]) == (gain(1.0), gain(0.3))
    assert server_step(history, 4.0, [4.5]) is None  # not changed yet
    assert server_step(history, -1.0, [6.0]) is None  # unknown before
    assert server_step([(0.0, gain(1.0)), (5.0, gain(0.95))], 4.0, [6.0]) is None  # 0.45 dB
    assert server_step([(0.0, gain(1.0)), (5.0, gain(0.3)), (7.0, gain(1.0))], 4.0, [6.0, 8.0]) is None  # back up


def test_a_gain_the_server_changed_before_it_reported_the_trigger_still_counts():
    """On PipeWire a new stream is reported once its volume settles (up to 0.2 s), and WirePlumber may duck the
    music before that: the change is looked for from CORK_LEAD before the trigger."""
    found = run(lambda t: 0.0, lambda t: ducked(t, 0.3, start=3.7, stop=8.7), predicted=Predicted("duck", 0.3, RULE))
    assert [type(e) for e in found] == [Ducked, Unducked]
    assert found[0].measured_db == pytest.approx(20 * math.log10(0.3))
