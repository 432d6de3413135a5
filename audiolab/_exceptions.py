"""The exceptions audiolab raises, one flat hierarchy::

    AudiolabError
    ├── BackendUnavailable      the backend cannot be used here (library or server missing)
    ├── BackendDisconnected     the server went away while a Lab was using it
    ├── SessionNotFound         no session with that id (never existed, expired or ended)
    ├── StreamNotFound          no stream with that id
    ├── ClosedResourceError     the Lab (or a playback, a client) is already closed
    ├── NotSupported            the backend cannot do that operation
    ├── EventOverflow           a subscriber fell so far behind that its bounded buffer overflowed
    ├── FocusDeniedError        the focus policy refused to let a stream start
    ├── PolicyError             a malformed focus policy file or setting (also a ValueError)
    └── ScenarioError           a malformed scenario or trace file (names the line at fault; also a ValueError)

Bad arguments (a NaN volume, a wrong type) raise the built-in ValueError / TypeError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .reason import Reason


class AudiolabError(Exception):
    """Base of every audiolab error."""

    code: int | None = None
    """The platform's own error code where the error mirrors one (HarmonyOS 6800301, ...), else None."""


class BackendUnavailable(AudiolabError):
    pass


class BackendDisconnected(AudiolabError):
    pass


class SessionNotFound(AudiolabError, LookupError):
    pass


class StreamNotFound(AudiolabError, LookupError):
    pass


class ClosedResourceError(AudiolabError):
    pass


class NotSupported(AudiolabError):
    pass


class EventOverflow(AudiolabError):
    pass


class FocusDeniedError(AudiolabError):
    """The focus policy refused a stream's start; ``why`` is the :class:`~audiolab.Reason` (None if unknown)."""

    def __init__(self, message: str, *, why: Reason | None = None) -> None:
        super().__init__(message)
        self.why = why


class PolicyError(AudiolabError, ValueError):
    """A malformed policy file or an invalid policy setting."""


class ScenarioError(AudiolabError, ValueError):
    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line
