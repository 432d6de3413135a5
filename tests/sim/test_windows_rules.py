"""Every rule of the Windows session model, one named test each, on the simulated service's engine."""

from __future__ import annotations

import uuid

import pytest

from audiolab import Device, DeviceRole, DisconnectReason, Flow, Role, SessionState, StreamNotFound
from audiolab.backends.sim.client import SimClient
from audiolab.backends.sim.persistence import VolumeStore
from audiolab.events import (
    SessionCreated,
    SessionDisconnected,
    SessionExpired,
    SessionRemoved,
    StateChanged,
    VolumeChanged,
)
from audiolab.grouping import volume_controls
from audiolab.model import NULL_GUID, Origin

from .helpers import advance, make_engine

GUID = str(uuid.UUID(int=0x1234))


def app(engine, name="App", pid=None):
    return SimClient(engine, name, pid)


def user_sessions(engine):
    return [s for s in engine.snapshot() if not s.is_system_sounds]


# --- devices ---------------------------------------------------------------------------------------------


def test_default_devices_are_speakers_headset_for_communications_and_microphone():
    engine, _, _ = make_engine()
    by_id = {d.id: d for d in engine.devices}
    assert set(by_id) == {"speakers", "headset", "microphone"}
    assert engine.default_device(Flow.RENDER).id == "speakers"
    assert engine.default_device(Flow.RENDER, DeviceRole.COMMUNICATIONS).id == "headset"
    assert engine.default_device(Flow.CAPTURE).id == "microphone"
    assert by_id["headset"].is_communications


def test_devices_are_configurable():
    devices = (
        Device("hdmi", "HDMI", Flow.RENDER, 6, frozenset({DeviceRole.CONSOLE})),
        Device("mic", "Mic", Flow.CAPTURE, 1, frozenset({DeviceRole.CONSOLE})),
    )
    engine, _, _ = make_engine(devices=devices)
    stream = app(engine).open_stream()
    assert stream.session.device_id == "hdmi"
    assert len(stream.session.channel_volumes) == 6


def test_communications_role_opens_on_the_communications_device_by_default():
    engine, _, _ = make_engine()
    call = app(engine, "Phone").open_stream(role=Role.VOICE_COMMUNICATION)
    assert call.session.device_id == "headset"


# --- streams belong to one session for life --------------------------------------------------------------


def test_stream_is_assigned_to_its_session_at_open_time():
    engine, _rec, _ = make_engine()
    client = app(engine)
    a = client.open_stream(session_guid=GUID)
    b = client.open_stream(session_guid=GUID)
    c = client.open_stream()  # GUID_NULL: the process's default session
    assert a.session_id == b.session_id != c.session_id
    assert {s.id for s in a.session.streams} == {a.id, b.id}
    assert c.session.key.guid == NULL_GUID


def test_stream_never_moves_to_another_session():
    engine, _, _ = make_engine()
    client = app(engine)
    stream = client.open_stream(session_guid=GUID)
    first = stream.session_id
    client.open_stream(session_guid=str(uuid.uuid4())).start()
    stream.start()
    stream.stop()
    assert engine.stream_session_id(stream.id) == first
    assert not hasattr(stream, "move_to")


def test_session_ends_when_its_last_stream_is_released():
    engine, rec, _ = make_engine()
    client = app(engine)
    a = client.open_stream(session_guid=GUID)
    b = client.open_stream(session_guid=GUID)
    sid = a.session_id
    a.release()
    assert sid in {s.id for s in engine.snapshot()}
    b.release()
    assert sid not in {s.id for s in engine.all_sessions()}
    assert rec.kinds(sid)[-2:] == ["StateChanged", "SessionRemoved"]
    assert rec.of(StateChanged, sid)[-1].new is SessionState.EXPIRED


def test_released_stream_cannot_be_used():
    engine, _, _ = make_engine()
    stream = app(engine).open_stream()
    stream.release()
    with pytest.raises(StreamNotFound):
        stream.start()


def test_render_and_capture_streams_never_share_a_session():
    engine, _, _ = make_engine()
    client = app(engine)
    render = client.open_stream("speakers", session_guid=GUID)
    capture = client.open_stream("microphone", flow=Flow.CAPTURE, session_guid=GUID)
    loopback = client.open_stream("speakers", session_guid=GUID, loopback=True)
    sessions = {render.session_id, capture.session_id, loopback.session_id}
    assert len(sessions) == 3
    assert loopback.session.flow is Flow.CAPTURE
    with pytest.raises(ValueError, match="cannot open"):
        client.open_stream("microphone", flow=Flow.RENDER)


# --- identity ----------------------------------------------------------------------------------------------


def test_two_processes_with_the_same_guid_get_two_process_specific_sessions():
    engine, _, _ = make_engine()
    a = app(engine, "Player", pid=100).open_stream(session_guid=GUID)
    b = app(engine, "Player", pid=200).open_stream(session_guid=GUID)
    assert a.session_id != b.session_id
    assert (a.session.key.pid, b.session.key.pid) == (100, 200)


def test_default_sessions_of_two_processes_are_distinct():
    engine, _, _ = make_engine()
    a = app(engine, "A", pid=100).open_stream()
    b = app(engine, "B", pid=200).open_stream()
    assert a.session_id != b.session_id


def test_cross_process_session_is_distinct_from_process_specific_sessions_with_the_same_guid():
    engine, _, _ = make_engine()
    specific = app(engine, "A", pid=100).open_stream(session_guid=GUID)
    shared_a = app(engine, "A", pid=100).open_stream(session_guid=GUID, cross_process=True)
    shared_b = app(engine, "B", pid=200).open_stream(session_guid=GUID, cross_process=True)
    assert shared_a.session_id == shared_b.session_id != specific.session_id
    assert shared_a.session.key.cross_process and shared_a.session.key.pid is None
    null_shared = app(engine, "C", pid=300).open_stream(cross_process=True)
    null_default = app(engine, "C", pid=300).open_stream()
    assert null_shared.session_id != null_default.session_id


def test_same_guid_and_pid_on_two_devices_are_two_sessions():
    engine, _, _ = make_engine()
    client = app(engine, pid=100)
    a = client.open_stream("speakers", session_guid=GUID)
    b = client.open_stream("headset", session_guid=GUID)
    assert a.session_id != b.session_id
    assert a.session.key.guid == b.session.key.guid and a.session.key.pid == b.session.key.pid


# --- states -------------------------------------------------------------------------------------------------


def test_session_starts_inactive_and_becomes_active_when_its_first_stream_starts():
    engine, rec, _ = make_engine()
    client = app(engine)
    a = client.open_stream(session_guid=GUID)
    assert a.session.state is SessionState.INACTIVE
    a.start()
    assert a.session.state is SessionState.ACTIVE
    assert [(e.old, e.new) for e in rec.of(StateChanged, a.session_id)] == [
        (SessionState.INACTIVE, SessionState.ACTIVE)
    ]


def test_session_becomes_inactive_when_its_last_active_stream_stops():
    engine, _, _ = make_engine()
    client = app(engine)
    a = client.open_stream(session_guid=GUID, start=True)
    b = client.open_stream(session_guid=GUID, start=True)
    a.stop()
    assert a.session.state is SessionState.ACTIVE
    b.stop()
    assert a.session.state is SessionState.INACTIVE


def test_inactive_session_expires_after_the_configured_time_and_leaves_the_enumeration():
    engine, rec, time = make_engine(expire_after=5.0)
    stream = app(engine).open_stream(start=True)
    sid = stream.session_id
    stream.stop()
    advance(engine, time, 4.9)
    assert sid in {s.id for s in engine.snapshot()}
    advance(engine, time, 0.2)
    assert sid not in {s.id for s in engine.snapshot()}
    expired = rec.of(SessionExpired, sid)
    assert len(expired) == 1 and expired[0].timestamp == pytest.approx(5.0)


def test_activity_resets_the_expiry_timer():
    engine, _, time = make_engine(expire_after=5.0)
    stream = app(engine).open_stream(start=True)
    stream.stop()
    advance(engine, time, 4.0)
    stream.start()
    advance(engine, time, 2.0)
    stream.stop()
    advance(engine, time, 4.0)
    assert stream.session.state is SessionState.INACTIVE


def test_expired_session_comes_back_when_a_stream_runs_again():
    engine, rec, time = make_engine(expire_after=1.0)
    stream = app(engine).open_stream(start=True)
    stream.stop()
    advance(engine, time, 2.0)
    assert stream.session_id not in {s.id for s in engine.snapshot()}
    stream.start()
    assert stream.session.state is SessionState.ACTIVE
    assert rec.of(StateChanged, stream.session_id)[-1].old is SessionState.EXPIRED


def test_ended_session_is_reported_and_leaves_the_enumeration():
    engine, rec, _ = make_engine()
    stream = app(engine).open_stream(start=True)
    sid = stream.session_id
    stream.release()
    assert rec.of(SessionRemoved, sid)
    assert sid not in {s.id for s in engine.all_sessions()}


def test_client_exit_releases_its_streams():
    engine, rec, _ = make_engine()
    client = app(engine)
    sid = client.open_stream(start=True).session_id
    client.close()
    assert rec.of(SessionRemoved, sid)


# --- volume and mute with origin ----------------------------------------------------------------------------


def test_volume_and_mute_changes_report_their_origin():
    engine, rec, _ = make_engine()
    sid = app(engine).open_stream().session_id
    engine.set_volume(sid, 0.25, Origin.THIS_CLIENT)
    app(engine, "Mixer").set_mute(sid, True)
    engine.set_volume(sid, 0.5, Origin.UNKNOWN)
    changes = rec.of(VolumeChanged, sid)
    assert [(c.volume, c.muted, c.origin) for c in changes] == [
        (0.25, False, Origin.THIS_CLIENT),
        (0.25, True, Origin.OTHER_CLIENT),
        (0.5, True, Origin.UNKNOWN),
    ]


def test_channel_volumes_are_per_channel_and_independent_of_the_master_volume():
    engine, rec, _ = make_engine()
    sid = app(engine).open_stream().session_id
    engine.set_channel_volume(sid, 1, 0.3, Origin.THIS_CLIENT)
    session = engine.session(sid)
    assert session.channel_volumes == (1.0, 0.3) and session.volume == 1.0
    assert rec.events[-1].channel == 1


# --- persistence -----------------------------------------------------------------------------------------------


def test_render_session_volume_and_mute_persist_across_a_service_restart(tmp_path):
    engine, rec, _ = make_engine(store=VolumeStore(tmp_path / "v.json"))
    client = app(engine, "Player")
    sid = client.open_stream(session_guid=GUID).session_id
    engine.set_volume(sid, 0.3, Origin.THIS_CLIENT)
    engine.set_mute(sid, True, Origin.THIS_CLIENT)
    engine.restart()
    assert rec.of(SessionDisconnected, sid)[0].reason is DisconnectReason.SERVER_SHUTDOWN
    again = app(engine, "Player").open_stream(session_guid=GUID)
    assert (again.session.volume, again.session.muted) == (0.3, True)


def test_persisted_settings_survive_a_new_service_reading_the_same_file(tmp_path):
    path = tmp_path / "v.json"
    engine, _, _ = make_engine(store=VolumeStore(path))
    stream = app(engine, "Player").open_stream()
    engine.set_volume(stream.session_id, 0.7, Origin.THIS_CLIENT)
    stream.release()
    fresh, _, _ = make_engine(store=VolumeStore(path))
    assert app(fresh, "Player").open_stream().session.volume == 0.7


def test_capture_and_loopback_sessions_are_not_persisted(tmp_path):
    engine, _, _ = make_engine(store=VolumeStore(tmp_path / "v.json"))
    client = app(engine, "Recorder")
    mic = client.open_stream("microphone", flow=Flow.CAPTURE)
    loop = client.open_stream("speakers", loopback=True)
    engine.set_volume(mic.session_id, 0.2, Origin.THIS_CLIENT)
    engine.set_volume(loop.session_id, 0.2, Origin.THIS_CLIENT)
    mic.release()
    loop.release()
    again = app(engine, "Recorder")
    assert again.open_stream("microphone", flow=Flow.CAPTURE).session.volume == 1.0
    assert again.open_stream("speakers", loopback=True).session.volume == 1.0
    assert engine.store.keys() == []


def test_last_instance_to_end_wins(tmp_path):
    engine, _, _ = make_engine(store=VolumeStore(tmp_path / "v.json"))
    first = app(engine, "Player", pid=100).open_stream(session_guid=GUID)
    second = app(engine, "Player", pid=200).open_stream(session_guid=GUID)
    engine.set_volume(first.session_id, 0.2, Origin.THIS_CLIENT)
    engine.set_volume(second.session_id, 0.9, Origin.THIS_CLIENT)
    second.release()
    first.release()  # ends last: its 0.2 is what is kept
    assert app(engine, "Player", pid=300).open_stream(session_guid=GUID).session.volume == 0.2


def test_new_session_with_the_same_identity_inherits_persisted_settings(tmp_path):
    engine, _, _ = make_engine(store=VolumeStore(tmp_path / "v.json"))
    stream = app(engine, "Player", pid=100).open_stream(session_guid=GUID)
    engine.set_volume(stream.session_id, 0.45, Origin.THIS_CLIENT)
    stream.release()
    inherited = app(engine, "Player", pid=555).open_stream(session_guid=GUID)
    other_guid = app(engine, "Player", pid=556).open_stream(session_guid=str(uuid.uuid4()))
    other_device = app(engine, "Player", pid=557).open_stream("headset", session_guid=GUID)
    assert inherited.session.volume == 0.45
    assert other_guid.session.volume == 1.0 and other_device.session.volume == 1.0


def test_display_name_and_icon_are_never_persisted(tmp_path):
    engine, _, _ = make_engine(store=VolumeStore(tmp_path / "v.json"))
    stream = app(engine, "Player").open_stream(display_name="Tunes", icon_path="player.ico")
    engine.set_volume(stream.session_id, 0.5, Origin.THIS_CLIENT)
    stream.release()
    again = app(engine, "Player").open_stream()
    assert again.session.volume == 0.5
    assert (again.session.display_name, again.session.icon_path) == ("", "")
    assert "Tunes" not in (tmp_path / "v.json").read_text()


# --- system sounds and grouping ----------------------------------------------------------------------------------


def test_system_sounds_session_always_exists_on_the_render_device():
    engine, _, time = make_engine(expire_after=1.0)
    system = [s for s in engine.snapshot() if s.is_system_sounds]
    assert len(system) == 1
    assert system[0].device_id == "speakers" and system[0].key.cross_process
    advance(engine, time, 100.0)
    assert next(s for s in engine.snapshot() if s.is_system_sounds).state is SessionState.INACTIVE
    engine.restart()
    assert len([s for s in engine.snapshot() if s.is_system_sounds]) == 1


def test_system_sounds_session_outlives_its_streams():
    engine, _, _ = make_engine()
    system = next(s for s in engine.snapshot() if s.is_system_sounds)
    from audiolab.backends.sim.sessions import SYSTEM_SOUNDS_GUID

    beep = app(engine, "Explorer").open_stream(session_guid=SYSTEM_SOUNDS_GUID, cross_process=True, start=True)
    assert beep.session_id == system.id
    beep.release()
    assert system.id in {s.id for s in engine.snapshot()}


def test_grouping_parameter_groups_sessions_into_one_volume_control():
    engine, rec, _ = make_engine()
    group = str(uuid.uuid4())
    a = app(engine, "Browser", pid=1).open_stream()
    b = app(engine, "Browser", pid=2).open_stream()
    c = app(engine, "Other", pid=3).open_stream()
    elsewhere = app(engine, "Browser", pid=4).open_stream("headset")
    for stream in (a, b, elsewhere):
        engine.set_grouping_param(stream.session_id, group, Origin.THIS_CLIENT)
    controls = volume_controls(engine.snapshot(), "speakers")
    grouped = [ctl for ctl in controls if ctl.grouping_param == group]
    assert len(grouped) == 1
    assert {s.id for s in grouped[0].sessions} == {a.session_id, b.session_id}
    assert any(ctl.sessions == (engine.session(c.session_id),) for ctl in controls)
    assert rec.of(SessionCreated)


def test_device_removal_disconnects_its_sessions():
    engine, rec, _ = make_engine()
    stream = app(engine).open_stream("headset", start=True)
    engine.disconnect_device("headset")
    assert rec.of(SessionDisconnected, stream.session_id)[0].reason is DisconnectReason.DEVICE_REMOVAL
    assert "headset" not in {d.id for d in engine.devices}
    with pytest.raises(ValueError, match="no device"):
        app(engine).open_stream("headset")


def test_device_removal_resumes_nothing_on_that_device_and_keeps_system_sounds():
    from audiolab.events import InterruptEvent

    engine, rec, _ = make_engine(policy="harmonyos")
    music = app(engine, "Music").open_stream("speakers", role=Role.MUSIC, start=True)
    alarm = app(engine, "Clock").open_stream("speakers", role=Role.ALARM, start=True)
    rec.clear()
    engine.disconnect_device("speakers")
    about_music = [e for e in rec.events if e.session_id == music.session_id]
    assert not [e for e in about_music if isinstance(e, InterruptEvent)]
    assert about_music[0].kind == "SessionDisconnected"
    assert {alarm.session_id, music.session_id}.isdisjoint(s.id for s in engine.all_sessions())
    system = [s for s in engine.snapshot() if s.is_system_sounds]
    assert len(system) == 1 and system[0].device_id == "headset"


def test_a_denied_start_on_open_leaves_no_stream():
    from audiolab import FocusDeniedError

    engine, _, _ = make_engine(policy="harmonyos")
    app(engine, "Phone").open_stream("speakers", role=Role.VOICE_COMMUNICATION, start=True)
    with pytest.raises(FocusDeniedError):
        app(engine, "Assistant").open_stream("speakers", role=Role.ASSISTANT, start=True)
    assert "Assistant" not in {s.app for s in engine.all_sessions()}
