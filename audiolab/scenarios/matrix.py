"""The role matrix: for every pair of render roles, what a focus system does when a stream of the *incoming*
role starts while one of the *existing* role plays. Mix, duck (to what level), pause, stop or deny.

Each cell is computed by running the simulated service, not by reading the policy's table. A tone of the
existing role plays, one of the incoming role starts a second later, from another app, and the service runs
on until every fade has ended. The level is then *measured*: the peak of the block rendered there over the
tone's amplitude. So the matrix also checks the engine against the data (``tests/scenarios/test_matrix.py``
compares it with :mod:`.matrix_data` for the table-driven systems). Every cell carries its reason: the rule
that acted, or, where nothing did, why the rule that could have fired did not.

Only the blocks a measurement needs are rendered (see :mod:`audiolab.backends.sim.audio`), so the full
matrix of every pair under every shipped system takes seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._by_fields import by_fields
from .._exceptions import FocusDeniedError, StreamNotFound
from ..events import DuckNotification, Event, FocusDenied, InterruptEvent, UnduckNotification
from ..focus import FocusPolicy, load_policy
from ..focus.explain import why_nothing
from ..focus.policy import BUILTIN
from ..model import Role, StreamState
from ..reason import Reason

OUTCOMES = ("mix", "duck", "pause", "stop", "deny")
"""What can happen to a pair, from the mildest to the harshest."""

CAPTURE_ROLES = (Role.VOICE_RECOGNITION, Role.RECORDING)
RENDER_ROLES: tuple[Role, ...] = tuple(r for r in Role if r not in CAPTURE_ROLES)
"""The roles a played stream can have (every :class:`~audiolab.Role` but the two capture ones)."""

ABBREVIATIONS = {Role.UNKNOWN: "unkn", Role.MUSIC: "music", Role.MOVIE: "movie", Role.GAME: "game",
                 Role.AUDIOBOOK: "book", Role.NAVIGATION: "nav", Role.VOICE_COMMUNICATION: "call",
                 Role.VOICE_MESSAGE: "vmsg", Role.RINGTONE: "ring", Role.ALARM: "alarm", Role.NOTIFICATION: "notif",
                 Role.SYSTEM: "sys", Role.ASSISTANT: "asst", Role.ACCESSIBILITY: "a11y"}
"""A few letters per role, for grid headers."""

LEGEND = ("rows: the stream that plays; columns: the one that starts a second later (another app)\n"
          ".  both play    d.20  the playing one ducked to 0.20 (measured)    P  paused    S  stopped    "
          "X  the new one denied\nlower case and i.30: done to the new one instead (p paused, i.30 ducked)")

AMPLITUDE = 0.5
START = 1.0  # the incoming stream starts here (the existing one at 0)
SETTLE = 2.5  # seconds after it: past every fade of the shipped policies (Windows' 1 s is the longest)
FULL = 0.995  # a measured gain below this is a duck
PAIR_SECONDS = START + SETTLE
"""The virtual time one pair runs."""


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Cell:
    """What ``policy`` did to the pair (``existing`` playing, ``incoming`` starting).

    ``outcome`` is one of :data:`OUTCOMES`; ``target`` says whose stream it was done to ("existing",
    "incoming", or "" for a mix); ``level`` is the target's measured gain once every fade had ended (0.0
    when paused, stopped or denied; for a mix the lower of the two); ``told`` lists what the apps were told
    without the system acting itself (a SHARE hint, Android's and iOS's callbacks, Windows' notifications);
    ``why`` is the rule behind the outcome."""

    existing: Role
    incoming: Role
    outcome: str
    target: str
    level: float
    why: Reason | None
    told: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        """A few characters for a text grid: ``.`` mix, ``d.20`` duck, ``P`` pause, ``S`` stop, ``X`` deny;
        lower case (``p``, ``i.30``) when the incoming stream is the one acted on."""
        if self.outcome == "mix":
            return "."
        if self.outcome == "deny":
            return "X"
        if self.outcome == "duck":
            text = f"{self.level:.2f}".lstrip("0") or "0"
            return ("d" if self.target == "existing" else "i") + text
        letter = self.outcome[0].upper()
        return letter if self.target == "existing" else letter.lower()

    @property
    def label(self) -> str:
        """A phrase: "ducks music to 0.20", "pauses music", "denied", "mix"."""
        whom = self.existing.value if self.target == "existing" else self.incoming.value
        if self.outcome == "mix":
            return "both play"
        if self.outcome == "deny":
            return f"{self.incoming.value} is denied"
        if self.outcome == "duck":
            return f"{whom} ducked to {self.level:.2f}"
        return f"{whom} {'paused' if self.outcome == 'pause' else 'stopped'}"

    def to_dict(self) -> dict[str, object]:
        return {"existing": self.existing.value, "incoming": self.incoming.value, "outcome": self.outcome,
                "target": self.target, "level": round(self.level, 4), "label": self.label, "told": list(self.told),
                "why": None if self.why is None else self.why.to_dict()}


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class RoleMatrix:
    """Every cell of one policy, by (existing, incoming)."""

    policy: str
    roles: tuple[Role, ...]
    cells: dict[tuple[Role, Role], Cell]

    def cell(self, existing: Role, incoming: Role) -> Cell:
        return self.cells[(existing, incoming)]

    def counts(self) -> dict[str, int]:
        """How many cells have each outcome."""
        out = dict.fromkeys(OUTCOMES, 0)
        for cell in self.cells.values():
            out[cell.outcome] += 1
        return out

    def to_dict(self) -> dict[str, object]:
        return {"policy": self.policy, "roles": [r.value for r in self.roles], "counts": self.counts(),
                "cells": [self.cells[(e, i)].to_dict() for e in self.roles for i in self.roles]}


def role_matrix(policy: str | FocusPolicy, roles: Iterable[Role] = RENDER_ROLES, *,
                every_block: bool = False) -> RoleMatrix:
    """Run every (existing, incoming) pair of ``roles`` under ``policy`` (a name or a policy object).
    ``every_block=True`` renders every 10 ms block as a metered service does (slower, the same cells)."""
    focus_policy = load_policy(policy) if isinstance(policy, str) else policy
    if not isinstance(focus_policy, FocusPolicy):
        raise TypeError(f"policy must be a policy name or a FocusPolicy, not {type(policy).__name__}")
    if not isinstance(every_block, bool):
        raise TypeError(f"every_block must be a bool, not {type(every_block).__name__}")
    chosen = tuple(roles)
    bad = [r for r in chosen if not isinstance(r, Role) or r in CAPTURE_ROLES]
    if bad or not chosen:
        raise ValueError(f"roles must be render roles ({', '.join(r.value for r in RENDER_ROLES)}), got {bad or 'none'}")
    cells = {(e, i): run_pair(focus_policy, e, i, every_block=every_block) for e in chosen for i in chosen}
    return RoleMatrix(focus_policy.name, chosen, cells)


def role_matrices(policies: Iterable[str] = BUILTIN, roles: Iterable[Role] = RENDER_ROLES, *,
                  every_block: bool = False) -> list[RoleMatrix]:
    """:func:`role_matrix` for each policy (default: every shipped one), side by side."""
    chosen = tuple(roles)
    return [role_matrix(p, chosen, every_block=every_block) for p in policies]


def run_pair(policy: FocusPolicy, existing: Role, incoming: Role, *, every_block: bool = False) -> Cell:
    """Play ``existing``, start ``incoming`` a second later from another app, measure once the fades ended
    (:data:`PAIR_SECONDS` of virtual time)."""
    from ..backends.sim.engine import SimEngine  # noqa: PLC0415 - NumPy and the engine load on first use
    from ..tones import sine  # noqa: PLC0415

    events: list[Event] = []
    clock = [0.0]
    engine = SimEngine(emit=events.append, now=lambda: clock[0], policy=policy)
    engine.start_probing(around_changes=False)  # one measurement, at the end
    engine.audio.metering = every_block  # as if a meter listened: every block is rendered

    def advance(t: float) -> None:
        clock[0] = t
        engine.advance_to(t)

    old = engine.open_stream(pid=101, app="Existing", role=existing, tone=sine(440, AMPLITUDE), name=existing.value)
    engine.start_stream(old)
    advance(START)
    new = engine.open_stream(pid=102, app="Incoming", role=incoming, tone=sine(660, AMPLITUDE), name=incoming.value)
    old_sid, new_sid = engine.stream_session_id(old), engine.stream_session_id(new)
    requests = (engine.focus_request(old), engine.focus_request(new))
    denied = False
    try:
        engine.start_stream(new)
    except FocusDeniedError:
        denied = True
    end = PAIR_SECONDS
    engine.audio.want_block(round(end / engine.audio.block_seconds))  # the block that ends at `end`
    advance(end)
    frame = engine.probe_frames[-1] if engine.probe_frames else None

    def measured(session_id: str) -> float:
        peak = frame.peaks.get(session_id, 0.0) if frame is not None else 0.0
        return peak / AMPLITUDE

    told = tuple(dict.fromkeys(
        f"{'existing' if e.session_id == old_sid else 'incoming'}: {note}" for e in events
        if e.session_id in (old_sid, new_sid) and (note := _told(e))))
    denied = denied or any(isinstance(e, FocusDenied) and e.session_id == new_sid for e in events)
    if denied:
        return Cell(existing, incoming, "deny", "incoming", 0.0, _reason(events, new_sid), told)
    for target, stream, session_id in (("existing", old, old_sid), ("incoming", new, new_sid)):
        if not _running(engine, stream):
            focus = engine.focus.focus_of(session_id, stream)
            outcome = "pause" if focus.paused else "stop"
            return Cell(existing, incoming, outcome, target, 0.0, _reason(events, session_id), told)
    for target, session_id in (("existing", old_sid), ("incoming", new_sid)):
        level = measured(session_id)
        if level < FULL:
            return Cell(existing, incoming, "duck", target, level, _reason(events, session_id), told)
    level = min(measured(old_sid), measured(new_sid))
    return Cell(existing, incoming, "mix", "", level, why_nothing(policy, *requests), told)


def _running(engine: Any, stream_id: str) -> bool:
    try:
        return engine.stream(stream_id).state is StreamState.RUNNING
    except StreamNotFound:  # released when the policy stopped it for good
        return False


def _reason(events: list[Event], session_id: str) -> Reason | None:
    """The first reason given to the session that is not a release, from an event that acted on it (a duck, a
    pause, a denial) rather than one that only told it (a Windows duck notification) where there is one."""
    given = [e for e in events if e.session_id == session_id and (why := getattr(e, "why", None)) is not None
             and not why.released]
    acting = [e for e in given if not isinstance(e, (DuckNotification, UnduckNotification))]
    first = (acting or given)[:1]
    return first[0].why if first else None  # type: ignore[attr-defined]


def _told(event: Event) -> str:
    """What the app was told, for the events that tell an app something."""
    if isinstance(event, InterruptEvent):
        return event.native or f"{event.hint.value} ({event.force_type.value})"
    return type(event).__name__ if isinstance(event, (DuckNotification, UnduckNotification)) else ""


def matrix_report(matrices: Iterable[RoleMatrix]) -> str:
    """Each matrix as a text grid (see :data:`LEGEND`), with its counts."""
    out = []
    for m in matrices:
        names = [ABBREVIATIONS.get(r, r.value[:5]) for r in m.roles]
        out.append(f"{m.policy}:")
        out.append("       " + "".join(f"{n:>6}" for n in names))
        for role, name in zip(m.roles, names, strict=True):
            out.append(f"{name:>6} " + "".join(f"{m.cell(role, i).short:>6}" for i in m.roles))
        out.append("  " + ", ".join(f"{n} {k}" for k, n in m.counts().items()))
        out.append("")
    return "\n".join([*out, LEGEND])
