"""audiolab.lessons: the event log the lessons print, the level they read, the exercises' check."""

from __future__ import annotations

import pytest

import audiolab
from audiolab import Role
from audiolab.lessons import EventLog, check, lesson_trace, level
from audiolab.tones import sine

pytestmark = pytest.mark.anyio


async def test_the_log_prints_each_event_once_with_its_why_and_keeps_all(capsys):
    async with audiolab.open(clock="virtual", policy="harmonyos") as lab:
        log = EventLog(lab, focus_only=True)
        music = await lab.play(sine(440, 0.5), role=Role.MUSIC, app="Music")
        await lab.play(sine(880, 0.5), role=Role.NAVIGATION, app="Maps", duration=1)
        await lab.sleep(0.5)
        await log.show("a prompt")
        first = capsys.readouterr().out.splitlines()
        await log.show()
        assert capsys.readouterr().out == "   (no events)\n"
        log.close()
    assert first[0] == "-- a prompt"
    assert first[1].split()[:3] == ["0.00s", "Ducked", "Music"]  # the session's label, not its id
    assert first[2].strip().startswith("why: HarmonyOS interrupt table: STREAM_NAVIGATION")
    assert all(line.split()[1] in ("Ducked", "InterruptEvent") for line in first[1:] if "s  " in line)
    assert log.count("SessionCreated", music.session_id) == 1  # hidden by focus_only, still kept


async def test_skip_hides_what_came_so_far(capsys):
    async with audiolab.open(clock="virtual") as lab:
        log = EventLog(lab, kinds={"VolumeChanged"})
        music = await lab.play(sine(440, 0.5), role=Role.MUSIC, app="Music")
        await lab.set_volume(music.session_id, 0.5)
        await lab.sleep(0)
        log.skip()
        await lab.set_volume(music.session_id, 0.25)
        await log.show()
        log.close()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "volume=0.25" in lines[0]


async def test_level_reads_the_gain_after_a_duck():
    async with audiolab.open(clock="virtual", policy="windows") as lab:
        music = await lab.play(sine(440, 0.5), role=Role.MUSIC, app="Music")
        assert await level(lab, music.session_id, 0.5) == pytest.approx(1.0, abs=0.01)
        await lab.play(sine(350, 0.5), role=Role.VOICE_COMMUNICATION, app="Phone", device="headset")
        await lab.sleep(1.5)
        assert await level(lab, music.session_id, 0.5) == pytest.approx(0.2, abs=0.01)
        with pytest.raises(ValueError, match="amplitude must be a number > 0"):
            await level(lab, music.session_id, 0)


async def test_bad_filters_are_refused():
    async with audiolab.open(clock="virtual") as lab:
        with pytest.raises(ValueError, match="not both"):
            EventLog(lab, kinds={"Ducked"}, focus_only=True)


@pytest.mark.parametrize(("guess", "answer", "said"), [
    (None, 0.2, "no guess yet: the service says 0.2."),
    (0.2, 0.2, "right: 0.2"),
    (0.21, 0.2, "not quite: you said 0.21, the service says 0.2"),
    ("deny", "DENY", "right: 'DENY'"),
    ("pause", "DENY", "not quite: you said 'pause', the service says 'DENY'"),
])
def test_check_says_right_or_not(guess, answer, said, capsys):
    check(guess, answer, tolerance=0.005)
    assert capsys.readouterr().out.startswith(said)


def test_check_refuses_text_for_a_number():
    with pytest.raises(TypeError, match="give a number"):
        check("a lot", 7)


def test_the_shipped_trace_and_a_missing_one():
    assert lesson_trace().name == "pulseaudio-phone-ducks-music.jsonl"
    with pytest.raises(FileNotFoundError, match="the shipped traces are pulseaudio-phone-ducks-music"):
        lesson_trace("nope")


def _daemons_on(socket: str) -> list[int]:
    from pathlib import Path

    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if socket.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


async def test_the_private_pulseaudio_answers_and_goes_away():
    from audiolab.lessons import private_pulseaudio

    async with private_pulseaudio() as server:
        assert server is not None and server.startswith("unix:")
        async with audiolab.open("pulse", server=server) as lab:
            assert lab.backend_name == "pulse"
        assert _daemons_on(server[5:])
    assert _daemons_on(server[5:]) == []


def test_the_private_pulseaudio_dies_with_a_killed_kernel():
    import signal
    import subprocess
    import sys
    import time

    code = ("import anyio, time\nfrom audiolab.lessons import private_pulseaudio\n"
            "async def main():\n    async with private_pulseaudio() as server:\n"
            "        print(server, flush=True)\n        time.sleep(60)\nanyio.run(main)\n")
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as child:
        try:
            server = child.stdout.readline().strip()
            assert server.startswith("unix:") and _daemons_on(server[5:])
        finally:
            child.send_signal(signal.SIGKILL)  # no cleanup runs: as when a kernel is killed
            child.wait()
    deadline = time.monotonic() + 5
    while _daemons_on(server[5:]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _daemons_on(server[5:]) == []
    import shutil
    from pathlib import Path

    shutil.rmtree(Path(server[5:]).parent, ignore_errors=True)  # its folder: the killed process left it
