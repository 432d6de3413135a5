"""Every lesson in notebooks/ runs top to bottom headless (nbclient, a kernel of the project venv) on the
simulated service, and shows what it says it shows. The exercises' guesses are left empty, so each check
prints the service's answer: those answers are checked here against the rules the lessons teach."""

from __future__ import annotations

import itertools
import re
import time

import nbclient
import nbformat
import pytest

from .jupyter import NOTEBOOKS, private_jupyter_env

LESSONS = sorted(p.name for p in NOTEBOOKS.glob("0[2-9]-*.ipynb"))
BUDGET_SECONDS = 60  # each runs in 3-20 s here; the budget leaves room for a loaded 2-core machine


@pytest.fixture
def run_lesson(tmp_path, monkeypatch):
    for key, value in private_jupyter_env(tmp_path / "jupyter").items():
        monkeypatch.setenv(key, value)

    def run(name: str) -> str:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                                         resources={"metadata": {"path": str(tmp_path)}})
        started = time.monotonic()
        client.execute()
        took = time.monotonic() - started
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert errors == []
        assert took < BUDGET_SECONDS, f"{name} took {took:.1f} s"
        return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                         if o.get("output_type") == "stream")

    return run


def answers(text: str) -> list[str]:
    return re.findall(r"the service says (.+?)\. Set your guess", text)


def test_the_lessons_are_numbered_and_linked_in_order():
    assert LESSONS == ["02-sessions.ipynb", "03-persistence.ipynb", "04-windows-ducking.ipynb",
                       "05-harmonyos-focus.ipynb", "06-comparing-systems.ipynb",
                       "07-debugging-a-real-server.ipynb"]
    for name, following in itertools.pairwise(LESSONS):
        text = NOTEBOOKS.joinpath(name).read_text(encoding="utf-8")
        assert f"]({following})" in text, f"{name} does not link to {following}"


def test_sessions_lesson(run_lesson):
    out = run_lesson("02-sessions.ipynb")
    assert "System Sounds | system sounds: True | cross-process: True" in out
    assert re.search(r"Player #1: guid=0{8}-.* cross_process=False pid=(\d+)", out)
    assert "the same application? True" in out and "same session: True | streams in it: 2" in out
    assert "10.00s  SessionExpired      Player #2" in out and "SessionRemoved      Player #1" in out
    assert "set to 0.30: ['Game (window 1)', 'Game (window 2)']" in out
    assert answers(out) == ["6", "False"]  # 6 sessions; an ungrouped instance is not moved by the group


def test_persistence_lesson(run_lesson):
    out = run_lesson("03-persistence.ipynb")
    assert "music:    volume 0.40, muted True, display name ''" in out  # volume, mute kept; name not
    assert "recorder: volume 1.00, muted False" in out                 # capture not persisted
    assert "reason=server_shutdown" in out
    assert answers(out) == ["0.2"]                                     # the last instance to end wins
    assert "file left as it was: True" in out and "is corrupt" in out


def test_windows_ducking_lesson(run_lesson):
    out = run_lesson("04-windows-ducking.ipynb")
    assert "music half-way through the fade: 0.6" in out and "music during the call: 0.2" in out
    levels = dict(re.findall(r"^(mute|reduce_80|reduce_50|nothing)\s+music at ([\d.]+)$", out, re.MULTILINE))
    assert levels == {"mute": "0.00", "reduce_80": "0.20", "reduce_50": "0.50", "nothing": "1.00"}
    assert "music 0.50, podcast (opted out) 1.00" in out
    assert re.search(r"DuckNotification\s+Podcasts .* started, 1 active", out)  # notified though opted out
    assert "started, 2 active" in out
    assert answers(out) == ["1.0", "7"]  # a call on the speakers ducks nothing; 7 unduck notifications


def test_harmonyos_lesson(run_lesson):
    out = run_lesson("05-harmonyos-focus.ipynb")
    assert "STREAM_MUSIC                then STREAM_NAVIGATION           -> DUCK  on existing (force)" in out
    assert "music during the prompt: 0.20" in out and "music during the call: 0.00, state inactive" in out
    assert re.search(r"InterruptEvent\s+Music\s+share resume", out)
    assert "PAUSE_OTHERS turns STOP into PAUSE" in out
    assert "after 59 s idle: True" in out and "after 61 s idle: False" in out
    assert re.search(r"SessionDeactivated\s+Cinema\s+reason=timeout", out)
    assert answers(out) == ["'DENY'", "'inactive'", "63"]


def test_comparing_lesson(run_lesson):
    out = run_lesson("06-comparing-systems.ipynb")
    # live: a call under harmonyos pauses the music; each switch of the policy re-evaluates it
    assert re.search(r"^windows\s+music active\s+at 0\.20$", out, re.MULTILINE), out
    assert re.search(r"^pulseaudio\s+music active\s+at 1\.00$", out, re.MULTILINE)
    assert re.search(r"^android\s+music inactive at 0\.00$", out, re.MULTILINE)
    assert "Music under windows (full): Windows ducks only for streams on the communications device" in out
    assert answers(out) == ["3", "'pulseaudio'"]


@pytest.mark.parametrize("source", ["private PulseAudio", "shipped trace"])
def test_debugging_lesson(run_lesson, monkeypatch, source):
    if source == "shipped trace":
        monkeypatch.setenv("AUDIOLAB_LESSON_TRACE", "1")
    out = run_lesson("07-debugging-a-real-server.ipynb")
    assert ("live: a private PulseAudio at unix:" in out) == (source == "private PulseAudio")
    assert "module-role-ducking #2 (trigger_roles=phone ducking_roles=music volume=30%)" in out
    duck = re.search(r"Ducked\s+Rhythmbox .*\(caused by Linphone\), measured (-[\d.]+) dB\n\s+why: module-role-ducking",
                     out)
    assert duck and abs(float(duck.group(1)) + 31.4) < 1.5
    assert re.search(r"Unducked\s+Rhythmbox", out) and re.search(r"VolumeChanged\s+Rhythmbox\s+volume=0.60", out)
    said = answers(out)
    assert abs(float(said[0]) + 31.4) < 1.5 and said[1] == "'VolumeChanged'"
