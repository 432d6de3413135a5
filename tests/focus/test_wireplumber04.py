"""WirePlumber 0.4's role-based endpoints policy: the model rule by rule (policy-endpoint-client.lua findRole(),
policy-endpoint-client-links.lua rescan()/getAction() at tag 0.4.13), then held against a private WirePlumber
0.4.13 running that policy (Debian's 50-endpoints-config.lua with its comment markers removed)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from audiolab import Role
from audiolab.focus import FocusAttributes, FocusEngine, PolicyError, load_policy
from audiolab.focus.explain import why_nothing
from tests.servers import AudioServer, wireplumber_endpoints_server

from .conftest import kinds, req


def stream(sid: str, media_role: str | None, role: Role = Role.UNKNOWN):
    return req(sid, role, attributes=FocusAttributes(media_role=media_role))


def test_roles_are_50_endpoints_config():
    # 50-endpoints-config.lua: the playback roles, their priorities and actions
    roles = load_policy("wireplumber-0.4").roles
    table = {n: (r.priority, r.actions.get("action.default")) for n, r in roles.items() if r.media_class == "Audio/Sink"}
    assert table == {"Multimedia": (25, "cork"), "Speech-Low": (30, "cork"), "Custom-Low": (35, "cork"),
                     "Navigation": (50, "duck"), "Speech-High": (60, "cork"), "Custom-High": (65, "cork"),
                     "Communication": (75, "cork"), "Emergency": (99, "cork")}
    assert roles["Multimedia"].aliases == ("Movie", "Music", "Game")
    assert roles["Emergency"].aliases == ("Alert",)
    assert load_policy("wireplumber-0.4").duck_level == 0.3  # 10-default-policy.lua duck.level


@pytest.mark.parametrize(("media_role", "expected", "fallback"), [
    ("Navigation", "Navigation", False), ("Music", "Multimedia", False), ("Alert", "Emergency", False),
    ("navigation", "Multimedia", True), ("event", "Multimedia", True), ("phone", "Multimedia", True),
    (None, "Multimedia", True),
])
def test_find_role_aliases_and_fallback(media_role, expected, fallback):
    # policy-endpoint-client.lua findRole(): a role, an alias (case matters), else the lowest priority of the class
    role, fell_back = load_policy("wireplumber-0.4").endpoint_role(media_role)
    assert (role.name, fell_back) == (expected, fallback)


def test_navigation_ducks_multimedia_by_duck_level():
    # getAction(): Navigation's action.default = duck; duck() sets the endpoint's monitorVolume to duck.level
    engine = FocusEngine(load_policy("wireplumber-0.4"))
    engine.start(stream("music", "Music"), 0)
    acts = engine.start(stream("maps", "Navigation"), 1)
    assert kinds(acts) == [("Duck", "music")] and acts[0].gain == pytest.approx(0.3)
    assert acts[0].reason.rule["action_key"] == "action.default" and acts[0].reason.rule["winner_role"] == "Navigation"
    assert kinds(engine.stop(stream("maps", "Navigation"), 2)) == [("Unduck", "music")]


def test_same_role_uses_its_own_action():
    # Navigation's action.Navigation = mix: two prompts mix; Multimedia has none: action.default cork
    engine = FocusEngine(load_policy("wireplumber-0.4"))
    engine.start(stream("a", "Navigation"), 0)
    assert engine.start(stream("b", "Navigation"), 1) == []
    engine = FocusEngine(load_policy("wireplumber-0.4"))
    engine.start(stream("a", "Music"), 0)
    acts = engine.start(stream("b", "Movie"), 1)
    assert kinds(acts) == [("Pause", "a"), ("Interrupt", "a")]  # the newest link wins a tie


def test_lower_priority_newcomer_is_corked_by_the_first_link():
    # rescan(): links sorted by priority then plug time; the first link's role acts on all others
    engine = FocusEngine(load_policy("wireplumber-0.4"))
    engine.start(stream("call", "Communication"), 0)
    acts = engine.start(stream("music", "Music"), 1)
    assert kinds(acts) == [("Pause", "music"), ("Interrupt", "music")] and acts[0].mechanism == "unlink"


def test_audiolab_roles_fall_back_to_multimedia():
    # the media.role audiolab's own players set (lowercase) is none of the roles: everything is Multimedia
    engine = FocusEngine(load_policy("wireplumber-0.4"))
    engine.start(req("music", Role.MUSIC), 0)
    acts = engine.start(req("maps", Role.NAVIGATION), 1)
    assert kinds(acts) == [("Pause", "music"), ("Interrupt", "music")]
    assert acts[0].reason.rule["fallback"] is True and acts[0].reason.rule["winner_media_role"] == "navigation"


def test_why_nothing_names_the_mixing_action():
    why = why_nothing(load_policy("wireplumber-0.4"), stream("a", "Navigation"), stream("b", "Navigation"))
    assert why.rule["action"] == "mix" and why.rule["action_key"] == "action.Navigation"


def test_bad_settings_and_roles_are_refused():
    with pytest.raises(PolicyError, match="duck_level"):
        load_policy("wireplumber-0.4", duck_level=2)
    with pytest.raises(ValueError, match="media_role"):
        FocusAttributes(media_role="")


# --- against a private WirePlumber 0.4.13 running the endpoints policy ---------------------------------------


@pytest.fixture(scope="module")
def endpoints_server() -> Iterator[AudioServer]:
    with wireplumber_endpoints_server() as server:
        yield server


def _wait(predicate, what: str, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _monitor_db(server: AudioServer, endpoint: str) -> float:
    for block in server.pactl("list", "sources").split("\n\n"):
        if f"Name: control.endpoint.{endpoint}.monitor" in block:
            return float(re.search(r"Volume: .*?/\s*(-?[\d.]+|-inf) dB", block).group(1))
    raise AssertionError(f"no control.endpoint.{endpoint}.monitor source")


def _music(server: AudioServer) -> dict[str, str]:
    return next(s for s in server.sink_inputs() if s.get("application.name") == "music")


@pytest.mark.pipewire
@pytest.mark.parametrize("other", ["phone", "Navigation", "navigation", "event", None])
def test_model_agrees_with_wireplumber_0_4_13(endpoints_server, other):
    # music ("Music") plays, then a stream of role `other` starts: the model's prediction for the music is what
    # the server does to it: corked (its sink-input corked, on no sink) or ducked (the Multimedia endpoint's
    # monitor source at duck.level, the music's own volume untouched)
    server = endpoints_server
    engine = FocusEngine(load_policy("wireplumber-0.4"))
    engine.start(stream("music", "Music"), 0)
    predicted = {a.kind for a in engine.start(stream("other", other), 1)}
    music = server.play_tone(0.5, client_name="music", role="Music")
    try:
        server.wait_sink_input("music")
        _wait(lambda: _music(server).get("corked") == "no", "the music to play")
        newcomer = server.play_tone(0.5, client_name="other", role=other)
        try:
            server.wait_sink_input("other")
            if "Pause" in predicted:
                _wait(lambda: _music(server).get("corked") == "yes", "the music to be corked")
                assert _music(server)["sink"] == str(2**32 - 1)  # on no sink
            else:
                assert "Duck" in predicted
                _wait(lambda: abs(_monitor_db(server, "multimedia") - (-10.46)) < 0.05, "the Multimedia duck")
                assert _music(server).get("corked") == "no"
                assert "/ 100% /" in _music(server)["volume"]  # the stream's own volume stays
        finally:
            newcomer.stop()
        # the model undoes it when the newcomer ends; so does the server, while the music's link remains
        assert {a.kind for a in engine.stop(stream("other", other), 2)} & {"Resume", "Unduck"}
        _wait(lambda: _music(server).get("corked") == "no", "the music to play again")
        _wait(lambda: _monitor_db(server, "multimedia") == 0.0, "the duck to be undone")
    finally:
        music.stop()
    _wait(lambda: not server.sink_inputs(), "the streams to go")
