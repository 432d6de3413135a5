"""Running a scenario on the simulated service, on virtual time, and checking its expectations.

The runner opens a Lab (``clock="virtual"``, the chosen policy and its settings), records every event and
every meter frame (100 per second), walks the timeline (actions and expectations in time order, actions
first at one instant) and returns a :class:`ScenarioResult`. Gains are *measured*: the session's metered
peak (after volume and focus gain, over the 10 ms ending at ``t``) divided by the tone's amplitude times
the session volume, so a duck and its fade are seen in the signal, not only in the event fields.

By default only the blocks that a measurement needs are rendered (*probing*, see
:mod:`audiolab.backends.sim.audio`): the two blocks before each action, each expectation and the end, the
last block of each tone, and the three blocks from each change (a start, a stop, a volume, a focus fade's
start and end); the rest of the time only moves on. Between
two probed blocks every gain is constant or moves linearly, so the gain series, its minimum and its last
value are those of the every-block run. ``every_block=True`` renders and meters every block at 100 frames
a second instead (the reference the fast path is tested against, and the series a plot of every frame needs).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from .._exceptions import FocusDeniedError, PolicyError, ScenarioError, SessionNotFound, StreamNotFound
from ..events import (
    DuckNotification,
    Event,
    FocusDenied,
    InterruptEvent,
    SessionCreated,
    SessionDeactivated,
    StateChanged,
    UnduckNotification,
    VolumeChanged,
)
from ..focus.request import FocusRequest
from ..model import SessionState, StreamState
from ..reason import Reason
from .format import Action, Expectation, Scenario
from .meterlog import MeterLog, record_meters
from .narrate import FOCUS_EVENTS, Narrator, role_word
from .shipped import resolve

METER_RATE = 100.0
CADENCED = ("ring", "beeps")


@dataclass(frozen=True)
class Transition:
    """One row of the transitions table: at ``t``, ``subject`` changed (``kind``), because of ``cause``."""

    t: float
    kind: str
    subject: str
    cause: str | None
    text: str
    why: Reason | None = None
    """The policy and rule behind a focus transition (None for actions and state changes)."""

    def to_dict(self) -> dict[str, Any]:
        return {"t": round(self.t, 4), "kind": self.kind, "subject": self.subject, "cause": self.cause,
                "text": self.text, "why": None if self.why is None else self.why.to_dict()}


@dataclass(frozen=True)
class CheckResult:
    """One checked key of an expectation, with what was observed."""

    at: float
    subject: str
    what: str
    expected: Any
    observed: Any
    passed: bool
    line: int | None = None
    note: str = ""

    def describe(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        observed = f"{self.observed:.3f}" if isinstance(self.observed, float) else self.observed
        expected = f"{self.expected:.3f}" if isinstance(self.expected, float) else self.expected
        where = f" (line {self.line})" if self.line else ""
        return f"{mark} t={self.at:g}s {self.subject}: {self.what} {expected} -> observed {observed}{where}"

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "subject": self.subject, "check": self.what, "expected": self.expected,
                "observed": None if self.observed is None else _round(self.observed), "passed": self.passed,
                "line": self.line, "note": self.note}


@dataclass
class PlayerSummary:
    """What happened to one player over the whole run."""

    id: str
    app: str
    role: str
    session_id: str | None = None
    state: str = "stopped"
    denied: bool = False
    paused_by_policy: bool = False
    stopped_by_policy: bool = False
    min_gain: float | None = None
    final_gain: float | None = None
    duck_notifications: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: _round(v) for k, v in vars(self).items()}


@dataclass
class ScenarioResult:
    """What a scenario run did: its transitions, its players at the end and each expectation checked."""

    scenario: Scenario
    policy: str
    transitions: list[Transition]
    checks: list[CheckResult]
    players: dict[str, PlayerSummary]
    gains: dict[str, list[tuple[float, float]]]
    """Measured gain of each player (continuous tones) at every meter frame while it was started (with probing,
    at every probed block: the gain is constant or moves linearly between two of them)."""
    virtual_seconds: float
    wall_seconds: float
    audio: Any = None
    """With ``record_audio=True``: the mix of the default render device (frames x channels, float32)."""
    sample_rate: int = 48000
    requests: dict[str, FocusRequest] = field(default_factory=dict)
    """What each started player asked the focus engine (its role, device, app), to explain outcomes."""
    events: list[Event] = field(default_factory=list)
    """Every event the run produced, in order."""
    every_block: bool = False
    """Whether every block was rendered and metered (else only the probed ones)."""
    blocks_rendered: int = 0

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    @property
    def speedup(self) -> float:
        return self.virtual_seconds / self.wall_seconds if self.wall_seconds > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "description": self.scenario.description,
            "policy": self.policy,
            "passed": self.passed,
            "virtual_seconds": self.virtual_seconds,
            "wall_seconds": round(self.wall_seconds, 4),
            "speedup": round(self.speedup, 1),
            "rendered": "every block" if self.every_block else "probed blocks",
            "blocks_rendered": self.blocks_rendered,
            "transitions": [t.to_dict() for t in self.transitions],
            "expectations": [c.to_dict() for c in self.checks],
            "players": {k: p.to_dict() for k, p in self.players.items()},
        }


def run_scenario(
    path_or_scenario: str | Path | Scenario, policy: str | None = None, *, record_audio: bool = False,
    every_block: bool = False,
) -> ScenarioResult:
    """Run a scenario (a shipped name, a path, or a parsed :class:`Scenario`) under ``policy`` (default:
    the scenario's own) on virtual time and check the expectations that apply to that policy.
    ``every_block=True`` renders and meters every 10 ms block (slower; see the module's docstring).

    Synchronous: it runs its own event loop. Inside async code use :func:`run_scenario_async`."""
    return anyio.run(lambda: run_scenario_async(path_or_scenario, policy, record_audio=record_audio,
                                                every_block=every_block))


async def run_scenario_async(
    path_or_scenario: str | Path | Scenario, policy: str | None = None, *, record_audio: bool = False,
    every_block: bool = False,
) -> ScenarioResult:
    """:func:`run_scenario` inside a running event loop (asyncio or trio)."""
    if not isinstance(every_block, bool):
        raise TypeError(f"every_block must be a bool, not {type(every_block).__name__}")
    scenario = path_or_scenario if isinstance(path_or_scenario, Scenario) else resolve(path_or_scenario)
    policy = policy or scenario.policy
    focus_policy = _policy(policy, scenario.settings.get(policy, {}))
    sink = _MixRecorder() if record_audio else None
    started = time.perf_counter()
    from .. import open as open_lab  # noqa: PLC0415

    async with open_lab("sim", clock="virtual", policy=focus_policy, output=sink) as lab, \
            lab.events(max_buffer=1 << 16) as events, _meter_log(lab, every_block) as meters:
        run = _Run(lab, scenario, policy, meters)
        timeline: list[tuple[float, int, Action | Expectation]] = (
            [(a.at, 0, a) for a in scenario.actions if a.applies_to(policy)]
            + [(e.at, 1, e) for e in scenario.expectations if e.applies_to(policy)]
        )
        if not meters.live:  # the blocks before each action, expectation and the end: what they measure
            for at in {at for at, _, _ in timeline} | {scenario.duration}:
                lab.sim.engine.want_probe(at)
        failure: ScenarioError | None = None
        for at, _, item in sorted(timeline, key=lambda x: (x[0], x[1])):
            await run.advance_to(at, events)
            if isinstance(item, Action):
                try:
                    await run.apply(item, events)
                except ScenarioError as exc:  # raised below, not from inside the Lab's task group
                    failure = exc
                    break
            else:
                run.check(item)
        if failure is None:
            await run.advance_to(scenario.duration, events)
            result = run.result(time.perf_counter() - started)
            result.sample_rate = lab.sim.engine.audio.sample_rate
            result.every_block = meters.live
            result.blocks_rendered = lab.sim.engine.audio.blocks_rendered
    if failure is not None:
        raise failure
    if sink is not None:
        result.audio = sink.mix()
    return result


_POLICIES: dict[str, Any] = {}


def _policy(name: str, settings: dict[str, Any]) -> Any:
    """The policy with its settings; a bundled one is read and checked once per process (policies are frozen
    values), a policy file every time (it may have been edited)."""
    from ..focus import load_policy  # noqa: PLC0415 - keep `import audiolab` light
    from ..focus.policy import BUILTIN  # noqa: PLC0415

    if name not in BUILTIN:
        return load_policy(name, **settings)
    key = f"{name} {json.dumps(settings, sort_keys=True, default=repr)}"
    if key not in _POLICIES:
        _POLICIES[key] = load_policy(name, **settings)
    return _POLICIES[key]


@asynccontextmanager
async def _meter_log(lab: Any, every_block: bool) -> AsyncIterator[MeterLog]:
    """Every meter frame at 100 a second, or (probing) the frames of the blocks the engine probes."""
    if every_block:
        async with record_meters(lab, METER_RATE) as meters:
            yield meters
        return
    engine = lab.sim.engine
    engine.start_probing()
    yield MeterLog(METER_RATE, engine.probe_frames)


class _MixRecorder:
    """A sink object for the ``output`` option: keeps every block of the mix."""

    def __init__(self) -> None:
        self.blocks: list[Any] = []

    def write(self, block: Any) -> None:
        self.blocks.append(block.copy())

    def close(self) -> None:
        pass

    def mix(self) -> Any:
        import numpy as np  # noqa: PLC0415

        return np.concatenate(self.blocks) if self.blocks else np.zeros((0, 2), dtype=np.float32)


@dataclass
class _Player:
    action: Action
    playback: Any = None
    session_id: str | None = None
    denied: bool = False
    app_paused: bool = False
    app_stopped_at: float | None = None
    ended_at: float | None = None
    paused_by_policy: bool = False
    stopped_by_policy: bool = False
    duck_notes: int = 0
    unduck_notes: int = 0
    last_hint: str = "none"
    last_told: str = "none"
    app_paused_at: list[tuple[float, float]] = field(default_factory=list)
    """Intervals its app had it paused (left out of its gain series)."""
    levels: list[tuple[float, float]] = field(default_factory=list)
    """(t, volume x (0 if muted)) from each VolumeChanged: to divide the session volume out of a peak."""

    def level_at(self, t: float) -> float:
        level = 1.0
        for when, value in self.levels:
            if when > t + 1e-9:
                break
            level = value
        return level

    @property
    def id(self) -> str:
        return self.action.params["id"]

    @property
    def continuous(self) -> bool:
        return self.action.params["tone"] not in CADENCED


@dataclass
class _Run:
    lab: Any
    scenario: Scenario
    policy: str
    meters: MeterLog
    players: dict[str, _Player] = field(default_factory=dict)
    by_session: dict[str, _Player] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    deactivated: dict[str, str] = field(default_factory=dict)
    narrator: Narrator = field(default_factory=Narrator)
    requests: dict[str, FocusRequest] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    @property
    def engine(self) -> Any:
        return self.lab.sim.engine

    async def advance_to(self, t: float, events: Any) -> None:
        now = self.lab.clock.now()
        if t > now:
            await self.lab.sleep(t - now)
        await self.meters.caught_up(t)
        self._take(events)

    # --- actions ---------------------------------------------------------------------------------------

    async def apply(self, action: Action, events: Any) -> None:
        p, lab = action.params, self.lab
        player = self.players.get(p.get("id", ""))
        text = _action_text(action)
        self._row(action.at, f"do:{action.do}", p.get("id") or p.get("app") or self.policy, None, text)
        if action.do == "start":
            await self._start(action, events)
        elif action.do == "stop":
            assert player is not None
            if player.playback is not None and not player.playback.finished:
                player.app_stopped_at = action.at
                await player.playback.stop()
        elif action.do in ("pause", "resume"):
            assert player is not None
            if player.playback is not None and not player.playback.finished:
                player.app_paused = action.do == "pause"
                if action.do == "pause":
                    player.app_paused_at.append((action.at, self.scenario.duration))
                elif player.app_paused_at:
                    player.app_paused_at[-1] = (player.app_paused_at[-1][0], action.at)
                try:
                    await (player.playback.pause() if action.do == "pause" else player.playback.resume())
                except FocusDeniedError:
                    player.denied = True
        elif action.do == "activate":
            await lab.session_manager(p["app"]).activate(p["mode"])
        elif action.do == "deactivate":
            try:
                await lab.session_manager(p["app"]).deactivate()
            except SessionNotFound as exc:  # not activated (or timed out already): HarmonyOS's 6800301
                self._row(action.at, "error", p["app"], None, str(exc))
        elif action.do == "volume":
            assert player is not None
            if player.session_id is not None and not player.denied:
                if "volume" in p:
                    await lab.set_volume(player.session_id, p["volume"])
                if "mute" in p:
                    await lab.set_mute(player.session_id, p["mute"])
        elif action.do == "set_policy":
            current = lab.sim.policy
            name = p["use"] or current.name
            settings = dict(p["settings"]) if p["use"] else {**current.settings, **p["settings"]}
            try:
                await lab.set_policy(name, **settings)
            except PolicyError as exc:  # under a policy the file was not checked against (run --policy)
                raise ScenarioError(f"[[action]] #{action.index + 1}: under {self.policy}: {exc}",
                                    path=self.scenario.path, line=action.line) from None
        elif action.do == "opt_out":
            assert player is not None
            if player.session_id is not None and not player.denied:
                self.engine.set_ducking_opt_out(player.session_id, p["value"])
        await anyio.lowlevel.checkpoint()
        self._take(events)

    async def _start(self, action: Action, events: Any) -> None:
        from ..tones import beeps, ring, sawtooth, sine, square, triangle  # noqa: PLC0415

        p = action.params
        player = _Player(action)
        self.players[player.id] = player
        builders = {"sine": sine, "square": square, "triangle": triangle, "sawtooth": sawtooth}
        if p["tone"] == "ring":
            tone = ring(sine(p["frequency"], p["amplitude"]))
        elif p["tone"] == "beeps":
            tone = beeps(sine(p["frequency"], p["amplitude"]), on=0.2, off=0.2)
        else:
            tone = builders[p["tone"]](p["frequency"], p["amplitude"])
        try:
            player.playback = await self.lab.play(tone, role=p["role"], app=p["app"], display_name=player.id,
                                                  device=p["device"], duration=p["duration"], focus=p["focus"])
        except FocusDeniedError:
            player.denied = True
            seen = _drain(events)
            # the denied session existed for an instant: its SessionCreated event names it
            created = [e.session_id for e in seen if isinstance(e, SessionCreated) and e.session.app == p["app"]]
            self._note(player, created[-1] if created else None)
            for event in seen:
                self._event(event)
            return
        self._note(player, player.playback.session_id)
        self.requests[player.id] = self.engine.focus_request(player.playback.stream_id)
        session = self.lab.session(player.session_id)  # a persisted volume applies from the start
        player.levels.append((action.at, 0.0 if session.muted else session.volume))
        if self._tone_ended not in self.engine.stream_listeners:
            self.engine.stream_listeners.append(self._tone_ended)

    def _note(self, player: _Player, session_id: str | None) -> None:
        player.session_id = session_id
        if session_id is not None:
            self.by_session[session_id] = player
            self.narrator.add(session_id, player.id, player.action.params["role"])

    def _tone_ended(self, stream_id: str) -> None:
        for player in self.players.values():
            if player.playback is not None and getattr(player.playback, "stream_id", None) == stream_id:
                player.ended_at = self.engine.now

    # --- events ----------------------------------------------------------------------------------------

    def _take(self, events: Any) -> None:
        for event in _drain(events):
            self._event(event)

    def _event(self, event: Event) -> None:
        self.events.append(event)
        player = self.by_session.get(event.session_id)
        if player is not None:
            if isinstance(event, DuckNotification):
                player.duck_notes += 1
            elif isinstance(event, UnduckNotification):
                player.unduck_notes += 1
            elif isinstance(event, InterruptEvent):
                player.last_hint = event.hint.value
                if event.native:
                    player.last_told = event.native
            elif isinstance(event, FocusDenied):
                player.denied = True
            elif isinstance(event, VolumeChanged):
                player.levels.append((event.timestamp, 0.0 if event.muted else event.volume))
        if isinstance(event, SessionDeactivated):
            self.deactivated[event.session_id] = event.reason.value
        if not isinstance(event, FOCUS_EVENTS):
            return
        if player is None and not isinstance(event, SessionDeactivated):
            return  # the system sounds session and other bystanders
        why = self._why(player, event) if isinstance(event, StateChanged) else ""
        text = self.narrator.sentence(event, why=why)
        if text is None:
            return
        cause = getattr(event, "cause_session_id", None) or getattr(event, "communications_session_id", None)
        self._row(event.timestamp, event.kind, self.narrator.name(event.session_id),
                  self.narrator.name(cause) if cause else None, text, getattr(event, "why", None))

    def _why(self, player: _Player | None, event: StateChanged) -> str:
        if player is None or event.new is not SessionState.INACTIVE:
            return ""
        if player.app_stopped_at is not None or player.app_paused:
            return "by its app"
        if player.ended_at is not None:
            return "its tone ended"
        focus = self._focus(player)
        if focus is not None and focus.paused:
            player.paused_by_policy = True
            causes = ", ".join(self.narrator.cause(sid) for sid, _ in focus.causes)
            return f"paused by {causes or 'the policy'}"
        player.stopped_by_policy = True
        return "stopped by the policy"

    def _focus(self, player: _Player) -> Any:
        if player.playback is None or player.denied:
            return None
        return self.engine.focus.focus_of(player.session_id, player.playback.stream_id)

    def _row(self, t: float, kind: str, subject: str, cause: str | None, text: str, why: Reason | None = None) -> None:
        self.transitions.append(Transition(t, kind, subject, cause, text, why))

    # --- observations ----------------------------------------------------------------------------------

    def state(self, player: _Player) -> str:
        if player.denied:
            return "denied"
        if player.playback is None:
            return "stopped"
        try:
            running = self.engine.stream(player.playback.stream_id).state is StreamState.RUNNING
        except StreamNotFound:
            return "stopped"
        if running:
            return "playing"
        focus = self._focus(player)
        if player.app_paused or (focus is not None and focus.paused):
            return "paused"
        return "stopped"

    def gain_at(self, player: _Player, t: float) -> float | None:
        """Measured gain: the metered peak over the frame ending at ``t`` / (amplitude x volume)."""
        if player.session_id is None or player.denied:
            return 0.0 if player.denied else None
        frame = self.meters.at(t)
        if not self.meters.live and frame is not None and frame.timestamp < t - 1.5 / METER_RATE:
            frame = None  # no block was rendered there: nothing played
        if frame is None or player.session_id not in frame.peaks:
            return 0.0
        level = player.level_at(frame.timestamp - 0.5 / METER_RATE)
        if level <= 0:
            return None
        return frame.peaks[player.session_id] / (player.action.params["amplitude"] * level)

    def check(self, expectation: Expectation) -> None:
        for check in expectation.checks:
            observed, passed = self._observe(expectation, check.what, check.expected)
            self.checks.append(CheckResult(expectation.at, expectation.subject, check.what, check.expected,
                                           observed, passed, check.line, expectation.note))

    def _observe(self, e: Expectation, what: str, expected: Any) -> tuple[Any, bool]:
        if e.subject_kind == "app":
            if what == "activated":
                observed = bool(self.engine.is_session_activated(e.subject))
            else:
                observed = self.deactivated.get(e.subject, False)
            return observed, observed == expected
        player = self.players.get(e.subject)
        if player is None:  # its start is scoped to another policy
            return "not started", False
        if what in ("gain", "gain_max", "gain_min"):
            gain = self.gain_at(player, e.at)
            if gain is None:
                return None, False
            tol = e.tolerance
            ok = {"gain": abs(gain - expected) <= tol, "gain_max": gain <= expected + tol,
                  "gain_min": gain >= expected - tol}[what]
            return gain, ok
        observed = {"state": lambda: self.state(player), "duck_notifications": lambda: player.duck_notes,
                    "unduck_notifications": lambda: player.unduck_notes,
                    "interrupt": lambda: player.last_hint, "told": lambda: player.last_told}[what]()
        return observed, observed == expected

    # --- the result ------------------------------------------------------------------------------------

    def result(self, wall: float) -> ScenarioResult:
        gains: dict[str, list[tuple[float, float]]] = {}
        summaries = {}
        end = self.scenario.duration
        for pid, player in self.players.items():
            p = player.action.params
            summary = PlayerSummary(pid, p["app"], p["role"].value, player.session_id, self.state(player),
                                    player.denied, player.paused_by_policy, player.stopped_by_policy,
                                    duck_notifications=player.duck_notes)
            if player.continuous and player.session_id is not None and not player.denied:
                stop = min(x for x in (player.app_stopped_at, player.ended_at, end) if x is not None)
                # skip the frames that straddle its start and its end (partly silent by construction)
                series = [(f.timestamp, g) for f in self.meters.frames
                          if player.action.at + 2 / METER_RATE < f.timestamp < stop - 0.5 / METER_RATE
                          and player.session_id in f.peaks
                          and not any(a <= f.timestamp <= b + 2 / METER_RATE for a, b in player.app_paused_at)
                          and (g := self.gain_at(player, f.timestamp)) is not None]
                gains[pid] = series
                if series:
                    summary.min_gain = min(g for _, g in series)
                    summary.final_gain = series[-1][1]
            summaries[pid] = summary
        return ScenarioResult(self.scenario, self.policy, self.transitions, self.checks, summaries, gains,
                              end, wall, requests=self.requests, events=self.events)


def _drain(events: Any) -> list[Event]:
    out = []
    while True:
        try:
            out.append(events.receive_nowait())
        except anyio.WouldBlock:
            return out


def _action_text(action: Action) -> str:
    p = action.params
    if action.do == "start":
        length = f" for {p['duration']:g} s" if p["duration"] else ""
        return f"{p['id']} ({role_word(p['role'])}) starts a {p['frequency']:g} Hz {p['tone']}{length} as app {p['app']!r}"
    if action.do in ("stop", "pause", "resume"):
        return f"{p['id']}'s app {action.do}s it"
    if action.do == "activate":
        return f"{p['app']} activates its audio session ({p['mode'].value})"
    if action.do == "deactivate":
        return f"{p['app']} deactivates its audio session"
    if action.do == "volume":
        parts = [f"volume {p['volume']:.2f}"] if "volume" in p else []
        parts += [("muted" if p["mute"] else "unmuted")] if "mute" in p else []
        return f"the user sets {p['id']}: {', '.join(parts)}"
    if action.do == "set_policy":
        settings = ", ".join(f"{k}={v}" for k, v in p["settings"].items())
        return f"policy -> {p['use'] or '(same)'}{' ' + settings if settings else ''}"
    if action.do == "opt_out":
        return f"{p['id']} {'opts out of' if p['value'] else 'opts back into'} ducking (takes effect on its next start)"
    return action.do


def _round(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value
