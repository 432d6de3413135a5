"""The focus policy in force on a PulseAudio-protocol server, read from what it has loaded.

module-role-ducking and module-role-cork (with their arguments, defaults filled in as the modules fill them)
become one :class:`~audiolab.focus.PulseAudioPolicy`, so the focus engine predicts with them exactly as it does
on the simulated service. module-stream-restore's entries that put a stream back quieter than 100 % or muted are
listed (a frequent reason for a "quiet" stream). On PipeWire, pipewire-pulse implements neither role module;
WirePlumber 0.4's role-based endpoints policy, when enabled, shows as ``control.endpoint.<role>`` sinks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from ..._exceptions import AudiolabError, PolicyError
from ...focus.in_force import LoadedModule, PolicyInForce, RestoredVolume
from ...focus.policy import FocusPolicy, NoPolicy, load_policy
from .volume import master_level

ROLE_DUCKING, ROLE_CORK, STREAM_RESTORE = "module-role-ducking", "module-role-cork", "module-stream-restore"
FOCUS_MODULES = (ROLE_DUCKING, ROLE_CORK, STREAM_RESTORE)
ENDPOINT_PREFIX = "control.endpoint."
_DEFAULTS = {
    ROLE_DUCKING: {"trigger_roles": "phone", "ducking_roles": "music,video", "volume": "-20dB", "global": "0"},
    ROLE_CORK: {"trigger_roles": "phone", "cork_roles": "music,video", "global": "0"},
}


def parse_module_arguments(text: str | None) -> dict[str, str]:
    """``key=value`` pairs separated by blanks, a value optionally quoted with ' or " (pa_modargs' syntax).
    Raises ValueError on a malformed string."""
    out: dict[str, str] = {}
    text = text or ""
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        eq = text.find("=", i)
        if eq < 0 or eq == i or not all(ch.isalnum() or ch in "_.-" for ch in text[i:eq]):
            raise ValueError(f"malformed module arguments {text!r}")
        key, i = text[i:eq], eq + 1
        if i < n and text[i] in "'\"":
            end = text.find(text[i], i + 1)
            if end < 0:
                raise ValueError(f"unterminated quote in module arguments {text!r}")
            value, i = text[i + 1:end], end + 1
        else:
            start = i
            while i < n and not text[i].isspace():
                i += 1
            value = text[start:i]
        out[key] = value
    return out


def policy_in_force(
    server: str,
    modules: Iterable[tuple[int | None, str, str | None]],
    restore: Iterable[RestoredVolume] = (),
    sink_names: Iterable[str] = (),
    *,
    pipewire: bool = False,
    restore_note: str | None = None,
) -> PolicyInForce:
    """Build the policy in force from the server's name, its loaded modules ``(index, name, argument)``, the
    stream-restore entries and the sink names."""
    loaded: list[LoadedModule] = []
    notes: list[str] = []
    for index, name, argument in modules:
        if name not in FOCUS_MODULES:
            continue
        try:
            args = parse_module_arguments(argument)
        except ValueError as exc:
            notes.append(f"{name} #{index}: {exc}; left out of the predictions")
            continue
        loaded.append(LoadedModule(index, name, args))
    policy = _focus_policy(server, loaded, notes)
    endpoints = tuple(sorted(s[len(ENDPOINT_PREFIX):] for s in sink_names if s.startswith(ENDPOINT_PREFIX)))
    if pipewire:
        notes.append("pipewire-pulse implements neither module-role-ducking nor module-role-cork; on PipeWire a role "
                     "policy is WirePlumber configuration")
        if endpoints:
            notes.append("WirePlumber 0.4's role-based endpoints policy is active (streams are routed to the "
                         f"control.endpoint sinks {', '.join(endpoints)}); predictions use audiolab's model of "
                         "Debian's 50-endpoints-config.lua (wireplumber-0.4); a custom configuration may differ")
            model = load_policy("wireplumber-0.4")
            policy = replace(model, name="wireplumber-0.4 (server)",
                             source={**model.source, "version": server, "endpoints": list(endpoints)})
        else:
            notes.append("no WirePlumber role endpoints are visible: no role policy ducks or corks streams")
    if restore_note:
        notes.append(restore_note)
    quiet = tuple(r for r in restore if r.muted or (r.volume is not None and r.volume < 0.995))
    return PolicyInForce(server=server, policy=policy, modules=tuple(loaded), restored=quiet,
                         role_endpoints=endpoints, notes=tuple(notes))


def _focus_policy(server: str, modules: Sequence[LoadedModule], notes: list[str]) -> FocusPolicy:
    ducking = [m for m in modules if m.name == ROLE_DUCKING]
    cork = [m for m in modules if m.name == ROLE_CORK]
    for extra in ducking[1:] + cork[1:]:
        notes.append(f"{extra.describe()} is a second instance; predictions use the first one only")
    if not ducking and not cork:
        return replace(load_policy("none"), name="none (server)", source={"version": server})
    duck = {**_DEFAULTS[ROLE_DUCKING], **(ducking[0].arguments if ducking else {})}
    corks = {**_DEFAULTS[ROLE_CORK], **(cork[0].arguments if cork else {})}
    for module in (ducking[:1] + cork[:1]):
        if module.arguments.get("use_source_trigger", "0").lower() in ("1", "yes", "true", "on"):
            notes.append(f"{module.describe()}: recording streams as triggers are not modelled")
    try:
        policy = load_policy(
            "pulseaudio",
            role_ducking=bool(ducking), role_cork=bool(cork),
            trigger_roles=duck["trigger_roles"], ducking_roles=duck["ducking_roles"], volume=duck["volume"],
            global_=duck["global"],
            cork_trigger_roles=corks["trigger_roles"], cork_roles=corks["cork_roles"], cork_global=corks["global"],
        )
    except PolicyError as exc:
        notes.append(f"the role modules' arguments could not be modelled ({exc}); nothing is predicted")
        return NoPolicy(name="none (server)", source={"version": server})
    indices = {m.name: m.index for m in (ducking[:1] + cork[:1])}
    return replace(policy, name="pulseaudio (server)", source={"version": server, "modules": indices})


async def read_policy(conn: Any) -> PolicyInForce:
    """Ask the server (a :class:`~audiolab.backends._pulse.connection.Connection`) what it has loaded."""
    info = await conn.query("server_info")
    name = getattr(info, "server_name", "") or "PulseAudio"
    version = getattr(info, "server_version", "") or ""
    pipewire = "pipewire" in name.lower()
    server = f"{name} {version}".strip()
    modules = [(m.index, m.name, m.argument) for m in await conn.query("module_list")]
    sinks = [s.name for s in await conn.query("sink_list")]
    restore: list[RestoredVolume] = []
    note = None
    if any(name == STREAM_RESTORE for _, name, _ in modules):
        try:
            entries = await conn.query("stream_restore_list")
        except AudiolabError as exc:
            note = f"module-stream-restore's entries could not be read ({exc})"
        else:
            restore = [_restored(e) for e in entries]
    return policy_in_force(server, modules, restore, sinks, pipewire=pipewire, restore_note=note)


def _restored(entry: Any) -> RestoredVolume:
    values = list(getattr(getattr(entry, "volume", None), "values", []) or [])
    return RestoredVolume(
        key=str(entry.name),
        volume=master_level(values) if values else None,
        muted=bool(getattr(entry, "mute", False)),
        device=getattr(entry, "device", None) or None,
    )
