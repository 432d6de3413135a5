"""Bad input gets a clear error and changes nothing; faults end every subscription with the error. One test per
rule found by trying to break the public API (issue 15, items 7-14)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import anyio
import numpy as np
import pytest

import audiolab
from audiolab import BackendDisconnected, PolicyError, Role, ScenarioError, SessionState
from audiolab.backends._base import Backend
from audiolab.clock import VirtualClock
from audiolab.focus import load_policy
from audiolab.model import MeterFrame
from audiolab.scenarios import SetPolicyAction
from audiolab.scenarios.format import parse_scenario
from audiolab.tones import sine
from audiolab.trace import read_trace

pytestmark = pytest.mark.anyio

HEADER = '{"format": "audiolab-trace", "version": 1, "backend": "sim"}'
SNAPSHOT = '{"t": 0, "snapshot": []}'


def policy_data(name: str) -> dict:
    from audiolab.focus.policy import datasets_dir

    return json.loads((datasets_dir() / f"{name}.json").read_text())


# --- 7: time that never ends ----------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "error", "message"), [
    (math.nan, ValueError, "finite"), (math.inf, ValueError, "finite"), (-1.0, ValueError, ">= 0"),
    ("1", TypeError, "number"), (None, TypeError, "number"),
])
async def test_sleep_refuses_time_that_is_not_a_finite_number_and_the_clock_stays(seconds, error, message):
    async with audiolab.open(clock="virtual") as lab:
        await lab.play(sine(440), role=Role.MUSIC, app="Music")
        with pytest.raises(error, match=message):
            await lab.sleep(seconds)
        assert lab.clock.now() == 0.0
        await lab.sleep(np.float32(0.5))  # numpy numbers are numbers
        assert lab.clock.now() == 0.5


async def test_a_long_virtual_sleep_can_be_cancelled():
    async with audiolab.open(clock="virtual") as lab:
        await lab.play(sine(440), role=Role.MUSIC, app="Music")
        with anyio.move_on_after(0.5) as scope:
            await lab.sleep(1e9)  # ten years of 10 ms blocks: only a checkpoint per virtual second stops it
        assert scope.cancelled_caught
        assert 0 < lab.clock.now() < 1e9


async def test_virtual_clock_refuses_non_finite_advances():
    clock = VirtualClock()
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match="finite"):
            await clock.advance(bad)
    with pytest.raises(TypeError, match="number"):
        await clock.advance("1")  # type: ignore[arg-type]
    assert clock.now() == 0.0


@pytest.mark.parametrize(("t", "message"), [
    ("NaN", "bad time nan"), ("Infinity", "bad time inf"), ("1e12", "bad time 1000000000000.0"),
    ('"1"', "must be a number"), ("true", "must be a number"),
])
def test_trace_line_times_are_finite_and_bounded(tmp_path, t, message):
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join([HEADER, SNAPSHOT, f'{{"t": {t}, "meters": {{"peaks": {{}}, "channel_peaks": {{}}}}}}']))
    with pytest.raises(ScenarioError, match=message) as info:
        read_trace(path)
    assert info.value.line == 3


# --- 8: a tone above Nyquist ----------------------------------------------------------------------------


async def test_a_tone_above_nyquist_is_refused_before_any_session_exists():
    async with audiolab.open(clock="virtual") as lab, lab.events() as events:
        before = lab.snapshot()
        with pytest.raises(ValueError, match=r"sine 30000 Hz -6\.0 dBFS: 30000 Hz is at or above the Nyquist"):
            await lab.play(sine(30000, 0.5), role=Role.MUSIC, app="Music")
        await lab.sleep(1)
        assert lab.snapshot() == before
        with pytest.raises(anyio.WouldBlock):
            events.receive_nowait()
        assert not lab.sim.engine.running_streams()


async def test_a_tone_above_nyquist_starts_no_player_process(monkeypatch):
    from audiolab.audio import player

    spawned: list[object] = []

    async def spawn(*args, **kwargs):
        spawned.append(args)
        raise AssertionError("a child was started")

    monkeypatch.setattr(player.ToneProcess, "spawn", classmethod(lambda cls, *a, **k: spawn(*a, **k)))
    with pytest.raises(ValueError, match=r"-6\.0 dBFS"):
        await player.ToneProcess.start(sine(30000, 0.5), app="Music", media_name="Music")
    assert spawned == []


# --- 9: what a policy is ----------------------------------------------------------------------------------


async def test_a_policy_given_as_a_path_is_loaded_and_anything_else_is_refused(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({**policy_data("windows"), "settings": {"ducking": "mute"}}))
    async with audiolab.open(clock="virtual", policy=path) as lab:
        assert lab.sim.policy.kind == "windows" and lab.sim.policy.settings["ducking"] == "mute"
        await lab.set_policy(Path(path), ducking="reduce_50")
        assert lab.sim.policy.settings["ducking"] == "reduce_50"
        for bad in (5, None, ["windows"]):
            with pytest.raises(TypeError, match="focus policy"):
                await lab.set_policy(bad)
            assert lab.sim.policy.settings["ducking"] == "reduce_50"
        with pytest.raises(TypeError, match="policy object"):
            await lab.set_policy(lab.sim.policy, ducking="mute")
    for bad in (5, None):
        with pytest.raises(TypeError, match="focus policy"):
            async with audiolab.open(clock="virtual", policy=bad):
                pass


# --- 12: meters end with the error ------------------------------------------------------------------------


class _Vanishing(Backend):
    """A backend whose server goes away when told to."""

    name = "vanishing"

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.gone = anyio.Event()

    async def start(self, emit) -> None:  # type: ignore[no-untyped-def]
        pass

    async def run(self) -> None:
        await self.gone.wait()
        raise BackendDisconnected("the server went away")

    async def aclose(self) -> None:
        pass

    def snapshot(self) -> list:
        return []

    async def set_volume(self, session_id: str, volume: float) -> None:
        pass

    async def set_mute(self, session_id: str, muted: bool) -> None:
        pass

    async def start_meters(self) -> None:
        pass

    def read_meters(self) -> MeterFrame:
        return MeterFrame(self.clock.now(), {}, {})


async def test_meter_subscribers_get_backend_disconnected_like_event_subscribers(monkeypatch):
    backend = _Vanishing()
    monkeypatch.setattr("audiolab.lab.make_backend", lambda name, options: backend)
    async with audiolab.open("sim") as lab, lab.events() as events, lab.meters(rate=50) as frames:
        await frames.receive()
        backend.gone.set()
        with anyio.fail_after(5):
            with pytest.raises(BackendDisconnected):
                async for _ in frames:
                    pass
            with pytest.raises(BackendDisconnected):
                async for _ in events:
                    pass


# --- 13: validation gaps ----------------------------------------------------------------------------------

SCENARIO = '''[scenario]
description = "music"
policy = "windows"

[scenario.settings.windows]
ducking = "{ducking}"

[[action]]
at = {at}
do = "start"
id = "music"

[[expect]]
at = 1.0
id = "music"
gain = "{gain}"
'''


@pytest.mark.parametrize(("values", "line", "message"), [
    ({"gain": "nandB"}, 16, "<= 0dB"),
    ({"ducking": "loud"}, 5, r"\[scenario.settings.windows\]: .*ducking must be one of"),
    ({"at": "1e5"}, 9, "<= 600"),
])
def test_scenario_values_are_checked_when_the_file_is_read_with_its_line(values, line, message):
    text = SCENARIO.format(**{"gain": "-6dB", "ducking": "mute", "at": "0.0", **values})
    with pytest.raises(ScenarioError, match=message) as info:
        parse_scenario(text, path="s.toml")
    assert info.value.line == line


SWITCH = '''[scenario]
description = "music, then a switch of settings"
policy = "harmonyos"
policies = ["harmonyos", "windows"]

[[action]]
at = 0.0
do = "start"
id = "music"

[[action]]
at = 1.0
do = "set_policy"
settings = { ducking = "mute" }
'''


def test_settings_alone_in_set_policy_are_checked_against_the_policy_in_force_with_their_line():
    with pytest.raises(ScenarioError, match=r"under harmonyos .*unknown setting\(s\) \['ducking'\]") as info:
        parse_scenario(SWITCH, path="s.toml")
    assert info.value.line == 14
    scoped = SWITCH.replace('do = "set_policy"', 'do = "set_policy"\npolicy = "windows"')
    switch = parse_scenario(scoped).actions[1]
    assert isinstance(switch, SetPolicyAction) and switch.settings == {"ducking": "mute"}


async def test_settings_that_do_not_fit_the_policy_of_a_run_fail_it_with_the_file_and_line():
    from audiolab.scenarios import run_scenario_async

    windows_only = SWITCH.replace('policy = "harmonyos"', 'policy = "windows"').replace(
        'policies = ["harmonyos", "windows"]', 'policies = ["windows"]')
    scenario = parse_scenario(windows_only, path="s.toml")  # checked against windows, where it fits
    with pytest.raises(ScenarioError, match=r"s\.toml:11: \[\[action\]\] #2: under pulseaudio"):
        await run_scenario_async(scenario, "pulseaudio")


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": []}, "'kind' must be one of"),
    ({"usage_to_focus_type": {"STREAM_USAGE_MUSIC": ["x"]}}, "must be a stream type name"),
    ({"role_to_usage": {"music": "STREAM_USAGE_MUSIC"}, "usage_to_focus_type": {"STREAM_USAGE_MUSIC": "MUSIC"}},
     "STREAM_USAGE_UNKNOWN"),
    ({"session_types": {"MUSIC": 3}}, "session_types"),
    ({"source": 1.5}, "'source'"),
])
def test_a_policy_that_would_fail_at_play_time_is_refused_when_loaded(tmp_path, change, message):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({**policy_data("harmonyos"), **change}))
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_deep_nesting_is_a_documented_error_in_every_reader(tmp_path):
    trace = tmp_path / "t.jsonl"
    trace.write_text("\n".join([HEADER, '{"t": 0, "snapshot": ' + _deep(100_000) + "}"]))
    with pytest.raises(ScenarioError, match="nested too deeply"):
        read_trace(trace)
    policy = tmp_path / "p.json"
    policy.write_text(_deep(100_000))
    with pytest.raises(PolicyError, match="nested too deeply"):
        load_policy(policy)
    with pytest.raises(ScenarioError):
        parse_scenario("x = " + _deep(100_000))


VOLUME_CHANGED = ('{"t": 1, "event": {"kind": "VolumeChanged", "timestamp": 1, "session_id": "a", "volume": VOLUME, '
                  '"muted": false, "origin": "unknown"}}')


@pytest.mark.parametrize(("line", "message"), [
    (VOLUME_CHANGED.replace("VOLUME", "7.5"), "volume must be in 0..1"),
    (VOLUME_CHANGED.replace("VOLUME", "null"), "must be a finite number"),
    ('{"t": 1, "event": {"kind": "Ducked", "timestamp": 1, "session_id": "a", "gain": -0.5}}', "gain must be >= 0"),
    ('{"t": 1, "meters": {"peaks": {"a": NaN}, "channel_peaks": {}}}', r"peaks\['a'\] must be a finite level"),
    ('{"t": 1, "meters": {"peaks": {}, "channel_peaks": {"a": [0.5, -1]}}}', "finite level >= 0"),
    ('{"event": {}}', "missing key 't'"),
    ('{"t": 1, "meters": {"channel_peaks": {}}}', "missing key 'peaks'"),
])
def test_trace_values_are_range_checked_and_messages_say_what_is_wrong(tmp_path, line, message):
    path = tmp_path / "t.jsonl"
    path.write_text(f"{HEADER}\n{SNAPSHOT}\n{line}")
    with pytest.raises(ScenarioError, match=message) as info:
        read_trace(path)
    assert info.value.line == 3


# --- 14: argument handling --------------------------------------------------------------------------------


async def test_numpy_numbers_and_bools_are_accepted_where_python_ones_are():
    async with audiolab.open(clock="virtual") as lab:
        music = await lab.play(sine(440), role=Role.MUSIC, app="Music")
        await lab.set_volume(music.session_id, np.float32(0.5))
        await lab.set_mute(music.session_id, np.bool_(True))
        await lab.set_channel_volume(music.session_id, np.int64(1), np.float64(0.25))
        session = lab.session(music.session_id)
        assert (session.volume, session.muted, session.channel_volumes) == (0.5, True, (1.0, 0.25))
        assert type(session.muted) is bool and type(session.volume) is float


@pytest.mark.parametrize(("max_buffer", "error", "message"), [
    (math.nan, TypeError, "max_buffer must be an int"), ("x", TypeError, "max_buffer must be an int"),
    (0, ValueError, "at least 1"), (True, TypeError, "max_buffer must be an int"),
])
async def test_events_max_buffer_is_a_positive_int(max_buffer, error, message):
    async with audiolab.open(clock="virtual") as lab:
        with pytest.raises(error, match=message):
            lab.events(max_buffer)
        assert lab.statistics().event_subscribers == ()


async def test_play_cross_process_must_be_a_bool():
    async with audiolab.open(clock="virtual") as lab:
        before = lab.snapshot()
        with pytest.raises(TypeError, match="cross_process must be a bool"):
            await lab.play(sine(440), cross_process="no")  # type: ignore[arg-type]
        assert lab.snapshot() == before


@pytest.mark.parametrize("method", ["set_volume", "set_mute", "set_channel_volume", "set_display_name",
                                    "set_icon_path", "set_grouping_param", "set_ducking_preference", "session"])
async def test_a_wrong_type_session_id_is_a_type_error_on_every_backend(method, tmp_path):
    from audiolab.trace import Trace

    args = {"set_volume": (0.5,), "set_mute": (True,), "set_channel_volume": (0, 0.5), "set_display_name": ("x",),
            "set_icon_path": ("x",), "set_grouping_param": (audiolab.NULL_GUID,), "set_ducking_preference": (True,),
            "session": ()}[method]
    for backend, options in (("sim", {"clock": "virtual"}), ("replay", {"trace": Trace("sim", [])})):
        async with audiolab.open(backend, **options) as lab:
            with pytest.raises(TypeError, match="a session id is a str, not int"):
                result = getattr(lab, method)(42, *args)
                if method != "session":
                    await result


async def test_a_play_call_never_awaited_warns():
    async with audiolab.open(clock="virtual") as lab:
        with pytest.warns(RuntimeWarning, match="was never awaited"):
            lab.play(sine(440), role=Role.MUSIC, app="Music")  # dropped at once: nothing refers to it
        assert [s for s in lab.snapshot() if s.state is SessionState.ACTIVE] == []


@pytest.mark.parametrize("reader", ["scenario", "trace", "policy"])
def test_a_fifo_in_place_of_a_file_is_refused_at_once_not_waited_on(tmp_path, reader):
    import os
    import threading

    from audiolab.scenarios import load_scenario

    path = tmp_path / ("x.json" if reader == "policy" else "x.toml")
    os.mkfifo(path)
    load = {"scenario": load_scenario, "trace": read_trace, "policy": load_policy}[reader]
    errors: list[BaseException] = []

    def read() -> None:
        try:
            load(path)
        except BaseException as exc:  # noqa: BLE001 - inspected below
            errors.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive(), f"the {reader} reader waits on a FIFO"
    assert len(errors) == 1 and isinstance(errors[0], (ScenarioError, PolicyError))
    assert "not a regular file" in str(errors[0])
