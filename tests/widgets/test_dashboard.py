"""SessionDashboard on the simulated service (virtual clock) with a comm that records every message."""

from __future__ import annotations

import logging

import pytest

import audiolab
from audiolab.model import Role
from audiolab.tones import pink_noise, sine
from audiolab.widgets import SessionDashboard

from .conftest import RecordingComm, browser_sends, from_browser

pytestmark = pytest.mark.anyio


def dashboard_comm(dash: SessionDashboard) -> RecordingComm:
    assert isinstance(dash.comm, RecordingComm)
    return dash.comm


async def settle(lab: audiolab.Lab, seconds: float = 0.0) -> None:
    await lab.sleep(seconds)
    for _ in range(5):  # let the dashboard's tasks take what is buffered
        await lab.sleep(0)


async def test_rows_appear_and_disappear_with_sessions(recording_comms):
    async with audiolab.open(clock="virtual", expire_after=5.0) as lab:
        dash = SessionDashboard(lab, linger=0)
        assert dash.order == [s.id for s in lab.snapshot()]  # the system sounds session
        app = lab.sim.client("Music Player")
        stream = app.open_stream(role=Role.MUSIC, display_name="Music Player", start=True)
        await settle(lab)
        assert stream.session_id in dash.order
        row = dash.rows[stream.session_id]
        assert (row["name"], row["app"], row["role"], row["flow"], row["device"]) == (
            "Music Player", "Music Player", "music", "render", "speakers")
        stream.release()
        await settle(lab)
        assert stream.session_id not in dash.order and stream.session_id not in dash.rows
        dash.close()


async def test_state_badges_active_inactive_expired(recording_comms):
    async with audiolab.open(clock="virtual", expire_after=5.0) as lab:
        dash = SessionDashboard(lab, linger=60)
        stream = lab.sim.client("Game").open_stream(role=Role.GAME, start=True)
        await settle(lab)
        assert dash.rows[stream.session_id]["state"] == "active"
        stream.stop()
        await settle(lab)
        assert dash.rows[stream.session_id]["state"] == "inactive"
        await settle(lab, 6.0)
        assert dash.rows[stream.session_id]["state"] == "expired"  # lingers, struck through, then goes
        assert stream.session_id not in [s.id for s in lab.snapshot()]
        dash.close()


async def test_expired_row_leaves_after_linger(recording_comms):
    async with audiolab.open(clock="virtual", expire_after=1.0) as lab:
        dash = SessionDashboard(lab, linger=0)
        stream = lab.sim.client("Game").open_stream(role=Role.GAME, start=True)
        stream.stop()
        await settle(lab, 2.0)
        import asyncio

        await asyncio.sleep(0.01)  # the linger timer runs on the kernel loop's own (real) clock
        assert stream.session_id not in dash.order
        dash.close()


async def test_focus_column_ducked_paused_and_cleared(recording_comms):
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        dash = SessionDashboard(lab)
        music = await lab.play(sine(330), role=Role.MUSIC, app="Music")
        await settle(lab, 1.0)
        assert dash.rows[music.session_id]["focus"] == ""
        await lab.play(sine(660), role=Role.NAVIGATION, app="Maps", duration=1.0)
        await settle(lab, 0.1)
        row = dash.rows[music.session_id]
        assert row["focus"] == "ducked to 20% (-14 dB) by Maps"
        assert row["focus_kind"] == "ducked" and row["gain"] == pytest.approx(0.2)
        await settle(lab, 1.5)
        assert dash.rows[music.session_id]["focus"] == ""
        call = await lab.play(sine(880), role=Role.VOICE_COMMUNICATION, app="Phone", duration=1.0)
        await settle(lab, 0.1)
        row = dash.rows[music.session_id]
        assert (row["focus"], row["focus_kind"], row["state"]) == ("paused by Phone", "paused", "inactive")
        assert dash.rows[call.session_id]["focus"] == ""
        await settle(lab, 1.5)
        assert dash.rows[music.session_id]["focus"] == ""
        assert dash.rows[music.session_id]["state"] == "active"
        dash.close()


async def test_focus_column_denied(recording_comms):
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        dash = SessionDashboard(lab)
        await lab.play(sine(440), role=Role.VOICE_COMMUNICATION, app="Phone")
        with pytest.raises(audiolab.FocusDeniedError):
            await lab.play(sine(440), role=Role.ASSISTANT, app="Assistant")
        await settle(lab)
        denied = [r for r in dash.rows.values() if r["app"] == "Assistant"]
        # the refused session ended at once; its row stays, with the state "denied" and the rule that refused it
        assert [(r["focus"], r["focus_kind"], r["state"]) for r in denied] == [
            ("focus denied by Phone", "denied", "denied")]
        assert denied[0]["why"].startswith("HarmonyOS interrupt table: ")
        assert all(s.app != "Assistant" for s in lab.snapshot())
        dash.close()


async def test_one_meter_message_per_frame_whatever_the_number_of_sessions(recording_comms):
    counts = {}
    for n in (1, 64):
        recording_comms.clear()
        async with audiolab.open(clock="virtual") as lab:
            for i in range(n):
                await lab.play(pink_noise(0.4, seed=i), role=Role.MUSIC, app=f"App {i}")
            dash = SessionDashboard(lab, fps=30)
            comm = dashboard_comm(dash)
            from_browser(dash, visible=True)
            await settle(lab, 0.05)
            comm.clear()
            await settle(lab, 2.0)
            peaks = comm.updates("peaks")
            assert all(data["state"] == {} and data["buffer_paths"] == [["peaks"]] for data in peaks)
            buffers = [b for kind, data, b in comm.messages if data.get("buffer_paths") == [["peaks"]]]
            assert all(len(b) == 1 and len(b[0]) == 4 * len(dash.order) for b in buffers)
            assert len(comm.messages) == len(peaks)  # nothing but meter frames while nothing else changes
            counts[n] = len(peaks)
            dash.close()
    assert 55 <= counts[1] <= 61  # 30 frames per second for 2 seconds
    assert counts[64] == counts[1]


async def test_no_meter_messages_while_not_visible(recording_comms):
    async with audiolab.open(clock="virtual") as lab:
        await lab.play(pink_noise(0.4, seed=1), role=Role.MUSIC, app="Noise")
        dash = SessionDashboard(lab)
        comm = dashboard_comm(dash)
        await settle(lab, 1.0)
        assert comm.updates("peaks") == [] and not dash.metering
        from_browser(dash, visible=True)
        await settle(lab, 1.0)
        assert len(comm.updates("peaks")) >= 25 and dash.metering
        from_browser(dash, visible=False)
        await settle(lab, 0.1)
        comm.clear()
        await settle(lab, 1.0)
        assert comm.updates("peaks") == [] and not dash.metering
        assert lab.statistics().meter_subscribers == ()  # the kernel stopped metering altogether
        dash.close()


async def test_slider_change_is_not_echoed_but_other_changes_are(recording_comms):
    async with audiolab.open(clock="virtual") as lab:
        music = await lab.play(sine(440), role=Role.MUSIC, app="Music")
        dash = SessionDashboard(lab)
        comm = dashboard_comm(dash)
        await settle(lab)
        comm.clear()
        for value in (0.5, 0.42, 0.3):  # a drag sends several values
            browser_sends(dash, {"kind": "volume", "id": music.session_id, "value": value})
        browser_sends(dash, {"kind": "mute", "id": music.session_id, "value": True})
        await settle(lab)
        assert lab.session(music.session_id).volume == pytest.approx(0.3)
        assert lab.session(music.session_id).muted is True
        assert comm.messages == []  # the browser already shows all of it
        assert dash.statistics().echoes_suppressed == 4
        assert dash.row(music.session_id)["volume"] == pytest.approx(0.3)

        lab.sim.client("Mixer app").set_volume(music.session_id, 0.9)  # someone else
        await settle(lab)
        assert [row["volume"] for row in comm.rows_sent(music.session_id)] == [0.9]
        comm.clear()
        await lab.set_volume(music.session_id, 0.25)  # this client, but not the dashboard: shown too
        await settle(lab)
        assert [row["volume"] for row in comm.rows_sent(music.session_id)] == [0.25]
        assert dash.rows[music.session_id]["volume"] == 0.25  # the kernel's copy of what was sent
        dash.close()


async def test_a_new_view_gets_the_truth_after_silent_changes(recording_comms):
    async with audiolab.open(clock="virtual") as lab:
        music = await lab.play(sine(440), role=Role.MUSIC, app="Music")
        dash = SessionDashboard(lab)
        comm = dashboard_comm(dash)
        browser_sends(dash, {"kind": "volume", "id": music.session_id, "value": 0.6})
        await settle(lab)
        assert dash.rows[music.session_id]["volume"] == 1.0  # not sent back to the view that made it
        comm.clear()
        browser_sends(dash, {"kind": "hello"})  # another view opens
        assert dash.rows[music.session_id]["volume"] == pytest.approx(0.6)
        assert len(comm.updates("rows")) == 1
        dash.close()


async def test_group_by_app_orders_rows_by_app(recording_comms):
    async with audiolab.open(clock="virtual") as lab:
        a1 = await lab.play(sine(440), app="Browser", role=Role.MOVIE)
        b = await lab.play(sine(440), app="Music", role=Role.MUSIC)
        a2 = await lab.play(sine(440), app="Browser", role=Role.MUSIC)
        dash = SessionDashboard(lab)
        user = [sid for sid in dash.order if sid in {a1.session_id, b.session_id, a2.session_id}]
        assert user == [a1.session_id, b.session_id, a2.session_id]
        from_browser(dash, group_by_app=True)
        await settle(lab)
        user = [sid for sid in dash.order if sid in {a1.session_id, b.session_id, a2.session_id}]
        assert user == [a1.session_id, a2.session_id, b.session_id]
        browser_sends(dash, {"kind": "group_volume", "app": "Browser", "value": 0.5})
        await settle(lab)
        assert [lab.session(s).volume for s in user] == [0.5, 0.5, 1.0]
        dash.close()


async def test_bad_browser_messages_change_nothing(recording_comms, caplog):
    async with audiolab.open(clock="virtual") as lab:
        music = await lab.play(sine(440), app="Music")
        dash = SessionDashboard(lab)
        with caplog.at_level(logging.WARNING, logger="audiolab.widgets"):
            for content in ({"kind": "volume", "id": music.session_id, "value": 1.5},
                            {"kind": "volume", "id": music.session_id, "value": "loud"},
                            {"kind": "volume", "value": 0.5},
                            {"kind": "explode"}):
                browser_sends(dash, content)
            browser_sends(dash, {"kind": "volume", "id": "no-such-session", "value": 0.5})
            await settle(lab)
        assert lab.session(music.session_id).volume == 1.0
        assert len([r for r in caplog.records if "dashboard" in r.getMessage()]) == 4
        dash.close()


async def test_dashboard_needs_a_running_loop():
    async with audiolab.open(clock="virtual") as lab:
        import threading

        errors: list[BaseException] = []

        def build() -> None:
            try:
                SessionDashboard(lab)
            except RuntimeError as exc:
                errors.append(exc)

        thread = threading.Thread(target=build)
        thread.start()
        thread.join()
        assert errors and "running asyncio loop" in str(errors[0])


async def test_close_stops_every_task(recording_comms):
    async with audiolab.open(clock="virtual") as lab:
        dash = SessionDashboard(lab)
        from_browser(dash, visible=True)
        await settle(lab, 0.2)
        assert dash._kernel.tasks
        dash.close()
        await settle(lab, 0.1)
        assert not dash._kernel.tasks
        assert lab.statistics().meter_subscribers == ()


async def test_one_session_change_sends_one_row(recording_comms):
    """A change to one session sends that row alone: what it costs does not grow with the number of rows."""
    import json

    sent = {}
    for n in (1, 64):
        recording_comms.clear()
        async with audiolab.open(clock="virtual") as lab:
            streams = [lab.sim.client(f"App {i:02d}").open_stream(role=Role.MUSIC, start=True) for i in range(n)]
            dash = SessionDashboard(lab)
            comm = dashboard_comm(dash)
            await settle(lab)
            assert len(dash.rows) == n + 1  # and the system sounds
            target = streams[n // 2].session_id
            comm.clear()
            before = dash.statistics()
            lab.sim.client("Mixer app").set_volume(target, 0.5)
            await settle(lab)
            after = dash.statistics()
            assert comm.updates("rows") == [] and comm.updates("order") == []  # no full sync
            (patch,) = comm.customs("rows_patch")
            assert list(patch["rows"]) == [target] and patch["removed"] == []
            assert patch["rows"][target]["volume"] == 0.5 and dash.rows[target]["volume"] == 0.5
            assert len(comm.messages) == 1
            assert after.rows_sent - before.rows_sent == 1 and after.patched_rows - before.patched_rows == 1
            id_chars = json.dumps(comm.messages[0][1]).count(target) * len(target)  # ids differ in length
            sent[n] = (len(json.dumps(comm.messages[0][1])) - id_chars, after.row_bytes - before.row_bytes - id_chars)
            dash.close()
    assert sent[64] == sent[1]  # same bytes with 64 rows as with 1
    assert sent[64][0] < 1000


async def test_removed_and_new_rows_are_patched_and_a_new_view_gets_them_all(recording_comms):
    async with audiolab.open(clock="virtual") as lab:
        first = lab.sim.client("First").open_stream(role=Role.MUSIC, start=True)
        dash = SessionDashboard(lab, linger=0)
        comm = dashboard_comm(dash)
        await settle(lab)
        comm.clear()
        second = lab.sim.client("Second").open_stream(role=Role.GAME, start=True)
        await settle(lab)
        (patch,) = comm.customs("rows_patch")
        assert list(patch["rows"]) == [second.session_id]
        assert [u["state"]["order"][-1] for u in comm.updates("order")] == [second.session_id]
        comm.clear()
        first.release()
        await settle(lab)
        assert [p["removed"] for p in comm.customs("rows_patch")] == [[first.session_id]]
        assert first.session_id not in dash.rows and first.session_id not in dash.order
        comm.clear()
        browser_sends(dash, {"kind": "hello"})
        (update,) = comm.updates("rows")  # a new view: every row, even though the kernel's copy did not change
        assert set(update["state"]["rows"]) == set(dash.order) == set(dash.rows)
        assert update["state"]["rows"][second.session_id]["app"] == "Second"
        dash.close()


async def test_display_name_and_icon_changes_reach_the_rows(recording_comms):
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        dash = SessionDashboard(lab)
        comm = dashboard_comm(dash)
        music = await lab.play(sine(330), role=Role.MUSIC, app="Music")
        maps = await lab.play(sine(660), role=Role.NAVIGATION, app="Maps")
        await settle(lab, 0.1)
        assert dash.rows[music.session_id]["focus"] == "ducked to 20% (-14 dB) by Maps"
        comm.clear()
        lab.sim.client("Other").set_display_name(music.session_id, "Renamed")
        await settle(lab)
        assert dash.rows[music.session_id]["name"] == "Renamed"
        assert dash.row(music.session_id)["name"] == "Renamed"
        assert [row["name"] for row in comm.rows_sent(music.session_id)] == ["Renamed"]
        await lab.set_display_name(maps.session_id, "Navigator")  # the cause of the ducking, renamed
        await settle(lab)
        assert dash.rows[maps.session_id]["name"] == "Navigator"
        assert dash.rows[music.session_id]["focus"] == "ducked to 20% (-14 dB) by Navigator"
        await lab.set_icon_path(music.session_id, "/icons/music.png")
        await settle(lab)
        assert dash._board.rows[music.session_id].session.icon_path == "/icons/music.png"
        assert dash._board.rows[music.session_id].session == lab.session(music.session_id)
        dash.close()


async def test_pending_own_changes_are_forgotten_with_their_session(recording_comms):
    async with audiolab.open(clock="virtual") as lab:
        dash = SessionDashboard(lab, linger=0)
        for i in range(20):
            stream = lab.sim.client(f"App {i}").open_stream(role=Role.MUSIC, start=True)
            await settle(lab)
            browser_sends(dash, {"kind": "volume", "id": stream.session_id, "value": 0.5})
            await settle(lab)
            assert stream.session_id not in dash._own  # its echo came back: nothing left pending
            browser_sends(dash, {"kind": "volume", "id": stream.session_id, "value": 0.25})
            assert stream.session_id in dash._own  # waiting for its echo ...
            stream.release()  # ... which never comes: the session goes first
            await settle(lab)
            assert stream.session_id not in dash._own
        assert len(dash._own) == 0
        dash.close()


async def test_a_closed_lab_leaves_the_rows_it_had(recording_comms):
    import asyncio

    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        dash = SessionDashboard(lab)
        music = await lab.play(sine(330), role=Role.MUSIC, app="Music")
        await settle(lab, 0.5)
        shown = {sid: dash.row(sid) for sid in dash.order}
        assert music.session_id in shown and dash.status == ""
    # Closing the Lab ended its sessions; the dashboard (and its picture) keeps the last state it had while open.
    for _ in range(5):
        await asyncio.sleep(0)
    assert dash.status == "The Lab is closed: the rows are as it left them."
    assert list(dash.rows) == dash.order == list(shown)
    assert {sid: dash.row(sid) for sid in dash.order} == shown
    assert dash._picture().startswith(b"\x89PNG")
    dash.close()
