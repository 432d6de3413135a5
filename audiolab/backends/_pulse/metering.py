"""The pulse backend's meters: which kind runs (native PipeWire or pulse protocol), what they meter, their frames.

On PipeWire native meters (:mod:`.._pipewire.meter`) when libpipewire can be loaded and the daemon behind
pipewire-pulse answers; else (and on PulseAudio) server-side peak detection over the pulse protocol
(:mod:`.meters`), within what pipewire-pulse can serve (:mod:`.meter_view`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

from ..._exceptions import AudiolabError
from ...model import Flow, MeterFrame
from .._pipewire.meter import NativeMeters, NativeUnavailable
from .._pipewire.remote import pipewire_remote
from .connection import Connection
from .meter_view import compose_frame, plan_meters
from .meters import MeterTarget, PeakMeters
from .mirror import Mirror

__all__ = ("NATIVE_METER_RATE", "Meters", "Metering")

Meters = PeakMeters | NativeMeters

NATIVE_METER_RATE = 48000
"""The rate native meter streams ask for: PipeWire's default graph rate (at another rate the meter's own copy
is resampled, which moves a peak by well under the 0.02 the meters are tested to)."""


class Metering:
    """The meters a pulse backend runs for its user (and makes for its tones), over the sessions of ``mirror``."""

    def __init__(
        self,
        mirror: Mirror,
        *,
        meter_rate: int,
        client_name: str,
        native: bool,
        address: Callable[[], str | None],
        first: Callable[[], Iterable[int]],
    ) -> None:
        """``address``: the server a meter connection goes to; ``first``: the sink-inputs metered first (the
        backend's own tones)."""
        self._mirror = mirror
        self._meter_rate = meter_rate
        self._client_name = client_name
        self._address = address
        self._first = first
        self.pipewire = False
        """Whether the server is PipeWire's pipewire-pulse (set on each connection)."""
        self.active: Meters | None = None
        """The user's meters, while started."""
        self.reconnecting = False
        """Meters were on when the server went away: they restart with the connection (reads see no sessions)."""
        self._native_failure: str | None = None if native else "turned off (native_meters=False)"
        """Why the native PipeWire meters could not be used (then the pulse-protocol meters are)."""
        self._left_out: Mapping[int, str] = {}
        self._sequence = 0

    def start(self, conn: Connection) -> None:
        """Start the user's meters (when not started)."""
        if self.active is None:
            self.active = self.new(conn)
            self.sync()

    def new(self, conn: Connection) -> Meters:
        """New meters of the kind this server allows (see the module's docstring)."""
        if self.pipewire and self._native_failure is None:
            try:
                return NativeMeters(NATIVE_METER_RATE, pipewire_remote(conn.address), expects_data=self._expects_data)
            except NativeUnavailable as exc:
                self._native_failure = str(exc)
        return PeakMeters(conn, self._meter_rate, lambda exc: None, self._expects_data,
                          connect=self._connection if self.pipewire else None)

    def sync(self) -> None:
        """Meter what the sessions now have (after each rebuild of them)."""
        if self.active is None:
            return
        mirror = self._mirror
        plan = plan_meters(mirror.streams.values(), mirror.devices, mirror.own_client, pipewire=self.pipewire,
                           first=self._first(), native=isinstance(self.active, NativeMeters))
        self._left_out = plan.left_out
        self.active.sync(plan.targets)

    def stop(self) -> None:
        """Stop the user's meters."""
        self.reconnecting = False
        meters, self.active = self.active, None
        if meters is not None:
            meters.close()

    def connection_dropped(self) -> None:
        """The connection closes: so do the meters' streams (the meters stay, reading nothing)."""
        if self.active is not None:
            self.active.close()

    def suspend(self) -> None:
        """The server went away and is waited for: meters that were on restart with it (see :meth:`resume`)."""
        meters, self.active = self.active, None
        self.reconnecting = meters is not None
        if isinstance(meters, NativeMeters):
            meters.close()  # its thread and PipeWire connection are its own: they do not end with the server's

    def resume(self, conn: Connection) -> None:
        """The server is back: restart the meters :meth:`suspend` stopped."""
        if self.reconnecting:
            self.start(conn)
        self.reconnecting = False

    def read(self, now: float) -> MeterFrame:
        """The user's meters' frame, stamped ``now``."""
        if self.active is None:
            if self.reconnecting:
                return MeterFrame(now, {}, {}, {})  # no sessions while the server is away
            raise AudiolabError("meters are not started (call start_meters first)")
        per_input, per_source = self.active.take(time.monotonic())
        self._sequence += 1
        mirror = self._mirror
        return compose_frame(now, self._sequence, mirror.sessions.values(), per_input, per_source,
                             mirror.streams, mirror.devices, self._left_out)

    @property
    def open_count(self) -> int:
        """Meter streams open for the user's meters."""
        return self.active.open_count if self.active else 0

    def path(self) -> str:
        """How meters are taken: "native PipeWire", or "pulse protocol" (with why, when native was tried)."""
        if isinstance(self.active, NativeMeters):
            return "native PipeWire"
        if self._native_failure is not None:
            return f"pulse protocol (native PipeWire meters unavailable: {self._native_failure})"
        return "pulse protocol"

    async def _connection(self) -> Connection:
        """A connection for one meter stream (PipeWire: see :mod:`.meters`)."""
        conn = Connection(self._address(), f"{self._client_name} meter")
        try:
            await conn.connect()
        except BaseException:
            conn.close()
            raise
        return conn

    def _expects_data(self, target: MeterTarget) -> bool:
        """Whether a meter's target should be producing samples now (for the meters' watchdog): an uncorked
        sink-input. Device meters are only reopened when their stream fails (an idle sink sends nothing)."""
        if target.sink_input is None:
            return False
        stream = self._mirror.streams.get((Flow.RENDER, target.sink_input))
        return stream is not None and not stream.corked
