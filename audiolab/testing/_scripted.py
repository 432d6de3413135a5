"""A scripted app of the simulated service: streams opened, started, stopped and released at given times."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .._by_fields import by_fields
from ..model import NULL_GUID, Role

if TYPE_CHECKING:
    from ..backends.sim.client import SimClient, SimStream
    from ..lab import Lab

Action = Literal["open", "start", "stop", "release"]


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class ScriptStep:
    """One step of a script: at ``at`` seconds after the script starts, ``action`` on the stream ``stream``."""

    at: float
    stream: str
    action: Action
    role: Role = Role.UNKNOWN
    session_guid: str = NULL_GUID
    display_name: str | None = None
    device: str | None = None


class ScriptedApp:
    """An app of the simulated service that follows a script, for tests of code built on audiolab.

    Each call adds a step at a time (seconds after :func:`run_scripts` starts); :meth:`stop` is a pause in the
    Windows model (the session goes Inactive, the stream stays), :meth:`release` ends the stream. Bad input
    raises ``ValueError`` and adds nothing. The app is ``lab.sim.client(app)``, so its calls are another
    client's."""

    def __init__(self, lab: Lab, app: str) -> None:
        self.client: SimClient = lab.sim.client(app)
        self._lab = lab
        self.steps: list[ScriptStep] = []
        self.streams: dict[str, SimStream] = {}
        """The streams opened so far, by their name in the script."""

    def open(self, stream: str, *, at: float = 0.0, role: Role = Role.UNKNOWN, session_guid: str = NULL_GUID,
             display_name: str | None = None, device: str | None = None) -> ScriptedApp:
        """Open the stream named ``stream`` at ``at`` (in the session of ``session_guid``)."""
        if not isinstance(role, Role):
            raise ValueError(f"role must be an audiolab.Role, not {role!r}")
        if any(s.stream == stream and s.action == "open" for s in self.steps):
            raise ValueError(f"the stream {stream!r} is opened twice in the script")
        return self._add(ScriptStep(_time(at), _name(stream), "open", role, session_guid, display_name, device))

    def start(self, stream: str, *, at: float) -> ScriptedApp:
        """Start (or resume) the stream at ``at``: its session becomes Active."""
        return self._add(ScriptStep(_time(at), self._opened(stream), "start"))

    def stop(self, stream: str, *, at: float) -> ScriptedApp:
        """Stop (pause) the stream at ``at``: its session goes Inactive if nothing else of it plays."""
        return self._add(ScriptStep(_time(at), self._opened(stream), "stop"))

    pause = stop

    def release(self, stream: str, *, at: float) -> ScriptedApp:
        """Release the stream at ``at``; its session ends with its last stream."""
        return self._add(ScriptStep(_time(at), self._opened(stream), "release"))

    async def run(self) -> None:
        """Play this app's script alone (:func:`run_scripts` plays several together)."""
        await run_scripts(self)

    def _add(self, step: ScriptStep) -> ScriptedApp:
        self.steps.append(step)
        return self

    def _opened(self, stream: str) -> str:
        if not any(s.stream == stream and s.action == "open" for s in self.steps):
            raise ValueError(f"the stream {stream!r} is not opened in the script (call open() first)")
        return stream

    def _perform(self, step: ScriptStep) -> None:
        if step.action == "open":
            self.streams[step.stream] = self.client.open_stream(
                step.device, role=step.role, session_guid=step.session_guid, display_name=step.display_name)
            return
        sim_stream = self.streams[step.stream]
        if step.action == "start":
            sim_stream.start()
        elif step.action == "stop":
            sim_stream.stop()
        else:
            sim_stream.release()


async def run_scripts(*apps: ScriptedApp) -> None:
    """Play the scripts of ``apps`` together on their Lab's clock, each step at its time after now (steps at
    the same time in the order they were added). On a virtual clock this advances it (``lab.sleep``)."""
    if not apps:
        raise ValueError("run_scripts needs at least one ScriptedApp")
    lab = apps[0]._lab
    if any(app._lab is not lab for app in apps):
        raise ValueError("the scripted apps must share one Lab")
    order = sorted(((step.at, n, i, app) for n, app in enumerate(apps) for i, step in enumerate(app.steps)),
                   key=lambda item: (item[0], item[1], item[2]))
    start = lab.clock.now()
    for at, _, index, app in order:
        await lab.sleep(max(0.0, start + at - lab.clock.now()))
        app._perform(app.steps[index])
    await lab.sleep(0)


def _time(at: float) -> float:
    if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at) or at < 0:
        raise ValueError(f"a step's time must be a finite number of seconds >= 0, got {at!r}")
    return float(at)


def _name(stream: str) -> str:
    if not isinstance(stream, str) or not stream:
        raise ValueError("a stream needs a non-empty name")
    return stream
