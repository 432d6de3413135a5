"""lab.events() and lab.meters() are anyio object receive streams (asyncio and trio)."""

from __future__ import annotations

from typing import TypeVar

import anyio
import pytest
from anyio.abc import ObjectReceiveStream

import audiolab
from audiolab.events import Event, VolumeChanged
from audiolab.tones import sine

pytestmark = pytest.mark.anyio

T = TypeVar("T")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def take(stream: ObjectReceiveStream[T], count: int) -> list[T]:
    """Code written for any anyio object stream, knowing nothing of audiolab."""
    got = []
    async with stream:
        async for item in stream:
            got.append(item)
            if len(got) == count:
                break
    return got


async def test_both_subscriptions_are_anyio_object_receive_streams():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        music = await lab.play(sine(440), app="Music")
        events, frames = lab.events(), lab.meters(rate=30)
        assert isinstance(events, ObjectReceiveStream) and isinstance(frames, ObjectReceiveStream)
        for volume in (0.25, 0.5):
            await lab.set_volume(music.session_id, volume)
        got: list[Event] = await take(events, 2)
        assert [e.volume for e in got if isinstance(e, VolumeChanged)] == [0.25, 0.5]
        async with anyio.create_task_group() as tg:
            tg.start_soon(lab.sleep, 1.0)
            (frame,) = await take(frames, 1)
        assert music.session_id in frame.peaks


async def test_aclose_ends_a_subscription_keeps_its_statistics_and_raises_anyios_closed_error():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        music = await lab.play(sine(440), app="Music")
        events = lab.events()
        await lab.set_volume(music.session_id, 0.5)
        await events.receive()
        await events.aclose()
        await lab.set_volume(music.session_id, 0.25)  # not delivered any more
        with pytest.raises(anyio.ClosedResourceError):
            await events.receive()
        stats = events.statistics()
        assert (stats.delivered, stats.buffered, stats.overflowed) == (1, 0, False)
        frames = lab.meters(rate=10)
        async with anyio.create_task_group() as tg:
            tg.start_soon(lab.sleep, 1.0)
            await frames.receive()  # metering starts on the first receive as well
        await frames.aclose()
        with pytest.raises(anyio.ClosedResourceError):
            await frames.receive()
        assert frames.statistics().delivered == 1
        assert lab.statistics().meter_subscribers == ()  # the Lab let it go


async def test_receive_is_a_checkpoint_and_a_cancelled_receive_loses_nothing():
    async with audiolab.open(clock="virtual", policy="none") as lab, lab.events() as events:
        music = await lab.play(sine(440), app="Music")
        await lab.set_volume(music.session_id, 0.5)
        buffered = events.statistics().buffered
        with anyio.CancelScope() as scope:
            scope.cancel()
            await events.receive()
        assert scope.cancelled_caught and events.statistics().buffered == buffered


async def test_audiolabs_closed_error_is_anyios():
    assert issubclass(audiolab.ClosedResourceError, anyio.ClosedResourceError)
    async with audiolab.open(clock="virtual") as lab:
        pass
    with pytest.raises(anyio.ClosedResourceError, match="the Lab is closed"):
        lab.snapshot()


async def test_a_bad_meter_rate_is_refused_at_the_call():
    async with audiolab.open(clock="virtual") as lab:
        for rate in (0, -1, 1000, float("nan")):
            with pytest.raises(ValueError, match="rate must be in"):
                lab.meters(rate=rate)
        assert lab.statistics().meter_subscribers == ()
