"""Focus transitions as sentences: "Maps (navigation) ducks Music to 0.20", "Phone (voice call) pauses Music".

A :class:`Narrator` knows a name and a role for each session id (a scenario's player ids, or the demo's
apps) and turns focus, state and volume events into one readable line each, naming the cause.
"""

from __future__ import annotations

from ..events import (
    Ducked,
    DuckNotification,
    Event,
    FocusDenied,
    InterruptEvent,
    SessionDeactivated,
    StateChanged,
    Unducked,
    UnduckNotification,
    VolumeChanged,
)
from ..model import ForceType, InterruptHint, Role, SessionState

ROLE_WORDS = {Role.VOICE_COMMUNICATION: "voice call", Role.VOICE_MESSAGE: "voice message",
              Role.VOICE_RECOGNITION: "voice recognition"}

FOCUS_EVENTS = (Ducked, Unducked, InterruptEvent, FocusDenied, DuckNotification, UnduckNotification,
                SessionDeactivated, StateChanged, VolumeChanged)
"""The event kinds a transitions table shows."""


def role_word(role: Role) -> str:
    return ROLE_WORDS.get(role, role.value.replace("_", " "))


class Narrator:
    """Names sessions and describes events about them."""

    def __init__(self) -> None:
        self._names: dict[str, tuple[str, Role | None]] = {}

    def add(self, session_id: str, name: str, role: Role | None = None) -> None:
        self._names[session_id] = (name, role)

    def knows(self, session_id: str | None) -> bool:
        return session_id in self._names

    def name(self, session_id: str | None) -> str:
        if session_id is None:
            return "?"
        return self._names.get(session_id, (session_id, None))[0]

    def cause(self, session_id: str | None) -> str:
        """The cause with its role: "Maps (navigation)"."""
        if session_id is None:
            return "the system"
        name, role = self._names.get(session_id, (session_id, None))
        return f"{name} ({role_word(role)})" if role is not None else name

    def sentence(self, event: Event, *, why: str = "") -> str | None:  # noqa: PLR0911 - one branch per kind
        """One line for a focus/state/volume event, or None for events a transitions table leaves out.
        ``why`` adds what the caller knows of a state change (e.g. "stopped by its app")."""
        who = self.name(event.session_id)
        cause = self.cause(getattr(event, "cause_session_id", None))
        if isinstance(event, Ducked):
            fade = f" over {event.fade_seconds:g} s" if event.fade_seconds else ""
            return f"{cause} ducks {who} to {event.gain:.2f}{fade}"
        if isinstance(event, Unducked):
            fade = f" over {event.fade_seconds:g} s" if event.fade_seconds else ""
            return f"{who} back to {event.gain:.2f}{fade} ({cause} released it)"
        if isinstance(event, InterruptEvent):
            return self._interrupt(event, who, cause)
        if isinstance(event, FocusDenied):
            return f"{cause} denies {who} focus: it may not start"
        if isinstance(event, DuckNotification):
            return (f"{who} gets a duck notification: {self.name(event.communications_session_id)} started "
                    f"({event.count} communications session{'s' if event.count != 1 else ''} active)")
        if isinstance(event, UnduckNotification):
            return f"{who} gets an unduck notification: {self.name(event.communications_session_id)} ended"
        if isinstance(event, SessionDeactivated):
            by = f" by {cause}" if event.cause_session_id else ""
            return f"the system deactivates {event.session_id}'s audio session{by} (reason {event.reason.value})"
        if isinstance(event, StateChanged):
            if SessionState.EXPIRED in (event.old, event.new):
                return None
            tail = f" ({why})" if why else ""
            return f"{who} {event.old.value} -> {event.new.value}{tail}"
        if isinstance(event, VolumeChanged):
            return f"{who} volume {event.volume:.2f}{' muted' if event.muted else ''}"
        return None

    @staticmethod
    def _interrupt(event: InterruptEvent, who: str, cause: str) -> str:
        hint = event.hint
        if event.native:  # the system's own callback: Android's focus changes, iOS's interruptions
            return f"{who} is told {event.native} (by {cause})"
        if event.force_type is ForceType.SHARE:
            if hint is InterruptHint.RESUME:
                return f"{who} may resume ({cause} ended; share: the app decides)"
            return f"{who} is asked to {hint.value} by {cause} (share: the app decides)"
        verbs = {InterruptHint.PAUSE: f"{cause} pauses {who}", InterruptHint.STOP: f"{cause} stops {who} for good",
                 InterruptHint.RESUME: f"{who} resumes ({cause} ended)"}
        if hint in verbs:
            return verbs[hint]
        return f"{who} is told: {hint.value} (by {cause})"
