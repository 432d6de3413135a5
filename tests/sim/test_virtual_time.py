"""What virtual time owes its users: meter frames and tone ends arrive within the time they advance."""

from __future__ import annotations

import anyio
import pytest

import audiolab
from audiolab import Role, SessionState, VirtualClock
from audiolab.tones import ring, sine

pytestmark = pytest.mark.anyio

REAL_SECONDS = 5  # a hang fails the test instead of the suite


async def test_a_second_meter_subscription_after_a_slower_one_gets_its_frames():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        await lab.play(sine(440))
        async with lab.meters(rate=1) as first:
            await lab.sleep(1.0)
            assert (await first.receive()).timestamp == pytest.approx(1.0)
        # The first subscription's ticker planned its next tick a second ahead, for a rate of 1.
        with anyio.fail_after(REAL_SECONDS):
            async with lab.meters(rate=30) as second:
                await lab.sleep(0.2)
                frame = await second.receive()
        assert 1.0 < frame.timestamp <= 1.2 + 1e-9


async def test_a_faster_meter_subscriber_gets_frames_at_its_rate_from_when_it_joins():
    async with audiolab.open(clock="virtual", policy="none") as lab, lab.meters(rate=1) as slow:
        await lab.play(sine(440))
        await lab.sleep(0.3)
        with anyio.fail_after(REAL_SECONDS):
            async with lab.meters(rate=30) as fast:
                await lab.sleep(0.1)
                timestamps = [(await fast.receive()).timestamp]
                await lab.sleep(0.1)
                timestamps.append((await fast.receive()).timestamp)
        assert 0.3 <= timestamps[0] <= 0.4 + 1e-9
        assert timestamps[1] == pytest.approx(0.5)
        await lab.sleep(0.5)
        assert (await slow.receive()).timestamp == pytest.approx(1.0)  # the slow one keeps its own rate


async def test_waiting_for_a_tone_with_a_duration_moves_virtual_time_to_its_end():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        tone = await lab.play(sine(440), duration=0.5)
        with anyio.fail_after(REAL_SECONDS):
            await tone.wait()
        assert tone.finished and lab.clock.now() == pytest.approx(0.5)


async def test_waiting_for_a_tone_wakes_what_is_due_on_the_way_in_order():
    async with audiolab.open(clock="virtual", policy="none") as lab, lab.meters(rate=10) as frames:
        tone = await lab.play(sine(440, 0.5), duration=0.35)
        woke: list[float] = []

        async def sleeper(seconds: float) -> None:
            await lab.clock.sleep(seconds)  # waits for virtual time without moving it
            woke.append(lab.clock.now())

        with anyio.fail_after(REAL_SECONDS):
            async with anyio.create_task_group() as tg:
                tg.start_soon(sleeper, 0.2)
                tg.start_soon(sleeper, 0.1)
                await tone.wait()
                woke.append(lab.clock.now())
        assert woke == pytest.approx([0.1, 0.2, 0.35])
        frame = await frames.receive()  # the ticks on the way were made: the newest is the one at 0.3
        assert frame.timestamp == pytest.approx(0.3) and frame.peaks[tone.session_id] == pytest.approx(0.5)


async def test_waiting_for_a_paused_tone_moves_on_through_what_resumes_it():
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        music = await lab.play(sine(330), role=Role.MUSIC, app="Music", duration=2.0)
        await lab.sleep(0.5)
        call = await lab.play(ring(), role=Role.VOICE_COMMUNICATION, app="Phone", duration=1.0)
        await lab.sleep(0.1)
        assert lab.session(music.session_id).state is SessionState.INACTIVE  # paused by the call, 1.5 s to go
        with anyio.fail_after(REAL_SECONDS):
            await music.wait()
        assert call.finished and lab.clock.now() == pytest.approx(3.0)  # the call ended at 1.5, then 1.5 s more


async def test_waiting_for_a_tone_leaves_time_to_a_task_that_advances_it():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        tone = await lab.play(sine(440), duration=0.5)
        slept: list[tuple[float, float]] = []
        ended: list[float] = []

        async def waiter() -> None:
            await tone.wait()
            ended.append(lab.clock.now())

        async def sleeper() -> None:
            for _ in range(3):
                before = lab.clock.now()
                await lab.sleep(0.1)  # would raise RuntimeError if the waiter were advancing at the same time
                slept.append((before, lab.clock.now()))

        with anyio.fail_after(REAL_SECONDS):
            async with anyio.create_task_group() as tg:
                tg.start_soon(waiter)
                tg.start_soon(sleeper)
        assert ended == [pytest.approx(0.5)]
        assert [after - before for before, after in slept] == pytest.approx([0.1] * 3)


async def test_a_cancelled_wait_moves_no_time_and_stops_the_tone():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        tone = await lab.play(sine(440), duration=0.5)
        with anyio.CancelScope() as scope:
            scope.cancel()
            await tone.wait()
        assert scope.cancelled_caught and lab.clock.now() == 0.0 and tone.released
        short = await lab.play(sine(440), duration=0.1)
        await short.wait()
        with anyio.CancelScope() as scope:
            scope.cancel()
            await short.wait()  # finished already: still a checkpoint
        assert scope.cancelled_caught


async def test_waiting_for_a_tone_without_a_duration_does_not_move_time():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        tone = await lab.play(sine(440))
        async with anyio.create_task_group() as tg:
            tg.start_soon(tone.wait)
            await anyio.wait_all_tasks_blocked()
            assert lab.clock.now() == 0.0 and not tone.finished
            await lab.sleep(0.5)  # another task's advance: no conflict with the waiter
            await tone.stop()
        assert lab.clock.now() == pytest.approx(0.5)


async def test_advance_until_stands_still_while_nothing_is_due_and_moves_on_when_something_is():
    clock = VirtualClock()
    done = anyio.Event()

    async def sleeper() -> None:
        await clock.sleep(2.0)
        done.set()

    with anyio.fail_after(REAL_SECONDS):
        async with anyio.create_task_group() as tg:
            tg.start_soon(clock.advance_until, done)
            await anyio.wait_all_tasks_blocked()
            assert clock.now() == 0.0  # nothing due: no time jump, no spinning (the wait above returned)
            tg.start_soon(sleeper)
    assert clock.now() == 2.0
