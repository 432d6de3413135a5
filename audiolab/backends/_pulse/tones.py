"""The pulse backend's tones: each played from a process of its own, and the measurement of their ducks.

While tones play, their gain is measured from their own meters and reported as ``Ducked`` / ``Unducked`` (see
:mod:`.ducking`): module-role-ducking's attenuation is invisible in the stream volume.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from ..._by_fields import by_fields
from ..._exceptions import AudiolabError, ClosedResourceError, NotSupported
from ...audio.playback import Playback, PlayRequest
from ...audio.player import ToneProcess
from ...audio.player import kill as kill_tone_process
from ...clock import Clock
from ...events import Ducked, Event, SessionCreated, Unducked
from ...focus.in_force import PolicyInForce
from ...model import Flow
from ...reason import Reason
from .._pipewire.meter import NativeMeters
from .connection import Connection
from .ducking import (
    GRACE_SECONDS,
    Causes,
    GainTracker,
    expected_peaks,
    measurable,
    measured_gain_db,
    trigger_roles_from_modules,
    why_measured,
)
from .mapping import session_id_of
from .meters import MeterTarget, PeakMeters
from .mirror import Mirror
from .playback import PulsePlayback

__all__ = ("ToneWiring", "Tones")

Meters = PeakMeters | NativeMeters


@dataclass
class _Measured:
    """A tone this backend plays, and the state of its gain measurement."""

    playback: PulsePlayback
    measure_from: float
    measure_until: float | None
    tracker: GainTracker = field(default_factory=GainTracker)
    expected: tuple[float, ...] = ()
    seen_change: float = 0.0
    grace_until: float = 0.0
    ducked_to: float = 1.0
    """The gain of its last measured duck (for the rise an unduck measures)."""
    duck_why: Reason | None = None
    """Its last duck's reason: an unduck releases it (the trigger may be gone by then)."""


def _change_db(gain: float) -> float:
    return 20 * math.log10(gain) if gain > 0 else -math.inf


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class ToneWiring:
    """What the tones need of the backend that holds them."""

    require: Callable[[], Connection]
    """The live connection, or raise (ClosedResourceError once closed, BackendDisconnected while lost)."""
    connected: Callable[[], Connection | None]
    """The live connection, or None (while the server is away)."""
    closed: Callable[[], bool]
    user_meters: Callable[[], Meters | None]
    """The meters the user started, or None."""
    new_meters: Callable[[Connection], Meters]
    send: Callable[[Iterable[Event]], None]
    policy: Callable[[], PolicyInForce | None]


class Tones:
    """The tones a pulse backend plays: their processes, the tasks that watch them, and their duck measurement."""

    def __init__(
        self,
        mirror: Mirror,
        clock: Clock,
        meter_rate: int,
        wiring: ToneWiring,
        find_session: Callable[[int], Awaitable[str]],
    ) -> None:
        self._mirror = mirror
        self._clock = clock
        self._period = 1.0 / min(meter_rate, 50)
        self._wiring = wiring
        self.find_session = find_session
        """The session of a new sink-input, once it plays (the backend's pump reads it)."""
        self.playing: dict[int, _Measured] = {}
        """Tones playing, by sink-input."""
        self.starting_pids: set[int] = set()
        """Tone processes still starting (before ``ready``): stop() kills them."""
        self.starting: set[ToneProcess] = set()
        """Tone processes started whose session play() is still waiting for: stop() closes them."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._measure_task: asyncio.Task[None] | None = None
        self.duck_meters: Meters | None = None
        """Meters of the tones' own, while tones play and the user's meters are off."""
        self.causes: Causes | None = None

    async def play(self, request: PlayRequest) -> Playback:
        """Play a tone from a process of its own: its own client, sink-input and session. Returns once the
        stream plays and its session is known (``playback.session_id``; its SessionCreated already sent)."""
        conn = self._wiring.require()
        if request.cross_process or request.session_guid is not None:
            raise NotSupported("PulseAudio sessions are per client: tones cannot share a session here")
        tone = request.timed_tone
        if self.causes is None:
            modules = await conn.query("module_list")
            roles = trigger_roles_from_modules((m.name, m.argument or "") for m in modules)  # type: ignore[attr-defined]
            self.causes = Causes(roles)
            self._seed_causes()
        pids: list[int] = []

        def spawned(pid: int) -> None:
            pids.append(pid)
            self.starting_pids.add(pid)

        try:
            player = await ToneProcess.start(
                tone,
                app=request.app_name,
                media_name=request.display_name or request.app_name,
                role=request.role.pulse_media_role,
                server=conn.address,
                device=request.device,
                on_spawn=spawned,
            )
        except AudiolabError as exc:
            self._raise_if_closed(exc)  # stop() killed the starting child: say so, not "exited early"
            raise
        finally:
            self.starting_pids.difference_update(pids)
        self.starting.add(player)
        try:
            self._wiring.require()  # closed (or lost) while the child started
            session_id = await self.find_session(player.sink_input)
            self._wiring.require()
        except BaseException as exc:
            await player.close()
            if isinstance(exc, Exception):
                self._raise_if_closed(exc)
            raise
        finally:
            self.starting.discard(player)
        playback = PulsePlayback(request, session_id, player, self._ended)
        now = time.monotonic()
        ends = None if tone.duration is None else now + tone.duration - tone.fade_out - GRACE_SECONDS
        if measurable(tone):
            self.playing[player.sink_input] = _Measured(playback, now + tone.fade_in + GRACE_SECONDS, ends)
        else:
            self.playing[player.sink_input] = _Measured(playback, float("inf"), None)
        task = asyncio.get_running_loop().create_task(playback.watch())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if self._measure_task is None or self._measure_task.done():
            self._measure_task = asyncio.get_running_loop().create_task(self._measure_loop())
        return playback

    async def stop(self) -> None:
        """Stop every tone (their processes are reaped), those still starting too, and end the tasks that watched
        them. play() calls still starting then raise ClosedResourceError."""
        for pid in list(self.starting_pids):
            kill_tone_process(pid)
        await asyncio.gather(*(p.close() for p in list(self.starting)), return_exceptions=True)
        await asyncio.gather(*(m.playback.stop() for m in list(self.playing.values())), return_exceptions=True)
        tasks = [*self._tasks, *([self._measure_task] if self._measure_task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._measure_task = None

    def close_duck_meters(self) -> None:
        """Close the tones' own meters (the connection they read went away, or the user's meters took over)."""
        duck, self.duck_meters = self.duck_meters, None
        if duck is not None:
            duck.close()

    def measures_itself(self, session_id: str) -> bool:
        """True for the session of a tone played here: its gain is measured here, knowing its amplitude."""
        for index in list(self.playing):  # a copy: the trio bridge calls this from its own thread
            stream = self._mirror.streams.get((Flow.RENDER, index))
            if stream is not None and session_id_of(stream) == session_id:
                return True
        return False

    def observe(self, event: Event) -> None:
        """Note an event the backend sends (for naming the causes of ducks)."""
        if self.causes is not None:
            self.causes.observe(event, self._mirror.sessions)

    def _raise_if_closed(self, exc: BaseException) -> None:
        if self._wiring.closed() and not isinstance(exc, ClosedResourceError):
            raise ClosedResourceError("the pulse backend was closed while the tone started") from exc

    def _seed_causes(self) -> None:
        """Sessions already playing count as started now (for naming causes)."""
        assert self.causes is not None
        now = self._clock.now()
        sessions = self._mirror.sessions
        for session in sessions.values():
            self.causes.observe(SessionCreated(timestamp=now, session_id=session.id, session=session), sessions)

    def _ended(self, playback: PulsePlayback) -> None:
        measured = self.playing.get(playback.sink_input)
        if measured is not None and measured.playback is playback:
            del self.playing[playback.sink_input]

    async def _measure_loop(self) -> None:
        """Measure every measurable tone's gain from its meter while tones play; emit (Un)Ducked. The meter is
        the user's one when meters are on (:meth:`PeakMeters.take_fresh` does not disturb read_meters), else a
        meter of its own per measurable tone."""
        while self.playing and not self._wiring.closed():
            await asyncio.sleep(self._period)
            conn = self._wiring.connected()
            if conn is None:
                continue
            user = self._wiring.user_meters()
            if user is not None:
                # The user's meters run: they meter every tone already (one meter per tone, not two).
                self.close_duck_meters()
                fresh = user.take_fresh(time.monotonic())
            else:
                if self.duck_meters is None:
                    self.duck_meters = self._wiring.new_meters(conn)
                self.duck_meters.sync(self._duck_targets())
                fresh = self.duck_meters.take_fresh(time.monotonic())
            events: list[Event] = []
            for index, measured in list(self.playing.items()):
                event = self._measure(index, measured, fresh.get(index))
                if event is not None:
                    events.append(event)
            self._wiring.send(events)
        self.close_duck_meters()

    def _duck_targets(self) -> list[MeterTarget]:
        targets = []
        for index, measured in self.playing.items():
            stream = self._mirror.streams.get((Flow.RENDER, index))
            device = self._mirror.devices.get((Flow.RENDER, stream.device)) if stream else None
            if stream is not None and device is not None and device.monitor_source and measured.measure_from < float("inf"):
                targets.append(MeterTarget(device.monitor_source, len(stream.volumes) or 2, index))
        return targets

    def _measure(self, index: int, measured: _Measured, peaks: tuple[float, ...] | None) -> Event | None:
        stream = self._mirror.streams.get((Flow.RENDER, index))
        playback = measured.playback
        if stream is None or measured.measure_from == float("inf"):
            return None
        mono = time.monotonic()
        silent = stream.corked or playback.corked
        expected = tuple(
            round(e, 7)
            for e in expected_peaks(playback.amplitude, playback.request.tone.pan, stream.volumes, stream.muted or silent)
        )
        if expected != measured.expected or playback.changed_at != measured.seen_change:
            measured.expected, measured.seen_change = expected, playback.changed_at
            measured.grace_until = mono + GRACE_SECONDS
            measured.tracker.reset()
            return None
        if peaks is None or mono < max(measured.grace_until, measured.measure_from):
            return None
        if measured.measure_until is not None and mono > measured.measure_until:
            return None
        gain_db = measured_gain_db(peaks, expected)
        if gain_db is None:
            return None
        now = self._clock.now()
        transition = measured.tracker.feed(now, gain_db)
        if transition is None:
            return None
        sid = session_id_of(stream)
        sessions = self._mirror.sessions
        policy = self._wiring.policy()
        assert self.causes is not None
        if transition.ducked:
            cause = self.causes.of_duck(sid, transition.started)
            why = why_measured(policy, sessions, sid, cause, True, transition.gain)
            measured.ducked_to, measured.duck_why = transition.gain, why
            return Ducked(timestamp=now, session_id=sid, gain=transition.gain, cause_session_id=cause,
                          fade_seconds=transition.fade_seconds, why=why, measured_db=_change_db(transition.gain))
        cause = self.causes.of_unduck(sid, transition.started)
        if measured.duck_why is not None:
            why = measured.duck_why.release()
        else:
            why = why_measured(policy, sessions, sid, cause, False, transition.gain)
        rise = transition.gain / measured.ducked_to if measured.ducked_to > 0 else math.inf
        measured.ducked_to, measured.duck_why = 1.0, None
        return Unducked(timestamp=now, session_id=sid, gain=transition.gain, cause_session_id=cause,
                        fade_seconds=transition.fade_seconds, why=why, measured_db=_change_db(rise))
