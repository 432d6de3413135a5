"""Volume controls as Sndvol shows them: one per session, except that sessions on the same device that
share a (non-null) grouping parameter share one control."""

from __future__ import annotations

from dataclasses import dataclass

from ._by_fields import by_fields
from .model import NULL_GUID, Flow, Session


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class VolumeControl:
    device_id: str
    grouping_param: str
    sessions: tuple[Session, ...]

    @property
    def label(self) -> str:
        # Sndvol takes the name of any one session of a group; we take the first, for a stable label.
        return self.sessions[0].label


def volume_controls(sessions: list[Session], device_id: str | None = None) -> list[VolumeControl]:
    """The controls for the render sessions of ``device_id`` (every device when None), in session order."""
    controls: list[VolumeControl] = []
    groups: dict[tuple[str, str], list[Session]] = {}
    order: list[tuple[str, str] | Session] = []
    for session in sessions:
        if session.flow is not Flow.RENDER or (device_id is not None and session.device_id != device_id):
            continue
        if session.grouping_param == NULL_GUID:
            order.append(session)
            continue
        key = (session.device_id, session.grouping_param)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(session)
    for item in order:
        if isinstance(item, Session):
            controls.append(VolumeControl(item.device_id, NULL_GUID, (item,)))
        else:
            controls.append(VolumeControl(item[0], item[1], tuple(groups[item])))
    return controls
