"""The native PipeWire meter path (audiolab/backends/_pipewire): the format POD, finding the daemon behind
pipewire-pulse, the meter streams on a real server (left out of the session list, reading volume changes), and
the fallback to pulse-protocol meters when libpipewire cannot be used."""

from __future__ import annotations

import asyncio
import socket
import struct
from pathlib import Path

import pytest

from audiolab.backends._pipewire import lib, remote
from audiolab.backends._pipewire.pod import audio_f32_format
from audiolab.backends._pulse.mapping import METER_PROPERTY
from audiolab.model import MeterFrame
from tests.servers import AudioServer

from .conftest import start_backend, stop_backend, wait_until

LIBSPA_STEREO_48K = bytes.fromhex(
    "a00000000f0000000300040003000000010000000000000004000000030000000100000000000000020000000000000004000000"
    "030000000100000000000000010001000000000004000000030000001b01000000000000030001000000000004000000040000"
    "0080bb0000000000000400010000000000040000000400000002000000000000000500010000000000100000000d000000040000"
    "00030000000300000004000000"
)
"""spa_format_audio_raw_build(SPA_PARAM_EnumFormat, F32, 48000 Hz, 2 channels FL FR) of libspa 0.3.65."""


def test_the_format_pod_is_libspas_own() -> None:
    assert audio_f32_format(48000, 2) == LIBSPA_STEREO_48K


def test_a_pod_for_another_layout_changes_only_its_fields() -> None:
    mono = audio_f32_format(44100, 1)
    size, pod_type = struct.unpack_from("<II", mono)
    assert pod_type == 15 and size + 8 == len(mono) and len(mono) % 8 == 0
    assert struct.pack("<i", 44100) in mono and struct.pack("<i", 48000) not in mono
    assert len(audio_f32_format(48000, 7)) < len(audio_f32_format(48000, 8))  # no default positions for 7


@pytest.mark.parametrize("rate, channels", [(0, 2), (48000, 0), (48000, 65), (True, 2), (48000.0, 2)])
def test_bad_format_arguments_are_refused(rate: object, channels: object) -> None:
    with pytest.raises(ValueError, match="must be an int"):
        audio_f32_format(rate, channels)  # type: ignore[arg-type]


def test_the_remote_follows_libpipewires_rules() -> None:
    assert remote.remote_of_environment({"XDG_RUNTIME_DIR": "/run/user/7"}) == "/run/user/7/pipewire-0"
    assert remote.remote_of_environment({"XDG_RUNTIME_DIR": "/x", "PIPEWIRE_RUNTIME_DIR": "/p"}) == "/p/pipewire-0"
    assert remote.remote_of_environment({"PIPEWIRE_REMOTE": "/s/pw", "XDG_RUNTIME_DIR": "/x"}) == "/s/pw"
    assert remote.remote_of_environment({"PIPEWIRE_REMOTE": "other", "XDG_RUNTIME_DIR": "/x"}) == "/x/other"
    assert remote.remote_of_environment({}) is None
    assert remote.socket_path("unix:/a/native") == "/a/native"
    assert remote.socket_path("tcp:host:4713 unix:/b/native") == "/b/native"
    assert remote.socket_path("{machine}unix:/c/native") == "/c/native"
    assert remote.socket_path("tcp:host") is None and remote.socket_path(None) is None


def test_the_listener_of_a_socket_is_found(tmp_path: Path) -> None:
    import os

    path = str(tmp_path / "sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen()
        assert remote.listener_pid(path) == os.getpid()
    assert remote.listener_pid(str(tmp_path / "absent")) is None
    assert remote.process_environment(os.getpid()) is not None


@pytest.mark.anyio
@pytest.mark.pipewire
@pytest.mark.parametrize("server", ["pipewire"], indirect=True)
async def test_native_meters_find_the_private_daemon_and_stay_out_of_the_sessions(server: AudioServer) -> None:
    assert remote.pipewire_remote(server.address) == str(server.root / "run" / "pipewire-0")
    running = await start_backend(server.address)
    try:
        server.play_tone(0.5, client_name="loud")
        (loud,) = await running.wait_sessions("loud")
        await running.backend.start_meters()
        assert running.backend.statistics().meter_path == "native PipeWire"
        await wait_until(lambda: abs(running.backend.read_meters().peaks.get(loud.id, 0.0) - 0.5) <= 0.02, 8.0,
                         "the tone's meter at 0.5")
        outputs = [o for o in server.pactl("list", "source-outputs").split("Source Output #")[1:] if METER_PROPERTY in o]
        assert len(outputs) == 2  # the tone's meter and the sink's, seen by pipewire-pulse with the mark...
        assert [s.app for s in running.backend.snapshot()] == ["loud"]  # ...and left out of the sessions
        index = loud.streams[0].id.rsplit("/", 1)[1]
        server.pactl("set-sink-input-volume", index, "50%")  # 0.5 ** 3 of the amplitude (a cubic volume)

        def both_read(frame: MeterFrame) -> bool:  # the sink's monitor lags its stream by a cycle or two
            return all(abs(v - 0.0625) <= 0.01 for v in (frame.peaks.get(loud.id, 0.0), frame.device_peaks[server.sink]))

        await wait_until(lambda: both_read(running.backend.read_meters()), 8.0, "the meters after the volume change")
        assert not running.backend.read_meters().unmeasured
    finally:
        await stop_backend(running)


@pytest.mark.anyio
@pytest.mark.pipewire
@pytest.mark.parametrize("server", ["pipewire"], indirect=True)
async def test_without_libpipewire_the_pulse_protocol_meters_serve(server: AudioServer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(lib, "_lib", None)
    monkeypatch.setattr(lib, "_failure", None)
    monkeypatch.setattr(lib, "LIBRARY", "libpipewire-absent.so.0")
    monkeypatch.setattr(lib.ctypes.util, "find_library", lambda name: None)
    running = await start_backend(server.address)
    try:
        server.play_tone(0.25, client_name="tone")
        (tone,) = await running.wait_sessions("tone")
        await running.backend.start_meters()
        path = running.backend.statistics().meter_path
        assert path.startswith("pulse protocol (native PipeWire meters unavailable: libpipewire-0.3 cannot be loaded")
        await wait_until(lambda: abs(running.backend.read_meters().peaks.get(tone.id, 0.0) - 0.25) <= 0.02, 8.0,
                         "the tone's pulse-protocol meter at 0.25")
    finally:
        await stop_backend(running)


def test_native_meters_refuse_a_daemon_that_does_not_answer(tmp_path: Path) -> None:
    from audiolab.backends._pipewire.meter import NativeMeters

    with pytest.raises(lib.NativeUnavailable, match="no PipeWire daemon answered at"):
        NativeMeters(48000, str(tmp_path / "no-daemon"))


def test_native_meters_option_must_be_a_bool() -> None:
    from audiolab.backends.pulse import PulseBackend

    with pytest.raises(TypeError, match="native_meters must be True or False"):
        PulseBackend(native_meters="yes")


@pytest.mark.anyio
@pytest.mark.pipewire
@pytest.mark.parametrize("server", ["pipewire"], indirect=True)
async def test_a_meter_that_never_delivers_is_reopened_only_while_its_target_should_play(
    server: AudioServer, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    """A meter of a corked stream is never linked to running data (it stays paused) and is left alone; one seen
    streaming without a buffer while its target should play (the fault seen once in 100, forced here) is reopened
    after SILENT_SECONDS, at most MAX_REOPENS times in a row."""
    import time

    from audiolab.backends._pipewire import meter
    from audiolab.backends._pulse.meters import MeterTarget
    from tests.servers import StreamClient

    monkeypatch.setattr(meter, "SILENT_SECONDS", 0.3)
    plays = {"now": False}
    async with StreamClient(server.address, "corked-app") as client:
        client.open_stream(server.sink, corked=True)
        await wait_until(lambda: any(s.get("application.name") == "corked-app" for s in server.sink_inputs()), 5.0,
                         "the corked stream")
        index = next(int(s["index"]) for s in server.sink_inputs() if s.get("application.name") == "corked-app")
        meters = meter.NativeMeters(48000, remote.pipewire_remote(server.address), expects_data=lambda t: plays["now"])
        target = MeterTarget(f"{server.sink}.monitor", 2, index)

        async def checks(force_streaming: bool) -> None:
            for _ in range(10):
                await asyncio.sleep(0.1)
                if force_streaming:
                    meters._streams[target].state = lib.STATE_STREAMING
                meters.check(time.monotonic())

        try:
            meters.sync([target])
            await wait_until(lambda: meters.states()[target] == lib.STATE_PAUSED, 8.0, "a paused meter")
            await checks(False)
            assert meters.reopens == 0 and meters.delivering == 0
            await checks(True)
            assert meters.reopens == 0  # streaming but corked: silence is expected
            plays["now"] = True
            for _ in range(meter.MAX_REOPENS + 2):
                await checks(True)
            assert meters.reopens == meter.MAX_REOPENS  # then it is left alone
        finally:
            meters.close()


@pytest.mark.anyio
@pytest.mark.pipewire
@pytest.mark.parametrize("server", ["pipewire"], indirect=True)
async def test_a_failed_meter_stream_is_reopened_and_delivers_again(server: AudioServer) -> None:
    import time

    from audiolab.backends._pipewire import meter
    from audiolab.backends._pulse.meters import MeterTarget

    server.play_tone(0.5, client_name="tone")
    (tone,) = server.wait_sink_input("tone")
    meters = meter.NativeMeters(48000, remote.pipewire_remote(server.address))
    target = MeterTarget(f"{server.sink}.monitor", 2, int(tone["index"]))
    try:
        meters.sync([target])
        await wait_until(lambda: meters.delivering == 1, 8.0, "the meter delivering")
        failed = meters._streams[target]
        failed.state = lib.STATE_ERROR  # as the stream's state callback reports a failure
        meters.check(time.monotonic() + meter.REOPEN_SECONDS)
        assert meters.reopens == 1 and meters._streams[target] is not failed
        await wait_until(lambda: meters.delivering == 1, 8.0, "the new meter delivering")
        per_input, _ = meters.take(time.monotonic())
        assert max(per_input[target.sink_input]) == pytest.approx(0.5, abs=0.02)
    finally:
        meters.close()
