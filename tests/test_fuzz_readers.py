"""Property tests of the four readers of user files: the scenario parser, the trace reader, the policy loader
and the persistence store. Any input either loads and runs, or raises the reader's documented error
(ScenarioError, ScenarioError, PolicyError; the store warns with PersistenceWarning and runs in memory), never
anything else and never a hang.

Inputs are valid files mutated (a value replaced by a tricky one, a line dropped, doubled or replaced by
junk), which reaches far deeper than random bytes. The budget is fixed: derandomized examples (the same ones
every run), a count per reader (``EXAMPLES``) and a watchdog per example; about 13 s together on the 2-core
development machine.
"""

from __future__ import annotations

import contextlib
import json
import signal
import warnings
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import anyio
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import audiolab
from audiolab import PolicyError, Role, ScenarioError
from audiolab.backends.sim.persistence import PersistenceWarning, VolumeStore
from audiolab.focus import FocusEngine, FocusRequest, load_policy
from audiolab.focus.policy import BUILTIN, datasets_dir
from audiolab.scenarios import parse_scenario, run_scenario_async, scenarios_dir
from audiolab.trace import Trace, read_trace

T = TypeVar("T")
EXAMPLES = {"scenario": 70, "trace": 250, "policy": 300, "store": 300}
WATCHDOG_SECONDS = 20.0

BUDGET = {"deadline": None, "derandomize": True, "database": None, "print_blob": True,
          "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                    HealthCheck.data_too_large]}


@contextlib.contextmanager
def watchdog(seconds: float = WATCHDOG_SECONDS) -> Iterator[None]:
    """Fail (rather than hang) when a synchronous reader takes longer than ``seconds``."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"a reader took longer than {seconds} s: it hangs")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load_or_refuse(load: Callable[[], T], error: type[Exception]) -> T | None:
    """What ``load()`` returns, or None when it raised the reader's documented ``error``; under a watchdog."""
    with watchdog():
        try:
            return load()
        except error:
            event("refused")
            return None


def run_briefly(main: Callable[[], Awaitable[None]]) -> None:
    async def guarded() -> None:
        with anyio.fail_after(WATCHDOG_SECONDS):
            await main()

    anyio.run(guarded)


# --- mutations ------------------------------------------------------------------------------------------

TOML_VALUES = ["nan", "inf", "-inf", "-1", "0", "0.5", "2", "59.5", "1e5", "1e308", "true", "[]", "{}", "[[]]",
               '""', '"x"', '"nandB"', '"-infdB"', '"-6dB"', '"music"', '"navigation"', '"voice_communication"',
               '"harmonyos"', '"windows"', '"speakers"', '"nowhere"', '"start"', '"stop"', '"activate"',
               '"deactivate"', '"set_policy"', '"opt_out"', '"duck_others"', '{ ducking = "x" }', "'''\\n'''"]
TOML_KEYS = ["at", "do", "id", "app", "role", "usage", "tone", "frequency", "amplitude", "level_db", "duration",
             "device", "mode", "volume", "mute", "use", "settings", "value", "gain", "gain_max", "state",
             "interrupt", "activated", "deactivated", "policy", "tolerance", "[[action]]", "[[expect]]",
             "[scenario.settings.windows]"]

JSON_VALUES = [float("nan"), float("inf"), -1, 0, 0.5, 7.5, 1e12, -1e-9, True, None, "", "x", "speakers",
               [], {}, [0.5, "x"], {"kind": []}, [[[[[]]]]]]

line_edit = st.tuples(st.sampled_from(["value", "drop", "double", "insert", "junk"]), st.integers(0, 10_000),
                      st.integers(0, 10_000), st.text(max_size=12))


def mutate_lines(text: str, edits: list[tuple[str, int, int, str]]) -> str:
    lines = text.splitlines()
    for op, at, pick, junk in edits:
        if not lines:
            break
        i = at % len(lines)
        if op == "value" and "=" in lines[i]:
            lines[i] = lines[i].split("=", 1)[0] + "= " + TOML_VALUES[pick % len(TOML_VALUES)]
        elif op == "drop":
            del lines[i]
        elif op == "double":
            lines.insert(i, lines[i])
        elif op == "insert":
            key = TOML_KEYS[pick % len(TOML_KEYS)]
            lines.insert(i, key if key.startswith("[") else f"{key} = {TOML_VALUES[pick % len(TOML_VALUES)]}")
        else:
            lines[i] = junk
    return "\n".join(lines) + "\n"


json_edit = st.tuples(st.sampled_from(["replace", "delete"]), st.lists(st.integers(0, 1000), min_size=1,
                                                                       max_size=6), st.integers(0, 1000))


def mutate_json(data: object, edit: tuple[str, list[int], int]) -> object:
    """Replace (or delete) one node of ``data``, reached by the path of child indexes (taken modulo)."""
    op, path, pick = edit
    data = json.loads(json.dumps(data))
    parent: object = None
    key: object = None
    node = data
    for step in path:
        children = list(node) if isinstance(node, dict) else range(len(node)) if isinstance(node, list) else []
        if not children:
            break
        parent, key = node, list(children)[step % len(children)]
        node = node[key]  # type: ignore[index]
    if parent is None:
        return JSON_VALUES[pick % len(JSON_VALUES)]
    if op == "delete":
        del parent[key]  # type: ignore[attr-defined]
    else:
        parent[key] = JSON_VALUES[pick % len(JSON_VALUES)]  # type: ignore[index]
    return data


# --- the scenario parser --------------------------------------------------------------------------------

SCENARIOS = sorted(p.read_text() for p in scenarios_dir().glob("*.toml"))


@settings(max_examples=EXAMPLES["scenario"], **BUDGET)
@given(base=st.sampled_from(SCENARIOS), edits=st.lists(line_edit, min_size=1, max_size=3))
def test_any_scenario_text_loads_and_runs_or_raises_scenario_error(base, edits):
    scenario = load_or_refuse(lambda: parse_scenario(mutate_lines(base, edits), path="fuzz.toml"), ScenarioError)
    if scenario is not None:
        event("loaded and ran")
        run_briefly(lambda: run_scenario_async(scenario))


# --- the trace reader -----------------------------------------------------------------------------------


def _base_trace() -> list[str]:
    """A small valid trace: two sessions, their events, meter frames."""
    from audiolab.backends.sim.client import SimClient
    from audiolab.backends.sim.engine import SimEngine
    from audiolab.events import event_to_dict
    from audiolab.model import Origin

    events: list[object] = []
    now = [0.0]
    engine = SimEngine(emit=events.append, now=lambda: now[0], policy="harmonyos")
    snapshot = [s.to_dict() for s in engine.snapshot()]
    music = SimClient(engine, "Music").open_stream(role=Role.MUSIC, start=True)
    now[0] = 0.5
    SimClient(engine, "Maps").open_stream(role=Role.NAVIGATION, start=True)
    engine.set_volume(music.session_id, 0.4, Origin.THIS_CLIENT)
    engine.set_channel_volume(music.session_id, 1, 0.5, Origin.OTHER_CLIENT)
    now[0] = 1.0
    music.stop()
    lines = [json.dumps({"format": "audiolab-trace", "version": 1, "backend": "sim"}),
             json.dumps({"t": 0.0, "snapshot": snapshot})]
    for happened in events:
        lines.append(json.dumps({"t": happened.timestamp, "event": event_to_dict(happened)}))  # type: ignore[attr-defined]
        lines.append(json.dumps({"t": happened.timestamp, "meters": {  # type: ignore[attr-defined]
            "peaks": {music.session_id: 0.5}, "channel_peaks": {music.session_id: [0.5, 0.25]},
            "device_peaks": {"speakers": 0.6}}}))
    return lines


TRACE = _base_trace()


async def _replay(trace: Trace) -> None:
    async with audiolab.open("replay", trace=trace, clock="virtual") as lab, lab.events() as events:
        await lab.sleep(trace.duration + 1)
        assert lab.backend.position == len(trace.entries)
        while True:
            try:
                events.receive_nowait()
            except anyio.WouldBlock:
                break
        lab.snapshot()
        if trace.has_meters:
            async with lab.meters(rate=10) as frames:
                await lab.sleep(0.2)
                await frames.receive()


@settings(max_examples=EXAMPLES["trace"], **BUDGET)
@given(line=st.integers(0, len(TRACE) - 1), edit=json_edit, lines=st.lists(line_edit, max_size=2))
def test_any_trace_loads_and_replays_or_raises_scenario_error(tmp_path_factory, line, edit, lines):
    rows = list(TRACE)
    rows[line] = json.dumps(mutate_json(json.loads(rows[line]), edit))
    path = tmp_path_factory.mktemp("trace") / "fuzz.jsonl"
    path.write_text(mutate_lines("\n".join(rows), lines) if lines else "\n".join(rows))
    trace = load_or_refuse(lambda: read_trace(path), ScenarioError)
    if trace is not None:
        event("loaded and replayed")
        run_briefly(lambda: _replay(trace))


# --- the policy loader ----------------------------------------------------------------------------------

POLICIES = {name: json.loads((datasets_dir() / f"{name}.json").read_text()) for name in BUILTIN}
ROLES = list(Role)


def _run_policy(policy: object) -> None:
    engine = FocusEngine(policy)  # type: ignore[arg-type]
    requests = [FocusRequest(f"s{i}", f"st{i}", role, app=f"App{i}", on_communications_device=i % 2 == 1)
                for i, role in enumerate(ROLES)]
    for t, request in enumerate(requests):
        engine.start(request, float(t))
    for t, request in enumerate(requests):
        engine.stop(request, float(len(requests) + t))


@settings(max_examples=EXAMPLES["policy"], **BUDGET)
@given(name=st.sampled_from(BUILTIN), edits=st.lists(json_edit, min_size=1, max_size=3), toml=st.booleans())
def test_any_policy_file_loads_and_runs_or_raises_policy_error(tmp_path_factory, name, edits, toml):
    data: object = POLICIES[name]
    for edit in edits:
        data = mutate_json(data, edit)
    folder = tmp_path_factory.mktemp("policy")
    path = folder / "fuzz.json"
    text = json.dumps(data)
    if toml:  # the same text read as TOML: mostly not valid TOML, which must also be a PolicyError
        path = folder / "fuzz.toml"
    path.write_text(text)
    policy = load_or_refuse(lambda: load_policy(path), PolicyError)
    if policy is not None:
        event("loaded and ran")
        with watchdog():
            _run_policy(policy)


# --- the persistence store ------------------------------------------------------------------------------

STORE = {"version": 1, "sessions": {"speakers|00000000-0000-0000-0000-000000000000|app:Music":
                                    {"volume": 0.5, "muted": False},
                                    "headset|00000000-0000-0000-0000-000000000000|*": {"volume": 1, "muted": True}}}

store_bytes = st.one_of(
    st.binary(max_size=64),
    json_edit.map(lambda edit: json.dumps(mutate_json(STORE, edit)).encode()),
    st.integers(1, 200_000).map(lambda depth: b"[" * depth + b"]" * depth),
)


@settings(max_examples=EXAMPLES["store"], **BUDGET)
@given(content=store_bytes)
def test_any_store_file_loads_or_warns_and_is_left_as_it_was(tmp_path_factory, content):
    path: Path = tmp_path_factory.mktemp("store") / "volumes.json"
    path.write_bytes(content)
    with watchdog(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store = VolumeStore(path)
        store.put("speakers|g|app:Fuzz", 0.25, False)
    warned = [w for w in caught if issubclass(w.category, PersistenceWarning)]
    event("warned, in memory" if warned else "loaded")
    assert [w for w in caught if w not in warned] == []
    if warned:
        assert store.in_memory and path.read_bytes() == content
    else:
        assert not store.in_memory and VolumeStore(path).get("speakers|g|app:Fuzz") is not None


@pytest.mark.parametrize("name", BUILTIN)
def test_every_bundled_policy_loads_and_runs(name):
    _run_policy(load_policy(name))
