"""audiolab: audio sessions and audio focus, visible and playable, in notebooks and asyncio/anyio code.

    async with audiolab.open() as lab:          # the built-in simulated audio service
        async for session in lab.sessions():
            print(session.label, session.state, session.volume)

Nothing heavy is imported here: backends, numpy-based audio and widgets load when first used.
"""

from ._exceptions import (
    AudiolabError,
    BackendDisconnected,
    BackendUnavailable,
    ClosedResourceError,
    EventOverflow,
    FocusDeniedError,
    NotSupported,
    PolicyError,
    ScenarioError,
    SessionNotFound,
    StreamNotFound,
)
from ._holding import start_lab, stop_lab
from ._hub import EventSubscription
from ._meters import MeterSubscription
from .clock import RealClock, VirtualClock
from .lab import Lab, open
from .model import (
    NULL_GUID,
    ConcurrencyMode,
    DeactivationReason,
    Device,
    DeviceRole,
    DisconnectReason,
    Flow,
    ForceType,
    InterruptHint,
    MeterFrame,
    Origin,
    Role,
    Session,
    SessionKey,
    SessionState,
    Stream,
    StreamState,
)
from .reason import Reason

__version__ = "0.1.0"

__all__ = (
    "AudiolabError",
    "BackendDisconnected",
    "BackendUnavailable",
    "ClosedResourceError",
    "ConcurrencyMode",
    "DeactivationReason",
    "Device",
    "DeviceRole",
    "DisconnectReason",
    "EventOverflow",
    "EventSubscription",
    "Flow",
    "FocusDeniedError",
    "ForceType",
    "InterruptHint",
    "Lab",
    "MeterFrame",
    "MeterSubscription",
    "NULL_GUID",
    "NotSupported",
    "Origin",
    "PolicyError",
    "RealClock",
    "Reason",
    "Role",
    "ScenarioError",
    "Session",
    "SessionKey",
    "SessionNotFound",
    "SessionState",
    "Stream",
    "StreamNotFound",
    "StreamState",
    "VirtualClock",
    "open",
    "start_lab",
    "stop_lab",
)
