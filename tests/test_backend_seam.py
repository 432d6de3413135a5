"""The public backend seam: audiolab.abc, a backend instance passed to open(), typed capabilities
(asyncio and trio)."""

from __future__ import annotations

import dataclasses
import math

import anyio
import pytest

import audiolab
from audiolab import NULL_GUID, Flow, NotSupported, Origin, Session, SessionKey, SessionNotFound, SessionState
from audiolab.abc import Backend, Capability, EventSink
from audiolab.backends import BACKEND_NAMES, backend_class
from audiolab.events import VolumeChanged
from audiolab.tones import sine
from audiolab.trace import record

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class OneKnob(Backend):
    """A backend a user might write: one session with a volume, nothing else."""

    name = "one-knob"

    def __init__(self) -> None:
        super().__init__()
        key = SessionKey(guid=NULL_GUID, cross_process=False, pid=1, device_id="speakers")
        self.session_state = Session(id="knob", key=key, flow=Flow.RENDER, state=SessionState.ACTIVE, app="Knob")
        self.emit: EventSink | None = None
        self.calls: list[float] = []
        self.closed = False

    async def start(self, emit: EventSink) -> None:
        self.emit = emit

    async def aclose(self) -> None:
        self.closed = True

    def snapshot(self) -> list[Session]:
        return [self.session_state]

    async def set_volume(self, session_id: str, volume: float) -> None:
        if session_id != "knob":
            raise SessionNotFound(f"no session {session_id!r}")
        self.calls.append(volume)
        self.session_state = dataclasses.replace(self.session_state, volume=volume)
        assert self.emit is not None
        self.emit(VolumeChanged(timestamp=self.clock.now(), session_id=session_id, volume=volume, muted=False,
                                origin=Origin.THIS_CLIENT))

    async def set_mute(self, session_id: str, muted: bool) -> None:
        raise NotSupported("one knob, no mute")


class AsyncioOnly(OneKnob):
    asyncio_only = True


async def test_a_backend_instance_serves_a_lab_through_the_public_seam():
    knob = OneKnob()
    async with audiolab.open(knob) as lab, lab.events() as events:
        assert (lab.backend_name, lab.picked_because, lab.backend) == ("one-knob", "given as an instance", knob)
        await lab.set_volume("knob", 0.5)
        assert (await events.receive()).volume == 0.5
        with pytest.raises(ValueError):
            await lab.set_volume("knob", math.nan)  # checked by the Lab: the backend never sees it
        with pytest.raises(NotSupported):
            await lab.set_channel_volume("knob", 0, 0.5)
        with pytest.raises(NotSupported, match="only there on the simulated backend"):
            lab.sim  # noqa: B018
        assert knob.calls == [0.5] and lab.session("knob").volume == 0.5
    assert knob.closed and lab.closed


async def test_the_simulated_service_passed_as_an_instance_is_the_same_service():
    from audiolab.backends.sim import SimBackend

    async with audiolab.open(SimBackend(clock="virtual", policy="none")) as lab:
        music = await lab.play(sine(440), app="Music")
        client = lab.sim.client("Mixer")
        client.set_volume(music.session_id, 0.25)
        assert lab.session(music.session_id).volume == 0.25
        assert Capability.METERS in lab.backend.capabilities and "meters" in lab.backend.capabilities


async def test_bad_instance_uses_are_refused_and_start_nothing():
    knob = OneKnob()
    with pytest.raises(TypeError, match="go to its constructor"):
        audiolab.open(knob, clock="virtual")
    async with audiolab.open(knob):
        pass
    with pytest.raises(ValueError, match="already served a Lab"):
        audiolab.open(knob)
    with pytest.raises(TypeError, match=r"a backend name or an audiolab\.abc\.Backend instance"):
        audiolab.open(OneKnob)  # the class, not an instance
    fresh = OneKnob()
    with pytest.raises(TypeError, match="detect_ducking"):
        async with audiolab.open(fresh, detect_ducking="yes"):
            pass
    assert fresh.emit is None


async def test_an_asyncio_only_instance_under_trio_is_refused_clearly(anyio_backend: str):
    only = AsyncioOnly()
    if anyio_backend == "trio":
        with pytest.raises(audiolab.BackendUnavailable, match="open it by name"):
            async with audiolab.open(only):
                pass
        assert only.emit is None
    else:
        async with audiolab.open(only) as lab:
            await lab.set_volume("knob", 0.75)
        assert only.calls == [0.75]


def test_every_backend_declares_typed_capabilities():
    declared = {}
    for name in BACKEND_NAMES:
        try:
            cls = backend_class(name)
        except audiolab.BackendUnavailable:
            continue
        declared[name] = cls.capabilities
        assert all(isinstance(c, Capability) for c in cls.capabilities), name
    assert Capability.FOCUS in declared["sim"] and Capability.CLIENTS in declared["sim"]
    assert Capability("meters") is Capability.METERS and Capability.METERS == "meters"


async def test_a_replay_declares_meters_only_when_its_trace_has_them(tmp_path):
    path = tmp_path / "run.trace.jsonl"
    async with audiolab.open(clock="virtual", policy="none") as lab:
        async with anyio.create_task_group() as tg:
            tg.start_soon(lab.sleep, 1.0)
            await record(lab, path, 0.5, meter_rate=None)
    async with audiolab.open("replay", trace=path, clock="virtual") as replay:
        assert replay.backend.capabilities == frozenset()
