"""The dashboard for a classroom, kernel side: pinning, the teaching controls (start, stop, the policy and the
Windows ducking setting, reset), denied rows that leave after their linger, and the policy switch marked in the
timeline and the event log."""

from __future__ import annotations

import asyncio
import logging

import pytest

import audiolab
from audiolab._format import describe_event
from audiolab.events import PolicyChanged
from audiolab.model import Role
from audiolab.tones import sine
from audiolab.widgets import FocusTimeline, SessionDashboard

from .conftest import browser_sends
from .test_dashboard import settle

pytestmark = pytest.mark.anyio


async def test_pin_and_unpin_set_the_trait_and_return_the_dashboard(recording_comms):
    async with audiolab.open(clock="virtual") as lab:
        dash = SessionDashboard(lab, projector=True)
        assert dash.pin() is dash and dash.pinned and dash.projector
        assert dash.unpin() is dash and not dash.pinned
        dash.close()


async def test_teaching_controls_start_switch_and_stop(recording_comms):
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        dash = SessionDashboard(lab, controls=True)
        assert (dash.policy, dash.ducking) == ("harmonyos", "")
        assert "windows" in dash.choices["policies"] and dash.choices["ducking"][0] == "mute"
        browser_sends(dash, {"kind": "teach", "do": "start", "role": "music", "app": "", "hz": 440})
        await settle(lab, 0.2)
        browser_sends(dash, {"kind": "teach", "do": "start", "role": "voice_communication", "hz": 350,
                             "beeps": False})
        await settle(lab, 0.2)
        by_app = {row["app"]: row for row in dash.rows.values()}
        assert by_app["Music"]["stoppable"] and by_app["Phone"]["stoppable"]
        assert by_app["Music"]["focus"] == "paused by Phone"
        assert "Phone plays 350 Hz as voice communication" in dash.status

        # Windows, "Mute all other sounds": the call (on the communications device) mutes the music, which plays.
        browser_sends(dash, {"kind": "teach", "do": "policy", "policy": "windows", "ducking": "mute"})
        await settle(lab, 0.2)
        assert (dash.policy, dash.ducking) == ("windows", "mute")
        assert lab.sim.policy.settings["ducking"] == "mute"
        assert dash.rows[by_app["Music"]["id"]]["focus"] == "ducked to 0% (-inf dB) by Phone"
        assert dash.rows[by_app["Music"]["id"]]["why"].startswith("Windows ducks other sounds")
        assert dash.rows[by_app["Music"]["id"]]["state"] == "active"
        assert "re-evaluated" in dash.status

        browser_sends(dash, {"kind": "teach", "do": "stop", "id": by_app["Phone"]["id"]})
        await settle(lab, 0.2)
        assert all(s.id != by_app["Phone"]["id"] for s in lab.snapshot())  # stopped: the session ended
        browser_sends(dash, {"kind": "teach", "do": "reset"})
        await settle(lab, 0.2)
        assert lab.sim.policy.name == "harmonyos" and dash.policy == "harmonyos"
        assert not any(s.state is audiolab.SessionState.ACTIVE and s.app == "Music" for s in lab.snapshot())
        assert not any(row.get("stoppable") for row in dash.rows.values())
        dash.close()


async def test_a_policy_switched_from_code_shows_in_the_controls(recording_comms):
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        dash = SessionDashboard(lab, controls=True)
        await lab.set_policy("windows", ducking="reduce_50")
        await settle(lab)
        assert (dash.policy, dash.ducking) == ("windows", "reduce_50")
        dash.close()


async def test_bad_teaching_messages_change_nothing(recording_comms, caplog):
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        dash = SessionDashboard(lab, controls=True)
        with caplog.at_level(logging.WARNING, logger="audiolab.widgets"):
            for content in ({"kind": "teach", "do": "start", "role": "kazoo"},
                            {"kind": "teach", "do": "start", "role": "music", "hz": 5},
                            {"kind": "teach", "do": "policy", "policy": "symbian"},
                            {"kind": "teach", "do": "policy", "policy": "windows", "ducking": "louder"},
                            {"kind": "teach", "do": "dance"}):
                browser_sends(dash, content)
            await settle(lab, 0.2)
        assert lab.sim.policy.name == "harmonyos"
        assert [s for s in lab.snapshot() if not s.is_system_sounds] == []
        assert len([r for r in caplog.records if "bad message" in r.getMessage()]) == 5
        dash.close()


async def test_a_denied_row_leaves_after_its_linger(recording_comms):
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        dash = SessionDashboard(lab, denied_linger=0)
        await lab.play(sine(440), role=Role.VOICE_COMMUNICATION, app="Phone")
        with pytest.raises(audiolab.FocusDeniedError):
            await lab.play(sine(440), role=Role.ASSISTANT, app="Assistant")
        await settle(lab)
        await asyncio.sleep(0.01)  # the linger timer runs on the kernel loop's own (real) clock
        await settle(lab)
        assert [r["app"] for r in dash.rows.values() if r["state"] == "denied"] == []
        dash.close()
    with pytest.raises(ValueError, match="denied_linger"):
        SessionDashboard(lab, denied_linger=float("nan"))


async def test_the_switch_is_marked_in_the_timeline_and_the_event_log(recording_comms):
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        async with lab.events() as events:
            music = await lab.play(sine(440), role=Role.MUSIC, app="Music")
            await lab.play(sine(350), role=Role.VOICE_COMMUNICATION, app="Phone")
            await lab.sleep(1.0)
            await lab.set_policy("none")
            await lab.sleep(1.0)
            seen = []
            while True:
                try:
                    seen.append(events.receive_nowait())
                except Exception:  # noqa: BLE001 - WouldBlock: everything so far is taken
                    break
    switch = next(i for i, e in enumerate(seen) if isinstance(e, PolicyChanged))
    resumed = [e for e in seen[switch:] if getattr(e, "hint", None) is audiolab.InterruptHint.RESUME]
    assert [e.session_id for e in resumed] == [music.session_id]  # after the switch, in the log's order
    assert describe_event(seen[switch]).endswith("policy switched to none: what plays is re-evaluated under it")
    timeline = FocusTimeline.from_events(seen)
    recording = timeline._rec
    assert [name for _, name in recording.policies] == ["none"]
    assert timeline.png()[:4] == b"\x89PNG"
