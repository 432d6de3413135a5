"""FocusTimeline (recorded and live), TeachingPanel, and the widgets package surface."""

from __future__ import annotations

import subprocess
import sys

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
                except Exception:
                    break
    timeline = FocusTimeline.from_events(recorded)
    kinds = [(t.kind, t.session_id, t.cause_id.split("@")[0]) for t in timeline.transitions]
    assert kinds == [("duck", music, "Maps"), ("unduck", music, "Maps"), ("pause", music, "Phone"),
                     ("resume", music, "Phone")]
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

    assert widgets.__all__ == ("FocusTimeline", "SessionDashboard", "TeachingPanel", "start_lab", "stop_lab")
    code = ("import sys, audiolab.widgets.timeline as t; "
            "print(','.join(m for m in sys.modules if m.split('.')[0] in ('ipywidgets', 'anywidget')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_front_end_assets_ship_inside_the_package():
    from importlib import resources

    files = resources.files("audiolab.widgets")
    assert "export default" in files.joinpath("dashboard.js").read_text(encoding="utf-8")
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
