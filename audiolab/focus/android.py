"""Android (phones): the audio focus stack of AOSP's MediaFocusControl and FocusRequester.

Modelled from ``services/core/java/com/android/server/audio/`` (the commits are in ``datasets/focus/android.json``):

- a request pushes its requester on top of the focus stack (last in, first out); every holder below gets the
  loss ``focusLossForGainRequest()`` gives for the request's gain and its current loss, a loss never softening;
  a holder that gets AUDIOFOCUS_LOSS leaves the stack (the app stops);
- while the top of the stack is a locked owner (the phone's ring or call, or AUDIOFOCUS_FLAG_LOCK), requests
  fail, or wait below the locked owners when they carry AUDIOFOCUS_FLAG_DELAY_OK; when the top abandons, the
  new top regains focus (AUDIOFOCUS_GAIN);
- ``handleFocusLoss()``: on a LOSS_TRANSIENT_CAN_DUCK the framework ducks the holder's players itself (not
  telling the app) when the winner is another app, the holder did not ask to pause on a duckable loss, targets
  an SDK above N_MR1 and is not playing speech; otherwise the app is told and acts;
- PlaybackActivityMonitor's duck: to 0.2 (-14 dB), or 0.017783 (-35 dB) when a MAY_DUCK requester is the
  assistant or navigation guidance, ramped over the ramp time of USAGE_NOTIFICATION (500 ms).

The two focus files predate fade-out on focus loss (``ENFORCE_FADEOUT_FOR_FOCUS_LOSS``): a holder that loses
focus is told and stops or pauses itself; no fade-out is modelled. The simulated apps are well behaved: they
stop on LOSS, pause on LOSS_TRANSIENT, duck themselves (or pause, when they asked to) on a CAN_DUCK they are
told about, and resume on GAIN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._by_fields import by_fields
from ..model import Flow, ForceType, InterruptHint, Role
from ..reason import Reason, RuleValue
from .actions import Deny, FocusAction, Interrupt, Stop, head
from .explain import reason
from .policy import FocusPolicy, PolicyError, level, role_table
from .request import ANDROID_GAINS, FocusRequest
from .system import RECONCILE, FocusSystem, register

if TYPE_CHECKING:
    from .engine import FocusEngine

FOCUS_REQUESTER = "FocusRequester.java"
MEDIA_FOCUS_CONTROL = "MediaFocusControl.java"
PLAYBACK_MONITOR = "PlaybackActivityMonitor.java"
LOSSES = ("none", "loss", "loss_transient", "loss_transient_can_duck")
_SEVERITY = {"none": 0, "loss_transient_can_duck": 1, "loss_transient": 2, "loss": 3}


def native(name: str) -> str:
    """``"loss_transient"`` -> ``"AUDIOFOCUS_LOSS_TRANSIENT"``."""
    return f"AUDIOFOCUS_{name.upper()}"


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class AndroidUsage:
    """How a role asks for focus on Android: its AudioAttributes usage and content type, its gain type."""

    usage: str
    content: str
    gain: str


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class AndroidPolicy(FocusPolicy):
    """The loss table, the locked (telephony) roles, the role mapping and the framework's duck."""

    loss_table: Mapping[tuple[str, str], str] = field(default_factory=dict, repr=False)
    roles: Mapping[Role, AndroidUsage] = field(default_factory=dict, repr=False)
    telephony_roles: frozenset[Role] = frozenset()
    strong_duck_usages: frozenset[str] = frozenset()
    speech_contents: frozenset[str] = frozenset()
    ramp_ms: Mapping[str, int] = field(default_factory=dict, repr=False)
    duck_gain: float = 0.2
    strong_duck_gain: float = 0.017783
    strong_duck: bool = True
    duck_ramp_seconds: float = 0.5
    target_sdk: int = 34
    ducking_in_app_sdk_level: int = 25

    kind = "android"

    def usage_of(self, req: FocusRequest) -> AndroidUsage:
        """The role's usage, with the request's own gain type where it gives one."""
        base = self.roles.get(req.role) or self.roles[Role.UNKNOWN]
        gain = req.attributes.gain or base.gain
        return base if gain == base.gain else AndroidUsage(base.usage, base.content, gain)

    def loss_for(self, gain: str, current: str) -> str:
        """``focusLossForGainRequest()``: the holder's new loss for a request of ``gain``."""
        return self.loss_table[(gain, current)]


def _build(name: str, settings: dict[str, Any], data: dict[str, Any]) -> AndroidPolicy:
    table = data.get("loss_table")
    if not isinstance(table, dict):
        raise PolicyError("'loss_table' must be an object of objects")
    losses: dict[tuple[str, str], str] = {}
    for gain, row in table.items():
        if gain not in ANDROID_GAINS or not isinstance(row, dict):
            raise PolicyError(f"loss_table[{gain!r}]: a gain type ({ANDROID_GAINS}) with an object of losses")
        for current, new in row.items():
            if current not in LOSSES or new not in LOSSES:
                raise PolicyError(f"loss_table[{gain!r}][{current!r}] = {new!r}: losses are {LOSSES}")
            losses[(gain, current)] = new
    for gain in ANDROID_GAINS[:-1]:
        for current in LOSSES:
            if (gain, current) not in losses:
                raise PolicyError(f"loss_table[{gain!r}] has no entry for {current!r}")
    roles = {}
    for role, spec in role_table(data.get("roles"), "'roles'").items():
        if not isinstance(spec, dict) or spec.get("gain") not in ANDROID_GAINS:
            raise PolicyError(f"roles[{role.value!r}] needs usage, content and a gain of {ANDROID_GAINS}")
        roles[role] = AndroidUsage(str(spec.get("usage")), str(spec.get("content")), spec["gain"])
    if Role.UNKNOWN not in roles:
        raise PolicyError("'roles' must map 'unknown'")
    sdk = settings.get("target_sdk", 34)
    if isinstance(sdk, bool) or not isinstance(sdk, int) or sdk < 1:
        raise PolicyError(f"target_sdk must be an API level, got {sdk!r}")
    ramp = settings.get("duck_ramp_seconds", 0.5)
    if isinstance(ramp, bool) or not isinstance(ramp, (int, float)) or not 0 <= ramp <= 10:
        raise PolicyError(f"duck_ramp_seconds must be in 0..10, got {ramp!r}")
    strong = settings.get("strong_duck", True)
    if not isinstance(strong, bool):
        raise PolicyError(f"strong_duck must be true or false, got {strong!r}")
    return AndroidPolicy(
        name=name,
        settings=settings,
        source=data.get("source", {}),
        loss_table=losses,
        roles=roles,
        telephony_roles=frozenset(role_table(dict.fromkeys(data.get("telephony_roles", []), True), "telephony_roles")),
        strong_duck_usages=frozenset(data.get("strong_duck_usages", [])),
        speech_contents=frozenset(data.get("speech_contents", [])),
        ramp_ms=dict(data.get("ramp_ms", {})),
        duck_gain=level(settings.get("duck_gain", 0.2), "duck_gain"),
        strong_duck_gain=level(settings.get("strong_duck_gain", 0.017783), "strong_duck_gain"),
        strong_duck=strong,
        duck_ramp_seconds=float(ramp),
        target_sdk=sdk,
        ducking_in_app_sdk_level=int(data.get("ducking_in_app_sdk_level", 25)),
    )


@dataclass
class _Holder:
    """One entry of the focus stack: a focus client (a stream, or the phone's ring-and-call client)."""

    client: tuple[str, Any]
    app: str
    streams: list[FocusRequest]
    ask: AndroidUsage
    flags: frozenset[str]
    locked: bool
    loss: str = "none"
    cause: FocusRequest | None = None
    why: Reason | None = None
    by_framework: bool = False
    delayed_by: FocusRequest | None = None
    ducked: tuple[FocusRequest, Reason] | None = None
    """The framework's duck (winner, reason): it stays until the holder regains focus."""


class AndroidSystem(FocusSystem):
    """The focus stack; its holders' losses become the effects the engine reports (see the module doc)."""

    kind = "android"
    stateful = True
    resume_force = ForceType.SHARE
    policy: AndroidPolicy

    def __init__(self, engine: FocusEngine, policy: FocusPolicy) -> None:
        super().__init__(engine, policy)
        self._stack: list[_Holder] = []

    def adopt(self, previous: FocusSystem) -> None:
        # Same system with other settings: the stack carries over. Otherwise the playing streams hold focus,
        # the earliest at the bottom.
        if isinstance(previous, AndroidSystem):
            self._stack = previous._stack
            return
        for req in self.ledger.streams.values():
            ask = self.policy.usage_of(req)
            client = self._client(req)
            holder = next((h for h in self._stack if h.client == client), None)
            if holder is not None:
                holder.streams.append(req)
            elif ask.gain != "none" and req.flow is Flow.RENDER:
                locked = client[0] == "telephony" or "lock" in req.attributes.flags
                self._stack.append(_Holder(client, req.app_id, [req], ask, req.attributes.flags, locked))

    def stack(self) -> tuple[tuple[str, str], ...]:
        """The focus stack, bottom first: (app, loss) of each holder ("delayed" for a delayed request)."""
        return tuple((h.app, "delayed" if h.delayed_by else h.loss) for h in self._stack)

    def _client(self, req: FocusRequest) -> tuple[str, Any]:
        # The telephony service asks focus for ring and call under one client id (IN_VOICE_COMM_FOCUS_ID).
        return ("telephony", req.app_id) if req.role in self.policy.telephony_roles else ("stream", req.key)

    def _can_reassign(self) -> bool:
        return not (self._stack and self._stack[-1].locked)

    def start(self, req: FocusRequest, now: float) -> list[FocusAction]:
        policy, ledger = self.policy, self.ledger
        ask = policy.usage_of(req)
        flags = req.attributes.flags
        if ask.gain == "none" or req.flow is not Flow.RENDER:
            ledger.add(req)  # plays without asking for focus
            return []
        client = self._client(req)
        mine = next((h for h in self._stack if h.client == client), None)
        if mine is not None:
            mine.streams.append(req)  # the same client asking again: it already holds its place
            ledger.add(req)
            return []
        locked = client[0] == "telephony" or "lock" in flags
        holder = _Holder(client, req.app_id, [req], ask, frozenset(flags), locked)
        if not self._can_reassign():
            owner = self._stack[-1].streams[0]
            if "delay_ok" not in flags:
                return [Deny(**head(now, req.key, owner, self._locked_reason(req, owner, delayed=False)))]
            # pushBelowLockedFocusOwners(): below the lowest locked owner; no holder loses focus now.
            index = min(i for i, h in enumerate(self._stack) if h.locked)
            holder.delayed_by = owner
            holder.why = self._locked_reason(req, owner, delayed=True)
            self._stack.insert(index, holder)
            ledger.add(req)
            return []
        out: list[FocusAction] = []
        for other in list(self._stack):
            new = policy.loss_for(ask.gain, other.loss)
            if new == other.loss:
                continue
            previous, other.loss, other.cause = other.loss, new, req
            other.by_framework, why = self._handle_loss(other, req, previous)
            other.why = why
            if other.by_framework:
                other.ducked = (req, why)
            if new == "loss":
                self._stack.remove(other)
                for victim in list(other.streams):
                    if victim.key in ledger.streams:
                        out += [Stop(**head(now, victim.key, req, why)),
                                Interrupt(force_type=ForceType.SHARE, hint=InterruptHint.STOP, native=native("loss"),
                                          **head(now, victim.key, req, why))]
                        out += self.engine.forget(victim.key, now, transfer=False)
        self._stack.append(holder)
        ledger.add(req)
        return out

    def _handle_loss(self, loser: _Holder, winner: FocusRequest, previous: str) -> tuple[bool, Reason]:
        """``handleFocusLoss()``: whether the framework ducks the loser itself, and the reason."""
        policy = self.policy
        gain = policy.usage_of(winner)
        why_app = None
        if loser.loss == "loss_transient_can_duck":
            sdk = loser.streams[0].attributes.target_sdk or policy.target_sdk
            force = "force_duck" in winner.attributes.flags
            if winner.app_id == loser.app:
                why_app = "the winner is the same app, so the change is dispatched to it"
            elif not force and "pauses_on_duckable_loss" in loser.flags:
                why_app = "the holder declared AUDIOFOCUS_FLAG_PAUSES_ON_DUCKABLE_LOSS"
            elif not force and sdk <= policy.ducking_in_app_sdk_level:
                why_app = f"the holder targets SDK {sdk} <= DUCKING_IN_APP_SDK_LEVEL ({policy.ducking_in_app_sdk_level})"
            elif not force and loser.ask.content in policy.speech_contents:
                why_app = f"the holder plays {loser.ask.content}: ducking would make speech unintelligible"
        by_framework = loser.loss == "loss_transient_can_duck" and why_app is None
        return by_framework, loss_reason(policy, loser.ask, gain, previous, loser.loss, by_framework, why_app)

    def _locked_reason(self, req: FocusRequest, owner: FocusRequest, *, delayed: bool) -> Reason:
        policy = self.policy
        ask, held = policy.usage_of(req), policy.usage_of(owner)
        outcome = ("waits below it (AUDIOFOCUS_REQUEST_DELAYED, AUDIOFOCUS_FLAG_DELAY_OK) and gains focus when it "
                   "abandons") if delayed else "fails (AUDIOFOCUS_REQUEST_FAILED: no AUDIOFOCUS_FLAG_DELAY_OK)"
        text = (f"Android locks focus while the top of the focus stack is a locked owner ({held.usage}: "
                f"ring or call); an AUDIOFOCUS_{ask.gain.upper()} request ({ask.usage}) {outcome}")
        data: dict[str, RuleValue] = {"source": MEDIA_FOCUS_CONTROL, "rule": "canReassignAudioFocus",
                                      "gain": ask.gain, "requester_usage": ask.usage, "owner_usage": held.usage,
                                      "result": "delayed" if delayed else "failed",
                                      "action": "DELAY" if delayed else "DENY"}
        return reason(policy, text + ".", data, 0.0, "focus locked: " + ("delayed" if delayed else "failed"))

    def removed(self, req: FocusRequest, now: float) -> list[FocusAction]:
        holder = next((h for h in self._stack if req in h.streams), None)
        if holder is None:
            return []
        holder.streams.remove(req)
        if holder.streams:
            return []
        was_top = holder is self._stack[-1]
        self._stack.remove(holder)  # abandonAudioFocus
        if was_top and self._stack and self._can_reassign():
            top = self._stack[-1]  # notifyTopOfAudioFocusStack(): handleFocusGain(AUDIOFOCUS_GAIN)
            top.loss, top.cause, top.delayed_by, top.by_framework, top.ducked = "none", None, None, False, None
        return []

    def reconcile(self) -> None:
        policy, ledger = self.policy, self.ledger
        for holder in self._stack:
            live = [s for s in holder.streams if s.key in ledger.streams]
            if holder.ducked is not None:
                winner, duck_why = holder.ducked
                for stream in live:
                    ledger.impose(owner=RECONCILE, target=stream.key, kind="duck", cause=winner, reason=duck_why,
                                  gain=duck_gain(policy, policy.usage_of(winner)), fade=policy.duck_ramp_seconds)
            cause, why = holder.delayed_by or holder.cause, holder.why
            if cause is None or why is None or holder.by_framework:
                continue
            if holder.delayed_by is not None:
                effect: dict[str, Any] = {"kind": "pause", "native": "AUDIOFOCUS_REQUEST_DELAYED"}
            elif holder.loss == "loss_transient":
                effect = {"kind": "pause", "native": native("loss_transient")}
            elif holder.loss != "loss_transient_can_duck":
                continue
            elif "pauses_on_duckable_loss" in holder.flags or holder.ask.content in policy.speech_contents:
                effect = {"kind": "pause", "native": native("loss_transient_can_duck")}
            else:
                effect = {"kind": "duck", "gain": policy.duck_gain, "native": native("loss_transient_can_duck")}
            fields = {"force": ForceType.SHARE, "regain": native("gain"), **effect}
            for stream in live:
                ledger.impose(owner=RECONCILE, target=stream.key, cause=cause, reason=why, **fields)

    @classmethod
    def why_nothing(cls, policy: FocusPolicy, existing: FocusRequest, incoming: FocusRequest) -> Reason:
        assert isinstance(policy, AndroidPolicy)
        mine, theirs = policy.usage_of(existing), policy.usage_of(incoming)
        if "none" in (mine.gain, theirs.gain):
            who = incoming if theirs.gain == "none" else existing
            text = (f"Android: the {who.role.value} stream plays without requesting audio focus, so it takes "
                    f"focus from no one and loses it to no one")
            return reason(policy, text + ".", {"source": MEDIA_FOCUS_CONTROL, "rule": "requestAudioFocus",
                                               "role": who.role.value}, 1.0, "no focus request")
        new = policy.loss_for(theirs.gain, "none")
        return loss_reason(policy, mine, theirs, "none", new, False,
                           "the holder was told and its app decided" if new != "loss" else None)


def duck_gain(policy: AndroidPolicy, winner: AndroidUsage) -> float:
    """The framework's duck: strong (-35 dB) for a MAY_DUCK assistant or navigation prompt, else 0.2."""
    strong = policy.strong_duck and winner.gain == "gain_transient_may_duck" and winner.usage in policy.strong_duck_usages
    return policy.strong_duck_gain if strong else policy.duck_gain


def loss_reason(
    policy: AndroidPolicy, holder: AndroidUsage, winner: AndroidUsage, previous: str, loss: str,
    by_framework: bool, why_app: str | None,
) -> Reason:
    """The loss a holder gets for a request, and who acts on it."""
    gain_name = f"AUDIOFOCUS_{winner.gain.upper()}"
    kept = " (a loss never softens)" if previous != "none" and _SEVERITY[loss] == _SEVERITY[previous] else ""
    text = (f"Android focus stack: an {gain_name} request ({winner.usage}) gives the holder ({holder.usage}) "
            f"{native(loss)}{kept}")
    gain: float | None = 0.0 if loss in ("loss", "loss_transient") else None
    if loss == "loss":
        text += "; it leaves the focus stack and its app stops"
    elif loss == "loss_transient":
        text += "; its app pauses until it regains focus (AUDIOFOCUS_GAIN)"
    elif by_framework:
        gain = duck_gain(policy, winner)
        text += (f"; the framework ducks it itself to {gain:.3g} ({_db(gain)}) over "
                 f"{policy.duck_ramp_seconds:g} s, without telling the app")
    else:
        text += f"; the app is told and ducks or pauses itself ({why_app})"
    data: dict[str, RuleValue] = {
        "source": FOCUS_REQUESTER, "rule": "focusLossForGainRequest" if not by_framework else "handleFocusLoss",
        "gain": winner.gain, "requester_usage": winner.usage, "holder_usage": holder.usage,
        "previous_loss": previous, "loss": loss, "handled_by": "framework" if by_framework else "app",
        "why_app": why_app, "duck_gain": gain if by_framework else None,
        "ramp_seconds": policy.duck_ramp_seconds if by_framework else None,
    }
    label = f"{winner.gain.upper()} -> {native(loss).removeprefix('AUDIOFOCUS_')}"
    return reason(policy, text + ".", data, gain, label)


def _db(gain: float) -> str:
    return f"{20 * math.log10(gain):.0f} dB"


register(AndroidSystem, _build)
