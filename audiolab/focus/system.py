"""The interface every focus system implements, and the registry that finds one by policy kind.

A focus system (HarmonyOS, Windows, PulseAudio, ...) is one module of this package defining a
:class:`FocusSystem` subclass and registering it with :func:`register`, together with the builder that turns
its data file (``datasets/focus/<name>.json``) into a policy. The :class:`~audiolab.focus.FocusEngine` keeps
the bookkeeping all systems share (the :class:`Ledger` of streams and the effects imposed on them) and asks the
system of its policy what a start, a stop or a change of state does. Adding a system is adding a module and a
data table.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .._by_fields import by_fields
from ..model import ConcurrencyMode, ForceType
from ..reason import Reason
from .explain import reason
from .policy import FocusPolicy, load_system, register_builder
from .request import FocusRequest, StreamKey

if TYPE_CHECKING:
    from .actions import FocusAction
    from .engine import FocusEngine

RECONCILE = ("reconcile",)
"""The owner of the effects a state-based system recomputes after every change."""


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Effect:
    """A duck or pause imposed on ``target``, owned by whatever keeps it alive (a stream, a session, ...)."""

    owner: Hashable
    target: StreamKey
    kind: str  # "duck" | "pause"
    cause: FocusRequest
    reason: Reason
    gain: float = 1.0
    fade: float = 0.0
    mechanism: str = "pause"
    seq: int = 0
    force: ForceType = ForceType.FORCE
    """FORCE: the system imposes it; SHARE: the app is told and acts (Android's callbacks, iOS's interruptions)."""
    native: str = ""
    """What the app is told when it starts, in the system's own words (an Android focus change, ...)."""
    regain: str = ""
    """What the app is told when it ends ("AUDIOFOCUS_GAIN"); empty: nothing beyond the engine's own hint."""


@dataclass
class Ledger:
    """What every focus system shares: the streams in start order, the effects imposed on them, and the
    HarmonyOS-style app sessions that are activated."""

    streams: dict[StreamKey, FocusRequest] = field(default_factory=dict)
    order: dict[StreamKey, int] = field(default_factory=dict)
    effects: list[Effect] = field(default_factory=list)
    sessions: dict[str, ConcurrencyMode] = field(default_factory=dict)
    seq: int = 0

    def add(self, request: FocusRequest) -> None:
        """Track a stream that now plays (or is held)."""
        self.seq += 1
        self.streams[request.key] = request
        self.order[request.key] = self.seq

    def impose(self, **fields: Any) -> None:
        """Add an effect (the fields of :class:`Effect` but ``seq``)."""
        self.seq += 1
        self.effects.append(Effect(seq=self.seq, **fields))

    def paused(self, key: StreamKey) -> bool:
        return any(e.target == key and e.kind == "pause" for e in self.effects)

    def drop_owned(self, owner: Hashable) -> None:
        """Release every effect ``owner`` keeps alive."""
        self.effects = [e for e in self.effects if e.owner != owner]

    def hand_over(self, old: Hashable, new: Hashable) -> None:
        """Give the effects ``old`` keeps alive to ``new``."""
        self.effects = [Effect(**{**vars(e), "owner": new}) if e.owner == old else e for e in self.effects]


class FocusSystem:
    """How one focus system reacts to streams starting and stopping. One instance per engine and policy.

    The defaults describe a system that lets everything mix; subclasses override what they need."""

    kind: ClassVar[str] = "none"
    stateful: ClassVar[bool] = False
    """True when the system's effects follow from the set of playing streams alone (PulseAudio, WirePlumber):
    they are dropped and recomputed by :meth:`reconcile` after every change."""
    duck_hints: ClassVar[bool] = False
    """True when a duck and an unduck are also told to the app as an interrupt (HarmonyOS)."""
    resume_force: ClassVar[ForceType] = ForceType.FORCE
    """FORCE: the system resumes what it paused; SHARE: the app is told it may resume."""

    def __init__(self, engine: FocusEngine, policy: FocusPolicy) -> None:
        self.engine = engine
        self.ledger = engine.ledger
        self.policy = policy

    def start(self, request: FocusRequest, now: float) -> list[FocusAction]:
        """A stream wants to play: track it (or refuse it) and return what its start does at once."""
        self.ledger.add(request)
        return []

    def removed(self, request: FocusRequest, now: float) -> list[FocusAction]:
        """The stream is gone (the ledger has forgotten it): what that does beyond releasing its effects."""
        return []

    def heir(self, request: FocusRequest, transfer: bool) -> Hashable | None:
        """Who keeps the effects of a stream that ended (None: they are released)."""
        return None

    def reconcile(self) -> None:
        """Recompute the effects of a stateful system from the streams that play now."""

    def adopt(self, previous: FocusSystem) -> None:
        """The engine switched to this system while streams play (set_policy): rebuild its own state, or take
        over ``previous``'s when it is the same system (only the settings changed)."""

    @classmethod
    def why_nothing(cls, policy: FocusPolicy, existing: FocusRequest, incoming: FocusRequest) -> Reason:
        """Why ``policy`` leaves ``existing`` alone when ``incoming`` starts."""
        return reason(policy, "No focus policy: every stream mixes.", {})


_SYSTEMS: dict[str, type[FocusSystem]] = {}


def register(system: type[FocusSystem], builder: Callable[[str, dict[str, Any], dict[str, Any]], FocusPolicy] | None = None) -> None:
    """Make ``system`` the one for policies of its ``kind``; ``builder`` reads its data files."""
    _SYSTEMS[system.kind] = system
    if builder is not None:
        register_builder(system.kind, builder)


def system_for(policy: FocusPolicy) -> type[FocusSystem]:
    """The focus system that applies ``policy`` (one that mixes everything for an unregistered kind)."""
    if policy.kind not in _SYSTEMS:
        load_system(policy.kind)
    return _SYSTEMS.get(policy.kind, FocusSystem)
