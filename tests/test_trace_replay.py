"""Recording a trace and replaying it as if it were live."""

from __future__ import annotations

import json

import anyio
import pytest

import audiolab
from audiolab import NotSupported, Role, ScenarioError, SessionNotFound
from audiolab.tones import sine
from audiolab.trace import read_trace, record
from tests.scenarios.helpers import drain

pytestmark = pytest.mark.anyio


async def record_story(path):
    async with audiolab.open(clock="virtual", policy="harmonyos", expire_after=2) as lab:

        async def story() -> None:
            music = await lab.play(sine(440, 0.5), role=Role.MUSIC, app="Music")
            await lab.sleep(0.5)
            await lab.play(sine(880, 0.5), role=Role.NAVIGATION, app="Maps", duration=1.0)
            await lab.sleep(1.5)
            await lab.set_volume(music.session_id, 0.4)
            await music.stop()
            await lab.sleep(3.5)  # the recording lasts 5 s of virtual time

        async with anyio.create_task_group() as tg:
            tg.start_soon(record, lab, path, 5.0)
            await anyio.wait_all_tasks_blocked()
            await story()
        return lab


async def test_a_recorded_trace_replays_the_same_events_and_snapshots(tmp_path):
    path = tmp_path / "story.trace.jsonl"
    await record_story(path)
    trace = read_trace(path)
    kinds = [e.kind for e in trace.events]
    assert {"SessionCreated", "Ducked", "Unducked", "VolumeChanged", "SessionRemoved"} <= set(kinds)
    assert trace.has_meters and trace.duration <= 5.0

    async with audiolab.open("replay", trace=path, clock="virtual") as lab, lab.events() as events:
        assert [s.id for s in lab.snapshot()] == [s.id for s in trace.snapshot]
        await lab.sleep(1.0)
        mid = {s.app for s in lab.snapshot()}
        assert {"Music", "Maps"} <= mid
        await lab.sleep(5.0)
        replayed = drain(events)
    assert [(e.kind, e.session_id) for e in replayed] == [(e.kind, e.session_id) for e in trace.events]
    assert [round(e.timestamp, 6) for e in replayed] == [round(e.timestamp, 6) for e in trace.events]
    assert "Music" not in {s.app for s in lab.backend.snapshot()}


async def test_replayed_meters_and_speed(tmp_path):
    path = tmp_path / "story.trace.jsonl"
    await record_story(path)
    async with audiolab.open("replay", trace=path, clock="virtual", speed=2.0) as lab:
        async with lab.meters(rate=10) as frames:
            await lab.sleep(0.6)  # 1.2 s of the recording at double speed
            frame = await frames.receive()
        music = next(s for s in lab.snapshot() if s.app == "Music")
        assert frame.peaks[music.id] == pytest.approx(0.5, abs=0.01)


async def test_a_replay_cannot_be_changed(tmp_path):
    path = tmp_path / "story.trace.jsonl"
    await record_story(path)
    async with audiolab.open("replay", trace=path, clock="virtual") as lab:
        sid = lab.snapshot()[0].id
        with pytest.raises(NotSupported):
            await lab.set_volume(sid, 0.5)
        with pytest.raises(SessionNotFound):
            lab.session("nope")


def test_an_interrupted_recording_leaves_no_file_under_the_final_name(tmp_path):
    from audiolab.trace import TraceWriter

    writer = TraceWriter(tmp_path / "t.jsonl", "sim", [], 0.0)
    assert not (tmp_path / "t.jsonl").exists()
    writer.abort()
    assert list(tmp_path.iterdir()) == []


async def test_an_event_that_arrives_after_a_later_frame_keeps_its_time_and_the_order(tmp_path):
    """Events and meter frames reach the recorder by two paths: a frame read at 1.2 s may be written before an
    event that happened at 1.1 s. The lines stay in time order; the event keeps its own time, also replayed."""
    from audiolab.events import VolumeChanged
    from audiolab.model import MeterFrame
    from audiolab.trace import TraceWriter

    path = tmp_path / "late.jsonl"
    writer = TraceWriter(path, "sim", [], 100.0)
    writer.meters(MeterFrame(101.2, {}, {}, {}))
    writer.event(VolumeChanged(timestamp=101.1, session_id="a", volume=0.5, muted=False))
    writer.close()
    trace = read_trace(path)
    assert [entry.t for entry in trace.entries] == [pytest.approx(1.2), pytest.approx(1.2)]
    assert trace.events[0].timestamp == pytest.approx(1.1)
    async with audiolab.open("replay", trace=trace, clock="virtual") as lab, lab.events() as events:
        await lab.sleep(2.0)
        (replayed,) = [events.receive_nowait()]
    assert replayed.timestamp == pytest.approx(1.1)


HEADER = '{"format": "audiolab-trace", "version": 1, "backend": "sim"}'
SNAPSHOT = '{"t": 0, "snapshot": []}'


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (["{not json"], 1, "malformed"),
        (['{"format": "other", "version": 1}'], 1, "header"),
        ([HEADER, '{"t": -1, "snapshot": []}'], 2, "bad time"),
        ([HEADER, SNAPSHOT, '{"t": 1, "event": {"kind": "Nope"}}'], 3, "unknown event kind"),
        ([HEADER, SNAPSHOT, '{"t": 1, "event": {"kind": "VolumeChanged", "timestamp": 1, "session_id": "a"}}'], 3,
         "needs 'volume'"),
        ([HEADER, SNAPSHOT, '{"t": 2, "meters": {"peaks": {}, "channel_peaks": {}}}',
          '{"t": 1, "meters": {"peaks": {}, "channel_peaks": {}}}'], 4, "backwards"),
        ([HEADER, '{"t": 0, "snapshot": [{"id": "x"}]}'], 2, "malformed"),
        ([HEADER, SNAPSHOT, '{"t": 1}'], 3, "needs 'snapshot'"),
        ([HEADER], None, "no snapshot"),
    ],
)
def test_malformed_traces_name_the_line_at_fault(tmp_path, lines, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ScenarioError, match=message) as info:
        read_trace(path)
    assert info.value.line == line


def test_record_and_replay_from_the_command_line(tmp_path, capsys):
    from audiolab.cli import main

    path = tmp_path / "cli.trace.jsonl"
    assert main(["record", str(path), "--backend", "sim", "--duration", "0.3"]) == 0
    assert "wrote" in capsys.readouterr().out
    header = json.loads(path.read_text().splitlines()[0])
    assert header["backend"] == "sim"
    assert main(["replay", str(path), "--speed", "10"]) == 0
    assert "System Sounds" in capsys.readouterr().out


async def test_a_trace_keeps_the_reasons_of_focus_events(tmp_path):
    path = tmp_path / "why.jsonl"
    await record_story(path)
    header = json.loads(path.read_text().splitlines()[0])
    assert header["version"] == 2
    ducks = [e for e in read_trace(path).events if e.kind == "Ducked"]
    assert ducks and ducks[0].why is not None
    assert ducks[0].why.rule["incoming"] == "STREAM_NAVIGATION" and ducks[0].why.predicted_gain == pytest.approx(0.2)


async def test_a_version_1_trace_without_reasons_still_replays(tmp_path):
    recorded = tmp_path / "v2.jsonl"
    await record_story(recorded)
    old = tmp_path / "v1.jsonl"  # the same trace as version 1 wrote it: no "why" anywhere
    lines = [json.loads(line) for line in recorded.read_text().splitlines()]
    lines[0]["version"] = 1
    for line in lines:
        if "event" in line:
            line["event"].pop("why", None)
    old.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    trace = read_trace(old)
    async with audiolab.open("replay", trace=trace, clock="virtual") as lab, lab.events() as events:
        await lab.sleep(6.0)
        replayed = drain(events)
    ducks = [e for e in replayed if e.kind == "Ducked"]
    assert ducks and ducks[0].gain == pytest.approx(0.2) and ducks[0].why is None
    assert [e.kind for e in replayed] == [e.kind for e in read_trace(recorded).events]
