"""The ``[[expect]]`` entries of a scenario: what to check about a player or an app at a given time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._by_fields import by_fields
from ._tables import Table, Where, level, name, no_unknown, number, scope, time_of
from .actions import StartAction

STATES = ("playing", "paused", "stopped", "denied")
REASONS = ("timeout", "lower_priority")
DEFAULT_TOLERANCE = 0.03
PLAYER_CHECKS = frozenset({"gain", "gain_max", "gain_min", "state", "duck_notifications", "unduck_notifications",
                           "interrupt", "told"})
APP_CHECKS = frozenset({"activated", "deactivated"})
_EXPECT_KEYS = {"at", "id", "app", "policy", "tolerance", "note"} | PLAYER_CHECKS | APP_CHECKS
_HINTS = ("none", "duck", "unduck", "pause", "resume", "stop")


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Check:
    """One checked key of an expectation: ``what`` (e.g. "gain_max") and the expected value."""

    what: str
    expected: object
    line: int | None = None


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Expectation:
    """One ``[[expect]]`` entry: what to check about a player or an app at a given time."""

    at: float
    subject: str
    """A player id (``id = ...``) or an app name (``app = ...``)."""
    subject_kind: str  # "player" | "app"
    checks: tuple[Check, ...]
    policies: tuple[str, ...] = ()
    tolerance: float = DEFAULT_TOLERANCE
    note: str = ""
    line: int | None = None

    def applies_to(self, policy: str) -> bool:
        return not self.policies or policy in self.policies


def read_expectation(raw: Any, where: Where, players: dict[str, StartAction], apps: set[str]) -> Expectation:
    """The expectation of one ``[[expect]]`` table, about a started player or an app of the actions."""
    if not isinstance(raw, dict):
        raise where.error("an expectation must be a table")
    no_unknown(raw, _EXPECT_KEYS, where)
    at, policies = time_of(raw, where), scope(raw, where)
    if ("id" in raw) == ("app" in raw):
        raise where.error("an expectation is about one player ('id = ...') or one app ('app = ...')")
    kind = "player" if "id" in raw else "app"
    subject = name(raw, "id" if kind == "player" else "app", where)
    if kind == "player" and subject not in players:
        raise where.error(f"no player {subject!r} is started in this scenario", "id")
    if kind == "app" and subject not in apps:
        raise where.error(f"no app {subject!r} appears in this scenario's actions", "app")
    checks = _checks(raw, where, kind, players.get(subject))
    tolerance = raw.get("tolerance", DEFAULT_TOLERANCE)
    if not number(tolerance) or not 0 <= tolerance < 1:
        raise where.error(f"'tolerance' must be a linear gain in 0..1, got {tolerance!r}", "tolerance")
    note = raw.get("note", "")
    return Expectation(at, subject, kind, checks, policies, float(tolerance), str(note), where.line)


def _checks(raw: Table, where: Where, kind: str, player: StartAction | None) -> tuple[Check, ...]:
    allowed = PLAYER_CHECKS if kind == "player" else APP_CHECKS
    checks = []
    for key, value in raw.items():
        if key in PLAYER_CHECKS | APP_CHECKS and key not in allowed:
            raise where.error(f"{key!r} is checked on {'an app' if kind == 'player' else 'a player (id)'}", key)
        if key not in allowed:
            continue
        if key.startswith("gain") and player is not None and not player.continuous:
            raise where.error(f"{key!r} needs a continuous tone; {player.id!r} plays a "
                              f"{player.tone} cadence (silent half the time)", key)
        checks.append(Check(key, _expected(key, value, where), where.lines.key("expect", where.index, key)))
    if not checks:
        raise where.error(f"nothing to check; give one of {', '.join(sorted(allowed))}")
    return tuple(checks)


def _expected(key: str, value: Any, where: Where) -> Any:
    if key in ("gain", "gain_max", "gain_min"):
        return level(value, where, key)
    if key == "state":
        if value not in STATES:
            raise where.error(f"'state' must be one of {', '.join(STATES)}, got {value!r}", key)
    elif key in ("duck_notifications", "unduck_notifications"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise where.error(f"{key!r} must be a count >= 0, got {value!r}", key)
    elif key == "told":
        if not isinstance(value, str) or not value:
            raise where.error("'told' is the system's own name of the last focus callback (e.g. "
                              "\"AUDIOFOCUS_LOSS_TRANSIENT\", \"began\") or \"none\"", key)
    elif key == "interrupt":
        if value not in _HINTS:
            raise where.error(f"'interrupt' is the last InterruptEvent hint: one of {', '.join(_HINTS)}", key)
    elif key == "activated":
        if not isinstance(value, bool):
            raise where.error("'activated' must be true or false", key)
    elif key == "deactivated":
        if value is not False and value not in REASONS:
            raise where.error(f"'deactivated' must be a reason ({', '.join(REASONS)}) or false, got {value!r}", key)
    else:
        raise AssertionError(key)
    return value
