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
