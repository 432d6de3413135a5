"""The ``audiolab`` command: ``sessions``, ``watch``, ``demo``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import anyio

from . import open as open_lab
from ._exceptions import AudiolabError
from ._format import describe_event, session_table
from .backends import BACKEND_NAMES
from .events import event_to_dict

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

    commands.add_parser("demo", help="tell the demo story on the simulated service")
    return parser


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
    async with open_lab(args.backend) as lab, lab.events() as events:
        if not args.json:
            print(f"backend: {lab.backend_name} ({lab.picked_because}); watching, Ctrl-C to stop")
            print(session_table(lab.snapshot()))
        with anyio.move_on_after(args.duration if args.duration is not None else float("inf")):
            async for event in events:
                line = json.dumps(event_to_dict(event)) if args.json else describe_event(event)
                print(line, flush=True)
    return 0


async def _demo(args: argparse.Namespace) -> int:
    from .demo import session_story

    await session_story(sys.stdout)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = {"sessions": _sessions, "watch": _watch, "demo": _demo}[args.command]
    try:
        return anyio.run(command, args)
    except AudiolabError as exc:
        print(f"audiolab {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
