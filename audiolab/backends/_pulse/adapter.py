"""The one place that uses pulsectl-asyncio's private members.

audiolab needs four things pulsectl-asyncio does not offer publicly: its subscription callback (to get every
server event straight, without its single-subscriber queue), its state callback (to learn of a lost connection
at once), the futures of calls in flight (failed safely on disconnect, see :meth:`PulseAdapter._pulse_state_cb`)
and the raw libpulse context (meter streams are libpulse streams on it). They are used here and nowhere else;
:func:`check_upstream` says loudly when the installed pulsectl-asyncio no longer has them in the shape used
here (a test calls it; pyproject bounds the version to the range it was checked against).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

import pulsectl
import pulsectl_asyncio
from pulsectl import _pulsectl as c

EventCallback = Callable[[int, int, int], None]
"""(facility, type, index) of a server event; facility/type are libpulse's PA_SUBSCRIPTION_EVENT_* values."""

_FACILITY_MASK, _TYPE_MASK = 0x0F, 0x30
_PA_ERR_CONNECTIONTERMINATED = 11
_errno = c.pa.context_errno

PRIVATE_MEMBERS: dict[str, tuple[str, ...] | None] = {
    "_pulse_subscribe_cb": ("self", "ctx", "ev", "idx", "userdata"),
    "_pulse_state_cb": ("self", "ctx", "_userdata"),
    "_event_mask_set": ("self", "*masks"),
    "waiting_futures": None,
    "_disconnected": None,
    "_ctx": None,
}
"""The private members used, with the parameters of the methods among them (None: an instance attribute)."""


def check_upstream(client: pulsectl_asyncio.PulseAsync | None = None) -> list[str]:
    """What no longer matches in the installed pulsectl-asyncio (empty when all is as expected). Attributes
    are looked for on ``client``, an instance (they are set in its ``__init__``)."""
    problems = []
    for name, params in PRIVATE_MEMBERS.items():
        if params is None:
            if client is not None and not hasattr(client, name):
                problems.append(f"PulseAsync instances have no attribute {name!r}")
            continue
        member = getattr(pulsectl_asyncio.PulseAsync, name, None)
        if member is None:
            problems.append(f"PulseAsync has no method {name!r}")
            continue
        found = tuple(
            f"*{p.name}" if p.kind is inspect.Parameter.VAR_POSITIONAL else p.name
            for p in inspect.signature(member).parameters.values()
        )
        if found != params:
            problems.append(f"PulseAsync.{name} takes {found}, audiolab expects {params}")
    return problems


class PulseAdapter(pulsectl_asyncio.PulseAsync):
    """PulseAsync whose subscription and state callbacks call straight into audiolab (no queue, no enums)."""

    on_event: EventCallback | None = None
    on_lost: Callable[[], None] | None = None
    waiting_futures: set[asyncio.Future[Any]]
    """pulsectl-asyncio's own: the futures waiting for the server's answers (checked by check_upstream)."""

    def connection_refused_after_answering(self) -> bool:
        """After a failed connect: whether the server answered and then ended the connection (what PulseAudio
        does past its 64 clients), rather than nobody answering at all."""
        ctx = self._ctx
        if ctx is None:
            return False
        return int(_errno(ctx)) == _PA_ERR_CONNECTIONTERMINATED

    @property
    def raw_context(self) -> object | None:
        """libpulse's pa_context, None once closed."""
        ctx: object | None = self._ctx
        return ctx

    async def set_event_mask(self, *facilities: str) -> None:
        """Subscribe to the server events of these facilities ("sink", "sink_input", ...)."""
        await self._event_mask_set(*facilities)

    def _pulse_subscribe_cb(self, ctx, ev, idx, userdata):  # type: ignore[no-untyped-def]
        if self.on_event is not None:
            self.on_event(ev & _FACILITY_MASK, ev & _TYPE_MASK, idx)

    def _pulse_state_cb(self, ctx, userdata):  # type: ignore[no-untyped-def]
        # pulsectl-asyncio fails every waiting future right away on disconnect, even one whose answer is
        # already scheduled with call_soon (that set_result then raises InvalidStateError in the loop). Fail
        # them here instead, after whatever is already scheduled, and only those still undecided.
        waiting: set[asyncio.Future[Any]] = self.waiting_futures
        self.waiting_futures = set()
        super()._pulse_state_cb(ctx, userdata)
        if waiting and self._disconnected.is_set():
            loop = asyncio.get_event_loop()
            for future in waiting:
                loop.call_soon(_fail_if_pending, future)
        else:
            self.waiting_futures |= waiting
        if self._disconnected.is_set() and self.on_lost is not None:
            self.on_lost()


def _fail_if_pending(future: asyncio.Future[object]) -> None:
    if not future.done():
        future.set_exception(pulsectl.PulseDisconnected())
