"""Plain-text rendering of sessions and events, for the CLI and notebooks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .events import (
    ChannelVolumeChanged,
    DisplayNameChanged,
    Ducked,
    DuckNotification,
    Event,
    FocusDenied,
    GroupingParamChanged,
    IconPathChanged,
    InterruptEvent,
    PolicyChanged,
    SessionCreated,
    SessionDeactivated,
    SessionDisconnected,
    StateChanged,
    StreamsChanged,
    Unducked,
    UnduckNotification,
    VolumeChanged,
)
from .model import Session

if TYPE_CHECKING:
    from collections.abc import Callable

COLUMNS = ("id", "app", "display name", "role", "flow", "device", "state", "volume", "muted")


def session_row(session: Session) -> tuple[str, ...]:
    return (
        session.id,
        session.app,
        session.display_name,
        session.role.value,
        session.flow.value,
        session.device_id,
        session.state.value,
        f"{session.volume:.2f}",
        "yes" if session.muted else "no",
    )


def session_table(sessions: list[Session]) -> str:
    """A fixed-width table of sessions."""
    rows = [COLUMNS] + [session_row(s) for s in sessions]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def describe_event(event: Event, when: Callable[[float], str] | None = None) -> str:
    """One readable line: time (``when(timestamp)``, e.g. the wall-clock time; else the backend clock's
    seconds), kind, session, what changed, and for a focus event the rule behind it."""
    why = getattr(event, "why", None)
    rule = f"  why: {why}" if why is not None else ""
    stamp = when(event.timestamp) if when is not None else f"{event.timestamp:9.3f}s"
    return f"{stamp}  {event.kind:<20} {event.session_id:<24} {_details(event)}{rule}".rstrip()


def _cause(event: Event) -> str:
    cause = getattr(event, "cause_session_id", None)
    return f" (caused by {cause})" if cause else ""


def _details(event: Event) -> str:  # noqa: PLR0911 - one branch per event kind
    if isinstance(event, SessionCreated):
        s = event.session
        return f"app={s.app!r} role={s.role.value} {s.flow.value} on {s.device_id} volume={s.volume:.2f}"
    if isinstance(event, StateChanged):
        return f"{event.old.value} -> {event.new.value}"
    if isinstance(event, VolumeChanged):
        return f"volume={event.volume:.2f} muted={event.muted} by {event.origin.value}"
    if isinstance(event, ChannelVolumeChanged):
        levels = ", ".join(f"{v:.2f}" for v in event.channel_volumes)
        return f"channels=[{levels}] by {event.origin.value}"
    if isinstance(event, DisplayNameChanged):
        return f"display name {event.display_name!r} by {event.origin.value}"
    if isinstance(event, IconPathChanged):
        return f"icon {event.icon_path!r} by {event.origin.value}"
    if isinstance(event, GroupingParamChanged):
        return f"grouping {event.grouping_param} by {event.origin.value}"
    if isinstance(event, StreamsChanged):
        return "streams: " + (", ".join(f"{s.id}:{s.state.value}" for s in event.streams) or "none")
    if isinstance(event, SessionDisconnected):
        return f"reason={event.reason.value}"
    if isinstance(event, InterruptEvent):
        return f"{event.force_type.value} {event.hint.value}{_cause(event)}"
    if isinstance(event, Ducked):
        return f"gain={event.gain:.3f} ({event.attenuation_db:.1f} dB) fade={event.fade_seconds:.2f}s{_cause(event)}"
    if isinstance(event, Unducked):
        return f"gain={event.gain:.3f} fade={event.fade_seconds:.2f}s{_cause(event)}"
    if isinstance(event, FocusDenied):
        return f"focus denied{_cause(event)}"
    if isinstance(event, DuckNotification):
        return f"communications session {event.communications_session_id} started, {event.count} active"
    if isinstance(event, UnduckNotification):
        return f"communications session {event.communications_session_id} ended"
    if isinstance(event, SessionDeactivated):
        return f"reason={event.reason.value}{_cause(event)}"
    if isinstance(event, PolicyChanged):
        from .focus.in_force import simulated  # loaded by then: whoever emitted the event uses it

        if event.policy.server == simulated(event.policy.policy).server:  # switched: what plays is re-judged
            settings = ", ".join(f"{k}={v}" for k, v in sorted(event.policy.policy.settings.items()))
            settings = f" ({settings})" if settings else ""
            return f"policy switched to {event.policy.policy.name}{settings}: what plays is re-evaluated under it"
        modules = "; ".join(m.describe() for m in event.policy.modules) or "no role module"
        return f"policy in force: {event.policy.policy.name} ({modules})"
    return ""
