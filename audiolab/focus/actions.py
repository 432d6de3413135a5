"""The focus action types: what a focus system decides and the service applies (or delivers), in order.

Each action names the stream it is about, the stream that caused it and the :class:`~audiolab.reason.Reason`
behind it; :meth:`FocusAction.to_event` gives the audiolab event it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._by_fields import by_fields
from ..events import (
    Ducked,
    DuckNotification,
    Event,
    FocusDenied,
    InterruptEvent,
    SessionDeactivated,
    Unducked,
    UnduckNotification,
)
from ..model import DeactivationReason, ForceType, InterruptHint
from ..reason import Reason
from .request import FocusRequest

# --- actions -------------------------------------------------------------------------------------------


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class FocusAction:
    """Something the service must apply (or deliver). ``stream_id`` is None for session-level actions;
    ``cause_*`` name the stream that caused it; ``reason`` explains the decision."""

    timestamp: float
    session_id: str
    stream_id: str | None
    cause_session_id: str | None = None
    cause_stream_id: str | None = None
    reason: Reason | None = None

    @property
    def kind(self) -> str:
        return type(self).__name__

    def to_event(self) -> Event | None:
        """The audiolab event this action stands for, or None when the service reports it otherwise
        (Pause/Resume/Stop change stream state)."""
        return None


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Deny(FocusAction):
    """The stream may not start."""

    def to_event(self) -> Event:
        return FocusDenied(
            timestamp=self.timestamp, session_id=self.session_id, cause_session_id=self.cause_session_id, why=self.reason
        )


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Duck(FocusAction):
    """Set the stream's focus gain (linear amplitude, multiplies its volume) over ``fade_seconds``."""

    gain: float
    fade_seconds: float = 0.0
    force_type: ForceType = ForceType.FORCE

    def to_event(self) -> Event:
        return Ducked(
            timestamp=self.timestamp,
            session_id=self.session_id,
            gain=self.gain,
            cause_session_id=self.cause_session_id,
            fade_seconds=self.fade_seconds,
            why=self.reason,
        )


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Unduck(FocusAction):
    """Restore the stream's focus gain to ``gain`` (1.0) over ``fade_seconds``."""

    gain: float = 1.0
    fade_seconds: float = 0.0

    def to_event(self) -> Event:
        return Unducked(
            timestamp=self.timestamp,
            session_id=self.session_id,
            gain=self.gain,
            cause_session_id=self.cause_session_id,
            fade_seconds=self.fade_seconds,
            why=self.reason,
        )


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Pause(FocusAction):
    """Silence the stream until a matching Resume. ``mechanism``: "pause" (HarmonyOS: the system pauses
    it), "cork" (PulseAudio role-cork: mute + ask the client to cork), "unlink" (WirePlumber: link cut)."""

    force_type: ForceType = ForceType.FORCE
    mechanism: str = "pause"


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Resume(FocusAction):
    """Undo a Pause. With force_type SHARE (HarmonyOS) the app is told it *may* resume."""

    force_type: ForceType = ForceType.FORCE
    mechanism: str = "pause"


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Stop(FocusAction):
    """Stop the stream for good; the engine has forgotten it (do not call ``stop`` for it)."""

    force_type: ForceType = ForceType.FORCE


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Interrupt(FocusAction):
    """A HarmonyOS InterruptEvent to deliver to the stream. It is a message only: the effect (if the
    system acts, FORCE) comes as its own Duck/Pause/Stop/... action; SHARE means the app decides."""

    force_type: ForceType
    hint: InterruptHint
    native: str = ""
    """The system's own name for the callback, where it has one ("AUDIOFOCUS_LOSS_TRANSIENT", ...)."""

    def to_event(self) -> Event:
        return InterruptEvent(
            timestamp=self.timestamp,
            session_id=self.session_id,
            force_type=self.force_type,
            hint=self.hint,
            native=self.native,
            cause_session_id=self.cause_session_id,
            why=self.reason,
        )


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class DuckNotify(FocusAction):
    """Windows OnVolumeDuckNotification delivered to ``session_id`` (also to opted-out sessions)."""

    communications_session_id: str
    count: int

    def to_event(self) -> Event:
        return DuckNotification(
            timestamp=self.timestamp,
            session_id=self.session_id,
            communications_session_id=self.communications_session_id,
            count=self.count,
            why=self.reason,
        )


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class UnduckNotify(FocusAction):
    """Windows OnVolumeUnduckNotification delivered to ``session_id``."""

    communications_session_id: str

    def to_event(self) -> Event:
        return UnduckNotification(
            timestamp=self.timestamp,
            session_id=self.session_id,
            communications_session_id=self.communications_session_id,
            why=self.reason,
        )


@by_fields
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class DeactivateSession(FocusAction):
    """The system deactivated the HarmonyOS audio session of app ``session_id``."""

    deactivation: DeactivationReason

    def to_event(self) -> Event:
        return SessionDeactivated(
            timestamp=self.timestamp,
            session_id=self.session_id,
            reason=self.deactivation,
            cause_session_id=self.cause_session_id,
            why=self.reason,
        )


def head(now: float, key: tuple[str, str | None], cause: FocusRequest | None, reason: Reason) -> dict[str, Any]:
    """The common fields of an action about stream ``key`` caused by ``cause``."""
    return {
        "timestamp": now,
        "session_id": key[0],
        "stream_id": key[1],
        "cause_session_id": cause.session_id if cause else None,
        "cause_stream_id": cause.stream_id if cause else None,
        "reason": reason,
    }
