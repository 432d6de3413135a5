"""What virtual time owes its users: meter frames and tone ends arrive within the time they advance."""

from __future__ import annotations

import anyio
import pytest

import audiolab
from audiolab.tones import sine

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
