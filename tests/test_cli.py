from __future__ import annotations

import json
import subprocess
import sys

import pytest

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


def test_demo_tells_the_whole_story(capsys, tmp_path):
    assert main(["demo", "--png", str(tmp_path / "t.png")]) == 0
    out = capsys.readouterr().out
    assert "SessionCreated       Music_Player" in out
    assert "by this_client" in out
    assert "active -> inactive" in out
    assert "SessionExpired       Game" in out
    assert "reason=server_shutdown" in out
    assert "music volume after the restart: 0.40" in out
    assert "Final sessions:" in out


def test_demo_then_tells_the_focus_story_with_causes(capsys, tmp_path):
    png = tmp_path / "timeline.png"
    assert main(["demo", "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert f"focus timeline written to {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    focus = out[out.index("== focus:"):]
    assert "Maps (navigation) ducks Music to 0.20" in focus
    assert "Phone (voice call) pauses Music" in focus
    assert "during the prompt: Music measured at 0.20 on the meters" in focus
    assert "during the call: Music measured at 0.00 on the meters" in focus
    assert "after the call: Music measured at 1.00 on the meters" in focus


def test_the_installed_command_runs():
    result = subprocess.run([sys.executable, "-m", "audiolab.cli", "sessions", "--backend", "sim", "--json"],
                            capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(result.stdout)[0]["role"] == "system"


# --- scenario --------------------------------------------------------------------------------------------


def test_scenario_list_shows_the_shipped_ones(capsys):
    assert main(["scenario", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("music-navigation", "music-call", "idle-timeout", "windows-call-ducking"):
        assert name in out


def test_scenario_run_prints_transitions_and_passes(capsys):
    assert main(["scenario", "run", "music-navigation"]) == 0
    out = capsys.readouterr().out
    assert "Maps (navigation) ducks Music to 0.20" in out
    assert "expectations passed" in out and "FAIL" not in out and "x real time" in out


def test_scenario_run_json_has_transitions_and_expectations(capsys):
    assert main(["scenario", "run", "windows-call-ducking", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["policy"] == "windows" and data["passed"] is True
    ducks = [t for t in data["transitions"] if t["kind"] == "Ducked"]
    assert ducks and ducks[0]["cause"] == "Call1"
    assert ducks[0]["why"]["rule"]["communications_device"] == "headset" and ducks[0]["why"]["rule"]["ducking"] == "mute"
    assert data["expectations"] and all({"check", "expected", "observed", "passed", "line"} <= set(e)
                                        for e in data["expectations"])


def test_scenario_run_exits_1_when_an_expectation_fails(tmp_path, capsys):
    path = tmp_path / "wrong.toml"
    path.write_text('[scenario]\ndescription = "claims windows ducks navigation"\npolicy = "windows"\n\n'
                    '[[action]]\nat = 0\ndo = "start"\nid = "Music"\n\n'
                    '[[action]]\nat = 1\ndo = "start"\nid = "Maps"\nrole = "navigation"\n\n'
                    '[[expect]]\nat = 2\nid = "Music"\ngain_max = 0.5\n', encoding="utf-8")
    assert main(["scenario", "run", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    (check,) = data["expectations"]
    assert check["passed"] is False and check["observed"] == 1.0 and check["line"] == 19  # its gain_max line


def test_scenario_bad_file_exits_2_with_the_line(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[scenario]\ndescription = "x"\n\n[[action]]\nat = 0\ndo = "dance"\n', encoding="utf-8")
    assert main(["scenario", "run", str(path)]) == 2
    assert f"{path}:6:" in capsys.readouterr().err


def test_scenario_compare_side_by_side(capsys):
    assert main(["scenario", "compare", "music-navigation", "--policies", "harmonyos,windows,pulseaudio,wireplumber"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("player"))
    assert header.split() == ["player", "harmonyos", "windows", "pulseaudio", "wireplumber"]
    music = next(line for line in out.splitlines() if line.startswith("Music"))
    assert "ducked to 0.20" in music and "ducked to 0.30" in music and "full" in music


def test_scenario_compare_json(capsys):
    assert main(["scenario", "compare", "two-music-apps", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["policies"]["harmonyos"]["players"]["Player"]["stopped_by_policy"] is True
    assert data["policies"]["windows"]["players"]["Player"]["state"] == "playing"


def test_scenario_compare_rejects_unknown_policies(capsys):
    with pytest.raises(SystemExit):
        main(["scenario", "compare", "music-navigation", "--policies", "harmonyos,macos"])
    assert "policies are" in capsys.readouterr().err


def test_tone_plays_through_its_own_session_and_writes_a_wav(capsys, tmp_path):
    import wave

    import numpy as np

    path = tmp_path / "tone.wav"
    assert main(["tone", "440", "--seconds", "0.5", "--amplitude", "0.5", "--role", "navigation",
                 "--app", "Maps", "--wav", str(path)]) == 0
    out = capsys.readouterr().out
    assert "as 'Maps' (navigation)" in out
    peak = float(out.split("peak meter ")[1].split()[0])
    assert abs(peak - 0.5) < 0.01
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") / 32768
    assert abs(np.abs(data).max() - 0.5) < 0.01


def test_scenario_run_json_gives_each_focus_transition_its_rule(capsys):
    assert main(["scenario", "run", "music-call", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    focus = [t for t in data["transitions"] if t["kind"] in ("InterruptEvent", "Ducked", "Unducked", "FocusDenied")]
    assert focus and all(t["why"] and t["why"]["kind"] == "harmonyos" and t["why"]["text"] for t in focus)
    pause = next(t for t in focus if t["text"] == "Ring (ringtone) pauses Music")
    assert (pause["why"]["rule"]["incoming"], pause["why"]["rule"]["existing"]) == ("STREAM_RING", "STREAM_MUSIC")


def test_scenario_run_prints_why_under_each_transition(capsys):
    assert main(["scenario", "run", "music-navigation"]) == 0
    lines = capsys.readouterr().out.splitlines()
    duck = next(i for i, line in enumerate(lines) if "ducks Music to 0.20" in line)
    assert "why: HarmonyOS interrupt table: STREAM_NAVIGATION starting while STREAM_MUSIC plays" in lines[duck + 1]


def test_scenario_compare_says_why_pulseaudio_left_the_music_alone(capsys):
    assert main(["scenario", "compare", "windows-call-ducking"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.strip().startswith("Music under pulseaudio"))
    assert "acts per device (global=0)" in line and "on headset" in line and "on speakers" in line
    assert "Music under windows, ducking = mute (muted): Windows ducks other sounds" in out


def test_scenario_compare_json_has_the_explanations(capsys):
    assert main(["scenario", "compare", "music-call", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    why = data["explanations"]["Music"]
    assert why["windows"]["rule"]["incoming_device"] == "speakers" and why["windows"]["predicted_gain"] == 1.0
    assert why["pulseaudio"]["rule"]["module"] == "module-role-cork"


def test_watch_lines_carry_the_rule():
    from audiolab._format import describe_event
    from audiolab.events import Ducked
    from audiolab.reason import Reason

    why = Reason(policy="harmonyos", kind="harmonyos", text="the table says DUCK.")
    line = describe_event(Ducked(timestamp=1.0, session_id="m", gain=0.2, cause_session_id="n", why=why))
    assert line.endswith("why: the table says DUCK.")
