"""Loading policies: settings validation and malformed files."""

from __future__ import annotations

import json

import pytest

from audiolab.focus import BUILTIN, FocusEngine, PolicyError, load_policy
from audiolab.model import Role

from .conftest import req


@pytest.mark.parametrize("name", BUILTIN)
def test_builtins_load(name):
    assert load_policy(name).kind == name


@pytest.mark.parametrize(
    "name, settings, match",
    [
        ("windows", {"ducking": "reduce_90"}, "ducking must be one of"),
        ("windows", {"fade_seconds": -1}, "fade_seconds"),
        ("windows", {"volume": 1}, "unknown setting"),
        ("pulseaudio", {"ducking_volume": "loud"}, "volume"),
        ("pulseaudio", {"global": "maybe"}, "boolean"),
        ("wireplumber", {"duck_level": 1.5}, "duck_level"),
        ("wireplumber", {"duck_level": float("nan")}, "duck_level"),
        ("harmonyos", {"duck_gain": "x"}, "duck_gain"),
    ],
)
def test_bad_settings(name, settings, match):
    with pytest.raises(PolicyError, match=match):
        load_policy(name, **settings)


def test_unknown_name():
    with pytest.raises(PolicyError, match="unknown policy"):
        load_policy("symbian")


def write(tmp_path, data, suffix=".json"):
    path = tmp_path / f"p{suffix}"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


@pytest.mark.parametrize(
    "data, match",
    [
        ("{not json", "not valid JSON"),
        ([], "top level"),
        ({"kind": "none"}, "'format'"),
        ({"format": "audiolab.focus/1", "kind": "symbian"}, "'kind'"),
        ({"format": "audiolab.focus/1", "kind": "none", "settings": []}, "'settings'"),
        ({"format": "audiolab.focus/1", "kind": "harmonyos", "settings": {}}, "'table'"),
        (
            {"format": "audiolab.focus/1", "kind": "harmonyos", "table": {"A": {"B": ["shared", "BOOM", "existing", "true"]}}},
            r"table\['A'\]\['B'\]: unknown action_type 'BOOM'",
        ),
        (
            {"format": "audiolab.focus/1", "kind": "harmonyos", "table": {"A": {"B": ["shared", "DUCK", "sideways", "true"]}}},
            "action_on",
        ),
        ({"format": "audiolab.focus/1", "kind": "windows", "settings": {"ducking": "mute"}}, "ducking_levels"),
        (
            {"format": "audiolab.focus/1", "kind": "wireplumber", "sinks": {"x": {"roles": ["Music"], "priority": "high"}}},
            "priority must be an integer",
        ),
    ],
)
def test_malformed_files(tmp_path, data, match):
    path = write(tmp_path, data)
    with pytest.raises(PolicyError, match=match) as info:
        load_policy(path)
    assert str(path) in str(info.value)


def test_missing_file_and_toml(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.json")
    path = write(tmp_path, 'format = "audiolab.focus/1"\nkind = "none"\n', ".toml")
    assert load_policy(path).kind == "none"
    with pytest.raises(PolicyError, match="TOML"):
        load_policy(write(tmp_path, "format = ", ".toml"))


def test_engine_rejects_bad_time_and_request():
    engine = FocusEngine(load_policy("none"))
    with pytest.raises(ValueError):
        engine.start(req("a"), float("nan"))
    with pytest.raises(TypeError):
        engine.start("a", 0)  # type: ignore[arg-type]
    assert engine.streams() == ()


def test_unknown_usage_changes_nothing():
    engine = FocusEngine(load_policy("harmonyos"))
    with pytest.raises(PolicyError):
        engine.start(req("a", Role.MUSIC, usage="STREAM_USAGE_TELEPATHY"), 0)
    assert engine.streams() == ()


def test_set_policy_releases_and_reevaluates():
    engine = FocusEngine(load_policy("harmonyos"))
    engine.start(req("music"), 0)
    engine.start(req("maps", Role.NAVIGATION), 1)
    acts = engine.set_policy(load_policy("wireplumber", duck_level=0.5), 2)
    assert [(a.kind, a.session_id, a.gain) for a in acts] == [("Duck", "music", 0.5)]
    acts = engine.set_policy(load_policy("none"), 3)
    assert [(a.kind, a.session_id) for a in acts] == [("Unduck", "music")]
