"""Rules of the source documents (shared/seeds, shared/reference) checked through the public API of the
simulated service: the HarmonyOS idle timer and deactivation error, Windows session identifiers and process
ids, and the controls a user needs (ducking preference, disconnect reasons, another client's changes)."""

from __future__ import annotations

import anyio
import pytest

import audiolab
from audiolab import (
    ConcurrencyMode,
    DeactivationReason,
    DisconnectReason,
    Origin,
    Role,
    SessionNotFound,
)
from audiolab.events import (
    ChannelVolumeChanged,
    GroupingParamChanged,
    IconPathChanged,
    SessionDeactivated,
    SessionDisconnected,
)
from audiolab.tones import sine
from tests.scenarios.helpers import drain

pytestmark = pytest.mark.anyio

GUID = "3b1f3c55-2c9e-4d7a-9a51-0d5a4a0f7a11"


def lab_on(policy: str = "harmonyos", **options):
    return audiolab.open("sim", clock="virtual", policy=policy, **options)


async def timeouts_until(lab, events, t: float) -> list[float]:
    await lab.sleep(t - lab.clock.now())
    return [e.timestamp for e in drain(events)
            if isinstance(e, SessionDeactivated) and e.reason is DeactivationReason.TIMEOUT]


# --- HarmonyOS ------------------------------------------------------------------------------------------


async def test_idle_timeout_counts_a_minute_from_the_reactivation_not_from_the_first_activation():
    async with lab_on() as lab, lab.events() as events:
        manager = lab.session_manager("Music")
        await manager.activate(ConcurrencyMode.DEFAULT)
        await lab.sleep(30)
        await manager.deactivate()
        await lab.sleep(10)
        await manager.activate(ConcurrencyMode.DEFAULT)  # at 40 s, no stream
        assert await timeouts_until(lab, events, 99.9) == []
        assert manager.is_activated()
        assert await timeouts_until(lab, events, 101) == [pytest.approx(100.0)]


async def test_idle_timeout_ignores_a_stream_stop_from_an_earlier_activation():
    async with lab_on() as lab, lab.events() as events:
        manager = lab.session_manager("Music")
        await manager.activate(ConcurrencyMode.DEFAULT)
        music = await lab.play(sine(440), role=Role.MUSIC, app="Music", duration=10)
        await lab.sleep(15)
        assert music.finished
        await manager.deactivate()
        await lab.sleep(5)
        await manager.activate(ConcurrencyMode.DEFAULT)  # at 20 s
        assert await timeouts_until(lab, events, 79.9) == []
        assert await timeouts_until(lab, events, 81) == [pytest.approx(80.0)]


async def test_deactivate_without_an_activated_session_fails_with_6800301_and_changes_nothing():
    async with lab_on() as lab, lab.events() as events:
        manager = lab.session_manager("Music")
        with pytest.raises(SessionNotFound, match="6800301") as raised:
            await manager.deactivate()
        assert raised.value.code == 6800301
        await manager.activate(ConcurrencyMode.DEFAULT)
        await manager.deactivate()
        with pytest.raises(SessionNotFound, match="does not exist or has been released"):
            await manager.deactivate()  # released already
        assert not manager.is_activated()
        await lab.sleep(61)
        assert not [e for e in drain(events) if isinstance(e, SessionDeactivated)]


# --- Windows sessions -----------------------------------------------------------------------------------


async def test_session_identifier_tells_applications_apart_and_is_shared_by_instances_of_one_app():
    async with lab_on("windows") as lab:
        music_1 = lab.sim.client("Music").open_stream()
        music_2 = lab.sim.client("Music").open_stream()  # a second instance (another pid)
        game = lab.sim.client("Game").open_stream()
        shared_a = lab.sim.client("A").open_stream(session_guid=GUID, cross_process=True)
        shared_b = lab.sim.client("B").open_stream(session_guid=GUID, cross_process=True)
        one, two, other = music_1.session, music_2.session, game.session
        assert one.id != two.id and one.pid != two.pid
        assert one.session_identifier == two.session_identifier
        assert other.session_identifier != one.session_identifier
        assert shared_a.session_id == shared_b.session_id
        assert shared_a.session.session_identifier != one.session_identifier


async def test_cross_process_session_reports_the_pid_of_the_process_that_created_it():
    async with lab_on("windows") as lab:
        creator, joiner = lab.sim.client("A"), lab.sim.client("B")
        first = creator.open_stream(session_guid=GUID, cross_process=True)
        joiner.open_stream(session_guid=GUID, cross_process=True)
        session = lab.session(first.session_id)
        assert session.pid == creator.pid
        assert session.key.pid is None  # the identity of a cross-process session has no pid
        assert audiolab.Session.from_dict(session.to_dict()) == session


# --- controls the public API must offer -----------------------------------------------------------------


async def test_ducking_preference_is_a_lab_call_and_an_opted_out_session_is_not_ducked():
    async with lab_on("windows") as lab:
        music = await lab.play(sine(440), role=Role.MUSIC, app="Music")
        game = await lab.play(sine(660), role=Role.GAME, app="Game")
        await lab.set_ducking_preference(music.session_id, True)
        assert lab.session(music.session_id).ducking_opt_out
        assert not lab.session(game.session_id).ducking_opt_out
        await music.pause()
        await music.resume()  # the preference applies from the stream's next start
        lab.sim.client("Phone").open_stream(role=Role.VOICE_COMMUNICATION, start=True)
        await lab.sleep(2)
        audio, now = lab.sim.engine.audio, lab.clock.now()
        assert audio.focus_gain(music.session_id, now) == 1.0
        assert audio.focus_gain(game.session_id, now) < 1.0
        before = lab.snapshot()
        with pytest.raises(TypeError, match="bool"):
            await lab.set_ducking_preference(music.session_id, "yes")
        with pytest.raises(SessionNotFound):
            await lab.set_ducking_preference("nope", True)
        assert lab.snapshot() == before


async def test_ducking_preference_on_a_backend_without_one_is_not_supported():
    from audiolab.trace import Trace

    async with audiolab.open("replay", trace=Trace("sim", [])) as replay:
        with pytest.raises(audiolab.NotSupported):
            await replay.set_ducking_preference("x", True)


async def test_device_removal_can_be_caused_from_the_public_api():
    async with lab_on("windows") as lab, lab.events() as events:
        stream = lab.sim.client("Phone").open_stream("headset", role=Role.VOICE_COMMUNICATION, start=True)
        lab.sim.remove_device("headset")
        gone = [e for e in drain(events) if isinstance(e, SessionDisconnected)]
        assert [(e.session_id, e.reason) for e in gone] == [(stream.session_id, DisconnectReason.DEVICE_REMOVAL)]
        assert "headset" not in {d.id for d in lab.sim.devices}
        with pytest.raises(ValueError, match="no device"):
            lab.sim.remove_device("headset")


@pytest.mark.parametrize("reason", [DisconnectReason.FORMAT_CHANGED, DisconnectReason.SESSION_LOGOFF,
                                    DisconnectReason.SESSION_DISCONNECTED, DisconnectReason.EXCLUSIVE_MODE_OVERRIDE])
async def test_every_other_disconnect_reason_can_be_caused_from_the_public_api(reason):
    async with lab_on("windows") as lab, lab.events() as events:
        stream = lab.sim.client("Music").open_stream(role=Role.MUSIC, start=True)
        keep = lab.sim.client("Game").open_stream(role=Role.GAME, start=True)
        lab.sim.disconnect_session(stream.session_id, reason)
        gone = [e for e in drain(events) if isinstance(e, SessionDisconnected)]
        assert [(e.session_id, e.reason) for e in gone] == [(stream.session_id, reason)]
        assert stream.session_id not in {s.id for s in lab.snapshot()}
        assert keep.session_id in {s.id for s in lab.snapshot()}


@pytest.mark.parametrize(("reason", "error", "message"), [
    (DisconnectReason.DEVICE_REMOVAL, ValueError, "remove_device"),
    (DisconnectReason.SERVER_SHUTDOWN, ValueError, "restart"),
    ("format_changed", TypeError, "DisconnectReason"),
])
async def test_a_disconnect_the_session_alone_cannot_have_is_refused_and_changes_nothing(reason, error, message):
    async with lab_on("windows") as lab:
        stream = lab.sim.client("Music").open_stream(role=Role.MUSIC, start=True)
        before = lab.snapshot()
        with pytest.raises(error, match=message):
            lab.sim.disconnect_session(stream.session_id, reason)
        assert lab.snapshot() == before


async def test_another_client_can_change_channel_volume_grouping_and_icon_and_the_origin_says_so():
    async with lab_on("windows") as lab, lab.events() as events:
        music = await lab.play(sine(440), role=Role.MUSIC, app="Music")
        other = lab.sim.client("Sndvol")
        other.set_channel_volume(music.session_id, 1, 0.25)
        other.set_grouping_param(music.session_id, GUID)
        other.set_icon_path(music.session_id, "C:/icons/music.ico")
        await anyio.lowlevel.checkpoint()
        changes = [e for e in drain(events)
                   if isinstance(e, (ChannelVolumeChanged, GroupingParamChanged, IconPathChanged))]
        assert [type(e) for e in changes] == [ChannelVolumeChanged, GroupingParamChanged, IconPathChanged]
        assert {e.origin for e in changes} == {Origin.OTHER_CLIENT}
        session = lab.session(music.session_id)
        assert (session.channel_volumes, session.grouping_param, session.icon_path) == (
            (1.0, 0.25), GUID, "C:/icons/music.ico")
