"""The focus policy in force on a server: :class:`PolicyInForce`.

On the simulated service it is the policy the Lab runs. On a PulseAudio server it is read from what the server
has loaded (module-role-ducking and module-role-cork with their arguments, the volumes module-stream-restore
puts back), on PipeWire from what a pulse client can see of WirePlumber's policy. The ``policy`` is an ordinary
:class:`~audiolab.focus.FocusPolicy`, so predictions on a real server run the same code as the simulated service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from .._by_fields import by_fields
from .policy import BUILTIN, FocusPolicy, NoPolicy, load_policy


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class LoadedModule:
    """A server module that can change volumes, with its index and parsed arguments."""

    index: int | None
    name: str
    arguments: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "arguments", MappingProxyType(dict(self.arguments)))

    @property
    def argument_text(self) -> str:
        """The arguments as ``pactl load-module`` takes them."""
        return " ".join(f"{k}={_quoted(v)}" for k, v in self.arguments.items())

    def describe(self) -> str:
        """``module-role-ducking #12 (trigger_roles=phone volume=30%)``."""
        index = f" #{self.index}" if self.index is not None else ""
        args = f" ({self.argument_text})" if self.arguments else " (default arguments)"
        return f"{self.name}{index}{args}"

    def to_dict(self) -> dict[str, object]:
        return {"index": self.index, "name": self.name, "arguments": dict(self.arguments)}


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class RestoredVolume:
    """One entry of module-stream-restore: the volume it puts back on streams matching ``key``
    (``sink-input-by-media-role:music``, ``sink-input-by-application-name:Firefox``, ...)."""

    key: str
    volume: float | None
    muted: bool = False
    device: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "volume": self.volume, "muted": self.muted, "device": self.device}


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class PolicyInForce:
    """What can duck, cork or restore volumes on a server now."""

    server: str
    """The server as it names itself ("PulseAudio 16.1", "PulseAudio (on PipeWire 0.3.65)", "simulated")."""
    policy: FocusPolicy
    """The focus policy the modules amount to (``NoPolicy`` when nothing ducks or corks)."""
    modules: tuple[LoadedModule, ...] = ()
    restored: tuple[RestoredVolume, ...] = ()
    """module-stream-restore's entries that put a stream back quieter than 100 % or muted."""
    role_endpoints: tuple[str, ...] = ()
    """WirePlumber 0.4's role endpoints (``control.endpoint.<role>`` sinks) when its endpoints policy is on."""
    notes: tuple[str, ...] = ()
    """What could not be known, or was left out of the predictions, in words."""

    def describe(self) -> list[str]:
        """The policy in a few lines a person reads."""
        lines = [f"server: {self.server}"]
        policy = self.policy
        version = f", from {policy.version}" if policy.version else ""
        settings = ", ".join(f"{k}={v}" for k, v in policy.settings.items())
        lines.append(f"  focus policy: {policy.name} ({policy.kind}{version})" + (f": {settings}" if settings and
                                                                                      not self.modules else ""))
        if self.modules:
            lines += [f"  {m.describe()}" for m in self.modules]
        elif policy.kind != "none" and self.server != "audiolab simulated service":
            lines.append("  no module that ducks, corks or restores volumes")
        if self.role_endpoints:
            lines.append(f"  WirePlumber role endpoints: {', '.join(self.role_endpoints)}")
        lines += [f"  restores {r.key} to {_level(r)}" for r in self.restored]
        lines += [f"  note: {n}" for n in self.notes]
        return lines

    def to_dict(self) -> dict[str, object]:
        """JSON-ready; :meth:`from_dict` reads it back."""
        p = self.policy
        return {
            "server": self.server,
            "policy": {"name": p.name, "kind": p.kind, "version": p.version, "settings": dict(p.settings),
                       "source": dict(p.source)},
            "modules": [m.to_dict() for m in self.modules],
            "restored": [r.to_dict() for r in self.restored],
            "role_endpoints": list(self.role_endpoints),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: object) -> PolicyInForce:
        """The inverse of :meth:`to_dict`. Raises TypeError, KeyError or ValueError on malformed input."""
        if not isinstance(data, dict):
            raise TypeError("a policy in force is a JSON object")
        policy = data["policy"]
        if not isinstance(policy, dict) or policy.get("kind") not in BUILTIN:
            raise ValueError(f"unknown policy kind in {policy!r}")
        settings = policy.get("settings") or {}
        if not isinstance(settings, dict):
            raise TypeError("a policy's settings are an object")
        built = load_policy(policy["kind"], **_settings(policy["kind"], settings))
        source = policy.get("source") or {}
        built = replace(built, name=str(policy.get("name", built.name)), source=dict(source))
        return cls(
            server=str(data["server"]),
            policy=built,
            modules=tuple(LoadedModule(m.get("index"), str(m["name"]), dict(m.get("arguments") or {}))
                          for m in _objects(data.get("modules", []))),
            restored=tuple(RestoredVolume(str(r["key"]), r.get("volume"), bool(r.get("muted")), r.get("device"))
                           for r in _objects(data.get("restored", []))),
            role_endpoints=tuple(str(e) for e in data.get("role_endpoints", [])),
            notes=tuple(str(n) for n in data.get("notes", [])),
        )


def simulated(policy: FocusPolicy) -> PolicyInForce:
    """The policy in force on the simulated service."""
    return PolicyInForce(server="audiolab simulated service", policy=policy)


def _settings(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    # load_policy takes "global" as global_ (a keyword); everything else as it is
    return {("global_" if k == "global" else k): v for k, v in settings.items()} if kind == "pulseaudio" else settings


def _objects(items: object) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise TypeError("expected a list of objects")
    return items


def _level(entry: RestoredVolume) -> str:
    if entry.muted:
        return "muted"
    return "an unknown volume" if entry.volume is None else f"{entry.volume:.0%}"


def _quoted(value: str) -> str:
    return f'"{value}"' if any(ch.isspace() for ch in value) or not value else value


NO_POLICY = NoPolicy(name="none")
