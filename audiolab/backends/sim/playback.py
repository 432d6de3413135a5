"""Tones played through their own sessions of the simulated service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._exceptions import FocusDeniedError, PolicyError
from ...audio.playback import Playback, PlayRequest
from ...clock import Clock, VirtualClock
from ...model import NULL_GUID

if TYPE_CHECKING:
    from .engine import SimEngine


class SimPlayback(Playback):
    """A tone in its own process (a :class:`SimClient` with its own pid), hence its own session."""

    def __init__(self, engine: SimEngine, request: PlayRequest, clock: Clock) -> None:
        from .client import SimClient

        tone = request.timed_tone
        self._engine = engine
        self._clock = clock
        self._client = SimClient(engine, request.app_name)
        stream_id = engine.open_stream(
            pid=self._client.pid,
            app=request.app_name,
            device_id=request.device,
            session_guid=request.session_guid or NULL_GUID,
            cross_process=request.cross_process,
            role=request.role,
            display_name=request.display_name or request.app_name,
            tone=tone,
            focus=request.focus,
        )
        self._stream_id = stream_id
        super().__init__(request, engine.stream_session_id(stream_id))
        engine.stream_listeners.append(self._on_stream_over)
        try:
            engine.start_stream(stream_id)
        except (FocusDeniedError, PolicyError):  # refused, or asked in terms the policy rejects: nothing stays
            self._release()
            self._mark_finished()
            raise

    @property
    def stream_id(self) -> str:
        return self._stream_id

    def _on_stream_over(self, stream_id: str) -> None:
        if stream_id == self._stream_id:
            self._mark_finished()

    async def _until_finished(self) -> None:
        if isinstance(self._clock, VirtualClock) and self.request.timed_tone.duration is not None:
            await self._clock.advance_until(self._finished)  # nobody else may ever move time to its end
        else:
            await super()._until_finished()

    def _release(self) -> None:
        if self._on_stream_over in self._engine.stream_listeners:
            self._engine.stream_listeners.remove(self._on_stream_over)
        try:
            self._engine.release_stream(self._stream_id)
        except LookupError:
            pass  # already gone (the service restarted or shut down)

    async def _stop(self) -> None:
        self._release()

    async def _pause(self) -> None:
        self._engine.stop_stream(self._stream_id)

    async def _resume(self) -> None:
        self._engine.start_stream(self._stream_id)

    async def _set_amplitude(self, amplitude: float) -> None:
        self._engine.set_tone_amplitude(self._stream_id, amplitude)
