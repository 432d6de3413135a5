"""``audiolab scenario run|compare|list`` and ``audiolab demo``: scripted stories on virtual time."""

from __future__ import annotations

import argparse
import json
import sys

from ._cli_common import CliError, writable_file

DEFAULT_PNG = "artifacts/demo-timeline.png"

SCENARIO_EXAMPLES = """\
examples:
  audiolab scenario list
  audiolab scenario run music-call
  audiolab scenario run my-scenario.toml --policy windows --json
  audiolab scenario compare music-navigation --policies harmonyos,wireplumber
  audiolab scenario matrix --policy harmonyos --png m.png
  audiolab scenario matrix --policy android --policy ios --json
  audiolab scenario compare windows-call-ducking --png compare.png --expectations

exit status: 0 when every expectation passed, 1 when one failed, 2 for a bad file or argument
"""
DEMO_EXAMPLES = """\
examples:
  audiolab demo
  audiolab demo --png /tmp/timeline.png
"""


def _policy_choices() -> tuple[str, ...]:
    from .focus.policy import BUILTIN

    return BUILTIN


def _policy_list(text: str) -> list[str]:
    if text.strip() == "all":
        return list(_policy_choices())
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in _policy_choices()]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"policies are {', '.join(_policy_choices())} (or all); got {text!r}")
    return names


COMMANDS = ("scenario", "demo")
"""The subcommands :func:`add_parsers` registers (the CLI builds only the group of the command it runs)."""


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``scenario`` (with ``run``, ``compare``, ``list``) and ``demo``."""
    scenario = commands.add_parser(
        "scenario", help="run scripted focus scenarios on virtual time", epilog=SCENARIO_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run a scenario (a TOML timeline of actions and expectations) on the simulated service.")
    sub = scenario.add_subparsers(dest="scenario_command", required=True, metavar="{run,compare,matrix,list}",
                                  help="what to do with a scenario")
    run = sub.add_parser("run", help="run a scenario, print its transitions, check its expectations",
                         epilog=SCENARIO_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("file", help="a shipped scenario's name (see `audiolab scenario list`) or a .toml path")
    run.add_argument("--policy", choices=_policy_choices(), help="run under this policy (default: the scenario's)")
    run.add_argument("--json", action="store_true", help="print the transitions and expectations as JSON")
    run.add_argument("--every-block", action="store_true",
                     help="render and meter every 10 ms block (slower; by default only what a measurement needs)")
    compare = sub.add_parser("compare", help="what each system would do, side by side",
                             epilog=SCENARIO_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    compare.add_argument("file", help="a shipped scenario's name or a .toml path")
    compare.add_argument("--policies", type=_policy_list, default=None,
                         help="comma-separated, e.g. harmonyos,windows,pulseaudio,wireplumber, or all "
                              "(default: the scenario's list)")
    compare.add_argument("--json", action="store_true", help="print the comparison as JSON")
    compare.add_argument("--png", default=None, metavar="PATH",
                         help="also draw one timeline row per policy into this PNG (needs the widgets extra)")
    compare.add_argument("--expectations", action="store_true",
                         help="add a row with each policy's expectations passed (failures are always listed)")
    matrix = sub.add_parser("matrix", help="what each policy does to every pair of roles, as a grid",
                            epilog=SCENARIO_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
                            description="For every pair of render roles, play one and start the other a second "
                                        "later under each policy on the simulated service, and show the outcome: "
                                        "mix, duck (to the measured level), pause, stop or deny.")
    matrix.add_argument("--policy", action="append", choices=(*_policy_choices(), "all"), default=None,
                        help="a policy (repeat it for several side by side; default: all)")
    matrix.add_argument("--png", default=None, help="also draw the grids into this PNG file")
    matrix.add_argument("--json", action="store_true", help="print every cell with its outcome, level and reason")
    sub.add_parser("list", help="list the shipped scenarios", epilog=SCENARIO_EXAMPLES,
                   formatter_class=argparse.RawDescriptionHelpFormatter)
    scenario.set_defaults(run=_scenario)

    demo = commands.add_parser(
        "demo", help="tell the demo stories on the simulated service", epilog=DEMO_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The session story (Windows session rules), then the focus story (HarmonyOS), on virtual time.")
    demo.add_argument("--png", default=None,
                      help="where to write the focus story's timeline; missing folders are made (default "
                           f"{DEFAULT_PNG}, left out with a note if it cannot be written there)")
    demo.set_defaults(run=_demo)


async def _demo(args: argparse.Namespace) -> int:
    from .demo import focus_story, session_story

    if args.png is not None:
        png = writable_file(args.png, suffixes=(".png",), create_folders=True)
    else:
        try:
            png = writable_file(DEFAULT_PNG, suffixes=(".png",), create_folders=True)
        except CliError as exc:  # the default place only: the stories still run, without the picture
            png = None
            print(f"(no timeline PNG: {exc}; give --png FILE)")
    await session_story(sys.stdout)
    await focus_story(sys.stdout, png=png)
    return 0


async def _scenario(args: argparse.Namespace) -> int:
    """Exit status: 0 when every expectation that applies passed, 1 when one failed (2: a bad file)."""
    from . import scenarios

    if args.scenario_command == "list":
        print(scenarios.list_report([scenarios.load_scenario(p) for p in scenarios.shipped()]))
        return 0
    if args.scenario_command == "matrix":
        return await _matrix(args)
    scenario = scenarios.resolve(args.file)
    if args.scenario_command == "run":
        result = await scenarios.run_scenario_async(scenario, args.policy, every_block=args.every_block)
        print(json.dumps(result.to_dict(), indent=2) if args.json else scenarios.run_report(result))
        return 0 if result.passed else 1
    png = None
    if args.png is not None:
        png = writable_file(args.png, suffixes=(".png",), create_folders=True)
        _needs_matplotlib()
    comparison = await scenarios.compare_scenario(scenario, args.policies)
    if args.json:
        print(json.dumps(comparison.to_dict(), indent=2))
    else:
        print(scenarios.compare_report(comparison, expectations=args.expectations))
    if png is not None:
        from .widgets.comparison_plot import save_comparison_png

        save_comparison_png(comparison, png)
        print(f"comparison timeline written to {png}", file=sys.stderr if args.json else sys.stdout)
    return 0 if comparison.passed else 1


async def _matrix(args: argparse.Namespace) -> int:
    """The role matrix of each policy asked for: a text grid, JSON, and a PNG with ``--png``."""
    import time

    import anyio

    from .scenarios.matrix import matrix_report, role_matrix

    asked = args.policy or ["all"]
    policies = list(_policy_choices()) if "all" in asked else list(dict.fromkeys(asked))
    png = None
    if args.png is not None:
        png = writable_file(args.png, suffixes=(".png",))
        try:
            import matplotlib  # noqa: F401 - asked here, before any work
        except ImportError as exc:
            raise CliError(f"--png needs matplotlib ({exc.name} is missing): "
                           "pip install 'audiolab-focus[widgets]'") from None
    started = time.perf_counter()
    matrices = []
    for policy in policies:
        matrices.append(role_matrix(policy))
        await anyio.lowlevel.checkpoint()  # Ctrl-C between two policies
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps({"policies": [m.to_dict() for m in matrices], "wall_seconds": round(seconds, 3)}, indent=2))
    else:
        print(matrix_report(matrices))
        pairs = sum(len(m.cells) for m in matrices)
        print(f"\n{pairs} pairs run on the simulated service in {seconds:.2f} s")
    if png is not None:
        from .widgets.matrix_plot import save_matrix_png

        save_matrix_png(matrices, png)
        if not args.json:
            print(f"wrote the matrix to {args.png}")
    return 0


def _needs_matplotlib() -> None:
    """--png without matplotlib: one line naming the extra, before any work."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise CliError("--png needs matplotlib: pip install 'audiolab-focus[widgets]'")
