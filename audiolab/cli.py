"""The ``audiolab`` command: ``sessions``, ``watch``, ``demo``, ``tone``, ``record``, ``replay``,
``scenario run|compare|list``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio

from . import _cli_explain, _cli_tone
from . import open as open_lab
from ._exceptions import AudiolabError
from ._format import describe_event, session_table
from .backends import BACKEND_NAMES
from .events import event_to_dict
from .focus.policy import BUILTIN

BACKEND_CHOICES = ("auto", *BACKEND_NAMES)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audiolab", description="Audio sessions and audio focus, visible.")
    commands = parser.add_subparsers(dest="command", required=True)

    sessions = commands.add_parser("sessions", help="list the audio sessions")
    sessions.add_argument("--backend", default="auto", choices=BACKEND_CHOICES)
    sessions.add_argument("--json", action="store_true", help="print a JSON list of session objects")

    watch = commands.add_parser("watch", help="print session events as they happen")
    watch.add_argument("--backend", default="auto", choices=BACKEND_CHOICES)
    watch.add_argument("--json", action="store_true", help="print one JSON object per line")
    watch.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    watch.add_argument("--no-detect", action="store_true", help="do not meter every session to detect the ducks and corks of other apps on a real server")

    demo = commands.add_parser("demo", help="tell the demo stories on the simulated service")
    demo.add_argument("--png", default="artifacts/demo-timeline.png",
                      help="where to write the focus story's timeline (default artifacts/demo-timeline.png)")
    _cli_tone.add_parser(commands, BACKEND_CHOICES)
    _cli_explain.add_parser(commands, BACKEND_CHOICES)

    record = commands.add_parser("record", help="record what a backend reports into a trace file")
    record.add_argument("file", help="the trace to write (JSON Lines)")
    record.add_argument("--backend", default="auto", choices=[b for b in BACKEND_CHOICES if b != "replay"])
    record.add_argument("--duration", type=float, default=10.0, help="seconds to record (default 10)")
    record.add_argument("--meter-rate", type=float, default=30.0, help="meter frames per second; 0 for none")
    record.add_argument("--no-detect", action="store_true", help="do not meter every session to detect the ducks and corks of other apps on a real server")

    replay = commands.add_parser("replay", help="play a recorded trace back as a live event log")
    replay.add_argument("file", help="a trace written by `audiolab record`")
    replay.add_argument("--speed", type=float, default=1.0, help="playback speed (default 1: real time)")
    replay.add_argument("--json", action="store_true", help="print one JSON object per line")
    replay.add_argument("--png", default=None, metavar="PATH",
                        help="instead of playing it back, draw the trace's timeline into a PNG file")

    scenario = commands.add_parser("scenario", help="run scripted focus scenarios on virtual time")
    sub = scenario.add_subparsers(dest="scenario_command", required=True)
    run = sub.add_parser("run", help="run a scenario, print its transitions, check its expectations")
    run.add_argument("file", help="a shipped scenario's name (see `audiolab scenario list`) or a .toml path")
    run.add_argument("--policy", choices=POLICY_CHOICES, help="run under this policy (default: the scenario's)")
    run.add_argument("--json", action="store_true", help="print the transitions and expectations as JSON")
    compare = sub.add_parser("compare", help="what each system would do, side by side")
    compare.add_argument("file", help="a shipped scenario's name or a .toml path")
    compare.add_argument("--policies", type=_policy_list, default=None,
                         help="comma-separated, e.g. harmonyos,windows,pulseaudio,wireplumber, or all")
    compare.add_argument("--json", action="store_true", help="print the comparison as JSON")
    sub.add_parser("list", help="list the shipped scenarios")
    return parser


POLICY_CHOICES = BUILTIN


def _policy_list(text: str) -> list[str]:
    if text.strip() == "all":
        return list(POLICY_CHOICES)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in POLICY_CHOICES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"policies are {', '.join(POLICY_CHOICES)}; got {text!r}")
    return names


async def _sessions(args: argparse.Namespace) -> int:
    async with open_lab(args.backend) as lab:
        sessions = lab.snapshot()
        if args.json:
            print(json.dumps([s.to_dict() for s in sessions], indent=2))
        else:
            print(f"backend: {lab.backend_name} ({lab.picked_because})")
            print(session_table(sessions))
    return 0


async def _watch(args: argparse.Namespace) -> int:
    if args.duration is not None and not args.duration > 0:
        raise SystemExit("audiolab watch: --duration must be a positive number of seconds")
    from .explain import wall_clock

    async with open_lab(args.backend, detect_ducking=not args.no_detect) as lab, lab.events() as events:
        when = wall_clock(lab)
        if not args.json:
            print(f"backend: {lab.backend_name} ({lab.picked_because}); watching, Ctrl-C to stop")
            print(session_table(lab.snapshot()))
        with anyio.move_on_after(args.duration if args.duration is not None else float("inf")):
            async for event in events:
                line = json.dumps({"time": when(event.timestamp), **event_to_dict(event)}) if args.json \
                    else describe_event(event, when)
                print(line, flush=True)
    return 0


async def _record(args: argparse.Namespace) -> int:
    from .trace import record

    if not args.duration > 0 or args.meter_rate < 0:
        raise SystemExit("audiolab record: --duration must be > 0 and --meter-rate >= 0")
    async with open_lab(args.backend, detect_ducking=not args.no_detect) as lab:
        print(f"recording the {lab.backend_name} backend for {args.duration:g} s into {args.file}")
        trace = await record(lab, args.file, args.duration, meter_rate=args.meter_rate or None)
    print(f"wrote {args.file}: {len(trace.snapshot)} sessions, {len(trace.events)} events, "
          f"{sum(e.meters is not None for e in trace.entries)} meter frames")
    return 0


async def _replay(args: argparse.Namespace) -> int:
    if not args.speed > 0:
        raise SystemExit("audiolab replay: --speed must be > 0")
    if args.png is not None:
        return _replay_png(args.file, args.png)
    async with open_lab("replay", trace=args.file, speed=args.speed) as lab, lab.events() as events:
        trace = lab.backend.trace
        when = lab.backend.recorded_clock()
        if not args.json:
            started = f", started {trace.recorded.astimezone():%Y-%m-%d %H:%M:%S}" if trace.recorded else ""
            print(f"replaying {args.file} (recorded on {trace.backend}{started}) at {args.speed:g}x")
            print(session_table(lab.snapshot()))
        remaining = len(trace.events)
        with anyio.move_on_after(trace.duration / args.speed + 1.0):
            while remaining:
                event = await events.receive()
                remaining -= 1
                line = json.dumps({"time": when(event.timestamp), **event_to_dict(event)}) if args.json \
                    else describe_event(event, when)
                print(line, flush=True)
    return 0


def _replay_png(path: str, png: str) -> int:
    """Draw a recorded trace's timeline (events, and the meters when it has them) into a PNG."""
    from .trace import read_trace

    trace = read_trace(path)
    try:
        from .widgets.timeline import FocusTimeline
    except ImportError as exc:
        raise SystemExit(f"audiolab replay: --png needs matplotlib ({exc.name} is missing): "
                         "pip install 'audiolab-focus[widgets]'") from None
    timeline = FocusTimeline.from_events(trace.events, sessions=trace.snapshot, start=0.0,
                                         title=f"{Path(path).name} (recorded on {trace.backend})")
    for entry in trace.entries:
        if entry.meters is not None:
            timeline.add_meter_frame(entry.meters)
    timeline.save_png(png)
    print(f"wrote the timeline of {path} to {png}")
    return 0


async def _demo(args: argparse.Namespace) -> int:
    from .demo import focus_story, session_story

    await session_story(sys.stdout)
    await focus_story(sys.stdout, png=args.png)
    return 0


async def _scenario(args: argparse.Namespace) -> int:
    """Exit status: 0 when every expectation that applies passed, 1 when one failed (2: a bad file)."""
    from . import scenarios

    if args.scenario_command == "list":
        print(scenarios.list_report([scenarios.load_scenario(p) for p in scenarios.shipped()]))
        return 0
    scenario = scenarios.resolve(args.file)
    if args.scenario_command == "run":
        result = await scenarios.run_scenario_async(scenario, args.policy)
        print(json.dumps(result.to_dict(), indent=2) if args.json else scenarios.run_report(result))
        return 0 if result.passed else 1
    comparison = await scenarios.compare_scenario(scenario, args.policies)
    print(json.dumps(comparison.to_dict(), indent=2) if args.json else scenarios.compare_report(comparison))
    return 0 if comparison.passed else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = {"sessions": _sessions, "watch": _watch, "demo": _demo, "scenario": _scenario,
               "tone": _cli_tone.run, "record": _record, "replay": _replay, "explain": _cli_explain.run}[args.command]
    try:
        return anyio.run(command, args)
    except AudiolabError as exc:
        print(f"audiolab {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
