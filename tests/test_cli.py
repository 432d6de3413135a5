from __future__ import annotations

import json
import subprocess
import sys

from audiolab.cli import main


def test_sessions_json_is_valid_and_has_the_documented_fields(capsys):
    assert main(["sessions", "--backend", "sim", "--json"]) == 0
    sessions = json.loads(capsys.readouterr().out)
    assert isinstance(sessions, list) and sessions
    for field in ("id", "app", "display_name", "flow", "device", "state", "volume", "muted", "role"):
        assert field in sessions[0]
    assert sessions[0]["display_name"] == "System Sounds"


def test_sessions_table(capsys):
    assert main(["sessions", "--backend", "sim"]) == 0
    out = capsys.readouterr().out
    assert "backend: sim" in out and "System Sounds" in out and "volume" in out


def test_watch_json_lines_for_a_duration(capsys):
    assert main(["watch", "--backend", "sim", "--json", "--duration", "0.2"]) == 0
    for line in capsys.readouterr().out.splitlines():
        json.loads(line)


def test_demo_tells_the_whole_story(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "SessionCreated       Music_Player" in out
    assert "by this_client" in out
    assert "active -> inactive" in out
    assert "SessionExpired       Game" in out
    assert "reason=server_shutdown" in out
    assert "music volume after the restart: 0.40" in out
    assert "Final sessions:" in out


def test_the_installed_command_runs():
    result = subprocess.run([sys.executable, "-m", "audiolab.cli", "sessions", "--backend", "sim", "--json"],
                            capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(result.stdout)[0]["role"] == "system"
