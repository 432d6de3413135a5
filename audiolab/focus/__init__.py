"""Audio focus: policies as data (``datasets/focus``) and the engine that applies them.

    policy = load_policy("windows", ducking="reduce_50")
    engine = FocusEngine(policy)
    actions = engine.start(FocusRequest("call", "s1", Role.VOICE_COMMUNICATION), now=0.0)

One module per focus system (harmonyos, windows, pulseaudio, wireplumber, ...) behind the interface of
:mod:`audiolab.focus.system`, each imported when a policy of its kind is first used; the engine keeps what they
share, :mod:`audiolab.focus.actions` the action types.

Each name is imported from its module when first used: ``audiolab sessions`` on the simulated service
loads the policy types but never the engine and its actions.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .actions import (
        DeactivateSession,
        Deny,
        Duck,
        DuckNotify,
        FocusAction,
        Interrupt,
        Pause,
        Resume,
        Stop,
        Unduck,
        UnduckNotify,
    )
    from .engine import FocusEngine, StreamFocus
    from .policy import (
        BUILTIN,
        DuckGroup,
        FocusPolicy,
        HarmonyOSPolicy,
        HarmonyRule,
        NoPolicy,
        PolicyError,
        PulseAudioPolicy,
        RoleSink,
        WindowsPolicy,
        WirePlumberPolicy,
        load_policy,
        pulse_volume_to_gain,
    )
    from .request import FocusAttributes, FocusRequest

__all__ = (
    "BUILTIN",
    "DeactivateSession",
    "Deny",
    "Duck",
    "DuckGroup",
    "DuckNotify",
    "FocusAction",
    "FocusAttributes",
    "FocusEngine",
    "FocusPolicy",
    "FocusRequest",
    "HarmonyOSPolicy",
    "HarmonyRule",
    "Interrupt",
    "NoPolicy",
    "Pause",
    "PolicyError",
    "PulseAudioPolicy",
    "Resume",
    "RoleSink",
    "Stop",
    "StreamFocus",
    "Unduck",
    "UnduckNotify",
    "WindowsPolicy",
    "WirePlumberPolicy",
    "load_policy",
    "pulse_volume_to_gain",
)

_HOME = {
    "BUILTIN": "policy",
    "DeactivateSession": "actions",
    "Deny": "actions",
    "Duck": "actions",
    "DuckGroup": "policy",
    "DuckNotify": "actions",
    "FocusAction": "actions",
    "FocusAttributes": "request",
    "FocusEngine": "engine",
    "FocusPolicy": "policy",
    "FocusRequest": "request",
    "HarmonyOSPolicy": "policy",
    "HarmonyRule": "policy",
    "Interrupt": "actions",
    "NoPolicy": "policy",
    "Pause": "actions",
    "PolicyError": "policy",
    "PulseAudioPolicy": "policy",
    "Resume": "actions",
    "RoleSink": "policy",
    "Stop": "actions",
    "StreamFocus": "engine",
    "Unduck": "actions",
    "UnduckNotify": "actions",
    "WindowsPolicy": "policy",
    "WirePlumberPolicy": "policy",
    "load_policy": "policy",
    "pulse_volume_to_gain": "policy",
}
"""The module that defines each public name."""


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:  # a submodule (``audiolab.focus.roles``), imported as the eager package did
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # asked once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
