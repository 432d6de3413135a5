"""`watch --json` starts with a snapshot; `watch --reconnect` and `explain --watch --reconnect` follow a private
PulseAudio across a kill and a restart at the same address, say so, and leave no process behind."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

import audiolab
from audiolab.cli import EXIT_INTERRUPTED, main
from audiolab.events import SessionCreated, SessionRemoved
from audiolab.explain_watch import Narrator
from audiolab.model import SessionState
from tests.processes import OutputLines, alive
from tests.servers import pulseaudio_server


def test_watch_json_starts_with_a_snapshot_of_the_sessions(capsys):
    assert main(["watch", "--backend", "sim", "--json", "--duration", "0.2"]) == 0
    first, *rest = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["kind"] == "Snapshot" and first["backend"] == "sim" and first["time"].count(":") == 2
    assert [s["app"] for s in first["sessions"]] == ["System Sounds"]
    assert all(e["kind"] != "Snapshot" for e in rest)


@pytest.mark.parametrize("args", [["watch", "--backend", "sim", "--reconnect"],
                                  ["explain", "--backend", "sim", "--watch", "--reconnect"],
                                  ["explain", "--backend", "sim", "--reconnect"]])
def test_reconnect_without_a_server_to_follow_is_one_line_and_status_2(capsys, args):
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1 and "--reconnect" in captured.err
    assert "Traceback" not in captured.err


@contextlib.contextmanager
def following(command: list[str], env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], OutputLines,
                                                                          OutputLines, list[str]]]:
    """``audiolab COMMAND --backend pulse --reconnect``: the process, its stdout lines, the lines its notices go to
    (stderr beside --json) and, once it ended, what it wrote to stderr. Killed and its pipes closed at the end."""
    watcher = subprocess.Popen([sys.executable, "-m", "audiolab.cli", *command, "--backend", "pulse", "--reconnect",
                                "--no-detect", "--duration", "60"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert watcher.stdout is not None and watcher.stderr is not None
    out = OutputLines(watcher)
    notices = OutputLines(watcher, "stderr") if "--json" in command else out
    err: list[str] = []
    try:
        yield watcher, out, notices, err
    finally:
        if watcher.poll() is None:
            watcher.kill()
        watcher.wait()
        err.append("".join(notices.seen) if notices is not out else watcher.stderr.read())
        watcher.stdout.close()
        watcher.stderr.close()


@pytest.mark.pulse
@pytest.mark.parametrize("command", [["watch", "--json"], ["watch"], ["explain", "--watch"]])
def test_reconnect_follows_the_server_across_a_kill_and_a_restart(command):
    socket = f"/tmp/al-cli-reconnect-{os.getpid()}-{command[-1].strip('-')}.sock"
    try:
        with pulseaudio_server(socket=socket) as first:
            first.play_tone(0.3, client_name="Before", role="music")
            first.wait_sink_input("Before")
            with following(command, first.env) as (watcher, out, notices, err):
                if "--json" in command:
                    snapshot = json.loads(out.wait_for('"kind": "Snapshot"'))
                    assert [s["app"] for s in snapshot["sessions"]] == ["Before"]
                else:
                    out.wait_for("watching")
                first.kill()
                went = notices.wait_for("went away")
                assert f"the server at unix:{socket} went away" in went and "waiting for it to come back" in went
                first.stop()  # the players too: the first server is gone for good
                assert watcher.poll() is None  # still following
                with pulseaudio_server(socket=socket) as second:
                    second.play_tone(0.3, client_name="After", role="music")
                    back = notices.wait_for("reconnected")
                    assert f"reconnected to the server at unix:{socket}; its sessions follow" in back
                    out.wait_for("After")  # its sessions are reported again
                    watcher.send_signal(signal.SIGINT)  # Ctrl-C
                    watcher.wait(timeout=15)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(socket)
    assert watcher.returncode == EXIT_INTERRUPTED and "Traceback" not in err[0], err
    assert not alive(watcher.pid)


@pytest.mark.anyio
async def test_the_narrator_names_a_new_session_that_reuses_an_old_id():
    """A restarted server numbers its clients and streams from the start again: the id of a session that ended
    comes back for another app, and the narration names that app."""
    async with audiolab.open("sim") as lab:
        narrator = Narrator(lab, lambda ts: f"{ts:.1f}")
        (system,) = lab.snapshot()
        before = dataclasses.replace(system, id="pulse:client/5/sink/0", app="Before", display_name="",
                                     state=SessionState.ACTIVE)
        after = dataclasses.replace(before, app="After")
        narrator.lines(SessionCreated(timestamp=1.0, session_id=before.id, session=before))
        (ended,) = narrator.lines(SessionRemoved(timestamp=2.0, session_id=before.id))
        assert ended.startswith("2.0 Before (") and ended.endswith("ended")
        (line,) = narrator.lines(SessionCreated(timestamp=3.0, session_id=after.id, session=after))
        assert line.startswith("3.0 After (") and "started" in line
