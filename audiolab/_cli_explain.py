"""``audiolab explain``: the policy in force and its predictions; ``--watch`` narrates changes as they happen."""

from __future__ import annotations

import argparse
import json
import math

import anyio

EXAMPLES = """examples:
  audiolab explain                      # the server answering here (else the simulated service)
  audiolab explain --backend pulse --json
  audiolab explain --watch              # one line per change, with the rule and the prediction
"""


def add_parser(commands: argparse._SubParsersAction, backends: tuple[str, ...]) -> None:
    explain = commands.add_parser(
        "explain", help="the focus policy in force, the sessions, and what would duck or cork what",
        description="Read the focus policy in force (on PulseAudio: the loaded role-ducking, role-cork and "
                    "stream-restore modules with their arguments), list the sessions by device with their level "
                    "now, and predict from the policy what ducks or corks what.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    explain.add_argument("--backend", default="auto", choices=[b for b in backends if b != "replay"],
                         help="the audio system to explain (default auto: a real server when one answers)")
    explain.add_argument("--json", action="store_true", help="print JSON (with --watch: one object per line)")
    explain.add_argument("--watch", action="store_true",
                         help="after the report, narrate every change live, one line each, with wall-clock time")
    explain.add_argument("--duration", type=float, default=None, help="with --watch: stop after S seconds")
    explain.add_argument("--no-detect", action="store_true",
                         help="with --watch: do not meter every session to measure the ducks and corks of other apps")


async def run(args: argparse.Namespace) -> int:
    from . import open as open_lab
    from .events import event_to_dict
    from .explain import Narrator, explain, wall_clock

    if args.duration is not None and not (math.isfinite(args.duration) and args.duration > 0):
        raise SystemExit("audiolab explain: --duration must be a positive number of seconds")
    async with open_lab(args.backend, detect_ducking=args.watch and not args.no_detect) as lab, \
            lab.events() as events:
        found = await explain(lab)
        if args.json and not args.watch:
            print(json.dumps(found.to_dict(), indent=2))
            return 0
        if args.json:
            print(json.dumps({"explanation": found.to_dict()}), flush=True)
        else:
            print("\n".join(found.lines()), flush=True)
        if not args.watch:
            return 0
        narrator = Narrator(lab, wall_clock(lab))
        if not args.json:
            print("\nwatching (Ctrl-C to stop):", flush=True)
        with anyio.move_on_after(args.duration if args.duration is not None else math.inf):
            async for event in events:
                lines = narrator.lines(event)
                if args.json:
                    if lines:
                        print(json.dumps({"lines": lines, "event": event_to_dict(event)}), flush=True)
                else:
                    for line in lines:
                        print(line, flush=True)
    return 0
