"""The focus policy in force on a real PulseAudio / PipeWire server: read from its modules, kept current."""

from __future__ import annotations

import pytest

from audiolab.backends._pulse.policy import parse_module_arguments, policy_in_force
from audiolab.focus import FocusEngine, FocusRequest, NoPolicy, PulseAudioPolicy
from audiolab.model import Role
from tests.servers import pipewire_server, pulseaudio_server

from .conftest import start_backend, stop_backend, wait_until

pytestmark = pytest.mark.anyio

DUCKING = "module-role-ducking trigger_roles=phone ducking_roles=music volume=30%"


def test_module_arguments_parse_as_pa_modargs_does():
    assert parse_module_arguments("a=1 b='x y' c=\"z\"  d=") == {"a": "1", "b": "x y", "c": "z", "d": ""}
    for bad in ("novalue", "a=1 'b'=2", "a='open"):
        with pytest.raises(ValueError):
            parse_module_arguments(bad)


def test_defaults_are_filled_in_as_the_modules_fill_them():
    found = policy_in_force("PulseAudio 16.1", [(7, "module-role-cork", None)])
    assert isinstance(found.policy, PulseAudioPolicy) and not found.policy.duck_groups
    assert found.policy.cork_groups[0].trigger_roles == ("phone",)
    assert found.policy.cork_groups[0].roles == ("music", "video")
    assert found.modules[0].describe() == "module-role-cork #7 (default arguments)"


@pytest.mark.pulse
async def test_role_ducking_is_read_with_its_arguments_and_predicts_the_duck():
    with pulseaudio_server(modules=[DUCKING]) as srv:
        running = await start_backend(srv.address)
        try:
            found = running.backend.policy_in_force()
            (module,) = found.modules
            assert module.name == "module-role-ducking" and module.index is not None
            assert dict(module.arguments) == {"trigger_roles": "phone", "ducking_roles": "music", "volume": "30%"}
            assert found.server.startswith("pulseaudio")
            engine = FocusEngine(found.policy)  # the simulated service's code predicts on the real policy
            engine.start(FocusRequest("spotify", "1", Role.MUSIC, device_id="sink0"), 0)
            (duck,) = engine.start(FocusRequest("zoom", "2", Role.VOICE_COMMUNICATION, device_id="sink0"), 1)
            assert duck.gain == pytest.approx(0.027) and duck.reason.predicted_db == pytest.approx(-31.4, abs=0.05)
            assert f"module-role-ducking #{module.index} (trigger_roles=phone ducking_roles=music volume=30%" \
                in duck.reason.text
        finally:
            await stop_backend(running)


@pytest.mark.pulse
async def test_role_cork_and_ducking_together():
    with pulseaudio_server(modules=[DUCKING, "module-role-cork trigger_roles=alarm cork_roles=music"]) as srv:
        running = await start_backend(srv.address)
        try:
            policy = running.backend.policy_in_force().policy
            assert [g.trigger_roles for g in policy.duck_groups] == [("phone",)]
            assert [(g.trigger_roles, g.roles) for g in policy.cork_groups] == [(("alarm",), ("music",))]
            assert set(policy.source["modules"]) == {"module-role-ducking", "module-role-cork"}
        finally:
            await stop_backend(running)


@pytest.mark.pulse
async def test_stream_restore_entries_that_play_quieter_are_listed():
    with pulseaudio_server(modules=["module-stream-restore restore_device=false"]) as srv:
        # a client's volume is remembered by module-stream-restore under its media role
        player = srv.play_tone(0.5, client_name="quietapp", role="music")
        (stream,) = srv.wait_sink_input("quietapp")
        srv.pactl("set-sink-input-volume", stream["index"], "40%")
        player.stop()
        running = await start_backend(srv.address)
        try:
            found = running.backend.policy_in_force()
            assert [m.name for m in found.modules] == ["module-stream-restore"]
            assert isinstance(found.policy, NoPolicy)
            restored = {r.key: r for r in found.restored}
            assert restored["sink-input-by-media-role:music"].volume == pytest.approx(0.40, abs=0.01)
            assert any("restores sink-input-by-media-role:music to 40%" in line for line in found.describe())
        finally:
            await stop_backend(running)


@pytest.mark.pulse
async def test_loading_and_unloading_a_module_is_reported():
    with pulseaudio_server() as srv:
        running = await start_backend(srv.address)
        try:
            assert running.backend.policy_in_force().modules == ()
            index = srv.pactl("load-module", *DUCKING.split()).strip()
            changed = await running.recorder.wait("PolicyChanged", lambda e: bool(e.policy.modules))
            assert changed.session_id == "" and changed.policy.modules[0].index == int(index)
            assert running.backend.policy_in_force() == changed.policy
            srv.pactl("unload-module", index)
            await running.recorder.wait("PolicyChanged", lambda e: not e.policy.modules)
            await wait_until(lambda: running.backend.policy_in_force().modules == (), what="the policy emptied")
        finally:
            await stop_backend(running)


@pytest.mark.pipewire
async def test_pipewire_says_what_is_known():
    with pipewire_server() as srv:
        running = await start_backend(srv.address)
        try:
            found = running.backend.policy_in_force()
            assert "pipewire" in found.server.lower() and isinstance(found.policy, NoPolicy)
            assert any("pipewire-pulse implements neither" in n for n in found.notes)
            assert any("no WirePlumber role endpoints" in n for n in found.notes)
        finally:
            await stop_backend(running)
