"""FocusTimeline (recorded and live), TeachingPanel, and the widgets package surface."""

from __future__ import annotations

import itertools
import subprocess
import sys

import anyio
import pytest

import audiolab
from audiolab.model import Role
from audiolab.tones import beeps, sine
from audiolab.widgets import FocusTimeline, TeachingPanel

pytestmark = pytest.mark.anyio
PNG = b"\x89PNG\r\n\x1a\n"


async def scenario(lab: audiolab.Lab) -> str:
    music = await lab.play(beeps(sine(330, 0.6), on=0.3, off=0.2), role=Role.MUSIC, app="Music")
    await lab.sleep(1.0)
    await lab.play(sine(660), role=Role.NAVIGATION, app="Maps", duration=1.0)
    await lab.sleep(2.0)
    await lab.play(sine(880), role=Role.VOICE_COMMUNICATION, app="Phone", duration=1.0)
    await lab.sleep(2.0)
    return music.session_id


async def test_from_events_marks_each_transition_with_its_cause(tmp_path):
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        async with lab.events() as events:
            music = await scenario(lab)
            recorded = []
            while True:
                try:
                    recorded.append(events.receive_nowait())
                except anyio.WouldBlock:
                    break
    timeline = FocusTimeline.from_events(recorded)
    kinds = [(t.kind, t.session_id, t.cause_id.split("@")[0]) for t in timeline.transitions]
    assert kinds == [("duck", music, "Maps"), ("unduck", music, "Maps"), ("pause", music, "Phone"),
                     ("resume", music, "Phone")]
    # each arrow is labelled with the rule that fired; an undo is the same rule and is not labelled again
    assert [t.rule for t in timeline.transitions] == [
        "NAVIGATION over MUSIC: DUCK", "", "VOICE_COMMUNICATION over MUSIC: PAUSE", ""]
    texts = [x.get_text() for ax in timeline.figure().axes for x in ax.texts]
    assert any(x.endswith("\nNAVIGATION over MUSIC: DUCK") for x in texts)
    path = tmp_path / "timeline.png"
    timeline.save_png(path)
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 20_000
    fig = timeline.figure()
    assert len(fig.axes) == 2  # gain and state lanes (no meter panel without meter frames)


async def test_live_timeline_records_events_and_meters(tmp_path):
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        timeline = FocusTimeline(lab)
        await scenario(lab)
        timeline.stop()
        assert "4 focus transitions" in repr(timeline)
        assert len(timeline.figure().axes) == 3  # with the measured peaks
        timeline.save_png(tmp_path / "live.png")
        assert (tmp_path / "live.png").read_bytes().startswith(PNG)
        bundle = timeline._repr_mimebundle_()
        assert bundle["image/png"].startswith(PNG)


async def test_teaching_panel_starts_and_stops_tones_and_switches_policy():
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        panel = TeachingPanel(lab)
        assert panel.policy.value == "harmonyos"
        panel.role.value = Role.NAVIGATION
        assert panel.app.value == "Maps"
        await panel._start()
        await lab.sleep(0.1)
        (session_id,) = panel.playing
        assert lab.session(session_id).role is Role.NAVIGATION and lab.session(session_id).app == "Maps"
        assert "playing" in panel.status.value
        panel.policy.value = "windows"
        await lab.sleep(0.1)
        assert lab.sim.policy.name == "windows" and "windows" in panel.status.value
        panel.stop_all()
        await lab.sleep(0.1)
        assert panel.playing == [] and panel.tones.children == ()


async def test_teaching_panel_shows_a_denied_start():
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        panel = TeachingPanel(lab)
        await lab.play(sine(440), role=Role.VOICE_COMMUNICATION, app="Phone")
        panel.role.value = Role.ASSISTANT
        await panel._start()
        assert "focus denied" in panel.status.value and panel.playing == []


def test_widgets_package_is_light_and_complete():
    import audiolab.widgets as widgets

    assert widgets.__all__ == ("FocusTimeline", "RoleMatrixView", "ScenarioComparison", "SessionDashboard",
                               "TeachingPanel", "start_lab", "stop_lab")
    code = ("import sys, audiolab.widgets.timeline as t, audiolab.widgets.matrix_plot as m; "
            "print(','.join(m for m in sys.modules if m.split('.')[0] in ('ipywidgets', 'anywidget')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_front_end_assets_ship_inside_the_package():
    from importlib import resources

    from audiolab.widgets.dashboard import _ESM_PARTS

    files = resources.files("audiolab.widgets")
    parts = [files.joinpath(name).read_text(encoding="utf-8") for name in _ESM_PARTS]
    # One ES module made of the parts: only the last may export (two default exports would not load).
    assert ["export default" in part for part in parts] == [False] * (len(parts) - 1) + [True]
    assert ".al-badge.al-expired" in files.joinpath("dashboard.css").read_text(encoding="utf-8")


async def test_start_lab_keeps_a_lab_open_across_tasks():
    import asyncio

    from audiolab.widgets import start_lab, stop_lab

    lab = await start_lab(clock="virtual")
    playback = await asyncio.create_task(_play(lab))  # another task, as another cell would be
    assert lab.session(playback.session_id).app == "Other cell"
    await stop_lab(lab)
    assert lab.closed
    with pytest.raises(ValueError):
        await stop_lab(lab)


async def _play(lab: audiolab.Lab):
    return await lab.play(sine(440), app="Other cell")


async def test_live_timeline_view_redraws_while_recording(recording_comms):
    import asyncio

    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        timeline = FocusTimeline(lab, refresh=0.05)
        bundle = timeline._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        first = timeline._image.value
        await scenario(lab)
        for _ in range(100):
            await asyncio.sleep(0.05)
            if bytes(timeline._image.value) != bytes(first):
                break
        assert bytes(timeline._image.value) != bytes(first) and bytes(timeline._image.value).startswith(PNG)
        timeline.stop()


async def _recorded_scenario():
    """The scenario's events and meter frames, recorded (as `audiolab demo` records them)."""
    from audiolab.scenarios.meterlog import record_meters

    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        async with lab.events() as events, record_meters(lab) as meters:
            music = await scenario(lab)
            await lab.sleep(0)
            recorded = []
            while True:
                try:
                    recorded.append(events.receive_nowait())
                except anyio.WouldBlock:
                    break
            frames = list(meters.frames)
    return music, recorded, frames


async def test_a_paused_session_is_silent_and_every_session_that_played_has_its_peaks():
    from audiolab.widgets.timeline_model import gain_at
    from audiolab.widgets.timeline_plot import FLOOR_DB

    music, recorded, frames = await _recorded_scenario()
    timeline = FocusTimeline.from_events(recorded)
    for frame in frames:  # after the events, as the demo does
        timeline.add_meter_frame(frame)
    pause, resume = [t.t for t in timeline.transitions if t.session_id == music and t.kind in ("pause", "resume")]
    track = timeline._rec.tracks[music]
    assert gain_at(track.gains, (pause + resume) / 2) == 0.0  # silent while paused by the call
    assert gain_at(track.gains, resume + 0.5) == 1.0
    played = {sid for sid, tr in timeline._rec.tracks.items() if tr.was_active}
    assert {sid.split("@")[0] for sid in played} == {"Music", "Maps", "Phone"}
    assert all(timeline._rec.tracks[sid].peaks for sid in played)  # Phone's too, though it ended before
    fig = timeline.figure()
    gain_axis, _, peak_axis = fig.axes
    assert len(peak_axis.get_lines()) == len(played)
    t0 = timeline._rec.t0
    # the drawn effective gain of the music (its dotted line, first drawn) reads silent during the call
    xs, ys = gain_axis.get_lines()[0].get_data()
    points = list(zip(xs, ys, strict=True))
    silent = (pause - t0, FLOOR_DB), (resume - t0, FLOOR_DB)  # a straight line along the floor, pause to resume
    assert any(pair == silent for pair in itertools.pairwise(points)), points


async def test_demo_timeline_png(tmp_path):
    from audiolab.demo import write_timeline

    _, recorded, frames = await _recorded_scenario()
    write_timeline(tmp_path / "demo.png", recorded, frames)
    assert (tmp_path / "demo.png").read_bytes().startswith(PNG)


async def test_a_live_timeline_keeps_a_bounded_window():
    """Ten minutes of 30 fps meter frames and a volume change per second for 20 sessions: a live timeline
    keeps its last five minutes, no more; a recorded one keeps everything."""
    from audiolab.events import VolumeChanged
    from audiolab.model import MeterFrame
    from audiolab.widgets.timeline import LIVE_WINDOW_SECONDS

    async with audiolab.open(clock="virtual") as lab:
        ids = [lab.sim.client(f"App {i}").open_stream(role=Role.MUSIC, start=True).session_id for i in range(20)]
        await lab.sleep(0)
        timeline = FocusTimeline(lab, meters=False)
        timeline.stop()  # recording by hand below
        assert timeline.window == LIVE_WINDOW_SECONDS == 300.0
        start = lab.clock.now()
        fed: list[VolumeChanged] = []
        sizes = {}
        for k in range(10 * 60 * 30):
            t = start + k / 30
            timeline.add_meter_frame(MeterFrame(t, dict.fromkeys(ids, 0.5), {}))
            if k % 30 == 0:
                for sid in ids:
                    event = VolumeChanged(timestamp=t, session_id=sid, volume=0.5 + 0.01 * (k // 30 % 10), muted=False)
                    timeline.add(event)
                    fed.append(event)
            if k in (5 * 60 * 30, 10 * 60 * 30 - 1):
                sizes[k] = timeline._rec.size()
        rec = timeline._rec
        peaks = max(len(tr.peaks) for tr in rec.tracks.values())
        assert peaks <= (LIVE_WINDOW_SECONDS + 1.0) * 30 + 1  # the window, and at most a second more
        assert len(rec.events) <= (LIVE_WINDOW_SECONDS + 1.0) * 20 + 20
        assert max(len(tr.gains) for tr in rec.tracks.values()) <= 2 * (LIVE_WINDOW_SECONDS + 2.0)
        early, late = sizes.values()
        assert late <= early * 1.01  # five more minutes cost nothing
        assert timeline.events[0].timestamp >= start + 10 * 60 - LIVE_WINDOW_SECONDS - 2
        assert timeline.png().startswith(PNG)  # draws the window

    recorded = FocusTimeline.from_events(fed)
    assert recorded.window is None and len(recorded.events) == len(fed)  # recorded: all of it


async def test_deactivation_marks_every_session_of_the_app():
    from dataclasses import replace

    from audiolab.events import SessionCreated, SessionDeactivated
    from audiolab.model import DeactivationReason

    async with audiolab.open(clock="virtual") as lab:
        stream = lab.sim.client("Game").open_stream(role=Role.GAME, start=True)
        await lab.sleep(0)
        session = lab.session(stream.session_id)
    made = [replace(session, id=f"Game@speakers#{i}", app="Game") for i in (7, 8)]
    events = [SessionCreated(timestamp=0.0, session_id=s.id, session=s) for s in made]
    events.append(SessionDeactivated(timestamp=1.0, session_id="Game", reason=DeactivationReason.LOWER_PRIORITY))
    timeline = FocusTimeline.from_events(events)
    assert [(t.session_id, t.kind) for t in timeline.transitions] == [(s.id, "deactivated") for s in made]
