"""The HarmonyOS-style AudioSessionManager, on the simulated service.

    manager = lab.session_manager("Music")
    await manager.activate(ConcurrencyMode.DUCK_OTHERS)
    async with manager.deactivations() as reasons:
        async for event in reasons: ...        # SessionDeactivated, reason LOWER_PRIORITY or TIMEOUT
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from anyio.lowlevel import checkpoint

from ..events import SessionDeactivated
from ..model import ConcurrencyMode

if TYPE_CHECKING:
    from ..lab import Lab


class AudioSessionManager:
    """One app's audio session: activate it with a concurrency mode, deactivate it, hear when the system
    deactivates it. The app's streams are those played or opened with the same app name."""

    def __init__(self, lab: Lab, app: str) -> None:
        if not isinstance(app, str) or not app:
            raise ValueError("session_manager() needs the app's name")
        self._lab = lab
        self.app = app

    async def activate(self, mode: ConcurrencyMode = ConcurrencyMode.DEFAULT) -> None:
        """activateAudioSession(strategy): from now on the app's streams follow ``mode``."""
        await checkpoint()
        self._lab.sim.engine.activate_session(self.app, mode)

    async def deactivate(self) -> None:
        """deactivateAudioSession(): released by the app itself (no deactivation event)."""
        await checkpoint()
        self._lab.sim.engine.deactivate_session(self.app)

    def is_activated(self) -> bool:
        return bool(self._lab.sim.engine.is_session_activated(self.app))

    @asynccontextmanager
    async def deactivations(self) -> AsyncIterator[AsyncIterator[SessionDeactivated]]:
        """The system's deactivations of this app's session (on('audioSessionDeactivated'))."""
        async with self._lab.events() as events:

            async def mine() -> AsyncGenerator[SessionDeactivated, None]:
                async for event in events:
                    if isinstance(event, SessionDeactivated) and event.session_id == self.app:
                        yield event

            reasons = mine()
            try:
                yield reasons
            finally:
                await reasons.aclose()  # an unexhausted async generator must not be left to the GC (trio warns)
