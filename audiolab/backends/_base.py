"""The backend seam: what a Lab needs from an audio system, and nothing more.

A backend reports a snapshot of sessions and pushes events through the ``emit`` callback it is started with;
``emit`` must be called on the event loop thread (threads hand over with ``audiolab._threads``). Control
methods change one session and raise :class:`SessionNotFound` for an unknown id, ``ValueError`` /
``TypeError`` for bad values, :class:`NotSupported` where the system cannot do it; on error nothing changes.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from .._exceptions import NotSupported
from ..clock import Clock, RealClock
from ..events import Event
from ..model import MeterFrame, Session

if TYPE_CHECKING:
    from .._server_gain import ServerGain
    from ..audio.playback import Playback, PlayRequest
    from ..focus.in_force import PolicyInForce

EventSink = Callable[[Event], None]
"""What a backend reports events through: called on the event loop thread, never blocks."""


class Capability(str, enum.Enum):
    """An optional operation a backend supports (``Capability.METERS in lab.backend.capabilities``).

    Each member is also its name as a string, so ``"meters" in lab.backend.capabilities`` works as well."""

    __hash__ = str.__hash__  # hash as the string it equals, so a set of members finds its names

    DISPLAY_NAME = "display_name"
    ICON_PATH = "icon_path"
    GROUPING_PARAM = "grouping_param"
    CHANNEL_VOLUME = "channel_volume"
    METERS = "meters"
    PLAY = "play"
    FOCUS = "focus"
    """The backend decides focus itself and reports its focus events (the simulated service)."""
    CLIENTS = "clients"
    """Other clients' sessions are there to see and control."""
    RESTART = "restart"
    DUCKING_PREFERENCE = "ducking_preference"


class Backend(abc.ABC):
    """Base class of every backend: subclass it and pass an instance to ``audiolab.open(MyBackend())``.

    Implement :meth:`start`, :meth:`aclose`, :meth:`snapshot`, :meth:`set_volume` and :meth:`set_mute`;
    every other operation is optional (it raises :class:`NotSupported` until overridden, and the backend
    lists it in :attr:`capabilities`). Arguments reach a backend already checked by the Lab."""

    name: str = "?"
    """The backend's name ("sim", "pulse", ...), as ``lab.backend_name`` reports it."""
    capabilities: frozenset[Capability] = frozenset()
    """The optional operations this backend supports (a class attribute, or set per instance)."""
    asyncio_only: ClassVar[bool] = False
    """True for a backend that needs the asyncio loop itself; under trio it runs on one in a thread of its own."""

    def __init__(self, *, clock: Clock | None = None, **options: object) -> None:
        self.clock: Clock = clock if clock is not None else RealClock()
        if options:
            raise TypeError(f"backend {self.name!r} got unknown options: {', '.join(sorted(options))}")

    @classmethod
    async def probe(cls) -> bool:
        """Whether this backend can be used on this machine right now (for ``backend="auto"``)."""
        return False

    @abc.abstractmethod
    async def start(self, emit: EventSink) -> None:
        """Connect and begin reporting events through ``emit``."""

    async def run(self) -> None:  # noqa: B027 - an optional hook; most backends have nothing to run
        """Long-running work (a pump, a subscription), run by the Lab in its task group after :meth:`start`
        and cancelled when the Lab closes. The default has none."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Stop reporting, release everything (playing tones included). Idempotent."""

    @abc.abstractmethod
    def snapshot(self) -> list[Session]:
        """The sessions currently enumerable (expired and ended ones excluded)."""

    def session(self, session_id: str) -> Session:
        from .._exceptions import SessionNotFound

        for session in self.snapshot():
            if session.id == session_id:
                return session
        raise SessionNotFound(f"no session {session_id!r}")

    @abc.abstractmethod
    async def set_volume(self, session_id: str, volume: float) -> None: ...

    @abc.abstractmethod
    async def set_mute(self, session_id: str, muted: bool) -> None: ...

    async def set_channel_volume(self, session_id: str, channel: int, volume: float) -> None:
        raise NotSupported(f"the {self.name} backend cannot set channel volumes")

    async def set_display_name(self, session_id: str, name: str) -> None:
        raise NotSupported(f"the {self.name} backend cannot set display names")

    async def set_icon_path(self, session_id: str, path: str) -> None:
        raise NotSupported(f"the {self.name} backend cannot set icon paths")

    async def set_grouping_param(self, session_id: str, grouping_param: str) -> None:
        raise NotSupported(f"the {self.name} backend cannot set grouping parameters")

    async def set_ducking_preference(self, session_id: str, opt_out: bool) -> None:
        raise NotSupported(f"the {self.name} backend has no ducking preference")

    async def start_meters(self) -> None:
        """Begin measuring peaks (called when the first meter subscriber arrives)."""
        raise NotSupported(f"the {self.name} backend has no meters")

    async def stop_meters(self) -> None:  # noqa: B027 - an optional hook
        """Stop measuring (called when the last meter subscriber leaves)."""

    def read_meters(self) -> MeterFrame:
        """The newest peaks of every session, since the previous read. Cheap, never blocks."""
        raise NotSupported(f"the {self.name} backend has no meters")

    def policy_in_force(self) -> PolicyInForce | None:
        """The focus policy in force on the server (what can duck, cork or restore volumes), or None when this
        backend cannot know it. A backend that can see it change emits :class:`~audiolab.events.PolicyChanged`."""
        return None

    def measures_itself(self, session_id: str) -> bool:
        """Whether this backend measures the session's ducks itself (its own tones on PulseAudio), so the duck
        detector leaves it alone."""
        return False

    def endpoint_gain(self, session_id: str) -> ServerGain | None:
        """A gain the server applies to the session outside its own volume (a WirePlumber 0.4 role endpoint's
        monitor volume), or None."""
        return None

    async def play(self, request: PlayRequest) -> Playback:
        """Play a tone through a session of its own (or the one the request names)."""
        raise NotSupported(f"the {self.name} backend cannot play tones")
