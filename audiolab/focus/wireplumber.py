"""WirePlumber 0.5: policy.linking.role-based, loopback role sinks with priorities."""

from __future__ import annotations

from ..model import Flow
from ..reason import Reason
from . import explain
from .policy import FocusPolicy, WirePlumberPolicy
from .request import FocusRequest
from .system import RECONCILE, FocusSystem, register


class WirePlumberSystem(FocusSystem):
    """The highest-priority linked role sink (ties: the most recent) applies its action to all others."""

    kind = "wireplumber"
    stateful = True
    policy: WirePlumberPolicy

    def reconcile(self) -> None:
        policy, ledger = self.policy, self.ledger
        linked = [(r, sink) for r in ledger.streams.values()
                  if r.flow is Flow.RENDER and (sink := policy.sink_for(r.role)) is not None]
        if not linked:
            return
        top, top_sink = max(linked, key=lambda rs: (rs[1].priority, ledger.order[rs[0].key]))
        for req, sink in linked:
            if req.key == top.key:
                continue
            same = sink.priority == top_sink.priority
            action = top_sink.same_priority if same else top_sink.lower_priority
            why = explain.wireplumber(policy, top_sink, sink, action)
            if action == "duck":
                ledger.impose(owner=RECONCILE, target=req.key, kind="duck", cause=top, reason=why, gain=policy.duck_level)
            elif action == "cork":
                ledger.impose(owner=RECONCILE, target=req.key, kind="pause", cause=top, reason=why, mechanism="unlink")

    @classmethod
    def why_nothing(cls, policy: FocusPolicy, existing: FocusRequest, incoming: FocusRequest) -> Reason:
        assert isinstance(policy, WirePlumberPolicy)
        return explain.wireplumber_nothing(policy, existing, incoming)


register(WirePlumberSystem)
