"""An action on a player that has not started in the run it belongs to (its start is scoped to another policy,
or comes later) is a ScenarioError naming the file, the line and the player: when the file is read for the
policies it declares, and when it runs under any other (the CLI, the Python API, a Scenario built in Python)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from audiolab import ScenarioError
from audiolab.model import Role
from audiolab.scenarios import Scenario, StartAction, StopAction, load_scenario, run_scenario

START = '[[action]]\nat = 0\ndo = "start"\nid = "Music"\nrole = "music"\npolicy = "windows"\n\n'
HEADER_LINE = 14  # the [[action]] after HEAD and START (HEAD is 6 lines, START 7)

# (kind, the action's table after its at/do/id lines)
KINDS = [
    ("stop", ""),
    ("pause", ""),
    ("resume", ""),
    ("volume", "volume = 0.5\n"),
    ("opt_out", "value = true\n"),
]


def scenario_text(kind: str, extra: str, policies: str) -> str:
    head = f'[scenario]\ndescription = "x"\npolicy = "windows"\npolicies = {policies}\n\n\n'
    return head + START + f'[[action]]\nat = 1\ndo = "{kind}"\nid = "Music"\n{extra}'


@pytest.mark.parametrize("kind, extra", KINDS, ids=[k[0] for k in KINDS])
def test_reading_a_file_checks_its_references_under_each_policy_it_declares(tmp_path, kind, extra):
    path = tmp_path / "bad.toml"
    path.write_text(scenario_text(kind, extra, '["windows", "harmonyos"]'), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert (info.value.path, info.value.line) == (str(path), HEADER_LINE + 3)  # its `id = "Music"` line
    assert str(info.value) == (f"{path}:{HEADER_LINE + 3}: [[action]] #2: under harmonyos, no player 'Music' has "
                               "started by t=1 (its start is scoped to windows)")


@pytest.mark.parametrize("kind, extra", KINDS, ids=[k[0] for k in KINDS])
def test_running_under_another_policy_is_a_scenario_error_naming_the_line(tmp_path, kind, extra):
    path = tmp_path / "bad.toml"
    path.write_text(scenario_text(kind, extra, '["windows"]'), encoding="utf-8")
    assert run_scenario(path).policy == "windows"  # under the policies it declares, it runs
    with pytest.raises(ScenarioError) as info:
        run_scenario(path, "harmonyos")
    assert (info.value.path, info.value.line) == (str(path), HEADER_LINE)
    assert "[[action]] #2: under harmonyos, no player 'Music' has started by t=1 (its start is scoped to windows)" \
        in str(info.value)


def test_the_cli_says_it_in_one_line_and_exits_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(scenario_text("stop", "", '["windows"]'), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "audiolab.cli", "scenario", "run", str(path), "--policy", "harmonyos"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [f"audiolab scenario: {path}:{HEADER_LINE}: [[action]] #2: under harmonyos, no "
                                        "player 'Music' has started by t=1 (its start is scoped to windows)"]


def built(*actions) -> Scenario:
    return Scenario(name="built", description="built in Python", policy="windows", duration=3.0,
                    actions=tuple(actions), expectations=())


MUSIC = StartAction(at=1.0, id="Music", app="Music", role=Role.MUSIC)
# (name, a scenario built in Python, the words of its error)
BUILT = [
    ("stop of an unknown player", built(StopAction(at=0.0, id="Radio")), "no player 'Radio' has started by t=0"),
    ("stop before its start", built(StopAction(at=0.0, id="Music"), MUSIC),
     "no player 'Music' has started by t=0 (it starts at t=1, after this action)"),
    ("started twice", built(MUSIC, MUSIC), "player id 'Music' is started twice"),
]


@pytest.mark.parametrize("name, scenario, words", BUILT, ids=[b[0] for b in BUILT])
def test_a_scenario_built_in_python_gets_a_scenario_error(name, scenario, words):
    with pytest.raises(ScenarioError, match=r"^\[\[action\]\] #1: ") as info:
        run_scenario(scenario)
    assert words in str(info.value) and info.value.line is None
