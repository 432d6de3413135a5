"""What the backend contract suite needs from each backend: a Lab on it, and a way to make other apps play.

Each backend under test provides a :class:`Harness`. ``start_app`` must create a *separate* render session
belonging to another client (its own process on a real server), playing, with the given app name and role.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from audiolab import Lab, Role
from audiolab import open as open_lab


class App(abc.ABC):
    """Another client's playing render stream, in a session of its own."""

    session_id: str

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop (cork) the stream: the session goes Inactive."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Start it again."""

    @abc.abstractmethod
    async def close(self) -> None:
        """The app exits: its session ends."""

    @abc.abstractmethod
    async def set_volume_elsewhere(self, volume: float) -> None:
        """Another client (not this Lab) changes the session's volume."""


class Harness(abc.ABC):
    name: str
    lab: Lab
    role_fidelity: frozenset[Role] = frozenset(Role)
    """Roles the backend reports back exactly as they were asked for."""

    @abc.abstractmethod
    async def start_app(self, app: str, role: Role) -> App: ...

    @abc.abstractmethod
    async def settle(self) -> None:
        """Wait until what was just done has been reported (virtual or real time)."""


class SimApp(App):
    def __init__(self, harness: SimHarness, name: str, role: Role) -> None:
        self._client = harness.lab.sim.client(name)
        self._stream = self._client.open_stream(role=role, display_name=name, start=True)
        self.session_id = self._stream.session_id
        self._other = harness.lab.sim.client("Volume Mixer")

    async def stop(self) -> None:
        self._stream.stop()

    async def start(self) -> None:
        self._stream.start()

    async def close(self) -> None:
        self._client.close()

    async def set_volume_elsewhere(self, volume: float) -> None:
        self._other.set_volume(self.session_id, volume)


class SimHarness(Harness):
    name = "sim"

    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    async def start_app(self, app: str, role: Role) -> App:
        return SimApp(self, app, role)

    async def settle(self) -> None:
        await self.lab.sleep(0.05)


@asynccontextmanager
async def sim_harness() -> AsyncIterator[Harness]:
    async with open_lab("sim", clock="virtual") as lab:
        yield SimHarness(lab)


@asynccontextmanager
async def sim_instance_harness() -> AsyncIterator[Harness]:
    """The simulated service handed to open() as an instance (the public backend seam)."""
    from audiolab.backends.sim import SimBackend

    async with open_lab(SimBackend(clock="virtual")) as lab:
        yield SimHarness(lab)


def _discover() -> dict[str, object]:
    """Backend name -> async context manager giving a Harness. Besides the simulated one, every module
    ``tests/contract/harness_<backend>.py`` adds its own by defining ``HARNESSES = {name: factory}``."""
    import importlib
    import pkgutil
    from pathlib import Path

    found: dict[str, object] = {"sim": sim_harness, "sim-instance": sim_instance_harness}
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module.name.startswith("harness_"):
            found.update(importlib.import_module(f"{__package__}.{module.name}").HARNESSES)
    return found


HARNESSES = _discover()
