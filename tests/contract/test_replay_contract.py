"""The replay backend's part of the contract, against every backend in HARNESSES.

A replay cannot be controlled, so it answers the observing half of the contract: a trace recorded from each
backend (sim, the Windows fake, PulseAudio, PipeWire) replays the same snapshot, the same events in the same
order, the same session states along the way, meters, and refuses control with a clear error.
"""

from __future__ import annotations

import anyio
import pytest

import audiolab
from audiolab import NotSupported, Role, SessionNotFound, SessionState
from audiolab.events import Event, SessionCreated, SessionRemoved, StateChanged, VolumeChanged
from audiolab.trace import read_trace, record

from .harness import Harness
from .test_contract import drain, wait_for

pytestmark = pytest.mark.anyio

RECORDING_SECONDS = 5.0
"""Long enough for the story on a real server under load; on the sim's virtual clock it costs nothing."""


async def _play_story(harness: Harness, live) -> str:  # type: ignore[no-untyped-def]
    """Another app starts, its volume is changed elsewhere, it stops, and it exits (a settle between steps,
    so each happens at a time of its own on the virtual clock too)."""
    app = await harness.start_app("Replayed Music", Role.MUSIC)
    sid = app.session_id
    await wait_for(harness, live, lambda e: isinstance(e, SessionCreated) and e.session_id == sid, "created")
    await harness.settle()
    await app.set_volume_elsewhere(0.25)
    await wait_for(harness, live, lambda e: isinstance(e, VolumeChanged) and e.session_id == sid, "volume")
    await harness.settle()
    await app.stop()
    await wait_for(harness, live, lambda e: isinstance(e, StateChanged) and e.session_id == sid
                   and e.new is SessionState.INACTIVE, "inactive")
    await harness.settle()
    await app.close()
    await wait_for(harness, live, lambda e: isinstance(e, SessionRemoved) and e.session_id == sid, "removed")
    return sid


def _story_of(events: list[Event], sid: str) -> list[tuple[str, object]]:
    return [(e.kind, getattr(e, "new", getattr(e, "volume", None))) for e in events if e.session_id == sid]


async def test_a_recording_of_this_backend_replays_as_it_happened(harness: Harness, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{harness.name}.trace.jsonl"
    recorded = anyio.Event()
    seen: list[Event] = []

    async def recording() -> None:
        await record(harness.lab, path, RECORDING_SECONDS, meter_rate=20)
        recorded.set()

    async with harness.lab.events() as live, anyio.create_task_group() as tg:
        tg.start_soon(recording)
        await harness.settle()  # the recorder has subscribed
        sid = await _play_story(harness, _Tee(live, seen))
        while not recorded.is_set():
            await harness.settle()  # on the virtual clock this is what lets the recording end
        seen.extend(drain(live))

    trace = read_trace(path)
    assert trace.backend == harness.lab.backend_name
    assert _story_of(trace.events, sid) == _story_of(seen, sid)  # what was live is what was recorded

    async with audiolab.open("replay", trace=path, clock="virtual") as replay:
        assert [s.id for s in replay.snapshot()] == [s.id for s in trace.snapshot]
        async with replay.events() as first, replay.events() as second:
            own = [e for e in trace.events if e.session_id == sid]
            inactive = next(i for i, e in enumerate(own) if isinstance(e, StateChanged)
                            and e.new is SessionState.INACTIVE)
            # Between the Inactive event (and any stamped with it) and the next later one; trace times are
            # kept to the microsecond.
            at = own[inactive].timestamp
            later = next(e.timestamp for e in own if e.timestamp > at + 1e-5)
            await replay.sleep((at + later) / 2)
            assert replay.session(sid).state is SessionState.INACTIVE  # the state along the way
            assert replay.session(sid).volume == pytest.approx(0.25, abs=0.01)
            with pytest.raises(NotSupported):
                await replay.set_volume(sid, 0.5)
            with pytest.raises(NotSupported):
                await replay.set_mute(sid, True)
            assert replay.session(sid).volume == pytest.approx(0.25, abs=0.01)  # refused, changed nothing
            await replay.sleep(RECORDING_SECONDS + 1.0)
            replayed, again = drain(first), drain(second)
        assert [(e.kind, e.session_id, round(e.timestamp, 6)) for e in replayed] == [
            (e.kind, e.session_id, round(e.timestamp, 6)) for e in trace.events]
        assert [e.kind for e in again] == [e.kind for e in replayed]  # every subscriber gets every event
        with pytest.raises(SessionNotFound):
            replay.session(sid)  # it ended
        # Meters were recorded where the backend has them, and the replay offers them (see test_trace_replay).
        assert trace.has_meters == ("meters" in harness.lab.backend.capabilities) == (
            "meters" in replay.backend.capabilities)
    with pytest.raises(audiolab.ClosedResourceError):
        replay.snapshot()


class _Tee:
    """A subscription whose received events are also kept (to compare the live story with the trace)."""

    def __init__(self, events, seen: list[Event]) -> None:  # type: ignore[no-untyped-def]
        self._events, self._seen = events, seen

    def receive_nowait(self) -> Event:
        event = self._events.receive_nowait()
        self._seen.append(event)
        return event
