"""Playing a tone through a session of its own: the request, and the handle a backend returns.

    async with lab.play(sine(440), role=Role.MUSIC, app="Music") as music:
        await lab.sleep(2)
        await music.pause()          # the session goes Inactive
        await music.resume()
    # leaving the block stops it; so do cancelling the task, an exception, or closing the Lab

``await lab.play(...)`` also works and returns the handle; the Lab stops it when it closes.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import anyio

from .._by_fields import by_fields
from .._exceptions import ClosedResourceError
from ..model import Role, check_bool, check_level, normalize_guid

if TYPE_CHECKING:
    from ..focus.request import FocusAttributes
    from .synth import Tone


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class PlayRequest:
    """What to play and in which session. ``session_guid`` with ``cross_process=True`` shares a session
    across playbacks; otherwise every playback is its own process, so its own session."""

    tone: Tone
    role: Role = Role.MUSIC
    app: str = ""
    display_name: str = ""
    session_guid: str | None = None
    cross_process: bool = False
    device: str | None = None
    duration: float | None = None
    focus: FocusAttributes | None = None
    """How the stream asks for focus in Android's or iOS's terms (the simulated service's policies)."""

    def __post_init__(self) -> None:
        from ..focus.request import FocusAttributes
        from .synth import Tone

        if self.focus is not None and not isinstance(self.focus, FocusAttributes):
            raise TypeError(f"focus must be an audiolab.focus.FocusAttributes, not {type(self.focus).__name__}")

        if not isinstance(self.tone, Tone):
            raise TypeError(f"play() takes an audiolab Tone (e.g. audiolab.tones.sine(440)), not {type(self.tone).__name__}")
        if not isinstance(self.role, Role):
            raise TypeError(f"role must be an audiolab.Role, not {type(self.role).__name__}")
        object.__setattr__(self, "cross_process", check_bool(self.cross_process, "cross_process"))
        for name in ("app", "display_name"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be a str")
        if self.session_guid is not None:
            object.__setattr__(self, "session_guid", normalize_guid(self.session_guid))
        if self.device is not None and not isinstance(self.device, str):
            raise TypeError("device must be a device id (str)")
        if self.duration is not None:
            if isinstance(self.duration, bool) or not isinstance(self.duration, (int, float)):
                raise TypeError("duration must be a number of seconds")
            if not (math.isfinite(self.duration) and self.duration > 0):
                raise ValueError(f"duration must be > 0 seconds, got {self.duration!r}")

    @property
    def app_name(self) -> str:
        return self.app or f"Tone {self.tone.describe()}"

    @property
    def timed_tone(self) -> Tone:
        """The tone to play: ``tone`` cut to ``duration`` when one is given (its fade-out shortened to fit)."""
        if self.duration is None:
            return self.tone
        fade_out = min(self.tone.fade_out, max(0.0, self.duration - self.tone.fade_in))
        return replace(self.tone, duration=self.duration, fade_out=fade_out)


class Playback(abc.ABC):
    """A tone playing through a session. Backends subclass it."""

    def __init__(self, request: PlayRequest, session_id: str) -> None:
        self.request = request
        self.session_id = session_id
        self._finished = anyio.Event()
        self._released = False

    @property
    def finished(self) -> bool:
        """True once the tone ended (its duration ran out) or was stopped."""
        return self._finished.is_set()

    async def wait(self) -> None:
        """Wait until the tone finishes. Cancelling the waiting task stops the tone.

        On a virtual clock (the simulated service), a tone with a duration moves time on to its end, as
        ``lab.sleep()`` would: through every deadline on the way, in order, while no other task advances the
        clock (then time is left to that task). A tone without one waits, without moving time, for whoever stops
        it or advances the clock."""
        try:
            await self._until_finished()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.stop()
            raise

    @property
    def released(self) -> bool:
        """True once :meth:`stop` released what the playback held (its stream, its process)."""
        return self._released

    async def stop(self) -> None:
        """Stop playing and release the session's stream (also after the tone ended by itself: only then
        does its session end). Idempotent. A checkpoint after the release: a cancelled caller still releases."""
        if not self._released:
            self._released = True
            try:
                await self._stop()
            finally:
                self._finished.set()
        await anyio.lowlevel.checkpoint()

    async def pause(self) -> None:
        """Pause the tone: its session goes Inactive."""
        await anyio.lowlevel.checkpoint()
        self._check_open()
        await self._pause()

    async def resume(self) -> None:
        """Resume a paused tone."""
        await anyio.lowlevel.checkpoint()
        self._check_open()
        await self._resume()

    async def set_amplitude(self, amplitude: float) -> None:
        """Change the tone's own amplitude (linear, 0..1; not the session volume), click-free."""
        await anyio.lowlevel.checkpoint()
        self._check_open()
        await self._set_amplitude(check_level(amplitude, "amplitude"))

    def _check_open(self) -> None:
        if self.finished:
            raise ClosedResourceError("this playback has finished")

    async def _until_finished(self) -> None:
        """Wait for the tone to finish (a backend on virtual time moves the time on meanwhile)."""
        await self._finished.wait()

    def _mark_finished(self) -> None:
        """Called by the backend when the tone ended by itself (its stream is still to be released)."""
        self._finished.set()

    async def __aenter__(self) -> Playback:
        await anyio.lowlevel.checkpoint()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        with anyio.CancelScope(shield=True):
            await self.stop()

    @abc.abstractmethod
    async def _stop(self) -> None: ...

    @abc.abstractmethod
    async def _pause(self) -> None: ...

    @abc.abstractmethod
    async def _resume(self) -> None: ...

    @abc.abstractmethod
    async def _set_amplitude(self, amplitude: float) -> None: ...

    def __repr__(self) -> str:
        state = "finished" if self.finished else "playing"
        return f"<Playback {self.request.tone.describe()} in {self.session_id} ({state})>"
