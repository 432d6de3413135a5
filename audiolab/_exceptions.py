"""The exceptions audiolab raises, one flat hierarchy::

    AudiolabError
    ├── BackendUnavailable      the backend cannot be used here (library or server missing)
    ├── BackendDisconnected     the server went away while a Lab was using it
    ├── SessionNotFound         no session with that id (never existed, expired or ended)
    ├── StreamNotFound          no stream with that id
    ├── ClosedResourceError     the Lab (or a playback, a client, a subscription) is already closed;
    │                           also an anyio.ClosedResourceError
    ├── NotSupported            the backend cannot do that operation
    ├── EventOverflow           a subscriber fell so far behind that its bounded buffer overflowed
    ├── FocusDeniedError        the focus policy refused to let a stream start
    ├── PolicyError             a malformed focus policy file or setting (also a ValueError)
    └── ScenarioError           a malformed scenario or trace file (names the line at fault; also a ValueError)

Bad arguments (a NaN volume, a wrong type) raise the built-in ValueError / TypeError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from .reason import Reason


class AudiolabError(Exception):
    """Base of every audiolab error."""

    code: int | None = None
    """The platform's own error code where the error mirrors one (HarmonyOS 6800301, ...), else None."""


class BackendUnavailable(AudiolabError):
    """The backend cannot be used here: its library or its server is missing."""


class BackendDisconnected(AudiolabError):
    """The server went away while a Lab was using it."""


class SessionNotFound(AudiolabError, LookupError):
    """No session with that id: it never existed, expired or ended."""


class StreamNotFound(AudiolabError, LookupError):
    """No stream with that id."""


class ClosedResourceError(AudiolabError, anyio.ClosedResourceError):
    """The Lab (or a playback, a client, a subscription) is already closed. Also an
    :class:`anyio.ClosedResourceError`, so code written for anyio streams catches it."""


class NotSupported(AudiolabError):
    """The backend cannot do that operation."""


class EventOverflow(AudiolabError):
    """A subscriber fell so far behind that its bounded buffer overflowed."""


class FocusDeniedError(AudiolabError):
    """The focus policy refused a stream's start; ``why`` is the :class:`~audiolab.Reason` (None if unknown)."""

    def __init__(self, message: str, *, why: Reason | None = None) -> None:
        super().__init__(message)
        self.why = why


class PolicyError(AudiolabError, ValueError):
    """A malformed policy file or an invalid policy setting."""


class ScenarioError(AudiolabError, ValueError):
    """A malformed scenario or trace file; ``path`` and ``line`` name the place at fault."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line
