"""Running a scenario on the simulated service, on virtual time, and checking its expectations.

The runner opens a Lab (``clock="virtual"``, the chosen policy and its settings), records every event and
every meter frame (100 per second), walks the timeline (actions and expectations in time order, actions
first at one instant) and returns a :class:`ScenarioResult`. Gains are *measured*: the session's metered
peak (after volume and focus gain, over the 10 ms ending at ``t``) divided by the tone's amplitude times
the session volume, so a duck and its fade are seen in the signal, not only in the event fields.

By default only the blocks that a measurement needs are rendered (*probing*, see
:mod:`audiolab.backends.sim.audio`): the two blocks before each action, each expectation and the end, the
last block of each tone, and the three blocks from each change (a start, a stop, a volume, a focus fade's
start and end); the rest of the time only moves on. Between
two probed blocks every gain is constant or moves linearly, so the gain series, its minimum and its last
value are those of the every-block run. ``every_block=True`` renders and meters every block at 100 frames
a second instead (the reference the fast path is tested against, and the series a plot of every frame needs).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio

from .._exceptions import ScenarioError
from . import _measure
from ._act import apply
from ._run import METER_RATE, Run
from .actions import Action
from .expectations import Expectation
from .format import Scenario
from .meterlog import MeterLog, record_meters
from .result import CheckResult, PlayerSummary, ScenarioResult, Transition
from .shipped import resolve

__all__ = ("METER_RATE", "CheckResult", "PlayerSummary", "ScenarioResult", "Transition", "run_scenario",
           "run_scenario_async")


def run_scenario(
    path_or_scenario: str | Path | Scenario, policy: str | None = None, *, record_audio: bool = False,
    every_block: bool = False,
) -> ScenarioResult:
    """Run a scenario (a shipped name, a path, or a parsed :class:`Scenario`) under ``policy`` (default:
    the scenario's own) on virtual time and check the expectations that apply to that policy.
    ``every_block=True`` renders and meters every 10 ms block (slower; see the module's docstring).

    Synchronous: it runs its own event loop. Inside async code use :func:`run_scenario_async`."""
    return anyio.run(lambda: run_scenario_async(path_or_scenario, policy, record_audio=record_audio,
                                                every_block=every_block))


async def run_scenario_async(
    path_or_scenario: str | Path | Scenario, policy: str | None = None, *, record_audio: bool = False,
    every_block: bool = False,
) -> ScenarioResult:
    """:func:`run_scenario` inside a running event loop (asyncio or trio)."""
    if not isinstance(every_block, bool):
        raise TypeError(f"every_block must be a bool, not {type(every_block).__name__}")
    scenario = path_or_scenario if isinstance(path_or_scenario, Scenario) else resolve(path_or_scenario)
    policy = policy or scenario.policy
    focus_policy = _policy(policy, scenario.settings.get(policy, {}))
    sink = _MixRecorder() if record_audio else None
    started = time.perf_counter()
    from .. import open as open_lab  # noqa: PLC0415

    async with open_lab("sim", clock="virtual", policy=focus_policy, output=sink) as lab, \
            lab.events(max_buffer=1 << 16) as events, _meter_log(lab, every_block) as meters:
        run = Run(lab, scenario, policy, meters)
        timeline: list[tuple[float, int, Action | Expectation]] = (
            [(a.at, 0, a) for a in scenario.actions if a.applies_to(policy)]
            + [(e.at, 1, e) for e in scenario.expectations if e.applies_to(policy)]
        )
        if not meters.live:  # the blocks before each action, expectation and the end: what they measure
            for at in {at for at, _, _ in timeline} | {scenario.duration}:
                lab.sim.engine.want_probe(at)
        failure: ScenarioError | None = None
        for at, _, item in sorted(timeline, key=lambda x: (x[0], x[1])):
            await run.advance_to(at, events)
            if isinstance(item, Action):
                try:
                    await apply(run, item, events)
                except ScenarioError as exc:  # raised below, not from inside the Lab's task group
                    failure = exc
                    break
            else:
                _measure.check(run, item)
        if failure is None:
            await run.advance_to(scenario.duration, events)
            result = _measure.result(run, time.perf_counter() - started)
            result.sample_rate = lab.sim.engine.audio.sample_rate
            result.every_block = meters.live
            result.blocks_rendered = lab.sim.engine.audio.blocks_rendered
    if failure is not None:
        raise failure
    if sink is not None:
        result.audio = sink.mix()
    return result


_POLICIES: dict[str, Any] = {}


def _policy(name: str, settings: dict[str, Any]) -> Any:
    """The policy with its settings; a bundled one is read and checked once per process (policies are frozen
    values), a policy file every time (it may have been edited)."""
    from ..focus import load_policy  # noqa: PLC0415 - keep `import audiolab` light
    from ..focus.policy import BUILTIN  # noqa: PLC0415

    if name not in BUILTIN:
        return load_policy(name, **settings)
    key = f"{name} {json.dumps(settings, sort_keys=True, default=repr)}"
    if key not in _POLICIES:
        _POLICIES[key] = load_policy(name, **settings)
    return _POLICIES[key]


@asynccontextmanager
async def _meter_log(lab: Any, every_block: bool) -> AsyncIterator[MeterLog]:
    """Every meter frame at 100 a second, or (probing) the frames of the blocks the engine probes."""
    if every_block:
        async with record_meters(lab, METER_RATE) as meters:
            yield meters
        return
    engine = lab.sim.engine
    engine.start_probing()
    yield MeterLog(METER_RATE, engine.probe_frames)


class _MixRecorder:
    """A sink object for the ``output`` option: keeps every block of the mix."""

    def __init__(self) -> None:
        self.blocks: list[Any] = []

    def write(self, block: Any) -> None:
        self.blocks.append(block.copy())

    def close(self) -> None:
        pass

    def mix(self) -> Any:
        import numpy as np  # noqa: PLC0415

        return np.concatenate(self.blocks) if self.blocks else np.zeros((0, 2), dtype=np.float32)
