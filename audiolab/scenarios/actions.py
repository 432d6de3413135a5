"""The ``[[action]]`` entries of a scenario: one frozen dataclass per kind, each validated as it is read.

Every kind reads its table with ``_from_table(raw, where, at=..., policies=...)`` and raises a
:class:`ScenarioError` naming the key at fault; :func:`read_action` picks the kind from ``do``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from .._by_fields import by_fields
from ..focus.policy import PolicyError, load_policy
from ..focus.request import FocusAttributes
from ..model import ConcurrencyMode, Role
from . import _start_parts as start_parts
from ._tables import (
    MAX_SECONDS,
    POLICIES,
    Table,
    Where,
    check_policy,
    name,
    no_unknown,
    number,
    optional_name,
    scope,
    time_of,
)

TONES = ("sine", "square", "triangle", "sawtooth", "ring", "beeps")
CADENCED = ("ring", "beeps")
"""Tones that are silent half the time (no gain is measured on them)."""
_COMMON = {"at", "do", "policy"}
_PLACE = frozenset({"at", "policies", "line", "index"})


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Action:
    """One timeline entry: when (``at``), under which policies (all when empty), and where in the file
    (``line`` of its header, ``index`` among the file's [[action]] tables). Its kind is the subclass."""

    do: ClassVar[str] = ""
    keys: ClassVar[frozenset[str]] = frozenset()
    """The keys its table may hold besides at/do/policy."""

    at: float
    policies: tuple[str, ...] = ()
    line: int | None = None
    index: int = 0

    def __post_init__(self) -> None:
        _require(number(self.at) and 0 <= self.at <= MAX_SECONDS, f"at must be in 0..{MAX_SECONDS:g} s, got {self.at!r}")
        _require(all(p in POLICIES for p in self.policies), f"policies must be among {POLICIES}, got {self.policies!r}")

    def applies_to(self, policy: str) -> bool:
        return not self.policies or policy in self.policies

    @property
    def subject(self) -> str | None:
        """The player id or app it acts on (None for a policy change)."""
        return None

    @property
    def params(self) -> dict[str, object]:
        """The fields of its kind as a dict, for code written when actions were one class with a ``params``
        dict (read the fields instead)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _PLACE}

    @classmethod
    def _from_table(cls, raw: Table, where: Where, **common: Any) -> Action:
        """Read and check the keys of this kind (``common``: at, policies, line, index)."""
        raise NotImplementedError(f"{cls.__name__} is not an action kind of the file format")


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class PlayerAction(Action):
    """An action on one started player."""

    keys: ClassVar[frozenset[str]] = frozenset({"id"})
    id: str

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(isinstance(self.id, str) and bool(self.id.strip()), f"id must be a non-empty string, got {self.id!r}")

    @property
    def subject(self) -> str | None:
        return self.id

    def not_started(self, policy: str, start: StartAction | None) -> str:
        """Why no player of this id has started when this action runs under ``policy``; ``start`` is the
        scenario's start of that id (None: it has none)."""
        said = f"no player {self.id!r} has started by t={self.at:g}"
        if start is None:
            return said
        if not start.applies_to(policy):
            return f"under {policy}, {said} (its start is scoped to {', '.join(start.policies)})"
        return f"{said} (it starts at t={start.at:g}, after this action)"

    @classmethod
    def _from_table(cls, raw: Table, where: Where, **common: Any) -> PlayerAction:
        return cls(id=name(raw, "id", where), **common)


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class StartAction(PlayerAction):
    """``do = "start"``: a player starts a tone as an app, with a role and maybe focus attributes."""

    do: ClassVar[str] = "start"
    keys: ClassVar[frozenset[str]] = frozenset({
        "id", "app", "role", "usage", "tone", "frequency", "amplitude", "level_db", "duration", "device", "gain",
        "flags", "target_sdk", "category", "options", "mode", "notify_others", "media_role"})
    app: str
    role: Role
    tone: str = "sine"
    frequency: float = 440.0
    amplitude: float = 0.5
    duration: float | None = None
    device: str | None = None
    focus: FocusAttributes | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(isinstance(self.app, str) and bool(self.app.strip()), f"app must be a non-empty string, got {self.app!r}")
        _require(isinstance(self.role, Role), f"role must be a Role, got {self.role!r}")
        _require(self.tone in TONES, f"tone must be one of {TONES}, got {self.tone!r}")
        _require(number(self.frequency) and 20 <= self.frequency <= 20000,
                 f"frequency must be in 20..20000 Hz, got {self.frequency!r}")
        _require(number(self.amplitude) and 0 < self.amplitude <= 1,
                 f"amplitude must be in (0, 1], got {self.amplitude!r}")
        _require(self.duration is None or (number(self.duration) and self.duration > 0),
                 f"duration must be > 0 s or None, got {self.duration!r}")

    @property
    def continuous(self) -> bool:
        """Whether its tone sounds all the time (gains can be measured on it)."""
        return self.tone not in CADENCED

    @classmethod
    def _from_table(cls, raw: Table, where: Where, **common: Any) -> StartAction:
        pid = name(raw, "id", where)
        app = optional_name(raw, "app", where) or pid
        role = start_parts.role(raw, where)
        tone = raw.get("tone", "sine")
        if tone not in TONES:
            raise where.error(f"'tone' must be one of {', '.join(TONES)}, got {tone!r}", "tone")
        frequency = raw.get("frequency", 440.0)
        if not number(frequency) or not 20 <= frequency <= 20000:
            raise where.error(f"'frequency' must be in 20..20000 Hz, got {frequency!r}", "frequency")
        amplitude = start_parts.amplitude(raw, where)
        duration = raw.get("duration")
        if duration is not None and (not number(duration) or duration <= 0):
            raise where.error(f"'duration' must be > 0 seconds, got {duration!r}", "duration")
        return cls(id=pid, app=app, role=role, tone=tone, frequency=float(frequency), amplitude=amplitude,
                   duration=None if duration is None else float(duration), device=start_parts.device(raw, where),
                   focus=start_parts.attributes(raw, where, role), **common)


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class StopAction(PlayerAction):
    """``do = "stop"``: the player's app stops it."""

    do: ClassVar[str] = "stop"


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class PauseAction(PlayerAction):
    """``do = "pause"``: the player's app pauses it."""

    do: ClassVar[str] = "pause"


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ResumeAction(PlayerAction):
    """``do = "resume"``: the player's app resumes it."""

    do: ClassVar[str] = "resume"


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class VolumeAction(PlayerAction):
    """``do = "volume"``: the user sets the player's session volume and/or mute."""

    do: ClassVar[str] = "volume"
    keys: ClassVar[frozenset[str]] = frozenset({"id", "volume", "mute"})
    volume: float | None = None
    mute: bool | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(self.volume is not None or self.mute is not None, "a volume action sets volume and/or mute")
        _require(self.volume is None or (number(self.volume) and 0 <= self.volume <= 1),
                 f"volume must be in 0..1, got {self.volume!r}")
        _require(self.mute is None or isinstance(self.mute, bool), f"mute must be a bool, got {self.mute!r}")

    @classmethod
    def _from_table(cls, raw: Table, where: Where, **common: Any) -> VolumeAction:
        pid = name(raw, "id", where)
        if "volume" not in raw and "mute" not in raw:
            raise where.error("a volume action sets 'volume' (0..1) and/or 'mute' (true/false)")
        volume = raw.get("volume")
        if "volume" in raw and (not number(volume) or not 0 <= volume <= 1):
            raise where.error(f"'volume' must be in 0..1, got {volume!r}", "volume")
        mute = raw.get("mute")
        if "mute" in raw and not isinstance(mute, bool):
            raise where.error("'mute' must be true or false", "mute")
        return cls(id=pid, volume=None if volume is None else float(volume), mute=mute, **common)


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class OptOutAction(PlayerAction):
    """``do = "opt_out"``: the player opts out of (or back into) ducking, from its next start."""

    do: ClassVar[str] = "opt_out"
    keys: ClassVar[frozenset[str]] = frozenset({"id", "value"})
    value: bool = True

    @classmethod
    def _from_table(cls, raw: Table, where: Where, **common: Any) -> OptOutAction:
        pid = name(raw, "id", where)
        value = raw.get("value", True)
        if not isinstance(value, bool):
            raise where.error("'value' must be true or false", "value")
        return cls(id=pid, value=value, **common)


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class AppAction(Action):
    """An action of an app on its audio session (HarmonyOS's session manager)."""

    keys: ClassVar[frozenset[str]] = frozenset({"app"})
    app: str

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(isinstance(self.app, str) and bool(self.app.strip()), f"app must be a non-empty string, got {self.app!r}")

    @property
    def subject(self) -> str | None:
        return self.app

    @classmethod
    def _from_table(cls, raw: Table, where: Where, **common: Any) -> AppAction:
        return cls(app=name(raw, "app", where), **common)


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ActivateAction(AppAction):
    """``do = "activate"``: an app activates its audio session in a concurrency mode."""

    do: ClassVar[str] = "activate"
    keys: ClassVar[frozenset[str]] = frozenset({"app", "mode"})
    mode: ConcurrencyMode = ConcurrencyMode.DEFAULT

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(isinstance(self.mode, ConcurrencyMode), f"mode must be a ConcurrencyMode, got {self.mode!r}")

    @classmethod
    def _from_table(cls, raw: Table, where: Where, **common: Any) -> ActivateAction:
        app = name(raw, "app", where)
        mode = raw.get("mode", "default")
        try:
            concurrency = ConcurrencyMode(mode)
        except ValueError:
            known = ", ".join(m.value for m in ConcurrencyMode)
            raise where.error(f"unknown mode {mode!r}; known: {known}", "mode") from None
        return cls(app=app, mode=concurrency, **common)


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class DeactivateAction(AppAction):
    """``do = "deactivate"``: an app deactivates its audio session."""

    do: ClassVar[str] = "deactivate"


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class SetPolicyAction(Action):
    """``do = "set_policy"``: switch the policy (``use``) and/or change settings of the one in force."""

    do: ClassVar[str] = "set_policy"
    keys: ClassVar[frozenset[str]] = frozenset({"use", "settings"})
    use: str | None = None
    settings: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(self.use is None or self.use in POLICIES, f"use must be one of {POLICIES} or None, got {self.use!r}")
        _require(self.use is not None or bool(self.settings), "a set_policy action names a policy and/or settings")

    @classmethod
    def _from_table(cls, raw: Table, where: Where, **common: Any) -> SetPolicyAction:
        use = raw.get("use")
        if use is not None:
            check_policy(use, where, "use")
        settings = raw.get("settings", {})
        if not isinstance(settings, dict):
            raise where.error("'settings' must be a table, e.g. { ducking = \"reduce_50\" }", "settings")
        if use is None and not settings:
            raise where.error("a set_policy action names a policy ('use') and/or 'settings'")
        if use is not None:
            try:
                load_policy(use, **settings)
            except PolicyError as exc:
                raise where.error(str(exc), "settings") from None
        return cls(use=use, settings=dict(settings), **common)


KINDS: dict[str, type[Action]] = {kind.do: kind for kind in (
    StartAction, StopAction, PauseAction, ResumeAction, ActivateAction, DeactivateAction, VolumeAction,
    SetPolicyAction, OptOutAction)}
ACTIONS = tuple(KINDS)


def read_action(raw: Any, where: Where) -> Action:
    """The action of one ``[[action]]`` table, of the kind its ``do`` names."""
    if not isinstance(raw, dict):
        raise where.error("an action must be a table")
    do = raw.get("do")
    if do not in KINDS:
        raise where.error(f"'do' must be one of {', '.join(ACTIONS)}, got {do!r}", "do" if "do" in raw else None)
    kind = KINDS[do]
    no_unknown(raw, _COMMON | kind.keys, where)
    at, policies = time_of(raw, where), scope(raw, where)
    return kind._from_table(raw, where, at=at, policies=policies, line=where.line, index=where.index or 0)


def _require(condition: bool, message: str) -> None:
    """An action built in code is checked as one read from a file is (without a line to name)."""
    if not condition:
        raise ValueError(message)
