"""Audio focus: policies as data (``datasets/focus``) and the engine that applies them.

    policy = load_policy("windows", ducking="reduce_50")
    engine = FocusEngine(policy)
    actions = engine.start(FocusRequest("call", "s1", Role.VOICE_COMMUNICATION), now=0.0)
"""

from .engine import (
    DeactivateSession,
    Deny,
    Duck,
    DuckNotify,
    FocusAction,
    FocusEngine,
    FocusRequest,
    Interrupt,
    Pause,
    Resume,
    Stop,
    StreamFocus,
    Unduck,
    UnduckNotify,
)
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

__all__ = (
    "BUILTIN",
    "DeactivateSession",
    "Deny",
    "Duck",
    "DuckGroup",
    "DuckNotify",
    "FocusAction",
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
