"""Each [[action]] kind is read into its own frozen dataclass, with its keys as typed fields."""

from __future__ import annotations

import dataclasses

import pytest

from audiolab.model import ConcurrencyMode, Role
from audiolab.scenarios import (
    ActivateAction,
    DeactivateAction,
    OptOutAction,
    PauseAction,
    ResumeAction,
    SetPolicyAction,
    StartAction,
    StopAction,
    VolumeAction,
    parse_scenario,
)

EVERY_KIND = '''
[scenario]
description = "one action of every kind"

[[action]]
at = 0
do = "start"
id = "Music"
app = "player"
role = "navigation"
tone = "square"
frequency = 330
level_db = -6
duration = 5

[[action]]
at = 0.5
do = "activate"
app = "player"
mode = "duck_others"

[[action]]
at = 1
do = "volume"
id = "Music"
mute = true

[[action]]
at = 1.5
do = "opt_out"
id = "Music"
value = false

[[action]]
at = 2
do = "pause"
id = "Music"

[[action]]
at = 2.5
do = "resume"
id = "Music"

[[action]]
at = 3
do = "set_policy"
use = "windows"
settings = { ducking = "mute" }
policy = "windows"

[[action]]
at = 3.5
do = "deactivate"
app = "player"

[[action]]
at = 4
do = "stop"
id = "Music"
'''


def test_every_kind_is_its_own_dataclass_with_typed_fields():
    actions = parse_scenario(EVERY_KIND).actions
    kinds = [type(a) for a in actions]
    assert kinds == [StartAction, ActivateAction, VolumeAction, OptOutAction, PauseAction, ResumeAction,
                     SetPolicyAction, DeactivateAction, StopAction]
    assert [a.do for a in actions] == ["start", "activate", "volume", "opt_out", "pause", "resume", "set_policy",
                                       "deactivate", "stop"]
    start, activate, volume, opt_out, _, _, switch, deactivate, stop = actions
    assert isinstance(start, StartAction)
    assert (start.id, start.app, start.role, start.tone, start.frequency, start.duration) == (
        "Music", "player", Role.NAVIGATION, "square", 330.0, 5.0)
    assert start.amplitude == pytest.approx(10 ** (-6 / 20))
    assert start.continuous and start.line == 5 and start.index == 0
    assert isinstance(activate, ActivateAction) and activate.mode is ConcurrencyMode.DUCK_OTHERS
    assert isinstance(volume, VolumeAction) and (volume.volume, volume.mute) == (None, True)
    assert isinstance(opt_out, OptOutAction) and opt_out.value is False
    assert isinstance(switch, SetPolicyAction) and (switch.use, dict(switch.settings)) == ("windows", {"ducking": "mute"})
    assert switch.applies_to("windows") and not switch.applies_to("harmonyos")
    assert [a.subject for a in (start, deactivate, stop, switch)] == ["Music", "player", "Music", None]


def test_actions_are_frozen_and_keep_a_params_view():
    start = parse_scenario(EVERY_KIND).actions[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        start.id = "Other"  # type: ignore[misc]
    assert start.params["id"] == "Music" and start.params["role"] is Role.NAVIGATION
    assert "at" not in start.params and "line" not in start.params


@pytest.mark.parametrize(("build", "words"), [
    (lambda: StartAction(at=0, id="M", app="M", role=Role.MUSIC, frequency=5.0), "frequency"),
    (lambda: StartAction(at=0, id="M", app="M", role=Role.MUSIC, amplitude=0.0), "amplitude"),
    (lambda: StartAction(at=-1, id="M", app="M", role=Role.MUSIC), "at must be"),
    (lambda: StopAction(at=0, id=""), "id must be"),
    (lambda: VolumeAction(at=0, id="M"), "volume and/or mute"),
    (lambda: VolumeAction(at=0, id="M", volume=1.5), "volume must be"),
    (lambda: ActivateAction(at=0, app="A", mode="loud"), "ConcurrencyMode"),  # type: ignore[arg-type]
    (lambda: DeactivateAction(at=0, app=" "), "app must be"),
    (lambda: SetPolicyAction(at=0), "names a policy"),
    (lambda: SetPolicyAction(at=0, use="macos"), "use must be"),
    (lambda: PauseAction(at=0, id="M", policies=("macos",)), "policies"),
])
def test_an_action_built_in_code_is_checked_as_one_read_from_a_file(build, words):
    with pytest.raises(ValueError, match=words):
        build()


def test_a_valid_action_built_in_code_equals_the_one_read_from_a_file():
    read = parse_scenario(EVERY_KIND).actions[-1]
    assert read == StopAction(at=4.0, id="Music", line=read.line, index=read.index)
