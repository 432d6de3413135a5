"""The :class:`~audiolab.reason.Reason` for each kind of focus decision, built from the policy's own data.

The focus engine calls these when a rule fires; :func:`why_nothing` says why no rule fired for a pair of
streams (used to explain the cells of ``scenario compare`` where a system left a stream alone).
"""

from __future__ import annotations

from ..model import DeactivationReason, Flow
from ..reason import Reason, RuleValue
from .policy import (
    FocusPolicy,
    HarmonyOSPolicy,
    HarmonyRule,
    PulseAudioPolicy,
    RoleSink,
    WindowsPolicy,
    WirePlumberPolicy,
)
from .request import FocusRequest

HARMONY_TABLE = "audio_interrupt_policy_config.xml"
_HARMONY_VERBS = {"DUCK": "ducks", "PAUSE": "pauses", "STOP": "stops", "DENY": "denies", "PLAY": "lets play"}
_WINDOWS_SETTINGS = {
    "mute": "Mute all other sounds",
    "reduce_80": "Reduce the volume of other sounds by 80%",
    "reduce_50": "Reduce the volume of other sounds by 50%",
    "nothing": "Do nothing",
}


def reason(
    policy: FocusPolicy, text: str, rule: dict[str, RuleValue], gain: float | None = None, label: str = ""
) -> Reason:
    """A reason attributed to ``policy``."""
    return Reason(policy=policy.name, kind=policy.kind, version=policy.version, text=text, rule=rule,
                  predicted_gain=gain, label=label or policy.kind)


def pulse_role(request: FocusRequest) -> str:
    """The ``media.role`` PulseAudio's modules see for a request (``no_role`` when it has none)."""
    return request.role.pulse_media_role or "no_role"


# --- HarmonyOS -----------------------------------------------------------------------------------------


def harmony(
    policy: HarmonyOSPolicy,
    existing: FocusRequest,
    incoming: FocusRequest,
    rule: HarmonyRule,
    strategy: str | None = None,
    effective: HarmonyRule | None = None,
) -> Reason:
    """The interrupt-table entry for ``incoming`` starting while ``existing`` plays; ``strategy`` says how a
    session strategy changed it into ``effective``."""
    etype = policy.focus_type(existing.role, existing.usage)
    itype = policy.focus_type(incoming.role, incoming.usage)
    target = {"incoming": "the incoming stream", "existing": "the existing stream", "both": "both streams"}[rule.on]
    if rule.deny:
        effect = "the incoming stream is denied focus"
    elif rule.action == "PLAY":
        effect = "both play"
    else:
        who = "the system does it" if rule.force.name == "FORCE" else "the app is told and decides"
        effect = f"{rule.action} {target} ({rule.force.name}: {who})"
    text = f"HarmonyOS interrupt table: {itype} starting while {etype} plays -> {effect}"
    if strategy:
        text += f"; {strategy}"
    action = (effective or rule).action
    gain = policy.duck_gain if action == "DUCK" else 0.0 if action in ("PAUSE", "STOP", "DENY") else None
    data: dict[str, RuleValue] = {
        "table": HARMONY_TABLE,
        "existing": etype,
        "incoming": itype,
        "existing_usage": existing.usage or policy.role_to_usage.get(existing.role, "STREAM_USAGE_UNKNOWN"),
        "incoming_usage": incoming.usage or policy.role_to_usage.get(incoming.role, "STREAM_USAGE_UNKNOWN"),
        "action": rule.action,
        "action_on": rule.on,
        "force": rule.force.name,
        "strategy": strategy,
        "effective_action": action,
    }
    short = f"{itype.removeprefix('STREAM_')} over {etype.removeprefix('STREAM_')}: {rule.action}"
    return reason(policy, text + ".", data, gain, short + (f" -> {action}" if action != rule.action else ""))


def harmony_deactivation(
    policy: HarmonyOSPolicy, app: str, deactivation: DeactivationReason, idle_seconds: float | None
) -> Reason:
    """The system deactivating an app's audio session (TIMEOUT after idling, LOWER_PRIORITY when stopped)."""
    if deactivation is DeactivationReason.TIMEOUT:
        idle = f"{idle_seconds:g} s" if idle_seconds is not None else "its idle timeout"
        text = f"HarmonyOS deactivates an audio session that has had no running stream for {idle} (TIMEOUT): {app}'s session ends"
    else:
        text = (f"HarmonyOS deactivates an audio session whose last stream a higher-priority stream stopped "
                f"(LOWER_PRIORITY): {app}'s session ends")
    data: dict[str, RuleValue] = {"deactivation": deactivation.name, "app": app, "idle_seconds": idle_seconds}
    return reason(policy, text + ".", data, label=f"session {deactivation.name}")


# --- Windows -------------------------------------------------------------------------------------------


def windows(policy: WindowsPolicy, communications: FocusRequest, count: int, *, notification: bool = False) -> Reason:
    """Communications activity: a stream on the communications device ducks the other sessions."""
    setting = str(policy.settings.get("ducking", ""))
    label = _WINDOWS_SETTINGS.get(setting, setting)
    device = communications.device_id or "the communications device"
    if notification:
        text = (f"Windows tells every other session when a communications session opens or closes on the "
                f"communications device ({device}); {count} communications session(s) active")
    elif policy.gain is None:
        text = f"Windows communications activity on {device}, setting '{label}': other sounds are left alone"
    else:
        fade = f", {policy.fade_seconds:g} s fade" if policy.fade_seconds else ""
        text = (f"Windows ducks other sounds while a communications stream plays on the communications device "
                f"({device}), setting '{label}' -> gain {policy.gain:.2f}{fade}")
    data: dict[str, RuleValue] = {
        "ducking": setting,
        "gain": policy.gain,
        "fade_seconds": policy.fade_seconds,
        "communications_device": communications.device_id,
        "communications_session": communications.session_id,
        "communications_sessions": count,
    }
    gain = None if notification else (1.0 if policy.gain is None else policy.gain)
    return reason(policy, text + ".", data, gain, f"comms on {device}: {setting}")


# --- PulseAudio ----------------------------------------------------------------------------------------


def pulse_arguments(policy: PulseAudioPolicy, module: str) -> str:
    """The module's arguments as ``pactl load-module`` takes them."""
    s = policy.settings
    if module == "module-role-cork":
        args = {"trigger_roles": s.get("cork_trigger_roles"), "cork_roles": s.get("cork_roles"),
                "global": s.get("cork_global", False)}
    else:
        args = {"trigger_roles": s.get("trigger_roles"), "ducking_roles": s.get("ducking_roles"),
                "volume": s.get("volume"), "global": s.get("global", False)}
    return " ".join(f"{k}={_pa_value(v)}" for k, v in args.items() if v is not None)


def module_name(policy: FocusPolicy, module: str) -> str:
    """``module-role-ducking #12`` when the policy was read from a server (it knows the module's index)."""
    modules = policy.source.get("modules")
    index = modules.get(module) if isinstance(modules, dict) else None
    return f"{module} #{index}" if index is not None else module


def _group_volume(policy: PulseAudioPolicy, group: int) -> str:
    volumes = str(policy.settings.get("volume", "")).split("/")
    return volumes[group] if group < len(volumes) else volumes[-1]


def _pa_value(value: object) -> str:
    return ("1" if value else "0") if isinstance(value, bool) else str(value)


def pulse(
    policy: PulseAudioPolicy, module: str, group: int, trigger: FocusRequest, target: FocusRequest,
    gain: float | None,
) -> Reason:
    """A role-ducking or role-cork group firing: ``trigger`` ducks or corks ``target``."""
    is_cork = module == "module-role-cork"
    is_global = policy.cork_global if is_cork else policy.duck_global
    where = "on any device (global)" if is_global else f"on the same device ({target.device_id})"
    if is_cork:
        effect = f"corks {pulse_role(target)} (muted, and the client is asked to pause)"
    else:
        effect = f"ducks {pulse_role(target)} to volume={policy.settings.get('volume')} (gain {gain:.3g})"
    text = f"{module_name(policy, module)} ({pulse_arguments(policy, module)}): a {pulse_role(trigger)} stream {where} {effect}"
    data: dict[str, RuleValue] = {
        "module": module,
        "arguments": pulse_arguments(policy, module),
        "group": group,
        "trigger_role": pulse_role(trigger),
        "target_role": pulse_role(target),
        "device": target.device_id,
        "global": is_global,
    }
    volume = "" if is_cork else f" (volume={_group_volume(policy, group)})"
    return reason(policy, text + ".", data, 0.0 if is_cork else gain, f"{module_name(policy, module)}{volume}")


# --- WirePlumber ---------------------------------------------------------------------------------------


def wireplumber(policy: WirePlumberPolicy, winner: RoleSink, loser: RoleSink, action: str) -> Reason:
    """The highest-priority role sink acting on a lower (or equal) one."""
    relation = "lower-priority" if loser.priority < winner.priority else "same-priority"
    other = f"the {relation} {loser.name} sink (priority {loser.priority})"
    effect = {"duck": f"ducks {other} to {policy.duck_level:.2f}", "cork": f"corks {other}: its link is cut",
              "mix": f"mixes with {other}"}[action]
    text = f"WirePlumber role priorities: the {winner.name} sink (priority {winner.priority}) is active and {effect}"
    data: dict[str, RuleValue] = {
        "winner": winner.name, "winner_priority": winner.priority, "winner_roles": winner.roles,
        "loser": loser.name, "loser_priority": loser.priority, "loser_roles": loser.roles,
        "action": action, "duck_level": policy.duck_level,
    }
    gain = policy.duck_level if action == "duck" else 0.0 if action == "cork" else 1.0
    label = f"{winner.name} ({winner.priority}) > {loser.name} ({loser.priority}): {action}"
    return reason(policy, text + ".", data, gain, label)


# --- why no rule fired ---------------------------------------------------------------------------------


def why_nothing(policy: FocusPolicy, existing: FocusRequest, incoming: FocusRequest) -> Reason:
    """Why ``policy`` leaves ``existing`` alone when ``incoming`` starts: the rule that could have fired
    and what it lacked (a device, a role, a setting). Each focus system answers for its own policies."""
    from .system import system_for  # here, not at the top: the systems import this module

    return system_for(policy).why_nothing(policy, existing, incoming)


def windows_nothing(policy: WindowsPolicy, existing: FocusRequest, incoming: FocusRequest) -> Reason:
    """Why Windows left ``existing`` alone: not a communications stream, an opt-out, a capture session."""
    if not incoming.on_communications_device:
        text = (f"Windows ducks only for streams on the communications device; the {incoming.role.value} stream "
                f"plays on {incoming.device_id or 'another device'}, which is not it")
    elif existing.ducking_opt_out:
        text = "the session opted out of ducking (SetDuckingPreference), so Windows only notifies it"
    elif existing.flow is not Flow.RENDER:
        text = "Windows ducks render sessions only"
    else:
        return windows(policy, incoming, 1)
    data: dict[str, RuleValue] = {
        "ducking": str(policy.settings.get("ducking", "")),
        "communications_device": incoming.device_id if incoming.on_communications_device else None,
        "incoming_device": incoming.device_id,
        "opted_out": existing.ducking_opt_out,
    }
    return reason(policy, text + ".", data, 1.0)


def pulse_nothing(policy: PulseAudioPolicy, existing: FocusRequest, incoming: FocusRequest) -> Reason:
    """Why neither PulseAudio module acted: not loaded, not a trigger for that role, another device."""
    modules = [("module-role-cork", policy.cork_groups, policy.cork_global),
               ("module-role-ducking", policy.duck_groups, policy.duck_global)]
    loaded = [m for m in modules if m[1]]
    if not loaded:
        return reason(policy, "Neither module-role-ducking nor module-role-cork is loaded.", {}, 1.0)
    trig, tgt = pulse_role(incoming), pulse_role(existing)
    for module, groups, is_global in loaded:
        for group in groups:
            if trig in group.trigger_roles and (tgt in group.roles or "any_role" in group.roles):
                if not is_global and existing.device_id != incoming.device_id:
                    text = (f"{module_name(policy, module)} ({pulse_arguments(policy, module)}) acts per device (global=0): the "
                            f"{trig} stream plays on {incoming.device_id}, the {tgt} stream on "
                            f"{existing.device_id}")
                    data: dict[str, RuleValue] = {
                        "module": module, "arguments": pulse_arguments(policy, module), "global": False,
                        "trigger_role": trig, "target_role": tgt, "trigger_device": incoming.device_id,
                        "device": existing.device_id,
                    }
                    return reason(policy, text + ".", data, 1.0)
    names = " and ".join(f"{module_name(policy, m)} ({pulse_arguments(policy, m)})" for m, _, _ in loaded)
    text = f"{names}: a {trig} stream is not a trigger for a {tgt} stream"
    data = {"modules": tuple(m for m, _, _ in loaded), "trigger_role": trig, "target_role": tgt}
    return reason(policy, text + ".", data, 1.0)


def wireplumber_nothing(policy: WirePlumberPolicy, existing: FocusRequest, incoming: FocusRequest) -> Reason:
    """Why WirePlumber left ``existing`` alone: no role sink, or a winner whose action is mix."""
    mine, theirs = policy.sink_for(existing.role), policy.sink_for(incoming.role)
    if mine is None or theirs is None:
        lost = existing if mine is None else incoming
        text = f"WirePlumber links {lost.role.value} streams to no role sink, so no role priority applies to them"
        return reason(policy, text + ".", {"role": lost.role.value}, 1.0)
    if theirs.priority < mine.priority:
        return wireplumber(policy, mine, theirs, mine.lower_priority)
    action = theirs.same_priority if theirs.priority == mine.priority else theirs.lower_priority
    return wireplumber(policy, theirs, mine, action)
