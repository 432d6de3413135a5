"""A Lab's duck detector at work: meters on, every event and frame fed to a :class:`~audiolab.detect.DuckDetector`,
what it finds published to every subscriber as if the backend had said it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio

from ._exceptions import AudiolabError, NotSupported
from .detect import DetectorSettings, DuckDetector
from .events import Event
from .explain import predict_trigger
from .focus.policy import FocusPolicy, NoPolicy

if TYPE_CHECKING:
    from .lab import Lab

DETECTOR_METER_RATE = 30.0


async def run_detector(lab: Lab, publish: Callable[[Event], None], settings: DetectorSettings | None = None) -> None:
    """Run until cancelled (the Lab's task group does). Sessions the backend measures itself (its own tones on
    PulseAudio) are left to it."""
    backend = lab.backend

    def policy() -> FocusPolicy:
        try:
            return lab.policy_in_force().policy
        except (NotSupported, AudiolabError):
            return NoPolicy(name="none")

    detector = DuckDetector(
        lambda playing, trigger, started: predict_trigger(policy(), playing, trigger, started),
        settings,
        ignore=backend.measures_itself,
        server_gain=backend.endpoint_gain,
    )
    detector.seed(lab.snapshot())
    async with lab.events(max_buffer=1 << 14) as events, lab.meters(rate=DETECTOR_METER_RATE) as frames, \
            anyio.create_task_group() as tg:

        async def observe() -> None:
            try:
                async for event in events:
                    detector.observe(event)
            except AudiolabError:  # the server went away: the Lab tells its own subscribers
                tg.cancel_scope.cancel()

        tg.start_soon(observe)
        try:
            async for frame in frames:
                for found in detector.feed(frame):
                    publish(found)
        except AudiolabError:
            tg.cancel_scope.cancel()
