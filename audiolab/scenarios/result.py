"""What a scenario run returns: its transitions, each expectation checked and every player's summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._by_fields import by_fields
from ..events import Event
from ..focus.request import FocusRequest
from ..reason import Reason
from .format import Scenario

if TYPE_CHECKING:
    import numpy as np


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Transition:
    """One row of the transitions table: at ``t``, ``subject`` changed (``kind``), because of ``cause``."""

    t: float
    kind: str
    subject: str
    cause: str | None
    text: str
    why: Reason | None = None
    """The policy and rule behind a focus transition (None for actions and state changes)."""

    def to_dict(self) -> dict[str, object]:
        return {"t": round(self.t, 4), "kind": self.kind, "subject": self.subject, "cause": self.cause,
                "text": self.text, "why": None if self.why is None else self.why.to_dict()}


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class CheckResult:
    """One checked key of an expectation, with what was observed."""

    at: float
    subject: str
    what: str
    expected: object
    observed: object
    passed: bool
    line: int | None = None
    note: str = ""

    def describe(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        observed = f"{self.observed:.3f}" if isinstance(self.observed, float) else self.observed
        expected = f"{self.expected:.3f}" if isinstance(self.expected, float) else self.expected
        where = f" (line {self.line})" if self.line else ""
        return f"{mark} t={self.at:g}s {self.subject}: {self.what} {expected} -> observed {observed}{where}"

    def to_dict(self) -> dict[str, object]:
        return {"at": self.at, "subject": self.subject, "check": self.what, "expected": self.expected,
                "observed": None if self.observed is None else rounded(self.observed), "passed": self.passed,
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

    def to_dict(self) -> dict[str, object]:
        return {k: rounded(v) for k, v in vars(self).items()}


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
    audio: np.ndarray | None = None
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

    def to_dict(self) -> dict[str, object]:
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


def rounded(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value
