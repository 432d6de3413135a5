"""`audiolab explain`: the policy in force and its predictions, on the simulated service and on real servers."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

import audiolab
from audiolab.explain import explain
from audiolab.model import Role
from audiolab.tones import sine
from tests.processes import OutputLines
from tests.servers import AudioServer, pipewire_server, pulseaudio_server, wireplumber_endpoints_server

DUCKING = "module-role-ducking trigger_roles=phone ducking_roles=music volume=30%"
CLOCK = re.compile(r"^\d\d:\d\d:\d\d\.\d\d\d ")


def audiolab_cli(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "audiolab.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


# --- on the simulated service ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_explain_on_the_simulated_service_reports_its_policy_and_the_duck_in_force():
    async with audiolab.open("sim", policy="harmonyos") as lab:
        music = await lab.play(sine(440, 0.5), role=Role.MUSIC, app="Music")
        maps = await lab.play(sine(660, 0.5), role=Role.NAVIGATION, app="Maps")
        found = await explain(lab, measure_seconds=0.3)
    assert found.policy.policy.kind == "harmonyos" and found.policy.server == "audiolab simulated service"
    (now,) = [p for p in found.predictions if not p.potential]
    assert (now.target, now.cause, now.action) == (music.session_id, maps.session_id, "duck")
    assert now.gain == pytest.approx(0.2) and now.why.rule["incoming"] == "STREAM_NAVIGATION"
    assert found.levels[music.session_id] == pytest.approx(0.1, abs=0.005)  # ducked to 0.2 of 0.5, measured
    text = "\n".join(found.lines())
    assert "Maps ducks Music to -14.0 dB: HarmonyOS interrupt table" in text
    assert "a voice communication stream on speakers would pause Music" in text
    data = json.loads(json.dumps(found.to_dict()))
    assert data["policy"]["policy"]["kind"] == "harmonyos" and data["predictions"][0]["why"]["rule"]["action"] == "DUCK"


@pytest.mark.anyio
async def test_explain_windows_predicts_a_call_on_the_communications_device_only():
    async with audiolab.open("sim", policy="windows") as lab:
        await lab.play(sine(440, 0.5), role=Role.MUSIC, app="Music")
        found = await explain(lab, measure_seconds=0)
    (call,) = [p for p in found.predictions if p.potential]
    assert call.cause == "a voice communication stream on headset" and call.gain == pytest.approx(0.2)
    assert call.why.rule["communications_device"] == "headset"


def test_explain_json_and_watch_on_the_simulated_service(tmp_path):
    out = audiolab_cli("explain", "--backend", "sim", "--json", env={**os.environ})
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["backend"] == "sim" and data["policy"]["policy"]["name"] == "windows"


# --- on real servers -----------------------------------------------------------------------------------------


def _wait_connected(server: AudioServer, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while 'application.name = "audiolab"' not in server.pactl("list", "clients"):
        assert time.monotonic() < deadline, "audiolab never connected"
        time.sleep(0.1)


@pytest.mark.pulse
def test_explain_names_role_ducking_and_predicts_the_music_duck():
    with pulseaudio_server(modules=[DUCKING]) as server:
        player = server.play_tone(0.5, client_name="Spotify", role="music")
        try:
            server.wait_sink_input("Spotify")
            out = audiolab_cli("explain", "--backend", "pulse", env=server.env)
            assert out.returncode == 0, out.stderr
            text = out.stdout
            assert re.search(r"module-role-ducking #\d+ \(trigger_roles=phone ducking_roles=music volume=30%\)", text)
            assert "Spotify (music, render): active, volume 100%, level 0.500 (-6.0 dBFS)" in text
            assert f"a phone stream on {server.sink} would duck Spotify to -31.4 dB" in text
            data = json.loads(audiolab_cli("explain", "--backend", "pulse", "--json", env=server.env).stdout)
            (prediction,) = data["predictions"]
            assert prediction["why"]["rule"]["module"] == "module-role-ducking"
            assert prediction["gain"] == pytest.approx(0.027, abs=1e-4)
        finally:
            player.stop()


@pytest.mark.pulse
def test_explain_role_cork_and_both_modules_predict_the_right_pairs():
    modules = [DUCKING, "module-role-cork trigger_roles=alarm cork_roles=music,game"]
    with pulseaudio_server(modules=modules) as server:
        music = server.play_tone(0.5, client_name="Spotify", role="music")
        game = server.play_tone(0.25, client_name="Doom", role="game")
        try:
            server.wait_sink_input("Spotify")
            server.wait_sink_input("Doom")
            data = json.loads(audiolab_cli("explain", "--backend", "pulse", "--json", env=server.env).stdout)
            names = {s["id"]: s["app"] for s in data["sessions"]}
            pairs = {(p["cause"].split(" stream")[0], names[p["target"]], p["action"]) for p in data["predictions"]}
            assert pairs == {("a phone", "Spotify", "duck"), ("an alarm", "Spotify", "pause"),
                             ("an alarm", "Doom", "pause")}
            assert {m["name"] for m in data["policy"]["modules"]} == {"module-role-ducking", "module-role-cork"}
            levels = {names[s["id"]]: s["level"] for s in data["sessions"]}
            assert levels == {"Spotify": pytest.approx(0.5, abs=0.02), "Doom": pytest.approx(0.25, abs=0.02)}
        finally:
            music.stop()
            game.stop()


@pytest.mark.pulse
def test_explain_lists_what_stream_restore_puts_back():
    with pulseaudio_server(modules=["module-stream-restore restore_device=false"]) as server:
        player = server.play_tone(0.5, client_name="Quiet", role="music")
        (stream,) = server.wait_sink_input("Quiet")
        server.pactl("set-sink-input-volume", stream["index"], "25%")
        player.stop()
        out = audiolab_cli("explain", "--backend", "pulse", env=server.env)
        assert out.returncode == 0, out.stderr
        assert "module-stream-restore" in out.stdout
        assert "restores sink-input-by-media-role:music to 25%" in out.stdout


@pytest.mark.pulse
def test_explain_watch_narrates_a_call_and_a_module_loaded_and_unloaded():
    with pulseaudio_server(modules=[DUCKING]) as server:
        with explain_watching_music(server) as lines:
            phone = server.play_tone(0.5, client_name="Zoom", role="phone")
            started = lines.wait_for("Zoom (phone) started")
            assert CLOCK.match(started), started
            assert re.search(r"module-role-ducking #\d+ \(volume=30%\) ducks music: Spotify predicted -31.4 dB", started)
            measured = lines.wait_for("Spotify ducked")  # then the meter's measurement, with the rule
            found = re.search(r"Spotify ducked (-\d+\.\d) dB \(measured; predicted -31.4 dB\) by Zoom: module-role-ducking",
                              measured)
            assert found and float(found.group(1)) == pytest.approx(-31.4, abs=1.5), measured
            phone.stop()
            back = lines.wait_for("Spotify (music) comes back")
            assert "Zoom (phone)" in back and "no longer applies" in back
            assert "(measured)" in lines.wait_for("Spotify back +")
            index = server.pactl("load-module", "module-role-cork").strip()
            assert f"module-role-cork #{index} (default arguments) loaded" in lines.wait_for("loaded")
            server.pactl("unload-module", index)
            assert f"module-role-cork #{index}" in lines.wait_for("unloaded")


@pytest.mark.pulse
def test_explain_without_a_server_or_when_it_dies_says_so_without_a_traceback(tmp_path):
    env = {**os.environ, "PULSE_SERVER": f"unix:{tmp_path}/nothing-here"}
    out = audiolab_cli("explain", "--backend", "pulse", env=env)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "no PulseAudio-protocol server" in out.stderr
    with pulseaudio_server() as server:
        watcher = subprocess.Popen([sys.executable, "-m", "audiolab.cli", "explain", "--backend", "pulse", "--watch",
                                    "--duration", "20"], env=server.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            OutputLines(watcher).wait_for("watching")
            server.kill()
            watcher.wait(timeout=20)
        finally:
            watcher.kill()
            err = _finish(watcher)
    assert watcher.returncode == 2 and "went away" in err and "Traceback" not in err


@pytest.mark.pipewire
def test_explain_on_pipewire_says_what_is_known():
    with pipewire_server() as server:
        out = audiolab_cli("explain", "--backend", "pulse", env=server.env)
        assert out.returncode == 0, out.stderr
        assert "pipewire-pulse implements neither module-role-ducking nor module-role-cork" in out.stdout
        assert "no WirePlumber role endpoints are visible" in out.stdout


@contextlib.contextmanager
def explain_watching_music(server: AudioServer) -> Iterator[OutputLines]:
    """Music ("Spotify") plays and ``audiolab explain --watch`` runs against ``server``: its output lines, once
    it is watching. The watcher is killed at the end and must not have printed a traceback."""
    music = server.play_tone(0.5, client_name="Spotify", role="music")
    server.wait_sink_input("Spotify")
    watcher = subprocess.Popen([sys.executable, "-m", "audiolab.cli", "explain", "--backend", "pulse", "--watch",
                                "--duration", "20"], env=server.env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        lines = OutputLines(watcher)
        lines.wait_for("watching")
        yield lines
    finally:
        watcher.kill()
        err = _finish(watcher)
        music.stop()
    assert "Traceback" not in err


def _finish(process: subprocess.Popen[str]) -> str:
    """Wait for a killed or ended child, close its pipes, and return what it wrote to stderr."""
    process.wait()
    assert process.stderr is not None and process.stdout is not None
    err = process.stderr.read()
    process.stderr.close()
    process.stdout.close()
    return err


@pytest.mark.pulse
def test_a_recorded_real_duck_keeps_the_policy_and_draws_the_measured_gain(tmp_path):
    from audiolab.trace import read_trace
    from audiolab.widgets.timeline import FocusTimeline
    from audiolab.widgets.timeline_model import measured_gains

    path, png = tmp_path / "duck.jsonl", tmp_path / "duck.png"
    with pulseaudio_server(modules=[DUCKING]) as server:
        music = server.play_tone(0.5, client_name="Spotify", role="music")
        server.wait_sink_input("Spotify")
        recorder = subprocess.Popen([sys.executable, "-m", "audiolab.cli", "record", str(path), "--backend", "pulse",
                                     "--duration", "5"], env=server.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
        try:
            _wait_connected(server)
            time.sleep(1.5)
            phone = server.play_tone(0.5, client_name="Zoom", role="phone")
            time.sleep(1.5)
            phone.stop()
            assert recorder.wait(timeout=30) == 0, _finish(recorder)
        finally:
            recorder.kill()
            _finish(recorder)
            music.stop()
    trace = read_trace(path)
    assert trace.policy is not None and trace.policy.modules[0].name == "module-role-ducking"
    assert trace.recorded is not None
    spotify = next(s.id for s in trace.snapshot if s.app == "Spotify")
    timeline = FocusTimeline.from_events(trace.events, sessions=trace.snapshot)
    for entry in trace.entries:
        if entry.meters is not None:
            timeline.add_meter_frame(entry.meters)
    measured = measured_gains(timeline._rec.tracks[spotify])
    deepest = min(g for _, g in measured)
    assert 20 * math.log10(deepest) == pytest.approx(-31.4, abs=1.5)  # the gain panel shows the real duck
    out = audiolab_cli("replay", str(path), "--png", str(png), env={**os.environ})
    assert out.returncode == 0, out.stderr
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 20_000
    replayed = audiolab_cli("replay", str(path), "--speed", "20", env={**os.environ})
    assert replayed.returncode == 0, replayed.stderr
    assert any(CLOCK.match(line) and "SessionCreated" in line for line in replayed.stdout.splitlines())


@pytest.mark.pipewire
def test_explain_on_pipewire_with_the_wireplumber_endpoints_policy_names_it_and_predicts_with_it():
    with wireplumber_endpoints_server() as server:
        player = server.play_tone(0.5, client_name="Spotify", role="Music")
        try:
            out = audiolab_cli("explain", "--backend", "pulse", "--json", env=server.env)
            assert out.returncode == 0, out.stderr
            data = json.loads(out.stdout)
            assert "multimedia" in data["policy"]["role_endpoints"]
            assert data["policy"]["policy"]["kind"] == "wireplumber-0.4"
            assert any("role-based endpoints policy is active" in n for n in data["policy"]["notes"])
            text = audiolab_cli("explain", "--backend", "pulse", env=server.env).stdout
            assert "WirePlumber role endpoints: " in text and "control.endpoint" in text
        finally:
            player.stop()


@pytest.mark.pipewire
def test_explain_watch_narrates_a_wireplumber_04_duck_measured_from_the_endpoint_volume():
    with wireplumber_endpoints_server() as server:
        with explain_watching_music(server) as lines:
            time.sleep(2.5)  # a full window before the prompt
            maps = server.play_tone(0.5, client_name="Maps", role="Navigation")
            started = lines.wait_for("Maps (navigation) started")
            assert "Navigation > Multimedia: duck ducks music: Spotify predicted -10.5 dB" in started, started
            ducked = lines.wait_for("Spotify ducked")
            assert re.search(r"Spotify ducked -10\.\d dB \(measured as the volume of control\.endpoint\."
                             r"multimedia\.monitor; predicted -10\.5 dB\) by Maps: WirePlumber 0\.4 endpoints policy",
                             ducked), ducked
            assert "100% -> 67%" in ducked
            maps.stop()
            back = lines.wait_for("Spotify back")
            assert "+10." in back and "67% -> 100%" in back and "no longer applies" in back


@pytest.mark.pipewire
def test_explain_under_wireplumber_04_says_why_nothing_is_metered_and_what_holds_the_music_down():
    with wireplumber_endpoints_server() as server:
        server.play_tone(0.5, client_name="Spotify", role="music")
        server.wait_sink_input("Spotify")
        time.sleep(0.5)  # linked to its endpoint before the prompt, as music playing would be
        server.play_tone(0.5, client_name="Maps", role="Navigation")
        server.wait_sink_input("Maps")
        deadline = time.monotonic() + 20
        while not any("control.endpoint.multimedia.monitor" in block and "/  67% /" in block
                      for block in server.pactl("list", "sources").split("\n\n")):
            assert time.monotonic() < deadline, "WirePlumber never ducked the Multimedia endpoint"
            time.sleep(0.05)
        out = audiolab_cli("explain", "--backend", "pulse", "--json", env=server.env)
        assert out.returncode == 0, out.stderr
        sessions = {s["app"]: s for s in json.loads(out.stdout)["sessions"]}
        text = audiolab_cli("explain", "--backend", "pulse", env=server.env).stdout
    for app in ("Spotify", "Maps"):
        assert sessions[app]["level"] is None
        assert "links every record stream to its Capture" in sessions[app]["unmeasured"]
    assert sessions["Spotify"]["held_by_server"] == {
        "where": "control.endpoint.multimedia.monitor", "shown": "67%", "gain": pytest.approx(0.3, abs=1e-3)}
    assert sessions["Maps"]["held_by_server"] is None
    assert "the server holds it down: control.endpoint.multimedia.monitor at 67% (-10.5 dB)" in text, text
