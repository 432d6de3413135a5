"""The backend contract: written once, run against every backend in HARNESSES."""

from __future__ import annotations

import math

import anyio
import pytest

from audiolab import ClosedResourceError, EventOverflow, Flow, Origin, Role, SessionNotFound, SessionState
from audiolab.events import Event, SessionCreated, SessionRemoved, StateChanged, VolumeChanged
from audiolab.scenarios._run import drain

from .harness import Harness

pytestmark = pytest.mark.anyio


async def wait_for(harness: Harness, events, predicate, what: str, attempts: int = 100) -> Event:
    for _ in range(attempts):
        for event in drain(events):
            if predicate(event):
                return event
        await harness.settle()
    raise AssertionError(f"no event: {what}")


async def test_a_playing_app_is_enumerated_with_its_identity(harness: Harness):
    async with harness.lab.events() as events:
        app = await harness.start_app("Contract Music", Role.MUSIC)
        created = await wait_for(harness, events, lambda e: isinstance(e, SessionCreated)
                                 and e.session_id == app.session_id, "SessionCreated")
    listed = [s async for s in harness.lab.sessions()]
    session = next(s for s in listed if s.id == app.session_id)
    assert session.app == "Contract Music"
    assert session.flow is Flow.RENDER
    assert session.state is SessionState.ACTIVE
    assert Role.MUSIC in harness.role_fidelity and session.role is Role.MUSIC
    assert created.session.key == session.key
    assert harness.lab.session(app.session_id).id == app.session_id
    await app.close()


async def test_volume_set_here_is_reported_with_origin_this_client(harness: Harness):
    app = await harness.start_app("Contract Volume", Role.MUSIC)
    await harness.settle()
    async with harness.lab.events() as events:
        await harness.lab.set_volume(app.session_id, 0.5)
        change = await wait_for(harness, events, lambda e: isinstance(e, VolumeChanged)
                                and e.session_id == app.session_id, "VolumeChanged")
    assert change.volume == pytest.approx(0.5, abs=0.01)
    assert change.origin is Origin.THIS_CLIENT
    assert harness.lab.session(app.session_id).volume == pytest.approx(0.5, abs=0.01)
    await app.close()


async def test_volume_set_elsewhere_is_not_reported_as_this_client(harness: Harness):
    app = await harness.start_app("Contract Elsewhere", Role.MUSIC)
    await harness.settle()
    async with harness.lab.events() as events:
        await app.set_volume_elsewhere(0.25)
        change = await wait_for(harness, events, lambda e: isinstance(e, VolumeChanged)
                                and e.session_id == app.session_id, "VolumeChanged")
    assert change.volume == pytest.approx(0.25, abs=0.01)
    assert change.origin is not Origin.THIS_CLIENT
    await app.close()


async def test_mute_round_trip(harness: Harness):
    app = await harness.start_app("Contract Mute", Role.MUSIC)
    await harness.settle()
    await harness.lab.set_mute(app.session_id, True)
    await harness.settle()
    assert harness.lab.session(app.session_id).muted is True
    await harness.lab.set_mute(app.session_id, False)
    await harness.settle()
    assert harness.lab.session(app.session_id).muted is False
    await app.close()


async def test_stop_makes_the_session_inactive_and_exit_removes_it(harness: Harness):
    app = await harness.start_app("Contract States", Role.MUSIC)
    await harness.settle()
    async with harness.lab.events() as events:
        await app.stop()
        await wait_for(harness, events, lambda e: isinstance(e, StateChanged) and e.session_id == app.session_id
                       and e.new is SessionState.INACTIVE, "Inactive")
        assert harness.lab.session(app.session_id).state is SessionState.INACTIVE
        await app.start()
        await wait_for(harness, events, lambda e: isinstance(e, StateChanged) and e.session_id == app.session_id
                       and e.new is SessionState.ACTIVE, "Active again")
        await app.close()
        await wait_for(harness, events, lambda e: isinstance(e, SessionRemoved)
                       and e.session_id == app.session_id, "SessionRemoved")
    assert app.session_id not in {s.id for s in harness.lab.snapshot()}
    with pytest.raises(SessionNotFound):
        harness.lab.session(app.session_id)


async def test_every_subscriber_gets_every_event_independently(harness: Harness):
    async with harness.lab.events() as first, harness.lab.events() as second:
        app = await harness.start_app("Contract Fanout", Role.GAME)
        await harness.settle()
        await harness.lab.set_volume(app.session_id, 0.75)
        await harness.settle()
        await app.close()
        await wait_for(harness, first, lambda e: isinstance(e, SessionRemoved) and e.session_id == app.session_id,
                       "removed (first)")
        await wait_for(harness, second, lambda e: isinstance(e, SessionRemoved) and e.session_id == app.session_id,
                       "removed (second)")
        assert first.statistics().delivered == second.statistics().delivered > 0


@pytest.mark.parametrize(
    ("value", "error"),
    [(math.nan, ValueError), (1.5, ValueError), (-0.1, ValueError), (math.inf, ValueError), ("0.5", TypeError),
     (None, TypeError), (True, TypeError)],
)
async def test_bad_volume_is_refused_and_changes_nothing(harness: Harness, value, error):
    app = await harness.start_app("Contract Bad", Role.MUSIC)
    await harness.settle()
    before = harness.lab.session(app.session_id)
    with pytest.raises(error):
        await harness.lab.set_volume(app.session_id, value)
    await harness.settle()
    assert harness.lab.session(app.session_id).volume == before.volume
    await app.close()


async def test_unknown_session_is_a_clear_error(harness: Harness):
    with pytest.raises(SessionNotFound):
        await harness.lab.set_volume("no-such-session", 0.5)
    with pytest.raises(SessionNotFound):
        await harness.lab.set_mute("no-such-session", True)
    with pytest.raises(SessionNotFound):
        harness.lab.session("no-such-session")


async def test_a_subscriber_that_falls_behind_gets_an_overflow_error_not_silent_loss(harness: Harness):
    app = await harness.start_app("Contract Overflow", Role.MUSIC)
    await harness.settle()
    async with harness.lab.events(max_buffer=3) as events:
        for volume in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
            await harness.lab.set_volume(app.session_id, volume)
            await harness.settle()
        received = [events.receive_nowait() for _ in range(3)]
        assert [e.volume for e in received if isinstance(e, VolumeChanged)][:1] == [pytest.approx(0.1, abs=0.01)]
        with pytest.raises(EventOverflow, match="fell more than 3 events behind"):
            events.receive_nowait()
        assert events.statistics().overflowed
    await app.close()


async def test_meters_report_every_playing_session(harness: Harness):
    if "meters" not in harness.lab.backend.capabilities:
        pytest.fail(f"the {harness.name} backend must provide meters")
    app = await harness.start_app("Contract Meter", Role.MUSIC)
    await harness.settle()
    async with harness.lab.meters(rate=20) as frames:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(harness.settle)
                frame = await frames.receive()
                tg.cancel_scope.cancel()
    assert app.session_id in frame.peaks
    await app.close()


async def test_closed_lab_refuses_everything(harness: Harness):
    app = await harness.start_app("Contract Closed", Role.MUSIC)
    await harness.settle()
    await harness.lab.aclose()
    with pytest.raises(ClosedResourceError):
        harness.lab.snapshot()
    with pytest.raises(ClosedResourceError):
        await harness.lab.set_volume(app.session_id, 0.5)
    with pytest.raises(ClosedResourceError):
        harness.lab.events()
    await harness.lab.aclose()  # idempotent
