from __future__ import annotations

from typing import ClassVar

import anyio
import pytest

from audiolab import VirtualClock

pytestmark = pytest.mark.anyio


async def test_virtual_sleepers_wake_in_deadline_order_at_their_virtual_time():
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    async with anyio.create_task_group() as tg:
        for name, seconds in (("c", 3.0), ("a", 1.0), ("b", 2.0)):
            tg.start_soon(sleeper, name, seconds)
        await anyio.wait_all_tasks_blocked()
        await clock.advance(10.0)
    assert woke == [("a", 1.0), ("b", 2.0), ("c", 3.0)]
    assert clock.now() == 10.0


async def test_virtual_clock_visits_stepper_deadlines():
    clock = VirtualClock()
    visits: list[float] = []

    class Stepper:
        deadlines: ClassVar[list[float]] = [0.5, 1.5]

        def advance_to(self, t: float) -> None:
            visits.append(t)
            while self.deadlines and self.deadlines[0] <= t:
                self.deadlines.pop(0)

        def next_deadline(self):
            return self.deadlines[0] if self.deadlines else None

    clock.add_stepper(Stepper())
    await clock.advance(2.0)
    assert visits == [0.5, 1.5, 2.0]


async def test_virtual_time_cannot_go_backwards():
    with pytest.raises(ValueError):
        await VirtualClock().advance(-1)
