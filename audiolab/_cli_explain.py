"""``audiolab explain``: the policy in force and its predictions; ``--watch`` narrates changes as they happen."""

from __future__ import annotations

import argparse
import json
import math

from ._cli_common import CliError, add_backend_option, number
from ._cli_reconnect import add_reconnect_option

EXAMPLES = """examples:
  audiolab explain                      # the server answering here (else the simulated service)
  audiolab explain --backend pulse --json
  audiolab explain --watch              # one line per change, with the rule and the prediction
  audiolab explain --watch --reconnect  # and keep narrating across a restart of the server
"""


COMMANDS = ("explain",)
"""The subcommands :func:`add_parsers` registers (the CLI builds only the group of the command it runs)."""


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``explain``."""
    explain = commands.add_parser(
        "explain", help="the focus policy in force, the sessions, and what would duck or cork what",
        description="Read the focus policy in force (on PulseAudio: the loaded role-ducking, role-cork and "
                    "stream-restore modules with their arguments), list the sessions by device with their level "
                    "now, and predict from the policy what ducks or corks what.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_backend_option(explain)
    explain.add_argument("--json", action="store_true", help="print JSON (with --watch: one object per line)")
    explain.add_argument("--watch", action="store_true",
                         help="after the report, narrate every change live, one line each, with wall-clock time")
    explain.add_argument("--duration", type=number(low=0), default=None, metavar="S",
                         help="with --watch: stop after S seconds (default: until Ctrl-C)")
    explain.add_argument("--no-detect", action="store_true",
                         help="with --watch: do not meter every session to measure the ducks and corks of other apps")
    add_reconnect_option(explain, "narrate")
    explain.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    """Print the explanation; with ``--watch``, then narrate each change until the duration or Ctrl-C."""
    import anyio

    from . import open as open_lab
    from ._cli_reconnect import backend_for, notice_printer, report_connection
    from .events import event_to_dict
    from .explain import explain
    from .explain_watch import Narrator, wall_clock

    if args.reconnect and not args.watch:
        raise CliError("--reconnect is for --watch (a report without --watch is read once)")
    name, options = await backend_for(args)
    async with open_lab(name, detect_ducking=args.watch and not args.no_detect, **options) as lab, \
            lab.events() as events, anyio.create_task_group() as tg:
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
        if args.reconnect:
            tg.start_soon(report_connection, lab, notice_printer(json_lines=args.json), wall_clock(lab))
        with anyio.move_on_after(args.duration if args.duration is not None else math.inf):
            async for event in events:
                lines = narrator.lines(event)
                if args.json:
                    if lines:
                        print(json.dumps({"lines": lines, "event": event_to_dict(event)}), flush=True)
                else:
                    for line in lines:
                        print(line, flush=True)
        tg.cancel_scope.cancel()
    return 0
