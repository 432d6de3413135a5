"""PulseAudio: module-role-ducking and module-role-cork, recomputed from the playing streams."""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Flow
from ..reason import Reason
from . import explain
from .policy import FocusPolicy, PulseAudioPolicy
from .request import FocusRequest, StreamKey
from .system import RECONCILE, FocusSystem, register


class PulseAudioSystem(FocusSystem):
    """While a trigger-role stream plays (on the same sink unless global), the modules cork or duck the
    streams of the roles they name."""

    kind = "pulseaudio"
    stateful = True
    policy: PulseAudioPolicy

    def reconcile(self) -> None:
        policy, ledger = self.policy, self.ledger
        render = [r for r in ledger.streams.values() if r.flow is Flow.RENDER]

        def role(r: FocusRequest) -> str:
            return r.role.pulse_media_role or "no_role"

        def trigger_for(target: FocusRequest, triggers: Iterable[str], is_global: bool) -> FocusRequest | None:
            for t in render:
                if t.key == target.key or role(t) not in triggers:
                    continue
                if not is_global and t.device_id != target.device_id:
                    continue
                if role(target) in triggers and role(t) == role(target):
                    continue  # a trigger-role stream is only affected by a different role
                if t.key in corked:
                    continue  # a corked trigger is not active
                return t
            return None

        def matches(target: FocusRequest, roles: tuple[str, ...], triggers: tuple[str, ...]) -> bool:
            return role(target) in roles or ("any_role" in roles and role(target) not in triggers)

        corked: set[StreamKey] = set()
        for i, group in enumerate(policy.cork_groups):
            for target in render:
                if target.key in corked or not matches(target, group.roles, group.trigger_roles):
                    continue
                t = trigger_for(target, group.trigger_roles, policy.cork_global)
                if t is not None:
                    corked.add(target.key)
                    why = explain.pulse(policy, "module-role-cork", i, t, target, None)
                    ledger.impose(owner=RECONCILE, target=target.key, kind="pause", cause=t, reason=why, mechanism="cork")
        for i, group in enumerate(policy.duck_groups):
            for target in render:
                if not matches(target, group.roles, group.trigger_roles):
                    continue
                t = trigger_for(target, group.trigger_roles, policy.duck_global)
                if t is not None:
                    assert group.gain is not None
                    why = explain.pulse(policy, "module-role-ducking", i, t, target, group.gain)
                    ledger.impose(owner=RECONCILE, target=target.key, kind="duck", cause=t, reason=why, gain=group.gain)

    @classmethod
    def why_nothing(cls, policy: FocusPolicy, existing: FocusRequest, incoming: FocusRequest) -> Reason:
        assert isinstance(policy, PulseAudioPolicy)
        return explain.pulse_nothing(policy, existing, incoming)


register(PulseAudioSystem)
