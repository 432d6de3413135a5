"""The scenario file format (TOML): parsing and validation into frozen dataclasses.

Every error is a :class:`ScenarioError` naming the file and the line at fault: TOML syntax errors carry
tomllib's line; for a semantic error the line of the offending key (or of its ``[[action]]`` /
``[[expect]]`` header) is found by scanning the text. The entries are read by :mod:`.actions` (one
dataclass per kind) and :mod:`.expectations`; this module reads the ``[scenario]`` table and checks what
spans entries (player references, policy switches, the duration). See :mod:`audiolab.scenarios` for the format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._by_fields import by_fields
from .._exceptions import ScenarioError
from .._files import read_text_file
from .._toml import tomllib
from ..focus.policy import PolicyError, load_policy
from ._tables import MAX_SECONDS, POLICIES, Lines, Where, check_policy, no_unknown, number
from .actions import (
    ACTIONS,
    TONES,
    Action,
    AppAction,
    PlayerAction,
    SetPolicyAction,
    StartAction,
    read_action,
)
from .expectations import DEFAULT_TOLERANCE, REASONS, STATES, Check, Expectation, read_expectation

__all__ = ("ACTIONS", "DEFAULT_TOLERANCE", "MAX_SECONDS", "POLICIES", "REASONS", "STATES", "TONES", "Action",
           "Check", "Expectation", "Scenario", "load_scenario", "parse_scenario")

_SCENARIO_KEYS = {"name", "description", "policy", "duration", "settings", "policies"}
_DEFAULT_POLICIES = ("harmonyos", "windows", "pulseaudio", "wireplumber")


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Scenario:
    """A parsed scenario file: its description, policies, actions and expectations."""

    name: str
    description: str
    policy: str
    duration: float
    actions: tuple[Action, ...]
    expectations: tuple[Expectation, ...]
    settings: dict[str, dict[str, object]] = field(default_factory=dict)
    policies: tuple[str, ...] = _DEFAULT_POLICIES
    path: str | None = None

    def players(self) -> dict[str, StartAction]:
        """The start action of every player id."""
        return {a.id: a for a in self.actions if isinstance(a, StartAction)}


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
    lines = Lines(text)
    top = Where(path, lines, "scenario", None)
    unknown = sorted(set(data) - {"scenario", "action", "expect"})
    if unknown:
        raise ScenarioError(f"unknown top-level key(s) {unknown}; a scenario has [scenario], [[action]] and "
                            f"[[expect]]", path=path, line=lines.top(unknown[0]))
    head = data.get("scenario")
    if not isinstance(head, dict):
        raise ScenarioError("a [scenario] table with a description is required", path=path, line=1)
    description, policy, settings, policies = _head(head, top)

    raw_actions = data.get("action", [])
    raw_expects = data.get("expect", [])
    if not isinstance(raw_actions, list) or not isinstance(raw_expects, list):
        raise ScenarioError("'action' and 'expect' must be arrays of tables ([[action]], [[expect]])", path=path)
    actions = [read_action(raw, Where(path, lines, "action", i)) for i, raw in enumerate(raw_actions)]
    if not actions:
        raise ScenarioError("a scenario needs at least one [[action]]", path=path, line=lines.header("scenario"))
    actions = sorted(actions, key=lambda a: a.at)  # stable: file order within one instant
    for run in dict.fromkeys([policy, *policies]):
        _check_references(actions, run, path, lines)
        _check_policy_switches(actions, run, path, lines)
    players = {a.id: a for a in actions if isinstance(a, StartAction)}
    apps = {a.app for a in actions if isinstance(a, (StartAction, AppAction))}
    expectations = [read_expectation(raw, Where(path, lines, "expect", i), players, apps)
                    for i, raw in enumerate(raw_expects)]
    last = max([a.at for a in actions] + [e.at for e in expectations])
    duration = head.get("duration", last + 1.0)
    if not number(duration) or duration <= 0 or duration < last or duration > MAX_SECONDS:
        raise top.error(f"'duration' must be a number of seconds >= the last action/expectation ({last:g}) "
                        f"and <= {MAX_SECONDS:g}", "duration")
    return Scenario(
        name=str(head.get("name", default_name)),
        description=description,
        policy=policy,
        duration=float(duration),
        actions=tuple(actions),
        expectations=tuple(sorted(expectations, key=lambda e: e.at)),
        settings=settings,
        policies=policies,
        path=path,
    )


def _head(head: dict[str, Any], top: Where) -> tuple[str, str, dict[str, dict[str, Any]], tuple[str, ...]]:
    """The ``[scenario]`` table: its description, policy, per-policy settings and policies to run under."""
    no_unknown(head, _SCENARIO_KEYS, top)
    description = head.get("description")
    if not isinstance(description, str) or not description.strip():
        raise top.error("'description' (one line saying what the scenario shows) is required", "description")
    policy = head.get("policy", "harmonyos")
    check_policy(policy, top, "policy")
    settings = head.get("settings", {})
    if not isinstance(settings, dict) or not all(isinstance(v, dict) and k in POLICIES for k, v in settings.items()):
        raise top.error("'settings' must be tables per policy, e.g. [scenario.settings.windows] ducking = "
                        "\"mute\"", "settings")
    policies = head.get("policies", list(_DEFAULT_POLICIES))
    if not isinstance(policies, list) or not policies:
        raise top.error("'policies' must be a non-empty list of policy names", "policies")
    for p in policies:
        check_policy(p, top, "policies")
    for name, values in settings.items():
        _check_settings(name, values, top)
    return description.strip(), policy, {k: dict(v) for k, v in settings.items()}, tuple(policies)


def _check_settings(policy: str, values: dict[str, Any], top: Where) -> None:
    """[scenario.settings.<policy>] is checked when the file is read, with the line of its table."""
    try:
        load_policy(policy, **values)
    except PolicyError as exc:
        line = top.lines.header(f"scenario.settings.{policy}") or top.lines.key("scenario", None, "settings")
        raise ScenarioError(f"[scenario.settings.{policy}]: {exc}", path=top.path, line=line) from None


def _check_policy_switches(actions: list[Action], run: str, path: str, lines: Lines) -> None:
    """A set_policy with settings alone changes the policy in force at that point: check them against it,
    for a run under ``run`` (the policy a run starts with; earlier switches with ``use`` change it)."""
    current = run
    for action in actions:
        if not isinstance(action, SetPolicyAction) or not action.applies_to(run):
            continue
        if action.use is not None:
            current = action.use
            continue
        try:
            load_policy(current, **action.settings)
        except PolicyError as exc:
            where = Where(path, lines, "action", action.index)
            raise where.error(f"under {run} (then {current}): {exc}", "settings") from None


def _check_references(actions: list[Action], run: str, path: str, lines: Lines) -> None:
    """Players are started once, and, in a run under ``run``, before anything else refers to them."""
    starts: dict[str, StartAction] = {}
    started: set[str] = set()
    for action in actions:
        if not isinstance(action, PlayerAction):
            continue
        where = Where(path, lines, "action", action.index)
        if isinstance(action, StartAction):
            if action.id in starts:
                raise where.error(f"player id {action.id!r} is started twice; give each start its own id", "id")
            starts[action.id] = action
            if action.applies_to(run):
                started.add(action.id)
        elif action.applies_to(run) and action.id not in started:
            later = next((a for a in actions if isinstance(a, StartAction) and a.id == action.id), None)
            raise where.error(action.not_started(run, later), "id")
