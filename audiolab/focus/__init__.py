"""Audio focus: policies as data (``datasets/focus``) and the engine that applies them.

    policy = load_policy("windows", ducking="reduce_50")
    engine = FocusEngine(policy)
    actions = engine.start(FocusRequest("call", "s1", Role.VOICE_COMMUNICATION), now=0.0)

One module per focus system (harmonyos, windows, pulseaudio, wireplumber, ...) behind the interface of
:mod:`audiolab.focus.system`, each imported when a policy of its kind is first used; the engine keeps what they
share, :mod:`audiolab.focus.actions` the action types.
"""

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
