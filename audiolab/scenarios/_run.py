"""The state of one scenario run: its players, and the events it has seen turned into transitions.

:class:`Run` is shared by the parts of the runner: :mod:`._act` applies actions to it, :mod:`._measure`
observes it, :mod:`.runner` drives the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio

from ..events import (
    DuckNotification,
    Event,
    FocusDenied,
    InterruptEvent,
    SessionDeactivated,
    StateChanged,
    UnduckNotification,
    VolumeChanged,
)
from ..focus.request import FocusRequest
from ..model import SessionState
from ..reason import Reason
from .actions import StartAction
from .format import Scenario
from .meterlog import MeterLog
from .narrate import FOCUS_EVENTS, Narrator
from .result import CheckResult, Transition

METER_RATE = 100.0


@dataclass
class Player:
    """One started player as the run sees it: its playback, what its app did and what it was told."""

    action: StartAction
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
        return self.action.id

    @property
    def continuous(self) -> bool:
        return self.action.continuous


@dataclass
class Run:
    """One run of a scenario under one policy, on a Lab of the simulated service."""

    lab: Any
    scenario: Scenario
    policy: str
    meters: MeterLog
    players: dict[str, Player] = field(default_factory=dict)
    by_session: dict[str, Player] = field(default_factory=dict)
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
        self.take(events)

    def note(self, player: Player, session_id: str | None) -> None:
        """``player`` plays in session ``session_id`` (None: it never got one)."""
        player.session_id = session_id
        if session_id is not None:
            self.by_session[session_id] = player
            self.narrator.add(session_id, player.id, player.action.role)

    def tone_ended(self, stream_id: str) -> None:
        for player in self.players.values():
            if player.playback is not None and getattr(player.playback, "stream_id", None) == stream_id:
                player.ended_at = self.engine.now

    def focus(self, player: Player) -> Any:
        """The focus engine's record of the player's stream (None when it has none)."""
        if player.playback is None or player.denied:
            return None
        return self.engine.focus.focus_of(player.session_id, player.playback.stream_id)

    def row(self, t: float, kind: str, subject: str, cause: str | None, text: str, why: Reason | None = None) -> None:
        self.transitions.append(Transition(t, kind, subject, cause, text, why))

    # --- events ----------------------------------------------------------------------------------------

    def take(self, events: Any) -> None:
        for event in drain(events):
            self.event(event)

    def event(self, event: Event) -> None:
        self.events.append(event)
        player = self.by_session.get(event.session_id)
        if player is not None:
            _count(player, event)
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
        self.row(event.timestamp, event.kind, self.narrator.name(event.session_id),
                 self.narrator.name(cause) if cause else None, text, getattr(event, "why", None))

    def _why(self, player: Player | None, event: StateChanged) -> str:
        if player is None or event.new is not SessionState.INACTIVE:
            return ""
        if player.app_stopped_at is not None or player.app_paused:
            return "by its app"
        if player.ended_at is not None:
            return "its tone ended"
        focus = self.focus(player)
        if focus is not None and focus.paused:
            player.paused_by_policy = True
            causes = ", ".join(self.narrator.cause(sid) for sid, _ in focus.causes)
            return f"paused by {causes or 'the policy'}"
        player.stopped_by_policy = True
        return "stopped by the policy"


def _count(player: Player, event: Event) -> None:
    """What an event tells about its player: notifications, the last hint, a denial, its volume."""
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


def drain(events: Any) -> list[Event]:
    """Every event the subscription holds now, without waiting."""
    out = []
    while True:
        try:
            out.append(events.receive_nowait())
        except anyio.WouldBlock:
            return out
