"""Malformed scenario files give a ScenarioError naming the file and the line at fault."""

from __future__ import annotations

import pytest

from audiolab import ScenarioError
from audiolab.scenarios import StartAction, load_scenario, parse_scenario, resolve

HEAD = '[scenario]\ndescription = "test"\n\n'
START = '[[action]]\nat = 0\ndo = "start"\nid = "Music"\n\n'

BAD = [
    # (name, text, line at fault, words in the message)
    ("toml syntax", HEAD + START + "[[action]]\nat = = 1\n", 10, "not valid TOML"),
    ("no scenario table", START, 1, "[scenario]"),
    ("no description", '[scenario]\npolicy = "windows"\n\n' + START, 1, "description"),
    ("unknown policy", '[scenario]\ndescription = "x"\npolicy = "macos"\n\n' + START, 3, "unknown policy 'macos'"),
    ("unknown action", HEAD + START + '[[action]]\nat = 1\ndo = "explode"\n', 11, "'do' must be one of"),
    ("missing at", HEAD + START + '[[action]]\ndo = "stop"\nid = "Music"\n', 9, "'at'"),
    ("negative at", HEAD + START + '[[action]]\nat = -1\ndo = "stop"\nid = "Music"\n', 10, ">= 0"),
    ("unknown role", HEAD + '[[action]]\nat = 0\ndo = "start"\nid = "Music"\nrole = "disco"\n', 8, "unknown role 'disco'"),
    ("typo in a key", HEAD + START + '[[expect]]\nat = 1\nid = "Music"\ngian = 0.2\n', 12, "unknown key 'gian'"),
    ("unknown player", HEAD + START + '[[expect]]\nat = 1\nid = "Radio"\ngain = 1.0\n', 11, "no player 'Radio'"),
    ("stop before start", HEAD + START + '[[action]]\nat = 1\ndo = "stop"\nid = "Maps"\n', 12, "no player 'Maps'"),
    ("started twice", HEAD + START + START, 12, "started twice"),
    ("gain out of range", HEAD + START + '[[expect]]\nat = 1\nid = "Music"\ngain_max = 2\n', 12, "gain_max"),
    ("bad mode", HEAD + START + '[[action]]\nat = 1\ndo = "activate"\napp = "M"\nmode = "loud"\n', 13, "unknown mode"),
    ("bad policy setting", HEAD + START + '[[action]]\nat = 1\ndo = "set_policy"\nuse = "windows"\n'
     'settings = { ducking = "half" }\n', 13, "ducking must be one of"),
    ("gain of a ring", HEAD + '[[action]]\nat = 0\ndo = "start"\nid = "R"\ntone = "ring"\n\n'
     '[[expect]]\nat = 1\nid = "R"\ngain = 1.0\n', 13, "continuous tone"),
    ("bad state", HEAD + START + '[[expect]]\nat = 1\nid = "Music"\nstate = "asleep"\n', 12, "'state' must be one of"),
    ("player and app", HEAD + START + '[[expect]]\nat = 1\nid = "Music"\napp = "Music"\ngain = 1\n', 9, "one player"),
    ("unknown gain type", HEAD + '[[action]]\nat = 0\ndo = "start"\nid = "M"\ngain = "gain_forever"\n', 8,
     "unknown gain 'gain_forever'"),
    ("flags not a list", HEAD + '[[action]]\nat = 0\ndo = "start"\nid = "M"\nflags = "delay_ok"\n', 8,
     "'flags' must be a list"),
    ("unknown category", HEAD + '[[action]]\nat = 0\ndo = "start"\nid = "M"\ncategory = "loud"\n', 8,
     "unknown category 'loud'"),
    ("option its category refuses", HEAD + '[[action]]\nat = 0\ndo = "start"\nid = "M"\ncategory = "record"\n'
     'options = ["duckOthers"]\n', 9, "only with playback"),
    ("empty told", HEAD + START + '[[expect]]\nat = 1\nid = "Music"\ntold = ""\n', 12, "'told'"),
    ("bad ios setting", '[scenario]\ndescription = "x"\n[scenario.settings.ios]\nsilent_switch = "on"\n\n' + START,
     3, "silent_switch"),
]


@pytest.mark.parametrize("name, text, line, words", BAD, ids=[b[0] for b in BAD])
def test_malformed_file_names_the_file_and_line(tmp_path, name, text, line, words):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    error = info.value
    assert error.path == str(path) and error.line == line, str(error)
    assert words in str(error) and str(error).startswith(f"{path}:{line}: ")


def test_actions_run_in_time_order_not_file_order():
    late_start = START.replace("at = 0", "at = 1")
    scenario = parse_scenario(HEAD + '[[action]]\nat = 2\ndo = "stop"\nid = "Music"\n\n' + late_start)
    assert [a.do for a in scenario.actions] == ["start", "stop"] and scenario.duration == 3.0
    with pytest.raises(ScenarioError, match=r"no player 'Music' has started by t=0\.5") as info:
        parse_scenario(HEAD + '[[action]]\nat = 0.5\ndo = "stop"\nid = "Music"\n\n' + late_start, path="x.toml")
    assert info.value.line == 7  # its `id = "Music"` line


def test_db_levels_and_usage_names_are_accepted():
    scenario = parse_scenario(HEAD + '[[action]]\nat = 0\ndo = "start"\nid = "M"\nusage = "STREAM_USAGE_NAVIGATION"\n'
                              'level_db = -6\n\n[[expect]]\nat = 1\nid = "M"\ngain_max = "-14dB"\n')
    start = scenario.actions[0]
    assert isinstance(start, StartAction)
    assert start.role.value == "navigation" and start.amplitude == pytest.approx(0.501, abs=1e-3)
    assert scenario.expectations[0].checks[0].expected == pytest.approx(0.1995, abs=1e-4)


def test_unknown_shipped_name_lists_the_shipped_ones():
    with pytest.raises(ScenarioError, match="music-navigation"):
        resolve("no-such-scenario")
