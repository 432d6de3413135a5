"""Windows: communications activity on the communications device ducks the other sessions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import Flow
from ..reason import Reason
from . import explain
from .actions import DuckNotify, FocusAction, UnduckNotify, head
from .policy import FocusPolicy, WindowsPolicy
from .request import FocusRequest, StreamKey
from .system import FocusSystem, register

if TYPE_CHECKING:
    from .engine import FocusEngine

_WINDOWS = ("windows",)


class WindowsSystem(FocusSystem):
    """A stream on the default communications device starts communications activity: every other render
    session is told (duck notification) and ducked by the Communications tab setting until the last
    communications session ends."""

    kind = "windows"
    policy: WindowsPolicy

    def __init__(self, engine: FocusEngine, policy: FocusPolicy) -> None:
        super().__init__(engine, policy)
        self._comm: dict[str, set[StreamKey]] = {}

    @staticmethod
    def _is_comm(req: FocusRequest) -> bool:
        # A communications stream is one opened on the default communications device, whatever its role.
        return req.on_communications_device

    def adopt(self, previous: FocusSystem) -> None:
        for req in self.ledger.streams.values():
            if self._is_comm(req):
                self._comm.setdefault(req.session_id, set()).add(req.key)

    def _notified_sessions(self) -> list[str]:
        """Non-communications render sessions that currently have a stream, in start order."""
        sids = [
            r.session_id
            for r in self.ledger.streams.values()
            if r.flow is Flow.RENDER and r.session_id not in self._comm and not self._is_comm(r)
        ]
        return list(dict.fromkeys(sids))

    def start(self, req: FocusRequest, now: float) -> list[FocusAction]:
        policy, ledger = self.policy, self.ledger
        out: list[FocusAction] = []
        if not self._is_comm(req):
            ledger.add(req)
            # New streams are not attenuated during a communications session, except system sounds.
            if self._comm and req.role in policy.system_sounds_roles:
                self._duck(req, self._first_comm())
            return out
        new_session = req.session_id not in self._comm
        starts_activity = not self._comm
        self._comm.setdefault(req.session_id, set()).add(req.key)
        ledger.add(req)
        if not new_session:
            return out
        count = len(self._comm)
        why = explain.windows(policy, req, count, notification=True)
        for sid in self._notified_sessions():
            out.append(DuckNotify(communications_session_id=req.session_id, count=count, **head(now, (sid, None), req, why)))
        if starts_activity:
            for other in list(ledger.streams.values()):
                if other.session_id not in self._comm:
                    self._duck(other, req)
        return out

    def _duck(self, target: FocusRequest, comm: FocusRequest) -> None:
        policy = self.policy
        if policy.gain is None or target.ducking_opt_out or target.flow is not Flow.RENDER:
            return
        why = explain.windows(policy, comm, len(self._comm))
        self.ledger.impose(owner=_WINDOWS, target=target.key, kind="duck", cause=comm, reason=why, gain=policy.gain,
                           fade=policy.fade_seconds)

    def _first_comm(self) -> FocusRequest:
        streams, order = self.ledger.streams, self.ledger.order
        keys = [k for ks in self._comm.values() for k in ks]
        return min((streams[k] for k in keys if k in streams), key=lambda r: order[r.key])

    def removed(self, req: FocusRequest, now: float) -> list[FocusAction]:
        keys = self._comm.get(req.session_id)
        if keys is None or req.key not in keys:
            return []
        keys.discard(req.key)
        if keys:
            return []
        del self._comm[req.session_id]
        why = explain.windows(self.policy, req, len(self._comm), notification=True)
        out: list[FocusAction] = [
            UnduckNotify(communications_session_id=req.session_id, **head(now, (sid, None), req, why))
            for sid in self._notified_sessions()
        ]
        if not self._comm:
            self.ledger.drop_owned(_WINDOWS)
        return out

    @classmethod
    def why_nothing(cls, policy: FocusPolicy, existing: FocusRequest, incoming: FocusRequest) -> Reason:
        assert isinstance(policy, WindowsPolicy)
        return explain.windows_nothing(policy, existing, incoming)


register(WindowsSystem)
