"""The focus policy types: frozen values a policy file is read into (see :mod:`audiolab.focus.policy`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .._by_fields import by_fields
from .._exceptions import PolicyError
from ..model import ForceType, Role


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class FocusPolicy:
    """Base of every policy: a name, the effective settings and the provenance of the data."""

    name: str
    settings: Mapping[str, object] = field(default_factory=dict)
    source: Mapping[str, object] = field(default_factory=dict, compare=False, repr=False)

    kind = "base"

    @property
    def version(self) -> str | None:
        """Where the policy's data came from: the file's ``source.version``, else the source repository and
        commit it was taken from, else None."""
        version = self.source.get("version")
        if isinstance(version, str):
            return version
        repo, commit = self.source.get("repository"), self.source.get("commit")
        if isinstance(repo, str) and isinstance(commit, str):
            return f"{repo}@{commit[:12]}"
        return None


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class NoPolicy(FocusPolicy):
    """Everything mixes."""

    kind = "none"


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class HarmonyRule:
    """One cell of the HarmonyOS table: what happens when ``incoming`` starts while ``existing`` plays.

    ``action`` is PLAY, DUCK, PAUSE, STOP (REJECT is read as STOP) or DENY; ``on`` is "incoming",
    "existing" or "both"; ``force`` FORCE (the system acts) or SHARE (the app is told and decides)."""

    action: str
    on: str
    force: ForceType
    group: str

    @property
    def deny(self) -> bool:
        return self.action == "DENY"


PLAY_RULE = HarmonyRule("PLAY", "incoming", ForceType.FORCE, "default")


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class HarmonyOSPolicy(FocusPolicy):
    """The OpenHarmony default interrupt table plus the usage/role mapping and session types."""

    table: Mapping[tuple[str, str], HarmonyRule] = field(default_factory=dict, repr=False)
    role_to_usage: Mapping[Role, str] = field(default_factory=dict, repr=False)
    usage_to_focus_type: Mapping[str, str] = field(default_factory=dict, repr=False)
    session_types: Mapping[str, str] = field(default_factory=dict, repr=False)
    duck_gain: float = 0.2

    kind = "harmonyos"

    def focus_type(self, role: Role, usage: str | None = None) -> str:
        """The table's stream type for a role (or an explicit StreamUsage/SourceType name)."""
        name = usage or self.role_to_usage.get(role, "STREAM_USAGE_UNKNOWN")
        try:
            return self.usage_to_focus_type[name]
        except KeyError:
            raise PolicyError(f"harmonyos: unknown stream usage {name!r}") from None

    def rule(self, existing: str, incoming: str) -> HarmonyRule:
        """The table cell for a pair; a pair the table does not list plays both."""
        return self.table.get((existing, incoming), PLAY_RULE)

    def same_session_type(self, a: str, b: str) -> bool:
        ta, tb = self.session_types.get(a), self.session_types.get(b)
        return ta is not None and ta == tb


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class WindowsPolicy(FocusPolicy):
    """Windows communications-activity ducking. ``gain`` is None for the "Do nothing" setting. A stream is a
    communications stream when it plays on the default communications device, whatever its role."""

    gain: float | None = 0.2
    fade_seconds: float = 1.0
    system_sounds_roles: frozenset[Role] = frozenset()

    kind = "windows"


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class DuckGroup:
    """One slash-separated group of module-role-ducking (or, with gain None, of module-role-cork)."""

    trigger_roles: tuple[str, ...]
    roles: tuple[str, ...]
    gain: float | None = None


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class PulseAudioPolicy(FocusPolicy):
    """module-role-ducking (``duck_groups``) and module-role-cork (``cork_groups``)."""

    duck_groups: tuple[DuckGroup, ...] = ()
    duck_global: bool = False
    cork_groups: tuple[DuckGroup, ...] = ()
    cork_global: bool = False

    kind = "pulseaudio"


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class RoleSink:
    """A WirePlumber loopback role sink."""

    name: str
    roles: tuple[str, ...]
    priority: int
    same_priority: str
    lower_priority: str


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class WirePlumberPolicy(FocusPolicy):
    """WirePlumber role-based linking: role sinks with priorities and mix/duck/cork actions."""

    sinks: tuple[RoleSink, ...] = ()
    role_to_media_role: Mapping[Role, str | None] = field(default_factory=dict, repr=False)
    default_media_role: str | None = "Multimedia"
    duck_level: float = 0.3

    kind = "wireplumber"

    def sink_for(self, role: Role) -> RoleSink | None:
        media_role = self.role_to_media_role.get(role) or self.default_media_role
        for sink in self.sinks:
            if media_role in sink.roles:
                return sink
        return None
