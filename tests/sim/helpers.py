"""Helpers for tests of the simulated service: an engine with a recorded event log, on manual time."""

from __future__ import annotations

from dataclasses import dataclass, field

from audiolab.backends.sim.engine import SimEngine
from audiolab.backends.sim.persistence import VolumeStore
from audiolab.events import Event


@dataclass
class ManualTime:
    t: float = 0.0

    def __call__(self) -> float:
        return self.t


@dataclass
class Recorder:
    events: list[Event] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def kinds(self, session_id: str | None = None) -> list[str]:
        return [e.kind for e in self.events if session_id is None or e.session_id == session_id]

    def of(self, kind: type, session_id: str | None = None) -> list:
        return [e for e in self.events if isinstance(e, kind) and (session_id is None or e.session_id == session_id)]

    def clear(self) -> None:
        self.events.clear()


def make_engine(*, expire_after: float = 10.0, store: VolumeStore | None = None, **kw) -> tuple[SimEngine, Recorder, ManualTime]:
    time = ManualTime()
    recorder = Recorder()
    engine = SimEngine(emit=recorder, now=time, expire_after=expire_after, store=store, **kw)
    return engine, recorder, time


def advance(engine: SimEngine, time: ManualTime, seconds: float) -> None:
    time.t += seconds
    engine.advance_to(time.t)
