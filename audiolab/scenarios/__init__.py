"""Scripted focus scenarios: a timeline of actions and expectations, run on the simulated service on
virtual time, checked against what each focus policy should do.

    result = run_scenario("music-navigation")                # a shipped name or a path
    result = run_scenario("music-navigation", "wireplumber")  # the same story under another policy
    print(run_report(result)); result.passed
    print(matrix_report([role_matrix("harmonyos")]))         # every pair of roles: mix, duck, pause, stop, deny

The format (TOML, ``datasets/scenarios/*.toml``)::

    [scenario]
    description = "one line: what it shows"      # required
    policy = "harmonyos"        # the policy it runs under by default (harmonyos|windows|pulseaudio|wireplumber|none)
    policies = ["harmonyos", "windows", "pulseaudio", "wireplumber"]   # what `compare` runs by default
    duration = 12               # seconds (at most 600); default: the last action or expectation + 1
    [scenario.settings.windows] # settings for a policy, whenever it runs (here Windows' ducking level)
    ducking = "reduce_50"

    [[action]]                  # actions run in time order (file order within one instant)
    at = 0                      # seconds from the start (0..600: a scenario is 10 minutes at the most)
    do = "start"                # start | stop | pause | resume | activate | deactivate | volume | set_policy | opt_out
    id = "Music"                # start: names the player (a tone in a session of its own)
    app = "Music"               #   the app (default: the id); one app's players share HarmonyOS focus
    role = "music"              #   an audiolab Role value, or usage = "STREAM_USAGE_MUSIC" (HarmonyOS)
    tone = "sine"               #   sine | square | triangle | sawtooth | ring | beeps
    frequency = 440             #   Hz;  amplitude = 0.5 (linear peak) or level_db = -6
    duration = 3                #   optional: it stops by itself
    device = "speakers"         #   optional (speakers | headset): default is the default device for its role
    policy = "windows"          # any action or expectation: only under this policy (or a list)

    # stop/pause/resume: id.   activate: app, mode = default|mix_with_others|duck_others|pause_others.
    # deactivate: app.         volume: id, volume = 0..1 and/or mute = true|false.
    # set_policy: use = "windows" (optional), settings = { ducking = "mute" } (merged with the current ones).
    # opt_out: id, value = true|false (Windows SetDuckingPreference; takes effect on the stream's next start).

    [[expect]]                  # checked at `at`, after the actions at that instant
    at = 4
    id = "Music"                # a player ... or app = "Maps" for a HarmonyOS audio session
    policy = "harmonyos"        # optional scope, as for actions; unscoped = under every policy
    gain = 0.2                  # measured gain ~= (tolerance = 0.03); also gain_max, gain_min; "-14dB" works too
    state = "playing"           # playing | paused | stopped | denied
    duck_notifications = 1      # Windows duck notifications received so far; also unduck_notifications
    interrupt = "duck"          # the last HarmonyOS InterruptEvent hint received
    # app checks: activated = true|false, deactivated = "timeout" | "lower_priority" | false

A *measured* gain is the player's metered peak over the 10 ms before ``at`` divided by its tone's
amplitude and its session volume: 1.0 = untouched, 0.2 = ducked to 20 %, 0 = silent (paused, stopped).
Gain checks need a continuous tone (not ``ring``/``beeps``). Every error in a file is a
:class:`audiolab.ScenarioError` naming the file and the line.
"""

from .actions import (
    Action,
    ActivateAction,
    AppAction,
    DeactivateAction,
    OptOutAction,
    PauseAction,
    PlayerAction,
    ResumeAction,
    SetPolicyAction,
    StartAction,
    StopAction,
    VolumeAction,
)
from .compare import Comparison, compare_scenario
from .expectations import Check, Expectation
from .format import Scenario, load_scenario, parse_scenario
from .matrix import Cell, RoleMatrix, matrix_report, role_matrices, role_matrix
from .report import compare_report, list_report, run_report
from .runner import CheckResult, PlayerSummary, ScenarioResult, Transition, run_scenario, run_scenario_async
from .shipped import resolve, scenarios_dir, shipped

__all__ = (
    "Action",
    "ActivateAction",
    "AppAction",
    "Cell",
    "Check",
    "CheckResult",
    "Comparison",
    "DeactivateAction",
    "Expectation",
    "OptOutAction",
    "PauseAction",
    "PlayerAction",
    "PlayerSummary",
    "ResumeAction",
    "RoleMatrix",
    "Scenario",
    "ScenarioResult",
    "SetPolicyAction",
    "StartAction",
    "StopAction",
    "Transition",
    "VolumeAction",
    "compare_report",
    "compare_scenario",
    "list_report",
    "load_scenario",
    "matrix_report",
    "parse_scenario",
    "resolve",
    "role_matrices",
    "role_matrix",
    "run_report",
    "run_scenario",
    "run_scenario_async",
    "scenarios_dir",
    "shipped",
)
