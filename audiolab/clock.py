"""Clocks: real time, or virtual time that only moves when someone advances it.

Everything time-driven in audiolab (the simulated service, meter ticks, throttles, scenarios) takes a clock,
so tests and scenarios run on virtual time, deterministically and far faster than real time.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Callable
from typing import Protocol

import anyio

from .model import is_real


class Stepper(Protocol):
    """A component that virtual time drives: brought up to a time, and able to say when it next needs to run."""

    def advance_to(self, t: float) -> None: ...

    def next_deadline(self) -> float | None: ...


class Clock:
    """Base of both clocks: ``now()`` in seconds, ``sleep()`` that waits for the clock to get there."""

    virtual: bool = False

    def now(self) -> float:
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self.now() + max(0.0, seconds))

    async def sleep_until(self, deadline: float) -> None:
        raise NotImplementedError


class RealClock(Clock):
    """The monotonic clock of the machine."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep_until(self, deadline: float) -> None:
        await anyio.sleep(max(0.0, deadline - time.monotonic()))


class VirtualClock(Clock):
    """Time that moves only through :meth:`advance` (or :meth:`advance_until`).

    Sleepers wait until an advance reaches their deadline. An advance steps through every pending deadline in
    order, runs the registered *steppers* (the simulated engine) up to it, wakes the sleepers due and lets them
    run before moving on, so what happens at a virtual instant happens in the same order every run.
    """

    virtual = True

    MAX_STEP = 1.0
    """The most virtual seconds the steppers run between two checkpoints: a long advance stays cancellable."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._counter = itertools.count()
        self._steppers: list[Stepper] = []
        self._advancing = False
        self._changed: anyio.Event | None = None  # made when first waited on: a clock may be made outside a loop

    def now(self) -> float:
        return self._now

    def next_deadline(self) -> float | None:
        """The next virtual time at which something is due (a sleeper's deadline, or a stepper's), if any."""
        candidates = [self._sleepers[0][0]] if self._sleepers else []
        for stepper in self._steppers:
            wanted = stepper.next_deadline()
            if wanted is not None and wanted > self._now:
                candidates.append(wanted)
        return min(candidates, default=None)

    def add_stepper(self, stepper: Stepper) -> Callable[[], None]:
        """Register a component that time drives (the simulated engine). Returns an unregister function."""
        self._steppers.append(stepper)
        return lambda: self._steppers.remove(stepper) if stepper in self._steppers else None

    async def sleep_until(self, deadline: float) -> None:
        if deadline <= self._now:
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        entry = (deadline, next(self._counter), event)
        heapq.heappush(self._sleepers, entry)
        self._notify()  # something is due now: a waiter in advance_until() may move time to it
        try:
            await event.wait()
        finally:
            if not event.is_set():
                self._sleepers.remove(entry)
                heapq.heapify(self._sleepers)

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking everything due on the way."""
        await self.advance_to(self._now + _finite(seconds, "seconds"))

    async def advance_to(self, target: float) -> None:
        """Move time forward to ``target``; a checkpoint at least every :attr:`MAX_STEP` virtual seconds."""
        target = _finite(target, "target")
        if target < self._now:
            raise ValueError(f"virtual time cannot go backwards (now {self._now:g}, asked for {target:g})")
        if self._advancing:
            raise RuntimeError("the virtual clock is already being advanced by another task")
        self._advancing = True
        try:
            while True:
                await _let_others_run()
                self._step(target)
                if self._now >= target:
                    await _let_others_run()
                    return
        finally:
            self._advancing = False
            self._notify()

    async def advance_until(self, done: anyio.Event) -> None:
        """Wait until ``done`` is set, moving time on meanwhile as the only task that waits on it would want.

        While no other task advances the clock, time jumps from one deadline to the next (a sleeper's or a
        stepper's, in order, waking what is due at each and letting it run, as :meth:`advance_to` does) until
        ``done`` is set. While another task advances it, time is left to that task. When nothing is due, time
        stands still and this waits for ``done``, a new sleeper or another task's advance. Cancellable."""
        while True:
            await _let_others_run()  # also when done already: a checkpoint, as every async call is
            if done.is_set():
                return
            deadline = None if self._advancing else self.next_deadline()
            if deadline is None:
                await _wait_for_either(done, self._change())
            else:
                self._step(deadline)  # synchronous: no other advance can start in the middle of it

    def _step(self, target: float) -> None:
        """One step towards ``target``: to the first deadline before it (at most :attr:`MAX_STEP` ahead while
        steppers render), running the steppers there and waking the sleepers due."""
        next_stop = target
        if self._steppers:  # they render synchronously: bound each step's work
            next_stop = min(target, self._now + self.MAX_STEP)
        if self._sleepers and self._sleepers[0][0] < next_stop:
            next_stop = self._sleepers[0][0]
        for stepper in list(self._steppers):
            wanted = stepper.next_deadline()
            if wanted is not None and self._now < wanted < next_stop:
                next_stop = wanted
        for stepper in list(self._steppers):
            stepper.advance_to(next_stop)
        self._now = max(self._now, next_stop)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            heapq.heappop(self._sleepers)[2].set()

    def _change(self) -> anyio.Event:
        """An event set when a sleeper arrives or an advance ends."""
        if self._changed is None:
            self._changed = anyio.Event()
        return self._changed

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None


def _finite(value: float, what: str) -> float:
    if not is_real(value):
        raise TypeError(f"{what} must be a number, not {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return value


async def _wait_for_either(first: anyio.Event, second: anyio.Event) -> None:
    async def wait(event: anyio.Event, scope: anyio.CancelScope) -> None:
        await event.wait()
        scope.cancel()

    async with anyio.create_task_group() as group:
        group.start_soon(wait, first, group.cancel_scope)
        group.start_soon(wait, second, group.cancel_scope)


async def _let_others_run(rounds: int = 8) -> None:
    # Several checkpoints so woken tasks get to run (and to react to what they saw) before time moves on.
    for _ in range(rounds):
        await anyio.lowlevel.checkpoint()


def make_clock(clock: str | Clock | None) -> Clock:
    """The clock a backend option names: None or "real" (a :class:`RealClock`), "virtual" (a new
    :class:`VirtualClock`), or a Clock given as it is."""
    if clock is None or clock == "real":
        return RealClock()
    if clock == "virtual":
        return VirtualClock()
    if isinstance(clock, Clock):
        return clock
    raise ValueError(f"clock must be 'real', 'virtual' or an audiolab Clock, got {clock!r}")
