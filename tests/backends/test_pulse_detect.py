"""Ducking and corking of apps audiolab did not start, measured on a private PulseAudio and explained.

The clients are real: pacat (a steady tone), paplay (pink noise, espeak-ng speech and a music-like clip from
tests/material.py), and python-sounddevice through PortAudio's ALSA pulse plugin. audiolab only watches."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import numpy as np
import pytest

import audiolab
from audiolab.events import Ducked, Event, InterruptEvent, Unducked
from audiolab.model import InterruptHint
from audiolab.widgets._board import Board
from audiolab.widgets.timeline import FocusTimeline
from tests import material
from tests.servers import AudioServer, pulseaudio_server, require_binary, wireplumber_endpoints_server

pytestmark = [pytest.mark.pulse, pytest.mark.anyio]

BOUNDS = {"tone": 1.5, "pink": 3.0, "speech": 3.0, "music-like": 3.0, "sounddevice": 1.5}
SOUNDDEVICE_TONE = """
import numpy as np, sounddevice as sd, time
rate = 48000
t = np.arange(rate * {seconds}) / rate
sd.play((0.5 * np.sin(2 * np.pi * 523.25 * t)).astype("float32"), rate, device="default")
sd.wait()
"""


@contextmanager
def external_clients(server: AudioServer, tmp: Path, seconds: float = 40.0) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start the five music clients audiolab did not write; stop them all at the end."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    (home / ".asoundrc").write_text("pcm.!default { type pulse }\nctl.!default { type pulse }\n")
    files = {
        "pink": material.write_wav(tmp / "pink.wav", material.pink_noise(seconds)),
        "speech": material.write_wav(tmp / "speech.wav", material.speech(seconds, tmp)),
        "music-like": material.write_wav(tmp / "music.wav", material.music_like(seconds)),
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        server.play_tone(0.5, client_name="tone", role="music", seconds=seconds)
        for name, path in files.items():
            processes.append(subprocess.Popen(
                [require_binary("paplay"), f"--client-name={name}", "--property=media.role=music", str(path)],
                env=server.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        env = {**server.env, "HOME": str(home), "PULSE_PROP": "media.role=music application.name=sounddevice"}
        processes.append(subprocess.Popen([sys.executable, "-c", SOUNDDEVICE_TONE.format(seconds=seconds)], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        for name in ("tone", "pink", "speech", "music-like"):
            server.wait_sink_input(name, timeout=10)
        server.wait_sink_input(f"ALSA plug-in [{Path(sys.executable).resolve().name}]", timeout=15)  # sounddevice
        yield processes
    finally:
        for process in processes:
            process.kill()
            process.wait()


NAMES: dict[str, str] = {}
SNAPSHOT: list = []


async def watch(server: AudioServer, script) -> list[Event]:  # type: ignore[no-untyped-def]
    """Run ``script()`` with a detecting Lab open; every event it reported (apps' names in NAMES)."""
    seen: list[Event] = []
    async with audiolab.open("pulse", server=server.address, detect_ducking=True) as lab, lab.events() as events:
        NAMES.update({s.id: s.app for s in lab.snapshot()})
        SNAPSHOT[:] = lab.snapshot()
        async def collect() -> None:
            async for event in events:
                seen.append(event)

        async with anyio.create_task_group() as tg:
            tg.start_soon(collect)
            await script(lab)
            tg.cancel_scope.cancel()
    return seen


async def music_then(server: AudioServer, client: str, role: str, times: tuple[float, float, float],
                     policy_kind: str | None = None) -> list[Event]:
    """Music ("Spotify") plays; ``times`` = (before, during, after): after ``before`` s a client named ``client``
    plays a ``role`` stream for ``during`` s, then ``after`` s more are watched. Every event reported."""
    server.play_tone(0.5, client_name="Spotify", role="music")
    server.wait_sink_input("Spotify")

    async def trigger(lab) -> None:  # type: ignore[no-untyped-def]
        if policy_kind is not None:
            assert lab.policy_in_force().policy.kind == policy_kind
        await anyio.sleep(times[0])
        player = server.play_tone(0.5, client_name=client, role=role)
        await anyio.sleep(times[1])
        player.stop()
        await anyio.sleep(times[2])

    return await watch(server, trigger)


def app_of(events: list[Event], session_id: str | None) -> str:
    """The app of a session: from its SessionCreated event, or as it was when the Lab opened. The ALSA plugin
    names itself "ALSA plug-in [python3.11]": that is the sounddevice client."""
    name = NAMES.get(session_id or "", session_id or "?")
    for e in events:
        if e.kind == "SessionCreated" and e.session_id == session_id:
            name = e.session.app  # type: ignore[attr-defined]
    return "sounddevice" if name.startswith("ALSA plug-in") else name


@pytest.mark.parametrize("volume, gain", [("30%", 0.027), ("50%", 0.125)])
async def test_role_ducking_of_apps_audiolab_did_not_start_is_measured_and_explained(tmp_path, volume, gain):
    modules = [f"module-role-ducking trigger_roles=phone ducking_roles=music volume={volume}"]
    with pulseaudio_server(modules=modules) as server, external_clients(server, tmp_path):

        async def call(lab) -> None:  # type: ignore[no-untyped-def]
            await anyio.sleep(3.0)  # a full window of level before the call
            phone = server.play_tone(0.5, client_name="Zoom", role="phone")
            await anyio.sleep(3.5)
            phone.stop()
            await anyio.sleep(3.0)

        events = await watch(server, call)
    ducks = {app_of(events, e.session_id): e for e in events if isinstance(e, Ducked)}
    unducks = {app_of(events, e.session_id): e for e in events if isinstance(e, Unducked)}
    expected = 20 * math.log10(gain)
    sd = [(e.kind, round(e.timestamp, 2)) for e in events if app_of(events, e.session_id) == "sounddevice"]
    assert set(ducks) == set(BOUNDS) and set(unducks) == set(BOUNDS), (sorted(ducks), sorted(unducks), sd)
    for app, bound in BOUNDS.items():
        duck = ducks[app]
        assert app_of(events, duck.cause_session_id) == "Zoom"
        assert duck.why.rule["module"] == "module-role-ducking" and duck.why.predicted_gain == pytest.approx(gain)
        assert abs(duck.measured_db - expected) <= bound, (app, duck.measured_db, expected)
        assert unducks[app].why.released and unducks[app].measured_db == pytest.approx(-expected, abs=2 * bound)
    # the dashboard's rows and the timeline show the same, from the same events
    tone = next(sid for sid, app in NAMES.items() if app == "tone")
    board = Board([s for s in SNAPSHOT if s.id in NAMES])
    for event in events[: events.index(ducks["tone"]) + 1]:
        board.apply(event)
    text, kind = board.focus(tone)
    assert kind == "ducked" and text.startswith(f"ducked to {gain:.0%}") and text.endswith("by Zoom")
    assert board.row_dict(tone)["why"].startswith("module-role-ducking #")
    marks = FocusTimeline.from_events(events, sessions=SNAPSHOT).transitions
    assert ("duck", "unduck") == tuple(m.kind for m in marks if m.session_id == tone)


async def test_a_duck_to_zero_reads_silenced(tmp_path):
    modules = ["module-role-ducking trigger_roles=phone ducking_roles=music volume=0%"]
    with pulseaudio_server(modules=modules) as server:
        events = await music_then(server, "Zoom", "phone", (2.5, 2.5, 2.5))
    (duck,) = [e for e in events if isinstance(e, Ducked)]
    assert duck.gain == 0.0 and duck.measured_db == -math.inf and app_of(events, duck.session_id) == "Spotify"
    assert [app_of(events, e.session_id) for e in events if isinstance(e, Unducked)] == ["Spotify"]


async def test_role_cork_is_a_pause_by_the_phone_with_the_rule_then_a_resume(tmp_path):
    with pulseaudio_server(modules=["module-role-cork"]) as server:
        events = await music_then(server, "Zoom", "phone", (2.0, 2.0, 1.5))
    pauses = [e for e in events if isinstance(e, InterruptEvent)]
    assert [e.hint for e in pauses] == [InterruptHint.PAUSE, InterruptHint.RESUME]
    assert app_of(events, pauses[0].session_id) == "Spotify" and app_of(events, pauses[0].cause_session_id) == "Zoom"
    assert pauses[0].why.rule["module"] == "module-role-cork" and pauses[1].why.released
    assert not [e for e in events if isinstance(e, Ducked)]


async def test_a_duck_no_loaded_rule_predicts_is_reported_unexplained(tmp_path):
    """An app that lowers its own output by 12 dB just as another app's stream starts (some players duck
    themselves): the server changed nothing, no loaded rule predicts it, and the meter shows it."""
    step_at = 5.0
    t = np.arange(int(30 * material.RATE)) / material.RATE
    samples = np.where(t < step_at, 0.5, 0.125) * np.sin(2 * np.pi * 440 * t)
    raw = tmp_path / "self-ducking.raw"
    raw.write_bytes(np.repeat(samples.astype("<f4")[:, None], 2, axis=1).tobytes())
    with pulseaudio_server(modules=["module-role-ducking"]) as server:  # phone ducks music; events duck nothing
        player = subprocess.Popen(
            [require_binary("pacat"), "--playback", "--raw", "--format=float32le", f"--rate={material.RATE}",
             "--channels=2", "--client-name=SelfDucker", "--latency-msec=20", "--property=media.role=music",
             str(raw)], env=server.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            server.wait_sink_input("SelfDucker")

            async def beep(lab) -> None:  # type: ignore[no-untyped-def]
                # The file's first sample is heard when its meter first reads: an idle null sink has rendered up
                # to 2 s ahead, and a new stream joins the mix after that. The step comes step_at seconds later.
                async with lab.meters(rate=30) as frames:
                    async for frame in frames:
                        if any(peak > 0.1 for peak in frame.peaks.values()):
                            heard = time.monotonic()
                            break
                await anyio.sleep(step_at - (time.monotonic() - heard))
                server.play_tone(0.3, client_name="Beeper", role="event")
                await anyio.sleep(4.0)  # an unpredicted step is confirmed over two windows after the trigger

            events = await watch(server, beep)
        finally:
            player.kill()
            player.wait()
    (duck,) = [e for e in events if isinstance(e, Ducked)]
    assert app_of(events, duck.session_id) == "SelfDucker" and app_of(events, duck.cause_session_id) == "Beeper"
    assert duck.why.kind == "unexplained" and duck.measured_db == pytest.approx(-12.04, abs=1.5)
    assert "no rule of the policy in force predicts it" in duck.why.text


async def test_no_false_ducks_from_program_material_while_unrelated_streams_come_and_go(tmp_path):
    """Four clients play 50 s each (200 s of material: speech, pink noise, a music-like clip, a tone), while
    an event-role stream starts and stops every 5 s; role-ducking (phone ducks music) is loaded. Nothing is
    reported: a budget of 55 s of the test run."""
    with pulseaudio_server(modules=["module-role-ducking"]) as server, external_clients(server, tmp_path, 55.0):

        async def beeps(lab) -> None:  # type: ignore[no-untyped-def]
            for _ in range(10):
                beeper = server.play_tone(0.3, client_name="Beeper", role="event")
                await anyio.sleep(2.5)
                beeper.stop()
                await anyio.sleep(2.5)

        events = await watch(server, beeps)
    assert [e for e in events if isinstance(e, (Ducked, Unducked))] == []
    assert sum(e.kind == "SessionCreated" for e in events) >= 10  # the beeper did come and go


def test_material_is_what_it_claims(tmp_path):
    """The test material's own level: normalised to 0.5, and not silent for more than a moment."""
    for signal in (material.pink_noise(5.0), material.music_like(5.0), material.speech(5.0, tmp_path)):
        peaks = material.meter_peaks(signal)
        assert float(np.max(np.abs(signal))) == pytest.approx(0.5, abs=1e-3)
        assert np.mean(peaks > 0.01) > 0.8
    assert os.path.exists(require_binary("espeak-ng"))


@pytest.mark.pipewire
async def test_wireplumber_04_endpoints_cork_is_a_pause_by_the_phone_then_a_resume():
    """With Debian's WirePlumber 0.4 endpoints policy on, a phone stream corks the music by taking it off every
    sink; the detector reports it as a pause and a resume by the phone, with the wireplumber-0.4 rule."""
    with wireplumber_endpoints_server() as server:
        events = await music_then(server, "Zoom", "phone", (2.0, 2.0, 1.5), policy_kind="wireplumber-0.4")
    hints = [(e.hint, app_of(events, e.session_id), app_of(events, e.cause_session_id))
             for e in events if isinstance(e, InterruptEvent)]
    assert hints == [(InterruptHint.PAUSE, "Spotify", "Zoom"), (InterruptHint.RESUME, "Spotify", "Zoom")]
    pause = next(e for e in events if isinstance(e, InterruptEvent))
    assert pause.why.kind == "wireplumber-0.4" and "corks it" in pause.why.text


@pytest.mark.pipewire
async def test_wireplumber_04_endpoints_duck_is_measured_from_the_endpoint_volume_then_undone():
    """Under the same policy a Navigation prompt ducks the music (Navigation's action.default = duck over the
    lower-priority Multimedia): WirePlumber turns control.endpoint.multimedia.monitor down to 67 % (0.3 in
    amplitude). No meter can see it (the policy links every record stream to its Capture endpoint), so the
    detector measures the endpoint's volume, and says so."""
    with wireplumber_endpoints_server() as server:
        events = await music_then(server, "Maps", "Navigation", (2.5, 3.0, 2.5))
    focus = [(e.kind, app_of(events, e.session_id), app_of(events, e.cause_session_id))
             for e in events if isinstance(e, (Ducked, Unducked, InterruptEvent))]
    assert focus == [("Ducked", "Spotify", "Maps"), ("Unducked", "Spotify", "Maps")]
    duck, back = (e for e in events if isinstance(e, (Ducked, Unducked)))
    assert duck.why.kind == "wireplumber-0.4" and duck.why.rule["action"] == "duck"
    assert duck.why.rule["winner_role"] == "Navigation" and duck.why.rule["loser_role"] == "Multimedia"
    assert duck.why.predicted_gain == pytest.approx(0.3)
    assert duck.measured_db == pytest.approx(20 * math.log10(0.3), abs=0.1)  # pactl: 67 %, -10.46 dB
    assert duck.why.rule["measured_from"] == "control.endpoint.multimedia.monitor"
    assert duck.why.rule["server_setting"] == "100% -> 67%" and "Measured as the volume of" in duck.why.text
    assert back.why.released and back.measured_db == pytest.approx(-20 * math.log10(0.3), abs=0.1)
