"""Observing a run: a player's state and measured gain, each expectation checked, and the final result."""

from __future__ import annotations

from typing import Any

from .._exceptions import StreamNotFound
from ..model import StreamState
from ._run import METER_RATE, Player, Run
from .expectations import Expectation
from .result import CheckResult, PlayerSummary, ScenarioResult


def state(run: Run, player: Player) -> str:
    """playing, paused, stopped or denied, as the expectations name them."""
    if player.denied:
        return "denied"
    if player.playback is None:
        return "stopped"
    try:
        running = run.engine.stream(player.playback.stream_id).state is StreamState.RUNNING
    except StreamNotFound:
        return "stopped"
    if running:
        return "playing"
    focus = run.focus(player)
    if player.app_paused or (focus is not None and focus.paused):
        return "paused"
    return "stopped"


def gain_at(run: Run, player: Player, t: float) -> float | None:
    """Measured gain: the metered peak over the frame ending at ``t`` / (amplitude x volume)."""
    if player.session_id is None or player.denied:
        return 0.0 if player.denied else None
    meters = run.meters
    frame = meters.at(t)
    if not meters.live and frame is not None and frame.timestamp < t - 1.5 / METER_RATE:
        frame = None  # no block was rendered there: nothing played
    if frame is None or player.session_id not in frame.peaks:
        return 0.0
    level = player.level_at(frame.timestamp - 0.5 / METER_RATE)
    if level <= 0:
        return None
    peak: float = frame.peaks[player.session_id]
    return peak / (player.action.amplitude * level)


def check(run: Run, expectation: Expectation) -> None:
    """Check every key of ``expectation`` now, adding a CheckResult for each to the run."""
    for item in expectation.checks:
        observed, passed = _observe(run, expectation, item.what, item.expected)
        run.checks.append(CheckResult(expectation.at, expectation.subject, item.what, item.expected,
                                      observed, passed, item.line, expectation.note))


def _observe(run: Run, e: Expectation, what: str, expected: Any) -> tuple[Any, bool]:
    if e.subject_kind == "app":
        observed: Any
        if what == "activated":
            observed = bool(run.engine.is_session_activated(e.subject))
        else:
            observed = run.deactivated.get(e.subject, False)
        return observed, observed == expected
    player = run.players.get(e.subject)
    if player is None:  # its start is scoped to another policy
        return "not started", False
    if what in ("gain", "gain_max", "gain_min"):
        gain = gain_at(run, player, e.at)
        if gain is None:
            return None, False
        tol = e.tolerance
        ok = {"gain": abs(gain - expected) <= tol, "gain_max": gain <= expected + tol,
              "gain_min": gain >= expected - tol}[what]
        return gain, ok
    observed = _told(run, player, what)
    return observed, observed == expected


def _told(run: Run, player: Player, what: str) -> str | int:
    """A player's state, notification counts or last callback, as an expectation names them."""
    match what:
        case "state":
            return state(run, player)
        case "duck_notifications":
            return player.duck_notes
        case "unduck_notifications":
            return player.unduck_notes
        case "interrupt":
            return player.last_hint
        case "told":
            return player.last_told
    raise AssertionError(what)


def result(run: Run, wall: float) -> ScenarioResult:
    """The run's result: its transitions and checks, and each player's summary and gain series."""
    gains: dict[str, list[tuple[float, float]]] = {}
    summaries = {}
    for pid, player in run.players.items():
        a = player.action
        summary = PlayerSummary(pid, a.app, a.role.value, player.session_id, state(run, player),
                                player.denied, player.paused_by_policy, player.stopped_by_policy,
                                duck_notifications=player.duck_notes)
        if player.continuous and player.session_id is not None and not player.denied:
            series = _series(run, player)
            gains[pid] = series
            if series:
                summary.min_gain = min(g for _, g in series)
                summary.final_gain = series[-1][1]
        summaries[pid] = summary
    return ScenarioResult(run.scenario, run.policy, run.transitions, run.checks, summaries, gains,
                          run.scenario.duration, wall, requests=run.requests, events=run.events)


def _series(run: Run, player: Player) -> list[tuple[float, float]]:
    """The player's measured gain at each frame while it played, without the frames that straddle its start,
    its end and its app's pauses (partly silent by construction)."""
    stop = min(x for x in (player.app_stopped_at, player.ended_at, run.scenario.duration) if x is not None)
    return [(f.timestamp, g) for f in run.meters.frames
            if player.action.at + 2 / METER_RATE < f.timestamp < stop - 0.5 / METER_RATE
            and player.session_id in f.peaks
            and not any(a <= f.timestamp <= b + 2 / METER_RATE for a, b in player.app_paused_at)
            and (g := gain_at(run, player, f.timestamp)) is not None]
