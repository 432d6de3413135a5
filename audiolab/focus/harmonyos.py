"""HarmonyOS: the OpenHarmony default interrupt table, session strategies and activated audio sessions."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace

from ..model import ConcurrencyMode, DeactivationReason, ForceType, InterruptHint
from ..reason import Reason
from . import explain
from .actions import Deny, FocusAction, Interrupt, Stop, head
from .policy import FocusPolicy, HarmonyOSPolicy, HarmonyRule
from .request import FocusRequest
from .system import FocusSystem, register

_PLAY_BOTH = HarmonyRule("PLAY", "incoming", ForceType.FORCE, "strategy")
_HINTS = {"DUCK": InterruptHint.DUCK, "PAUSE": InterruptHint.PAUSE, "STOP": InterruptHint.STOP}
_CALLS = ("STREAM_VOICE_CALL", "STREAM_VOICE_COMMUNICATION")


def _can_mix(existing: str, incoming: str) -> bool:
    """OpenHarmony never lets a session strategy mix a recording with a call, or two recordings."""
    in_cap, ex_cap = incoming.startswith("SOURCE_TYPE_"), existing.startswith("SOURCE_TYPE_")
    if (in_cap and existing in _CALLS) or (incoming in _CALLS and ex_cap):
        return False
    return not (in_cap and ex_cap)


class HarmonySystem(FocusSystem):
    """Each start is judged against every playing stream by the interrupt table, after the session
    strategies of both apps; an activated session keeps the focus its stopped streams held."""

    kind = "harmonyos"
    duck_hints = True
    resume_force = ForceType.SHARE
    policy: HarmonyOSPolicy

    def _mode(self, req: FocusRequest) -> ConcurrencyMode:
        if req.concurrency is not None:
            return req.concurrency
        return self.ledger.sessions.get(req.app_id, ConcurrencyMode.DEFAULT)

    def pair(self, existing: FocusRequest, incoming: FocusRequest) -> tuple[HarmonyRule, Reason]:
        """The table cell for (existing, incoming) after the session strategies, and its reason."""
        policy = self.policy
        etype = policy.focus_type(existing.role, existing.usage)
        itype = policy.focus_type(incoming.role, incoming.usage)
        rule = policy.rule(etype, itype)
        why = explain.harmony(policy, existing, incoming, rule)
        if rule.deny and itype.startswith("SOURCE_TYPE_"):
            return rule, why  # a denied recording is never rescued by a strategy
        if not _can_mix(etype, itype) or "STREAM_INTERNAL_FORCE_STOP" in (etype, itype):
            return rule, why
        imode, emode = self._mode(incoming), self._mode(existing)
        low_in = rule.deny or (rule.on == "incoming" and rule.action != "PLAY")
        low_ex = rule.on in ("existing", "both") and rule.action != "PLAY"
        same = policy.same_session_type(itype, etype)
        for mode, low, whose in ((imode, low_in, "incoming"), (emode, low_ex, "existing")):
            if mode is ConcurrencyMode.MIX_WITH_OTHERS and (not low or same):
                note = f"the {whose} app's session strategy MIX_WITH_OTHERS turns {rule.action} into PLAY"
                return _PLAY_BOTH, explain.harmony(policy, existing, incoming, rule, note, _PLAY_BOTH)
        if rule.on in ("existing", "both"):
            if imode is ConcurrencyMode.DUCK_OTHERS and rule.action in ("PAUSE", "STOP"):
                note = f"the incoming app's session strategy DUCK_OTHERS turns {rule.action} into DUCK"
                ducked = replace(rule, action="DUCK")
                return ducked, explain.harmony(policy, existing, incoming, rule, note, ducked)
            if imode is ConcurrencyMode.PAUSE_OTHERS and rule.action == "STOP":
                note = "the incoming app's session strategy PAUSE_OTHERS turns STOP into PAUSE"
                paused = replace(rule, action="PAUSE")
                return paused, explain.harmony(policy, existing, incoming, rule, note, paused)
        return rule, why

    def start(self, req: FocusRequest, now: float) -> list[FocusAction]:
        policy, ledger = self.policy, self.ledger
        policy.focus_type(req.role, req.usage)  # unknown usage -> PolicyError before any change
        decisions = []
        held = []  # streams already paused by someone else: they cannot act on the incoming stream
        for other in ledger.streams.values():
            if other.app_id == req.app_id and not (other.independent or req.independent):
                continue  # SHARE_MODE: one app's streams share one focus
            if ledger.paused(other.key):
                held.append(other)
                continue
            rule, why = self.pair(other, req)
            decisions.append((other, rule, why))
        # The incoming stream's fate first: refused if any holder denies it (or stops it).
        for other, rule, why in decisions:
            if rule.deny or (rule.on in ("incoming", "both") and rule.action == "STOP"):
                return [Deny(**head(now, req.key, other, why))]
        ledger.add(req)
        out: list[FocusAction] = []
        # An activated session that kept focus after its streams stopped hands it to the new stream.
        ledger.hand_over(("session", req.app_id), ("stream", req.key))
        on_incoming = [(o, r, w) for o, r, w in decisions if r.on in ("incoming", "both") and r.action != "PLAY"]
        incoming_paused = False
        for other, rule, why in on_incoming:
            if rule.force is ForceType.SHARE:
                out.append(Interrupt(force_type=ForceType.SHARE, hint=_HINTS[rule.action], **head(now, req.key, other, why)))
                continue
            kind = "pause" if rule.action == "PAUSE" else "duck"
            incoming_paused |= kind == "pause"
            ledger.impose(owner=("stream", other.key), target=req.key, kind=kind, cause=other, reason=why, gain=policy.duck_gain)
        if incoming_paused:
            return out  # a stream that starts paused acts on nobody until it plays
        for other, rule, why in decisions:
            if rule.on not in ("existing", "both") or rule.action == "PLAY" or other.key not in ledger.streams:
                continue
            if rule.force is ForceType.SHARE:
                out.append(Interrupt(force_type=ForceType.SHARE, hint=_HINTS[rule.action], **head(now, other.key, req, why)))
            elif rule.action == "STOP":
                out += self._stop(other, req, why, now)
            else:
                kind = "pause" if rule.action == "PAUSE" else "duck"
                ledger.impose(owner=("stream", req.key), target=other.key, kind=kind, cause=req, reason=why, gain=policy.duck_gain)
        # A paused stream is held by the new one too (as the table says), so that it does not resume under
        # it when the stream that paused it ends (music paused by a ringtone stays paused during the call).
        for other in held:
            rule, why = self.pair(other, req)
            if rule.on in ("existing", "both") and rule.action in ("PAUSE", "DUCK") and rule.force is ForceType.FORCE:
                kind = "pause" if rule.action == "PAUSE" else "duck"
                ledger.impose(owner=("stream", req.key), target=other.key, kind=kind, cause=req, reason=why, gain=policy.duck_gain)
        return out

    def _stop(self, victim: FocusRequest, cause: FocusRequest, why: Reason, now: float) -> list[FocusAction]:
        out: list[FocusAction] = [
            Stop(**head(now, victim.key, cause, why)),
            Interrupt(force_type=ForceType.FORCE, hint=InterruptHint.STOP, **head(now, victim.key, cause, why)),
        ]
        out += self.engine.forget(victim.key, now, transfer=False)
        app = victim.app_id
        if app in self.ledger.sessions and not any(r.app_id == app for r in self.ledger.streams.values()):
            out += self.engine.end_session(app, now, DeactivationReason.LOWER_PRIORITY, cause=cause)
        return out

    def heir(self, request: FocusRequest, transfer: bool) -> Hashable | None:
        # The activated session keeps focus in a silent wait until it is deactivated or the app starts
        # another stream.
        app = request.app_id
        if transfer and app in self.ledger.sessions and not any(r.app_id == app for r in self.ledger.streams.values()):
            return ("session", app)
        return None

    @classmethod
    def why_nothing(cls, policy: FocusPolicy, existing: FocusRequest, incoming: FocusRequest) -> Reason:
        assert isinstance(policy, HarmonyOSPolicy)
        etype = policy.focus_type(existing.role, existing.usage)
        itype = policy.focus_type(incoming.role, incoming.usage)
        return explain.harmony(policy, existing, incoming, policy.rule(etype, itype))


register(HarmonySystem)
