"""``audiolab record`` and ``audiolab replay``: a backend's view written to a trace, and played back."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._cli_common import CliError, add_backend_option, existing_file, number, writable_file
from .lab import MAX_METER_RATE

RECORD_EXAMPLES = """\
examples:
  audiolab record run.trace.jsonl --duration 30          # a real server if one answers
  audiolab record quiet.jsonl --backend sim --meter-rate 0
"""
REPLAY_EXAMPLES = """\
examples:
  audiolab replay run.trace.jsonl
  audiolab replay run.trace.jsonl --speed 10 --json | head
  audiolab replay run.trace.jsonl --png run.png      # the timeline, gains as the meters measured them
"""


COMMANDS = ("record", "replay")
"""The subcommands :func:`add_parsers` registers (the CLI builds only the group of the command it runs)."""


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``record`` and ``replay``."""
    record = commands.add_parser(
        "record", help="record what a backend reports into a trace file", epilog=RECORD_EXAMPLES,
        description="Record the snapshot, every event and the meter frames of a backend into a JSON Lines trace. "
                    "The file appears only when the recording is complete.")
    record.add_argument("file", help="the trace to write (JSON Lines); its folder must exist")
    add_backend_option(record)
    record.add_argument("--duration", type=number(low=0, high=86400), default=10.0, metavar="S",
                        help="seconds to record (default 10)")
    record.add_argument("--meter-rate", type=number(low=0, high=MAX_METER_RATE, allow_zero=True),
                        default=30.0, metavar="HZ", help="meter frames per second, 0 for none (default 30)")
    record.add_argument("--no-detect", action="store_true",
                        help="do not meter every session to detect the ducks and corks of other apps on a real server")
    record.set_defaults(run=_record)

    replay = commands.add_parser(
        "replay", help="play a recorded trace back as a live event log", epilog=REPLAY_EXAMPLES,
        description="Play a trace written by `audiolab record` back at its recorded times.")
    replay.add_argument("file", type=existing_file, help="a trace written by `audiolab record`")
    replay.add_argument("--speed", type=number(low=0, high=1e6), default=1.0, metavar="X",
                        help="playback speed (default 1: real time; 10: ten times faster)")
    replay.add_argument("--json", action="store_true", help="print one JSON object per line (no table)")
    replay.add_argument("--png", default=None, metavar="PATH",
                        help="instead of playing it back, draw the trace's timeline into this .png file "
                             "(needs the widgets extra)")
    replay.set_defaults(run=_replay)


async def _record(args: argparse.Namespace) -> int:
    from . import open as open_lab
    from .trace import record

    path = writable_file(args.file)
    async with open_lab(args.backend, detect_ducking=not args.no_detect) as lab:
        print(f"recording the {lab.backend_name} backend for {args.duration:g} s into {path}", flush=True)
        trace = await record(lab, path, args.duration, meter_rate=args.meter_rate or None)
    print(f"wrote {path}: {len(trace.snapshot)} sessions, {len(trace.events)} events, "
          f"{sum(e.meters is not None for e in trace.entries)} meter frames")
    return 0


async def _replay(args: argparse.Namespace) -> int:
    import anyio

    from . import open as open_lab
    from ._format import describe_event, session_table
    from .backends.replay import ReplayBackend
    from .events import event_to_dict

    if args.png is not None:
        return _replay_png(args.file, args.png)
    async with open_lab("replay", trace=args.file, speed=args.speed) as lab, lab.events() as events:
        replay = lab.backend
        assert isinstance(replay, ReplayBackend)
        trace = replay.trace
        when = replay.recorded_clock()
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

    target = writable_file(png, suffixes=(".png",))
    try:
        import matplotlib  # noqa: F401 - the timeline imports it only when it draws: ask here, before any work

        from .widgets.timeline import FocusTimeline
    except ImportError as exc:
        raise CliError(f"--png needs matplotlib ({exc.name} is missing): "
                       "pip install 'audiolab-focus[widgets]'") from None
    trace = read_trace(path)
    timeline = FocusTimeline.from_events(trace.events, sessions=trace.snapshot, start=0.0,
                                         title=f"{Path(path).name} (recorded on {trace.backend})")
    for entry in trace.entries:
        if entry.meters is not None:
            timeline.add_meter_frame(entry.meters)
    timeline.save_png(target)
    print(f"wrote the timeline of {path} to {png}")
    return 0
