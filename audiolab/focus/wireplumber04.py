"""WirePlumber 0.4: the role-based endpoints policy (``policy.lua.d/50-endpoints-config.lua``), which Debian 12's
WirePlumber 0.4.13 ships commented out. Not to be confused with WirePlumber 0.5's loopback role sinks
(:mod:`audiolab.focus.wireplumber`).

From ``policy-endpoint-client.lua`` and ``policy-endpoint-client-links.lua`` at tag 0.4.13:

- a stream links to the endpoint of its ``media.role``: a role's own name or one of its aliases (case matters);
  any other role, and a stream with none (``"Default"``), goes to the lowest-priority role of its media class
  (Multimedia for playback);
- the links are sorted by their role's priority, then by plug time (the newest first); the first one's role
  decides for every other link: ``action.<other role>`` or its ``action.default``: cork (the link is
  deactivated: the stream is corked and on no sink), duck (the other role's endpoint monitor volume is set to
  ``duck.level``, 0.3; the stream's own volume stays 100 %) or mix.

On a real server a stream's role is best read from the endpoint it plays on (``control.endpoint.<role>``, the
role's name in lower case with ``_`` for ``-``): a session keeps its ``media.role`` only as an audiolab role,
which loses its case ("Navigation" and "navigation" link to different roles).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._by_fields import by_fields
from ..model import Flow, Role
from ..reason import Reason, RuleValue
from .explain import reason
from .policy import FocusPolicy, PolicyError, level, role_table
from .request import FocusRequest
from .system import RECONCILE, FocusSystem, register

Link = tuple[FocusRequest, "EndpointRole", bool]
"""A stream's link: the stream, the endpoint role it links to, and whether its media.role fell back to it."""

ENDPOINT_SINK = "control.endpoint."
"""How pipewire-pulse names a role's endpoint sink (``control.endpoint.speech_high``)."""
LINKS_SCRIPT = "policy-endpoint-client-links.lua"
CLIENT_SCRIPT = "policy-endpoint-client.lua"
ACTIONS = ("cork", "duck", "mix")


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class EndpointRole:
    """One role of ``default_policy.policy.roles``."""

    name: str
    priority: int
    aliases: tuple[str, ...]
    actions: Mapping[str, str]
    media_class: str = "Audio/Sink"

    def action_for(self, other: str) -> tuple[str, str]:
        """(action, the key it came from) this role applies to a link of role ``other``."""
        key = f"action.{other}"
        if key in self.actions:
            return self.actions[key], key
        if "action.default" in self.actions:
            return self.actions["action.default"], "action.default"
        return "mix", "(none: mix)"


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class WirePlumber04Policy(FocusPolicy):
    """The roles and the duck level of the endpoints policy, and the media.role each audiolab role sets."""

    roles: Mapping[str, EndpointRole] = field(default_factory=dict, repr=False)
    role_to_media_role: Mapping[Role, str | None] = field(default_factory=dict, repr=False)
    duck_level: float = 0.3

    kind = "wireplumber-0.4"

    def media_role(self, req: FocusRequest) -> str | None:
        """The stream's ``media.role``: its own (attributes.media_role), else the one its audiolab role sets."""
        return req.attributes.media_role or self.role_to_media_role.get(req.role)

    def link_role(self, req: FocusRequest) -> tuple[EndpointRole, bool]:
        """The role a stream links to: the one whose endpoint it plays on, when its device is one, else
        :meth:`endpoint_role` of its media.role."""
        on = req.device_id[len(ENDPOINT_SINK):] if req.device_id.startswith(ENDPOINT_SINK) else None
        for role in self.roles.values():
            if role.media_class == "Audio/Sink" and role.name.lower().replace("-", "_") == on:
                return role, False
        return self.endpoint_role(self.media_role(req))

    def endpoint_role(self, media_role: str | None, media_class: str = "Audio/Sink") -> tuple[EndpointRole, bool]:
        """findRole(): the role a media.role links to, and whether it fell back to the lowest priority."""
        wanted = media_role or "Default"
        if wanted in self.roles and self.roles[wanted].media_class == media_class:
            return self.roles[wanted], False
        for role in self.roles.values():
            if role.media_class == media_class and wanted in role.aliases:
                return role, False
        lowest = min((r for r in self.roles.values() if r.media_class == media_class), key=lambda r: r.priority)
        return lowest, True


def _build(name: str, settings: dict[str, Any], data: dict[str, Any]) -> WirePlumber04Policy:
    raw = data.get("roles")
    if not isinstance(raw, dict) or not raw:
        raise PolicyError("'roles' must be an object of endpoint roles")
    roles = {}
    for role_name, spec in raw.items():
        if not isinstance(spec, dict) or isinstance(spec.get("priority"), bool) or not isinstance(spec.get("priority"), int):
            raise PolicyError(f"roles[{role_name!r}] needs an integer priority")
        actions = {k: v for k, v in spec.items() if k.startswith("action.")}
        if not set(actions.values()) <= set(ACTIONS):
            raise PolicyError(f"roles[{role_name!r}]: actions must be one of {ACTIONS}")
        aliases = spec.get("alias", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise PolicyError(f"roles[{role_name!r}].alias must be a list of names")
        roles[role_name] = EndpointRole(role_name, spec["priority"], tuple(aliases), actions,
                                        str(spec.get("media.class", "Audio/Sink")))
    if not any(r.media_class == "Audio/Sink" for r in roles.values()):
        raise PolicyError("no role of media.class Audio/Sink")
    media_roles = role_table(data.get("role_to_media_role", {}), "'role_to_media_role'")
    if not all(v is None or (isinstance(v, str) and v) for v in media_roles.values()):
        raise PolicyError("'role_to_media_role' values must be media.role strings or null")
    return WirePlumber04Policy(
        name=name,
        settings=settings,
        source=data.get("source", {}),
        roles=roles,
        role_to_media_role=media_roles,
        duck_level=level(settings.get("duck_level", 0.3), "duck_level"),
    )


class WirePlumber04System(FocusSystem):
    """The highest-priority link (ties: the newest) applies its role's action to every other link."""

    kind = "wireplumber-0.4"
    stateful = True
    policy: WirePlumber04Policy

    def reconcile(self) -> None:
        policy, ledger = self.policy, self.ledger
        links = [(r, *policy.link_role(r)) for r in ledger.streams.values()
                 if r.flow is Flow.RENDER]
        if not links:
            return
        first = max(links, key=lambda link: (link[1].priority, ledger.order[link[0].key]))
        top = first[0]
        for link in links:
            req, role = link[0], link[1]
            if req.key == top.key:
                continue
            action, key = first[1].action_for(role.name)
            why = links_reason(policy, first, link, action, key)
            if action == "duck":
                ledger.impose(owner=RECONCILE, target=req.key, kind="duck", cause=top, reason=why, gain=policy.duck_level)
            elif action == "cork":
                ledger.impose(owner=RECONCILE, target=req.key, kind="pause", cause=top, reason=why, mechanism="unlink")

    @classmethod
    def why_nothing(cls, policy: FocusPolicy, existing: FocusRequest, incoming: FocusRequest) -> Reason:
        assert isinstance(policy, WirePlumber04Policy)
        mine: Link = (existing, *policy.link_role(existing))
        theirs: Link = (incoming, *policy.link_role(incoming))
        winner, loser = (mine, theirs) if theirs[1].priority < mine[1].priority else (theirs, mine)
        return links_reason(policy, winner, loser, *winner[1].action_for(loser[1].name))


def _said(policy: WirePlumber04Policy, link: Link) -> str:
    req, role, fallback = link
    raw = policy.media_role(req)
    shown = f"media.role {raw!r}" if raw else "no media.role"
    if req.device_id.startswith(ENDPOINT_SINK):
        return f"a {role.name} stream (on {req.device_id})"
    if fallback:
        return f"a stream with {shown} (not a role or alias: the lowest-priority role, {role.name})"
    return f"a {role.name} stream ({shown})"


def links_reason(policy: WirePlumber04Policy, first: Link, other: Link, action: str, key: str) -> Reason:
    """The first link's role acting on another link: ``action``, taken from the role's ``key``."""
    winner, winner_role, winner_fallback = first
    loser, loser_role, loser_fallback = other
    effect = {"cork": "corks it (its link is deactivated: corked, on no sink)",
              "duck": (f"ducks it: the {loser_role.name} endpoint's monitor volume goes to {policy.duck_level:g} "
                       f"(the stream's own volume stays 100 %)"),
              "mix": "mixes with it"}[action]
    text = (f"WirePlumber 0.4 endpoints policy: {_said(policy, first)}, priority {winner_role.priority}, holds the "
            f"first link; its {key} = {action} for {_said(policy, other)}, priority {loser_role.priority}: it {effect}")
    data: dict[str, RuleValue] = {
        "script": LINKS_SCRIPT, "winner_role": winner_role.name, "winner_priority": winner_role.priority,
        "winner_media_role": policy.media_role(winner), "loser_role": loser_role.name,
        "loser_priority": loser_role.priority, "loser_media_role": policy.media_role(loser),
        "fallback": winner_fallback or loser_fallback, "action": action, "action_key": key,
        "duck_level": policy.duck_level,
    }
    gain = policy.duck_level if action == "duck" else 0.0 if action == "cork" else 1.0
    return reason(policy, text + ".", data, gain, f"{winner_role.name} > {loser_role.name}: {action}")


register(WirePlumber04System, _build)
