"""audiolab.testing's scripted app of the simulated service and its trace builder."""

from __future__ import annotations

import pytest

import audiolab
from audiolab import Role
from audiolab.events import SessionCreated, SessionRemoved, StateChanged, VolumeChanged
from audiolab.model import NULL_GUID, Flow, Session, SessionKey, SessionState
from audiolab.testing import ScriptedApp, TraceBuilder, run_scripts
from audiolab.trace import read_trace
from tests.scenarios.helpers import drain

pytestmark = pytest.mark.anyio


async def test_a_scripted_app_plays_its_streams_at_their_times():
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab, lab.events() as events:
        music = ScriptedApp(lab, "Music").open("song", role=Role.MUSIC).start("song", at=0.5)
        music.pause("song", at=2.0).start("song", at=2.5).release("song", at=3.0)
        maps = ScriptedApp(lab, "Maps").open("prompt", at=1.0, role=Role.NAVIGATION)
        maps.start("prompt", at=1.0).release("prompt", at=1.5)
        t0 = lab.clock.now()
        await run_scripts(music, maps)
        seen = drain(events)
    song = music.streams["song"].session_id
    states = [(round(e.timestamp - t0, 6), e.new) for e in seen if isinstance(e, StateChanged) and e.session_id == song]
    assert states == [(0.5, SessionState.ACTIVE), (2.0, SessionState.INACTIVE), (2.5, SessionState.ACTIVE),
                      (3.0, SessionState.INACTIVE), (3.0, SessionState.EXPIRED)]
    ducked = [e for e in seen if e.kind == "Ducked" and e.session_id == song]
    assert [round(e.timestamp - t0, 6) for e in ducked] == [1.0]
    assert any(isinstance(e, SessionRemoved) and e.session_id == song for e in seen)
    assert music.client.app == "Music" and lab.clock.now() - t0 == pytest.approx(3.0)


async def test_a_scripted_app_refuses_bad_steps_and_keeps_its_script():
    async with audiolab.open(clock="virtual") as lab:
        app = ScriptedApp(lab, "App").open("s")
        with pytest.raises(ValueError, match="not opened"):
            app.start("other", at=1.0)
        with pytest.raises(ValueError, match="finite number"):
            app.start("s", at=-1)
        with pytest.raises(ValueError, match="opened twice"):
            app.open("s")
        with pytest.raises(ValueError, match="role"):
            app.open("t", role="music")  # type: ignore[arg-type]
        assert [(s.at, s.action) for s in app.steps] == [(0.0, "open")]
        with pytest.raises(ValueError, match="at least one"):
            await run_scripts()


def session(sid: str) -> Session:
    return Session(sid, SessionKey(NULL_GUID, False, 42, "speakers"), Flow.RENDER, SessionState.INACTIVE, app="Music", pid=42)


async def test_a_built_trace_is_what_read_trace_loads_and_replays(tmp_path):
    built = (TraceBuilder("sim", [session("s1")])
             .event(StateChanged(timestamp=0.5, session_id="s1", old=SessionState.INACTIVE, new=SessionState.ACTIVE))
             .meters(0.6, {"s1": 0.5}, {"s1": [0.5, 0.25]}, {"speakers": 0.5})
             .event(VolumeChanged(timestamp=1.0, session_id="s1", volume=0.25, muted=False, origin=audiolab.Origin.OTHER_CLIENT))
             .event(SessionCreated(timestamp=1.5, session_id="s2", session=session("s2"))))
    path = built.write(tmp_path / "built.trace.jsonl")
    trace, loaded = built.build(), read_trace(path)
    assert loaded.events == trace.events and [e.t for e in loaded.entries] == [0.5, 0.6, 1.0, 1.5]
    assert loaded.snapshot == trace.snapshot and loaded.backend == "sim" and trace.has_meters
    async with audiolab.open("replay", trace=path, clock="virtual") as lab, lab.events() as events:
        await lab.sleep(2.0)
        replayed = drain(events)
        assert lab.session("s1").volume == 0.25 and lab.session("s2").app == "Music"
    assert [(e.kind, e.timestamp) for e in replayed] == [(e.kind, e.timestamp) for e in trace.events]


def test_a_trace_builder_refuses_what_no_recording_holds():
    builder = TraceBuilder().event(SessionRemoved(timestamp=2.0, session_id="s1"))
    with pytest.raises(ValueError, match="backwards"):
        builder.event(SessionRemoved(timestamp=1.0, session_id="s2"))
    with pytest.raises(ValueError, match="finite level"):
        builder.meters(3.0, {"s1": -1.0})
    with pytest.raises(ValueError, match="volume"):
        builder.event(VolumeChanged(timestamp=3.0, session_id="s1", volume=2.0, muted=False, origin=audiolab.Origin.UNKNOWN))
    with pytest.raises(ValueError, match="backend"):
        TraceBuilder("")
    orphan = Session("s3", SessionKey(NULL_GUID, False, 42, "speakers"), Flow.RENDER, SessionState.ACTIVE)
    with pytest.raises(ValueError, match="would not load back"):
        TraceBuilder("sim", [orphan])
    assert [e.t for e in builder.build().entries] == [2.0]
