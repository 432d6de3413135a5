"""The small objects Lab calls hand back: a session iterator, and the play call to await or enter."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import anyio
from anyio.lowlevel import checkpoint

from .model import Session

if TYPE_CHECKING:
    from .audio.playback import Playback, PlayRequest
    from .backends._base import Backend


class SessionIterator:
    """An async iterator over a snapshot of sessions; each step is a checkpoint."""

    def __init__(self, sessions: list[Session]) -> None:
        self._sessions = iter(sessions)

    def __aiter__(self) -> SessionIterator:
        return self

    async def __anext__(self) -> Session:
        await checkpoint()
        try:
            return next(self._sessions)
        except StopIteration:
            raise StopAsyncIteration from None


class PlayCall:
    """What ``lab.play()`` returns: await it for the :class:`~audiolab.abc.Playback`, or use it as an async
    context manager (the tone stops when the block ends)."""

    def __init__(self, backend: Callable[[], Backend], request: PlayRequest) -> None:
        self._backend = backend
        self._request = request
        self._playback: Playback | None = None
        self._used = False

    def __del__(self) -> None:
        if not getattr(self, "_used", True):
            warnings.warn(f"lab.play({self._request.tone.describe()}) was never awaited nor entered, so nothing "
                          "played: use `await lab.play(...)` or `async with lab.play(...)`",
                          RuntimeWarning, stacklevel=2, source=self)

    async def _start(self) -> Playback:
        self._used = True
        await checkpoint()
        self._playback = await self._backend().play(self._request)
        return self._playback

    def __await__(self) -> Generator[Any, None, Playback]:
        self._used = True  # a coroutine that is never run warns by itself
        return self._start().__await__()

    async def __aenter__(self) -> Playback:
        return await self._start()

    async def __aexit__(self, *exc: object) -> None:
        if self._playback is not None:
            with anyio.CancelScope(shield=True):
                await self._playback.stop()
