"""One connection to a PulseAudio-protocol server (PulseAudio, or PipeWire's pipewire-pulse).

Built on pulsectl-asyncio, which runs libpulse's main loop on the asyncio loop itself: no thread, every
callback below runs on the event loop thread. pulsectl-asyncio allows one event subscriber per connection;
audiolab uses exactly one (:meth:`Connection.subscribe`) for everything, and its meters need none.

Every error pulsectl or libpulse raises is translated here (:func:`translated`), so none leaks to users.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from ..._exceptions import (
    AudiolabError,
    BackendDisconnected,
    BackendUnavailable,
    SessionNotFound,
)

try:
    import pulsectl as pulsectl  # re-exported: the backend catches its errors
    from pulsectl import _pulsectl as c

    from .adapter import EventCallback, PulseAdapter
except (ImportError, OSError) as exc:  # OSError: libpulse.so missing
    raise ImportError(f"the pulse backend needs pulsectl-asyncio and libpulse: {exc}") from exc

T = TypeVar("T")

FACILITY_SINK, FACILITY_SOURCE, FACILITY_SINK_INPUT, FACILITY_SOURCE_OUTPUT = 0, 1, 2, 3
FACILITY_MODULE, FACILITY_CLIENT = 4, 5
TYPE_NEW, TYPE_CHANGE, TYPE_REMOVE = 0x00, 0x10, 0x20
# PA_SUBSCRIPTION_MASK_SINK | SOURCE | SINK_INPUT | SOURCE_OUTPUT | CLIENT
SUBSCRIPTION_MASK = 0x0001 | 0x0002 | 0x0004 | 0x0008 | 0x0020

_libpulse = ctypes.CDLL(ctypes.util.find_library("pulse") or "libpulse.so.0")
_libpulse.pa_context_get_index.restype = ctypes.c_uint32
_libpulse.pa_context_get_index.argtypes = [ctypes.c_void_p]


def server_address(server: str | None) -> str | None:
    """The server string to connect to: ``server``, else $PULSE_SERVER, else libpulse's default."""
    return server or os.environ.get("PULSE_SERVER") or None


def describe_address(address: str | None) -> str:
    """``address`` for a message; libpulse's default named by the socket it tries first."""
    if address:
        return address
    runtime = os.environ.get("PULSE_RUNTIME_PATH") or (
        os.path.join(os.environ["XDG_RUNTIME_DIR"], "pulse") if os.environ.get("XDG_RUNTIME_DIR") else None
    )
    return f"unix:{runtime}/native (the default)" if runtime else "the default PulseAudio socket"


async def _uncancellable(coro: Coroutine[Any, Any, T]) -> T:
    """Await a pulsectl-asyncio call so that cancelling the caller does not cancel its future: libpulse's
    answer may already be scheduled with call_soon, and setting it on a cancelled future raises
    InvalidStateError in the loop. The call finishes on its own; its outcome is then dropped."""
    task = asyncio.ensure_future(coro)
    task.add_done_callback(_consume)
    return await asyncio.shield(task)


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class Connection:
    """A connected libpulse context plus the one subscription audiolab uses."""

    def __init__(self, server: str | None, client_name: str = "audiolab") -> None:
        self.address = server_address(server)
        self._pulse = PulseAdapter(client_name, server=self.address)
        self.queries = 0
        self.lost = False

    @property
    def pulse(self) -> PulseAdapter:
        return self._pulse

    @property
    def context(self) -> object:
        """The libpulse context; raises BackendDisconnected once closed (libpulse aborts the process when
        handed a NULL context, so nothing may reach it after :meth:`close`)."""
        ctx = self._pulse.raw_context
        if ctx is None:
            raise BackendDisconnected("the connection to the PulseAudio server is closed")
        return ctx

    @property
    def connected(self) -> bool:
        return self._pulse.connected and not self.lost

    async def connect(self, timeout: float = 3.0) -> None:
        try:
            await self._pulse.connect(timeout=timeout)
        except (asyncio.TimeoutError, pulsectl.PulseError, c.pa.CallError) as exc:
            refused = self._pulse.connection_refused_after_answering()
            self.close()
            where = describe_address(self.address)
            if refused:
                raise BackendUnavailable(
                    f"the PulseAudio-protocol server at {where} answered and then dropped the connection (PulseAudio "
                    "accepts at most 64 clients; `pactl list short clients` shows who is connected)"
                ) from exc
            raise BackendUnavailable(f"no PulseAudio-protocol server answered at {where}: {exc or 'timeout'}") from exc

    def own_client_index(self) -> int | None:
        index = _libpulse.pa_context_get_index(ctypes.cast(self.context, ctypes.c_void_p))  # type: ignore[arg-type]
        return None if index == c.PA_INVALID else int(index)

    async def subscribe(self, on_event: EventCallback, on_lost: Callable[[], None]) -> None:
        """Route every server event to ``on_event`` and a lost connection to ``on_lost`` (loop thread)."""
        self._pulse.on_event = on_event
        self._pulse.on_lost = self._lost_then(on_lost)
        with translated(self):
            await self._pulse.set_event_mask("sink", "source", "sink_input", "source_output", "client", "module")

    def _lost_then(self, callback: Callable[[], None]) -> Callable[[], None]:
        def lost() -> None:
            if not self.lost:
                self.lost = True
                callback()

        return lost

    async def query(self, method: str, *args: object) -> object:
        """Run one pulsectl query (``sink_input_info``, ``client_list``...); counted in :attr:`queries`."""
        self.queries += 1
        with translated(self):
            return await _uncancellable(self._guarded(method, args))

    async def call(self, method: str, *args: object) -> None:
        """Run one pulsectl control call (``sink_input_volume_set``...)."""
        with translated(self):
            await _uncancellable(self._guarded(method, args))

    async def _guarded(self, method: str, args: tuple[object, ...]) -> Any:
        # Runs as its own task, so it starts a loop iteration after the caller asked: the connection may have
        # been closed in between. The check and pulsectl's libpulse call happen in the same step.
        _ = self.context  # BackendDisconnected once closed: nothing may reach libpulse after that
        return await getattr(self._pulse, method)(*args)

    def close(self) -> None:
        self._pulse.on_event = None
        self._pulse.on_lost = None
        with contextlib.suppress(Exception):
            self._pulse.close()


@contextlib.contextmanager
def translated(connection: Connection | None = None) -> Iterator[None]:
    """Turn pulsectl / libpulse errors into audiolab exceptions."""
    try:
        yield
    except pulsectl.PulseIndexError as exc:
        raise SessionNotFound(f"the server has no such object any more ({exc})") from exc
    except pulsectl.PulseDisconnected as exc:
        raise BackendDisconnected("the PulseAudio server went away") from exc
    except (pulsectl.PulseError, c.pa.CallError) as exc:
        if connection is not None and not connection.connected:
            raise BackendDisconnected("the PulseAudio server went away") from exc
        raise AudiolabError(f"the PulseAudio server refused the operation: {exc}") from exc
