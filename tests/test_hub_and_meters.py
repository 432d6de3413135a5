"""Fan-out: lossless control events with bounded buffers; newest-value meter frames."""

from __future__ import annotations

import anyio
import pytest

from audiolab import EventOverflow
from audiolab._hub import EventHub
from audiolab._meters import MeterSubscription, merge_frames
from audiolab.events import SessionRemoved
from audiolab.model import MeterFrame

pytestmark = pytest.mark.anyio


def ev(i: int) -> SessionRemoved:
    return SessionRemoved(timestamp=float(i), session_id=f"s{i}")


async def test_each_subscriber_gets_every_event_in_order():
    hub = EventHub()
    a, b = hub.subscribe(10), hub.subscribe(10)
    for i in range(5):
        hub.publish(ev(i))
    assert [(await a.receive()).timestamp for _ in range(5)] == [0, 1, 2, 3, 4]
    assert [(await b.receive()).timestamp for _ in range(5)] == [0, 1, 2, 3, 4]
    assert a.statistics().delivered == 5 and a.statistics().dropped == 0


async def test_overflow_delivers_what_was_buffered_then_raises():
    hub = EventHub()
    slow, fast = hub.subscribe(2), hub.subscribe(100)
    for i in range(5):
        hub.publish(ev(i))
    assert [slow.receive_nowait().timestamp for _ in range(2)] == [0, 1]
    with pytest.raises(EventOverflow, match="3 events were not delivered"):
        await slow.receive()
    assert slow.statistics().dropped == 3
    assert len([fast.receive_nowait() for _ in range(5)]) == 5  # one slow subscriber costs the others nothing


async def test_closing_the_hub_ends_iteration_and_passes_on_an_error():
    hub = EventHub()
    clean, failing = hub.subscribe(), hub.subscribe()
    hub.publish(ev(1))
    hub.close()
    assert [e.timestamp async for e in clean] == [1.0]
    hub2 = EventHub()
    failing = hub2.subscribe()
    hub2.close(EventOverflow("boom"))
    with pytest.raises(EventOverflow, match="boom"):
        await failing.receive()


async def test_a_waiting_receiver_wakes_on_publish():
    hub = EventHub()
    sub = hub.subscribe()
    got = []

    async def consume():
        got.append(await sub.receive())

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        await anyio.wait_all_tasks_blocked()
        hub.publish(ev(7))
    assert got[0].timestamp == 7


async def test_two_tasks_receiving_from_one_subscription_both_wake_and_close():
    hub = EventHub()
    sub = hub.subscribe()
    got: list = []
    ended: list = []

    async def consume() -> None:
        try:
            while True:
                got.append(await sub.receive())
        except Exception as exc:  # noqa: BLE001 - the subscription ends with ClosedResourceError
            ended.append(type(exc).__name__)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            tg.start_soon(consume)
            await anyio.wait_all_tasks_blocked()
            hub.publish(ev(1))
            hub.publish(ev(2))
            await anyio.wait_all_tasks_blocked()
            sub.close()
    assert sorted(e.timestamp for e in got) == [1.0, 2.0]
    assert ended == ["ClosedResourceError", "ClosedResourceError"]


def frame(t: float, **peaks: float) -> MeterFrame:
    return MeterFrame(t, dict(peaks), {k: (v, v) for k, v in peaks.items()}, {"speakers": max(peaks.values())})


async def test_slow_meter_consumer_sees_merged_newest_frames_never_stale_ones():
    sub = MeterSubscription(rate=1000.0, on_close=lambda s: None)
    sub.offer(frame(0.1, a=0.9, b=0.1))
    sub.offer(frame(0.2, a=0.2, b=0.3))
    sub.offer(frame(0.3, a=0.1, b=0.2))
    got = await sub.receive()
    assert got.timestamp == 0.3  # the newest
    assert got.peaks == {"a": 0.9, "b": 0.3}  # no loud peak hidden by the merge
    assert sub.statistics().merged == 2 and sub.statistics().delivered == 1


async def test_meter_subscription_respects_its_rate():
    sub = MeterSubscription(rate=10.0, on_close=lambda s: None)
    sub.offer(frame(0.00, a=0.5))
    assert (await sub.receive()).timestamp == 0.0
    sub.offer(frame(0.05, a=0.5))  # too early for a 10 Hz consumer: held back and merged
    with anyio.move_on_after(0.05):
        await sub.receive()
        pytest.fail("a frame came before its time")
    sub.offer(frame(0.10, a=0.4))
    assert (await sub.receive()).timestamp == 0.10


def test_merge_drops_sessions_that_are_gone():
    merged = merge_frames(frame(0.1, a=0.5, gone=0.9), frame(0.2, a=0.1))
    assert merged.peaks == {"a": 0.5}


async def test_slightly_early_frames_keep_the_asked_for_rate():
    sub = MeterSubscription(rate=30.0, on_close=lambda s: None)
    jitter = [0.0, -0.004, 0.003, -0.005, 0.002, -0.003, 0.004, -0.002]
    delivered = 0
    for i, j in enumerate(jitter):
        sub.offer(frame(i / 30 + j, a=0.5))
        with anyio.move_on_after(0.01):
            await sub.receive()
            delivered += 1
    assert delivered == len(jitter)
