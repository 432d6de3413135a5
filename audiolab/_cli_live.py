"""``audiolab sessions`` and ``audiolab watch``: what a live backend has now, and what happens to it."""

from __future__ import annotations

import argparse
import json

from ._cli_common import add_backend_option, number
from ._cli_reconnect import add_reconnect_option

SESSIONS_EXAMPLES = """\
examples:
  audiolab sessions                       # a table, from a real server if one answers
  audiolab sessions --backend sim --json  # the simulated service's sessions as JSON
"""
WATCH_EXAMPLES = """\
examples:
  audiolab watch                          # until Ctrl-C
  audiolab watch --backend pulse --json --duration 10 > events.jsonl
  audiolab watch --reconnect              # keep watching across a restart of the server

With --json the first line is the snapshot: {"time", "kind": "Snapshot", "backend", "picked_because",
"sessions": [...]} (each session as `audiolab sessions --json` gives it); every later line is one event.
"""


COMMANDS = ("sessions", "watch")
"""The subcommands :func:`add_parsers` registers (the CLI builds only the group of the command it runs)."""


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``sessions`` and ``watch``."""
    sessions = commands.add_parser("sessions", help="list the audio sessions", epilog=SESSIONS_EXAMPLES,
                                   description="List the audio sessions that exist now.")
    add_backend_option(sessions)
    sessions.add_argument("--json", action="store_true", help="print a JSON list of session objects")
    sessions.set_defaults(run=_sessions)

    watch = commands.add_parser("watch", help="print session events as they happen", epilog=WATCH_EXAMPLES,
                                description="Print the session table, then every session event as it happens, "
                                            "with its wall-clock time.",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_backend_option(watch)
    watch.add_argument("--json", action="store_true",
                       help="print one JSON object per line: the snapshot of the sessions, then one per event")
    watch.add_argument("--duration", type=number(low=0), default=None, metavar="S",
                       help="stop after S seconds (default: until Ctrl-C)")
    watch.add_argument("--no-detect", action="store_true",
                       help="do not meter every session to detect the ducks and corks of other apps on a real server")
    add_reconnect_option(watch, "watch its sessions")
    watch.set_defaults(run=_watch)


async def _sessions(args: argparse.Namespace) -> int:
    from . import open as open_lab

    async with open_lab(args.backend) as lab:
        sessions = lab.snapshot()
        if args.json:
            print(json.dumps([s.to_dict() for s in sessions], indent=2))
        else:
            from ._format import session_table

            print(f"backend: {lab.backend_name} ({lab.picked_because})")
            print(session_table(sessions))
    return 0


async def _watch(args: argparse.Namespace) -> int:
    import anyio

    from . import open as open_lab
    from ._cli_reconnect import backend_for, notice_printer, report_connection
    from ._format import describe_event, session_table
    from .events import event_to_dict
    from .explain_watch import wall_clock

    name, options = await backend_for(args)
    async with open_lab(name, detect_ducking=not args.no_detect, **options) as lab, lab.events() as events, \
            anyio.create_task_group() as tg:
        when = wall_clock(lab)
        if args.json:
            print(json.dumps({"time": when(lab.clock.now()), "kind": "Snapshot", "backend": lab.backend_name,
                              "picked_because": lab.picked_because,
                              "sessions": [s.to_dict() for s in lab.snapshot()]}), flush=True)
        else:
            print(f"backend: {lab.backend_name} ({lab.picked_because}); watching, Ctrl-C to stop")
            print(session_table(lab.snapshot()), flush=True)
        if args.reconnect:
            tg.start_soon(report_connection, lab, notice_printer(json_lines=args.json), when)
        with anyio.move_on_after(args.duration if args.duration is not None else float("inf")):
            async for event in events:
                line = json.dumps({"time": when(event.timestamp), **event_to_dict(event)}) if args.json \
                    else describe_event(event, when)
                print(line, flush=True)
        tg.cancel_scope.cancel()
    return 0

