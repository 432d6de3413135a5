"""Android Automotive: the car audio service's focus policy (CarAudioFocus with FocusInteraction's matrix).

From ``packages/services/Car`` (commits in ``datasets/focus/android-automotive.json``):

- every request is judged against each focus holder and each focus loser by the interaction matrix of their car
  audio contexts (the holder's row, the requested column): reject, exclusive or concurrent;
- reject: the request fails, or is delayed when it is an AUDIOFOCUS_GAIN request with AUDIOFOCUS_FLAG_DELAY_OK
  (one delayed request at a time; a newer one takes its place and the older gets AUDIOFOCUS_LOSS);
- exclusive: the holder loses focus; concurrent: the holder keeps it only when the request allows ducking
  (GAIN_TRANSIENT_MAY_DUCK) and the holder does not ask to pause instead (PAUSES_ON_DUCKABLE_LOSS);
- a loser gets AUDIOFOCUS_LOSS for a GAIN request (and leaves), else AUDIOFOCUS_LOSS_TRANSIENT, and waits on
  the requests that blocked it; when the last of them abandons, it regains focus (AUDIOFOCUS_GAIN);
- the user setting "reject navigation during a call" turns the CALL row's NAVIGATION cell into reject.

The car's audio HAL ducks concurrent streams by its own configuration; the focus service does not, so a
concurrent pair is predicted to play on at full gain.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._by_fields import by_fields
from ..model import Flow, ForceType, InterruptHint, Role
from ..reason import Reason, RuleValue
from .actions import Deny, FocusAction, Interrupt, Stop, head
from .explain import reason
from .policy import FocusPolicy, PolicyError, role_table
from .request import ANDROID_GAINS, FocusRequest
from .system import RECONCILE, FocusSystem, register

if TYPE_CHECKING:
    from .engine import FocusEngine

INTERACTION = "FocusInteraction.java"
CAR_FOCUS = "CarAudioFocus.java"
INTERACTIONS = ("reject", "exclusive", "concurrent")


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class CarUsage:
    """How a role asks for focus in a car: its usage, the car audio context of that usage, its gain type."""

    usage: str
    context: str
    gain: str


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class AutomotivePolicy(FocusPolicy):
    """The interaction matrix, the usage -> context grouping and the role mapping."""

    matrix: Mapping[str, Mapping[str, str]] = field(default_factory=dict, repr=False)
    usage_to_context: Mapping[str, str] = field(default_factory=dict, repr=False)
    roles: Mapping[Role, CarUsage] = field(default_factory=dict, repr=False)
    telephony_roles: frozenset[Role] = frozenset()
    reject_navigation_during_call: bool = False

    kind = "android-automotive"

    def usage_of(self, req: FocusRequest) -> CarUsage:
        """The request's usage (its own ``usage`` when it names an Android usage, else its role's), context and
        gain type (its own, else its role's)."""
        base = self.roles.get(req.role) or self.roles[Role.UNKNOWN]
        usage = req.usage if req.usage is not None and req.usage in self.usage_to_context else base.usage
        gain = req.attributes.gain or base.gain
        return CarUsage(usage, self.usage_to_context[usage], gain)

    def interaction(self, holder: str, requested: str) -> str:
        """FocusInteraction's cell for a request of context ``requested`` against a holder of ``holder``."""
        if holder == "CALL" and requested == "NAVIGATION" and self.reject_navigation_during_call:
            return "reject"
        return self.matrix[holder][requested]


def _build(name: str, settings: dict[str, Any], data: dict[str, Any]) -> AutomotivePolicy:
    matrix = data.get("matrix")
    if not isinstance(matrix, dict) or not matrix:
        raise PolicyError("'matrix' must be an object of rows (run tools/convert_automotive_focus.py)")
    contexts = set(matrix)
    for holder, row in matrix.items():
        if not isinstance(row, dict) or set(row) != contexts or not set(row.values()) <= set(INTERACTIONS):
            raise PolicyError(f"matrix[{holder!r}] must give one of {INTERACTIONS} for every context")
    usage_to_context = data.get("usage_to_context")
    if not isinstance(usage_to_context, dict) or not set(usage_to_context.values()) <= contexts:
        raise PolicyError("'usage_to_context' must map usages to contexts of the matrix")
    roles = {}
    for role, spec in role_table(data.get("roles"), "'roles'").items():
        if not isinstance(spec, dict) or spec.get("usage") not in usage_to_context or spec.get("gain") not in ANDROID_GAINS:
            raise PolicyError(f"roles[{role.value!r}] needs a usage of usage_to_context and a gain of {ANDROID_GAINS}")
        roles[role] = CarUsage(spec["usage"], usage_to_context[spec["usage"]], spec["gain"])
    if Role.UNKNOWN not in roles:
        raise PolicyError("'roles' must map 'unknown'")
    reject_nav = settings.get("reject_navigation_during_call", False)
    if not isinstance(reject_nav, bool):
        raise PolicyError(f"reject_navigation_during_call must be true or false, got {reject_nav!r}")
    return AutomotivePolicy(
        name=name,
        settings=settings,
        source=data.get("source", {}),
        matrix={h: dict(r) for h, r in matrix.items()},
        usage_to_context=dict(usage_to_context),
        roles=roles,
        telephony_roles=frozenset(role_table(dict.fromkeys(data.get("telephony_roles", []), True), "telephony_roles")),
        reject_navigation_during_call=reject_nav,
    )


@dataclass
class _Entry:
    client: Hashable
    app: str
    streams: list[FocusRequest]
    ask: CarUsage
    flags: frozenset[str]
    state: str = "holder"  # holder | loser | delayed
    blockers: list[_Entry] = field(default_factory=list)
    why: Reason | None = None

    @property
    def first(self) -> FocusRequest:
        return self.streams[0]


class AutomotiveSystem(FocusSystem):
    """Holders, losers waiting on their blockers, and one delayed request (see the module doc)."""

    kind = "android-automotive"
    stateful = True
    resume_force = ForceType.SHARE
    policy: AutomotivePolicy

    def __init__(self, engine: FocusEngine, policy: FocusPolicy) -> None:
        super().__init__(engine, policy)
        self._entries: list[_Entry] = []

    def adopt(self, previous: FocusSystem) -> None:
        # Same system with other settings: holders and losers carry over. Otherwise the playing streams hold focus.
        if isinstance(previous, AutomotiveSystem):
            self._entries = previous._entries
            return
        for req in self.ledger.streams.values():
            ask = self.policy.usage_of(req)
            client = self._client(req)
            entry = next((e for e in self._entries if e.client == client), None)
            if entry is not None:
                entry.streams.append(req)
            elif ask.gain != "none" and req.flow is Flow.RENDER:
                self._entries.append(_Entry(client, req.app_id, [req], ask, req.attributes.flags))

    def focus_state(self) -> tuple[tuple[str, str], ...]:
        """Each focus client as (app, holder | loser | delayed), in request order."""
        return tuple((e.app, e.state) for e in self._entries)

    def _client(self, req: FocusRequest) -> Hashable:
        return ("telephony", req.app_id) if req.role in self.policy.telephony_roles else ("stream", req.key)

    def start(self, req: FocusRequest, now: float) -> list[FocusAction]:
        policy = self.policy
        ask = policy.usage_of(req)
        if ask.gain == "none" or req.flow is not Flow.RENDER:
            self.ledger.add(req)
            return []
        client = self._client(req)
        mine = next((e for e in self._entries if e.client == client), None)
        if mine is not None:  # canSwapCallOrRingerClientRequest(): the ring becomes the call, same client
            mine.streams.append(req)
            mine.ask = ask
            self.ledger.add(req)
            return []
        entry = _Entry(client, req.app_id, [req], ask, req.attributes.flags)
        out = self._evaluate(entry, now)
        if out is None:
            assert entry.why is not None
            return [Deny(**head(now, req.key, entry.blockers[0].first, entry.why))]
        self.ledger.add(req)
        return out + self._restore(now)

    def _evaluate(self, entry: _Entry, now: float) -> list[FocusAction] | None:
        """CarAudioFocus.evaluateFocusRequestLocked(): None when the request fails (entry.why says why)."""
        policy = self.policy
        ask = entry.ask
        allow_ducking = ask.gain == "gain_transient_may_duck"
        permanent = ask.gain == "gain"
        allow_delay = permanent and "delay_ok" in entry.flags
        others = [e for e in self._entries if e is not entry and e.state != "delayed"]
        if ask.context == "NOTIFICATION":
            exclusive = next((e for e in others if e.ask.gain == "gain_transient_exclusive"), None)
            if exclusive is not None:
                entry.blockers, entry.why = [exclusive], self._failed(entry, exclusive, None)
                return None
        delayed_by: _Entry | None = None
        changed: list[tuple[_Entry, str, str | None]] = []
        for other in [e for e in others if e.state == "holder"] + [e for e in others if e.state == "loser"]:
            cell = policy.interaction(other.ask.context, ask.context)
            if cell == "reject":
                if not allow_delay:
                    entry.blockers, entry.why = [other], self._failed(entry, other, cell)
                    return None
                delayed_by = delayed_by or other
            elif cell == "exclusive":
                changed.append((other, cell, None))
            elif not allow_ducking:
                changed.append((other, cell, "the request does not allow ducking (not GAIN_TRANSIENT_MAY_DUCK)"))
            elif "pauses_on_duckable_loss" in other.flags:
                changed.append((other, cell, "the holder pauses instead of ducking (PAUSES_ON_DUCKABLE_LOSS)"))
        out: list[FocusAction] = []
        for other, cell, note in changed:
            why = self._loss(entry, other, cell, "loss" if permanent else "loss_transient", note)
            if permanent:
                out += self._drop(other, entry.first, why, now)
            else:
                other.state, other.why = "loser", why
                if entry not in other.blockers:
                    other.blockers.append(entry)
        if delayed_by is not None:
            for old in [e for e in self._entries if e.state == "delayed" and e is not entry]:
                out += self._drop(old, entry.first, self._failed(old, entry, "replaced"), now)
            entry.state, entry.blockers = "delayed", [delayed_by]
            entry.why = self._failed(entry, delayed_by, "reject", delayed=True)
        else:
            entry.state = "holder"
        if entry not in self._entries:
            self._entries.append(entry)
        return out

    def _drop(self, victim: _Entry, cause: FocusRequest, why: Reason, now: float) -> list[FocusAction]:
        """AUDIOFOCUS_LOSS: the entry leaves and its app stops."""
        self._forget_entry(victim)
        out: list[FocusAction] = []
        for stream in list(victim.streams):
            if stream.key in self.ledger.streams:
                out += [Stop(**head(now, stream.key, cause, why)),
                        Interrupt(force_type=ForceType.SHARE, hint=InterruptHint.STOP, native="AUDIOFOCUS_LOSS",
                                  **head(now, stream.key, cause, why))]
                out += self.engine.forget(stream.key, now, transfer=False)
        return out

    def _forget_entry(self, dead: _Entry) -> None:
        if dead in self._entries:
            self._entries.remove(dead)
        for e in self._entries:
            e.blockers = [b for b in e.blockers if b is not dead]

    def _restore(self, now: float) -> list[FocusAction]:
        """removeBlockerAndRestoreUnblockedWaitersLocked(): the delayed request is evaluated again, and a
        loser no longer blocked by anyone regains focus."""
        out: list[FocusAction] = []
        for waiting in [e for e in self._entries if e.state == "delayed"]:
            result = self._evaluate(waiting, now)
            if result is None:
                assert waiting.why is not None
                out += self._drop(waiting, waiting.blockers[0].first, waiting.why, now)
            else:
                out += result
        for loser in [e for e in self._entries if e.state == "loser" and not e.blockers]:
            loser.state, loser.why = "holder", None
        return out

    def removed(self, req: FocusRequest, now: float) -> list[FocusAction]:
        entry = next((e for e in self._entries if req in e.streams), None)
        if entry is None:
            return []
        entry.streams.remove(req)
        if entry.streams:
            return []
        self._forget_entry(entry)  # onAudioFocusAbandon()
        return self._restore(now)

    def reconcile(self) -> None:
        ledger = self.ledger
        for entry in self._entries:
            if entry.state == "holder" or entry.why is None:
                continue
            cause = entry.blockers[0].first if entry.blockers else entry.first
            told = "AUDIOFOCUS_REQUEST_DELAYED" if entry.state == "delayed" else "AUDIOFOCUS_LOSS_TRANSIENT"
            for stream in entry.streams:
                if stream.key in ledger.streams:
                    ledger.impose(owner=RECONCILE, target=stream.key, kind="pause", cause=cause, reason=entry.why,
                                  force=ForceType.SHARE, native=told, regain="AUDIOFOCUS_GAIN")

    # -- reasons --

    def _cell(self, holder: CarUsage, requested: CarUsage) -> dict[str, RuleValue]:
        setting = holder.context == "CALL" and requested.context == "NAVIGATION"
        return {"source": INTERACTION, "rule": "evaluateRequest", "holder_context": holder.context,
                "requested_context": requested.context, "holder_usage": holder.usage,
                "requested_usage": requested.usage, "gain": requested.gain,
                "interaction": self.policy.interaction(holder.context, requested.context),
                "setting": "reject_navigation_during_call" if setting else None}

    def _loss(self, entry: _Entry, other: _Entry, cell: str, loss: str, note: str | None) -> Reason:
        text = (f"Android Automotive interaction matrix: {entry.ask.context} requested while {other.ask.context} "
                f"holds focus -> {cell}")
        if note:
            text += f", but {note}"
        text += f"; the holder gets AUDIOFOCUS_{loss.upper()}"
        text += " and its app stops" if loss == "loss" else " and its app pauses until the request abandons focus"
        data = {**self._cell(other.ask, entry.ask), "loss": loss, "why": note}
        return reason(self.policy, text + ".", data, 0.0, f"{entry.ask.context} over {other.ask.context}: {cell}")

    def _failed(self, entry: _Entry, other: _Entry, cell: str | None, *, delayed: bool = False) -> Reason:
        ask = entry.ask
        if cell is None:
            text = ("Android Automotive: a notification cannot take focus while a GAIN_TRANSIENT_EXCLUSIVE request "
                    "holds or waits for it (AUDIOFOCUS_REQUEST_FAILED)")
            data: dict[str, RuleValue] = {"source": CAR_FOCUS, "rule": "evaluateFocusRequestLocked",
                                          "requested_context": ask.context, "result": "failed", "action": "DENY"}
            return reason(self.policy, text + ".", data, 0.0, "notification vs exclusive: failed")
        if cell == "replaced":
            text = ("Android Automotive keeps one delayed request: a newer delayed request replaces it and it gets "
                    "AUDIOFOCUS_LOSS")
            data = {"source": CAR_FOCUS, "rule": "swapDelayedAudioFocusRequestLocked", "result": "failed",
                    "requested_context": ask.context, "action": "DENY"}
            return reason(self.policy, text + ".", data, 0.0, "delayed request replaced")
        outcome = ("is delayed (an AUDIOFOCUS_GAIN request with AUDIOFOCUS_FLAG_DELAY_OK) until it abandons"
                   if delayed else "fails (AUDIOFOCUS_REQUEST_FAILED)")
        text = (f"Android Automotive interaction matrix: {ask.context} requested while {other.ask.context} holds "
                f"focus -> reject; the request {outcome}")
        data = {**self._cell(other.ask, ask), "result": "delayed" if delayed else "failed",
                "action": "DELAY" if delayed else "DENY"}
        return reason(self.policy, text + ".", data, 0.0,
                      f"{ask.context} over {other.ask.context}: reject -> {'delayed' if delayed else 'failed'}")

    @classmethod
    def why_nothing(cls, policy: FocusPolicy, existing: FocusRequest, incoming: FocusRequest) -> Reason:
        assert isinstance(policy, AutomotivePolicy)
        mine, theirs = policy.usage_of(existing), policy.usage_of(incoming)
        if "none" in (mine.gain, theirs.gain):
            who = incoming if theirs.gain == "none" else existing
            text = f"Android Automotive: the {who.role.value} stream plays without requesting audio focus"
            return reason(policy, text + ".", {"source": CAR_FOCUS, "rule": "requestAudioFocus"}, 1.0,
                          "no focus request")
        cell = policy.interaction(mine.context, theirs.context)
        text = (f"Android Automotive interaction matrix: {theirs.context} requested while {mine.context} holds focus "
                f"-> {cell}")
        if cell == "concurrent":
            text += ("; the request allows ducking, so both keep focus (any duck is the car audio HAL's, not the "
                     "focus service's)")
        data: dict[str, RuleValue] = {"source": INTERACTION, "rule": "evaluateRequest",
                                      "holder_context": mine.context, "requested_context": theirs.context,
                                      "interaction": cell, "gain": theirs.gain}
        return reason(policy, text + ".", data, 1.0, f"{theirs.context} over {mine.context}: {cell}")


register(AutomotiveSystem, _build)
