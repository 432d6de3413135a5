"""The scenario file format (TOML): parsing and validation into frozen dataclasses.

Every error is a :class:`ScenarioError` naming the file and the line at fault: TOML syntax errors carry
tomllib's line; for a semantic error the line of the offending key (or of its ``[[action]]`` /
``[[expect]]`` header) is found by scanning the text. See :mod:`audiolab.scenarios` for the format.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import ScenarioError
from .._files import read_text_file
from .._toml import tomllib
from ..focus.ios import IOSPolicy
from ..focus.policy import BUILTIN, PolicyError, load_policy
from ..focus.request import FocusAttributes, FocusRequest
from ..model import ConcurrencyMode, Flow, Role

POLICIES = BUILTIN
TONES = ("sine", "square", "triangle", "sawtooth", "ring", "beeps")
ACTIONS = ("start", "stop", "pause", "resume", "activate", "deactivate", "volume", "set_policy", "opt_out")
STATES = ("playing", "paused", "stopped", "denied")
REASONS = ("timeout", "lower_priority")
DEFAULT_TOLERANCE = 0.03
MAX_SECONDS = 600.0
"""The longest scenario: 10 minutes of virtual time (it runs at about 66x real time, so ~10 s)."""

_SCENARIO_KEYS = {"name", "description", "policy", "duration", "settings", "policies"}
_COMMON = {"at", "do", "policy"}
_ACTION_KEYS = {
    "start": {"id", "app", "role", "usage", "tone", "frequency", "amplitude", "level_db", "duration", "device",
              "gain", "flags", "target_sdk", "category", "options", "mode", "notify_others", "media_role"},
    "stop": {"id"},
    "pause": {"id"},
    "resume": {"id"},
    "activate": {"app", "mode"},
    "deactivate": {"app"},
    "volume": {"id", "volume", "mute"},
    "set_policy": {"use", "settings"},
    "opt_out": {"id", "value"},
}
_PLAYER_CHECKS = {"gain", "gain_max", "gain_min", "state", "duck_notifications", "unduck_notifications",
                  "interrupt", "told"}
_APP_CHECKS = {"activated", "deactivated"}
_EXPECT_KEYS = {"at", "id", "app", "policy", "tolerance", "note"} | _PLAYER_CHECKS | _APP_CHECKS
_HINTS = ("none", "duck", "unduck", "pause", "resume", "stop")


@dataclass(frozen=True)
class Action:
    """One timeline entry. ``params`` holds the keys of its kind (see the format); ``line`` its header."""

    at: float
    do: str
    params: dict[str, Any]
    policies: tuple[str, ...] = ()
    line: int | None = None
    index: int = 0
    """Its position among the file's [[action]] tables."""

    def applies_to(self, policy: str) -> bool:
        return not self.policies or policy in self.policies


@dataclass(frozen=True)
class Check:
    """One checked key of an expectation: ``what`` (e.g. "gain_max") and the expected value."""

    what: str
    expected: Any
    line: int | None = None


@dataclass(frozen=True)
class Expectation:
    """One ``[[expect]]`` entry: what to check about a player or an app at a given time."""

    at: float
    subject: str
    """A player id (``id = ...``) or an app name (``app = ...``)."""
    subject_kind: str  # "player" | "app"
    checks: tuple[Check, ...]
    policies: tuple[str, ...] = ()
    tolerance: float = DEFAULT_TOLERANCE
    note: str = ""
    line: int | None = None

    def applies_to(self, policy: str) -> bool:
        return not self.policies or policy in self.policies


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file: its description, policies, actions and expectations."""

    name: str
    description: str
    policy: str
    duration: float
    actions: tuple[Action, ...]
    expectations: tuple[Expectation, ...]
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: tuple[str, ...] = ("harmonyos", "windows", "pulseaudio", "wireplumber")
    path: str | None = None

    def players(self) -> dict[str, Action]:
        """The start action of every player id."""
        return {a.params["id"]: a for a in self.actions if a.do == "start"}


# --- locating lines ------------------------------------------------------------------------------------


class _Lines:
    """Finds the line of a table's header or of a key inside it, by scanning the text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def header(self, table: str, index: int | None = None) -> int | None:
        if index is None:
            pattern = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
        else:
            pattern = re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]")
        seen = -1
        for n, line in enumerate(self.lines, 1):
            if pattern.match(line):
                seen += 1
                if index is None or seen == index:
                    return n
        return None

    def key(self, table: str, index: int | None, key: str) -> int | None:
        start = self.header(table, index)
        if start is None:
            return None
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*[=.]")
        for n in range(start, len(self.lines)):
            text = self.lines[n]
            if re.match(r"^\s*\[", text):
                break
            if pattern.match(text):
                return n + 1
        return start


class _Where:
    """Raises ScenarioErrors for one table (``[scenario]``, the i-th ``[[action]]`` ...)."""

    def __init__(self, path: str, lines: _Lines, table: str, index: int | None) -> None:
        self.path, self.lines, self.table, self.index = path, lines, table, index

    @property
    def label(self) -> str:
        return f"[{self.table}]" if self.index is None else f"[[{self.table}]] #{self.index + 1}"

    def error(self, message: str, key: str | None = None) -> ScenarioError:
        line = self.lines.key(self.table, self.index, key) if key else self.lines.header(self.table, self.index)
        return ScenarioError(f"{self.label}: {message}", path=self.path, line=line)


# --- parsing -------------------------------------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file. Raises ScenarioError (file and line) on anything malformed."""
    path = Path(path)
    try:
        text = read_text_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read scenario file: {exc}", path=str(path)) from None
    return parse_scenario(text, path=str(path), default_name=path.stem)


def parse_scenario(text: str, *, path: str = "<string>", default_name: str = "scenario") -> Scenario:
    """Parse scenario TOML text (``path`` only names it in errors)."""
    if not isinstance(text, str):
        raise TypeError(f"parse_scenario() takes the TOML text as a str, not {type(text).__name__}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ScenarioError(f"not valid TOML: {exc}", path=path, line=int(match.group(1)) if match else None) from None
    except RecursionError:
        raise ScenarioError("not valid TOML: nested too deeply", path=path) from None
    lines = _Lines(text)
    top = _Where(path, lines, "scenario", None)
    unknown = sorted(set(data) - {"scenario", "action", "expect"})
    if unknown:
        raise ScenarioError(f"unknown top-level key(s) {unknown}; a scenario has [scenario], [[action]] and "
                            f"[[expect]]", path=path, line=_top_line(lines, unknown[0]))
    head = data.get("scenario")
    if not isinstance(head, dict):
        raise ScenarioError("a [scenario] table with a description is required", path=path, line=1)
    _no_unknown(head, _SCENARIO_KEYS, top)
    description = head.get("description")
    if not isinstance(description, str) or not description.strip():
        raise top.error("'description' (one line saying what the scenario shows) is required", "description")
    policy = head.get("policy", "harmonyos")
    _check_policy(policy, top, "policy")
    settings = head.get("settings", {})
    if not isinstance(settings, dict) or not all(isinstance(v, dict) and k in POLICIES for k, v in settings.items()):
        raise top.error("'settings' must be tables per policy, e.g. [scenario.settings.windows] ducking = "
                        "\"mute\"", "settings")
    policies = head.get("policies", ["harmonyos", "windows", "pulseaudio", "wireplumber"])
    if not isinstance(policies, list) or not policies:
        raise top.error("'policies' must be a non-empty list of policy names", "policies")
    for p in policies:
        _check_policy(p, top, "policies")
    for name, values in settings.items():
        _check_settings(name, values, path, lines)

    raw_actions = data.get("action", [])
    raw_expects = data.get("expect", [])
    if not isinstance(raw_actions, list) or not isinstance(raw_expects, list):
        raise ScenarioError("'action' and 'expect' must be arrays of tables ([[action]], [[expect]])", path=path)
    actions = [_action(raw, _Where(path, lines, "action", i)) for i, raw in enumerate(raw_actions)]
    if not actions:
        raise ScenarioError("a scenario needs at least one [[action]]", path=path, line=lines.header("scenario"))
    actions = sorted(actions, key=lambda a: a.at)  # stable: file order within one instant
    _check_references(actions, lines, path)
    for run in dict.fromkeys([policy, *policies]):
        _check_policy_switches(actions, run, path, lines)
    players = {a.params["id"]: a for a in actions if a.do == "start"}
    apps = {a.params["app"] for a in actions if "app" in a.params}
    expectations = [_expectation(raw, _Where(path, lines, "expect", i), players, apps)
                    for i, raw in enumerate(raw_expects)]
    last = max([a.at for a in actions] + [e.at for e in expectations])
    duration = head.get("duration", last + 1.0)
    if not _number(duration) or duration <= 0 or duration < last or duration > MAX_SECONDS:
        raise top.error(f"'duration' must be a number of seconds >= the last action/expectation ({last:g}) "
                        f"and <= {MAX_SECONDS:g}", "duration")
    return Scenario(
        name=str(head.get("name", default_name)),
        description=description.strip(),
        policy=policy,
        duration=float(duration),
        actions=tuple(actions),
        expectations=tuple(sorted(expectations, key=lambda e: e.at)),
        settings={k: dict(v) for k, v in settings.items()},
        policies=tuple(policies),
        path=path,
    )


def _top_line(lines: _Lines, key: str) -> int | None:
    for n, line in enumerate(lines.lines, 1):
        if re.match(rf"^\s*(\[+\s*)?{re.escape(key)}\b", line):
            return n
    return None


def _no_unknown(table: dict, known: set[str], where: _Where) -> None:
    for key in table:
        if key not in known:
            raise where.error(f"unknown key {key!r}; known: {', '.join(sorted(known))}", key)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_policy(value: Any, where: _Where, key: str) -> None:
    if value not in POLICIES:
        raise where.error(f"unknown policy {value!r}; use one of {', '.join(POLICIES)}", key)


def _scope(table: dict, where: _Where) -> tuple[str, ...]:
    scope = table.get("policy", [])
    scope = [scope] if isinstance(scope, str) else scope
    if not isinstance(scope, list):
        raise where.error("'policy' scopes the entry to one policy name or a list of them", "policy")
    for p in scope:
        _check_policy(p, where, "policy")
    return tuple(scope)


def _time(table: dict, where: _Where) -> float:
    if "at" not in table:
        raise where.error("'at' (seconds from the start) is required")
    at = table["at"]
    if not _number(at) or not 0 <= at <= MAX_SECONDS:
        raise where.error(f"'at' must be a number of seconds >= 0 and <= {MAX_SECONDS:g}, got {at!r}", "at")
    return float(at)


def _name(table: dict, key: str, where: _Where, required: bool = True) -> str | None:
    value = table.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise where.error(f"{key!r} must be a non-empty string", key if key in table else None)
    return value


def _level(value: Any, where: _Where, key: str) -> float:
    """A gain: linear 0..1, or a string "-14dB"."""
    if isinstance(value, str) and value.strip().lower().endswith("db"):
        try:
            db = float(value.strip()[:-2])
        except ValueError:
            raise where.error(f"{key} {value!r} is not a level like '-14dB'", key) from None
        if math.isnan(db) or db > 0:
            raise where.error(f"{key} must be <= 0dB, got {value!r}", key)
        return 10 ** (db / 20)
    if not _number(value) or not 0 <= value <= 1:
        raise where.error(f"{key} must be a linear gain in 0..1 or a level like '-14dB', got {value!r}", key)
    return float(value)


def _role(table: dict, where: _Where) -> Role:
    if "role" in table and "usage" in table:
        raise where.error("give 'role' or 'usage', not both", "usage")
    if "usage" in table:
        from ..focus import load_policy

        usage = table["usage"]
        by_usage = {u: r for r, u in load_policy("harmonyos").role_to_usage.items()}  # type: ignore[attr-defined]
        if usage not in by_usage:
            raise where.error(f"unknown usage {usage!r}; known: {', '.join(sorted(by_usage))}", "usage")
        return by_usage[usage]
    value = table.get("role", "music")
    try:
        return Role(value)
    except ValueError:
        raise where.error(f"unknown role {value!r}; known: {', '.join(r.value for r in Role)}", "role") from None


def _action(raw: Any, where: _Where) -> Action:
    if not isinstance(raw, dict):
        raise where.error("an action must be a table")
    do = raw.get("do")
    if do not in ACTIONS:
        raise where.error(f"'do' must be one of {', '.join(ACTIONS)}, got {do!r}", "do" if "do" in raw else None)
    _no_unknown(raw, _COMMON | _ACTION_KEYS[do], where)
    at, scope = _time(raw, where), _scope(raw, where)
    params: dict[str, Any] = {}
    if do == "start":
        params["id"] = _name(raw, "id", where)
        params["app"] = _name(raw, "app", where, required=False) or params["id"]
        params["role"] = _role(raw, where)
        tone = raw.get("tone", "sine")
        if tone not in TONES:
            raise where.error(f"'tone' must be one of {', '.join(TONES)}, got {tone!r}", "tone")
        params["tone"] = tone
        frequency = raw.get("frequency", 440.0)
        if not _number(frequency) or not 20 <= frequency <= 20000:
            raise where.error(f"'frequency' must be in 20..20000 Hz, got {frequency!r}", "frequency")
        params["frequency"] = float(frequency)
        if "amplitude" in raw and "level_db" in raw:
            raise where.error("give 'amplitude' or 'level_db', not both", "level_db")
        if "level_db" in raw:
            db = raw["level_db"]
            if not _number(db) or db > 0:
                raise where.error(f"'level_db' must be a level <= 0 dBFS, got {db!r}", "level_db")
            amplitude = 10 ** (db / 20)
        else:
            amplitude = raw.get("amplitude", 0.5)
        if not _number(amplitude) or not 0 < amplitude <= 1:
            raise where.error(f"'amplitude' must be a linear peak in (0, 1], got {amplitude!r}", "amplitude")
        params["amplitude"] = float(amplitude)
        duration = raw.get("duration")
        if duration is not None and (not _number(duration) or duration <= 0):
            raise where.error(f"'duration' must be > 0 seconds, got {duration!r}", "duration")
        params["duration"] = None if duration is None else float(duration)
        params["device"] = _name(raw, "device", where, required=False)
        from ..backends.sim.devices import default_devices  # noqa: PLC0415 - keep the format module light

        render = [d.id for d in default_devices() if d.flow is Flow.RENDER]
        if params["device"] is not None and params["device"] not in render:
            raise where.error(f"'device' must be a render device of the simulated service ({', '.join(render)}), "
                              f"got {params['device']!r}", "device")
        params["focus"] = _attributes(raw, where, params["role"])
    elif do in ("stop", "pause", "resume", "opt_out"):
        params["id"] = _name(raw, "id", where)
        if do == "opt_out":
            value = raw.get("value", True)
            if not isinstance(value, bool):
                raise where.error("'value' must be true or false", "value")
            params["value"] = value
    elif do in ("activate", "deactivate"):
        params["app"] = _name(raw, "app", where)
        if do == "activate":
            mode = raw.get("mode", "default")
            try:
                params["mode"] = ConcurrencyMode(mode)
            except ValueError:
                known = ", ".join(m.value for m in ConcurrencyMode)
                raise where.error(f"unknown mode {mode!r}; known: {known}", "mode") from None
    elif do == "volume":
        params["id"] = _name(raw, "id", where)
        if "volume" not in raw and "mute" not in raw:
            raise where.error("a volume action sets 'volume' (0..1) and/or 'mute' (true/false)")
        if "volume" in raw:
            volume = raw["volume"]
            if not _number(volume) or not 0 <= volume <= 1:
                raise where.error(f"'volume' must be in 0..1, got {volume!r}", "volume")
            params["volume"] = float(volume)
        if "mute" in raw:
            if not isinstance(raw["mute"], bool):
                raise where.error("'mute' must be true or false", "mute")
            params["mute"] = raw["mute"]
    elif do == "set_policy":
        use = raw.get("use")
        if use is not None:
            _check_policy(use, where, "use")
        settings = raw.get("settings", {})
        if not isinstance(settings, dict):
            raise where.error("'settings' must be a table, e.g. { ducking = \"reduce_50\" }", "settings")
        if use is None and not settings:
            raise where.error("a set_policy action names a policy ('use') and/or 'settings'")
        params["use"], params["settings"] = use, dict(settings)
        _validate_policy_settings(use, settings, where)
    return Action(at=at, do=do, params=params, policies=scope, line=where.lines.header("action", where.index),
                  index=where.index or 0)


def _check_settings(policy: str, values: dict, path: str, lines: _Lines) -> None:
    """[scenario.settings.<policy>] is checked when the file is read, with the line of its table."""
    from ..focus import PolicyError, load_policy

    try:
        load_policy(policy, **values)
    except PolicyError as exc:
        line = lines.header(f"scenario.settings.{policy}") or lines.key("scenario", None, "settings")
        raise ScenarioError(f"[scenario.settings.{policy}]: {exc}", path=path, line=line) from None


_ATTRIBUTE_KEYS = {"gain": "gain", "flags": "flags", "target_sdk": "target_sdk", "category": "category",
                   "options": "options", "mode": "mode", "notify_others": "notify_others_on_deactivation",
                   "media_role": "media_role"}


def _attributes(raw: dict, where: _Where, role: Role) -> FocusAttributes | None:
    """How the player asks for focus in Android's terms (gain, flags, target_sdk) or iOS's (category,
    options, mode, notify_others); None when the role's defaults apply."""
    given = {field: raw[key] for key, field in _ATTRIBUTE_KEYS.items() if key in raw}
    if not given:
        return None
    for key in ("flags", "options"):
        if key in given and not (isinstance(given[key], list) and all(isinstance(v, str) for v in given[key])):
            raise where.error(f"'{key}' must be a list of names", key)
    try:
        attributes = FocusAttributes(**given)
    except ValueError as exc:
        bad = next((k for k in _ATTRIBUTE_KEYS if k in raw and k in str(exc)), None)
        raise where.error(str(exc), bad) from None
    if "category" in raw or "options" in raw:
        ios = load_policy("ios")
        assert isinstance(ios, IOSPolicy)
        try:  # an option its category does not allow, checked now rather than when iOS runs the start
            ios.config(FocusRequest("check", "check", role, attributes=attributes))
        except PolicyError as exc:
            raise where.error(str(exc), "options" if "options" in raw else "category") from None
    return attributes


def _validate_policy_settings(use: str | None, settings: dict, where: _Where) -> None:
    if use is None:
        return
    from ..focus import PolicyError, load_policy

    try:
        load_policy(use, **settings)
    except PolicyError as exc:
        raise where.error(str(exc), "settings") from None


def _check_policy_switches(actions: list[Action], run: str, path: str, lines: _Lines) -> None:
    """A set_policy with settings alone changes the policy in force at that point: check them against it,
    for a run under ``run`` (the policy a run starts with; earlier switches with ``use`` change it)."""
    from ..focus import PolicyError, load_policy

    current = run
    for action in actions:
        if action.do != "set_policy" or not action.applies_to(run):
            continue
        if action.params["use"] is not None:
            current = action.params["use"]
            continue
        try:
            load_policy(current, **action.params["settings"])
        except PolicyError as exc:
            where = _Where(path, lines, "action", action.index)
            raise where.error(f"under {run} (then {current}): {exc}", "settings") from None


def _check_references(actions: list[Action], lines: _Lines, path: str) -> None:
    """Players are started once before anything else refers to them."""
    started: set[str] = set()
    for action in actions:
        where = _Where(path, lines, "action", action.index)
        pid = action.params.get("id")
        if action.do == "start":
            if pid in started:
                raise where.error(f"player id {pid!r} is started twice; give each start its own id", "id")
            started.add(pid)
        elif pid is not None and pid not in started:
            raise where.error(f"no player {pid!r} has started by t={action.at:g}", "id")


def _expectation(raw: Any, where: _Where, players: dict[str, Action], apps: set[str]) -> Expectation:
    if not isinstance(raw, dict):
        raise where.error("an expectation must be a table")
    _no_unknown(raw, _EXPECT_KEYS, where)
    at, scope = _time(raw, where), _scope(raw, where)
    if ("id" in raw) == ("app" in raw):
        raise where.error("an expectation is about one player ('id = ...') or one app ('app = ...')")
    kind = "player" if "id" in raw else "app"
    subject = _name(raw, "id" if kind == "player" else "app", where)
    assert subject is not None
    allowed = _PLAYER_CHECKS if kind == "player" else _APP_CHECKS
    if kind == "player" and subject not in players:
        raise where.error(f"no player {subject!r} is started in this scenario", "id")
    if kind == "app" and subject not in apps:
        raise where.error(f"no app {subject!r} appears in this scenario's actions", "app")
    checks = []
    for key, value in raw.items():
        if key in _PLAYER_CHECKS | _APP_CHECKS and key not in allowed:
            raise where.error(f"{key!r} is checked on {'an app' if kind == 'player' else 'a player (id)'}", key)
        if key not in allowed:
            continue
        if key.startswith("gain") and players[subject].params["tone"] in ("ring", "beeps"):
            raise where.error(f"{key!r} needs a continuous tone; {subject!r} plays a "
                              f"{players[subject].params['tone']} cadence (silent half the time)", key)
        checks.append(Check(key, _expected(key, value, where), where.lines.key("expect", where.index, key)))
    if not checks:
        raise where.error(f"nothing to check; give one of {', '.join(sorted(allowed))}")
    tolerance = raw.get("tolerance", DEFAULT_TOLERANCE)
    if not _number(tolerance) or not 0 <= tolerance < 1:
        raise where.error(f"'tolerance' must be a linear gain in 0..1, got {tolerance!r}", "tolerance")
    note = raw.get("note", "")
    return Expectation(at, subject, kind, tuple(checks), scope, float(tolerance), str(note),
                       where.lines.header("expect", where.index))


def _expected(key: str, value: Any, where: _Where) -> Any:
    if key in ("gain", "gain_max", "gain_min"):
        return _level(value, where, key)
    if key == "state":
        if value not in STATES:
            raise where.error(f"'state' must be one of {', '.join(STATES)}, got {value!r}", key)
        return value
    if key in ("duck_notifications", "unduck_notifications"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise where.error(f"{key!r} must be a count >= 0, got {value!r}", key)
        return value
    if key == "told":
        if not isinstance(value, str) or not value:
            raise where.error("'told' is the system's own name of the last focus callback (e.g. "
                              "\"AUDIOFOCUS_LOSS_TRANSIENT\", \"began\") or \"none\"", key)
        return value
    if key == "interrupt":
        if value not in _HINTS:
            raise where.error(f"'interrupt' is the last InterruptEvent hint: one of {', '.join(_HINTS)}", key)
        return value
    if key == "activated":
        if not isinstance(value, bool):
            raise where.error("'activated' must be true or false", key)
        return value
    if key == "deactivated":
        if value is not False and value not in REASONS:
            raise where.error(f"'deactivated' must be a reason ({', '.join(REASONS)}) or false, got {value!r}", key)
        return value
    raise AssertionError(key)
