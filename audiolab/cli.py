"""The ``audiolab`` command: ``sessions``, ``watch``, ``tone``, ``record``, ``replay``, ``explain``,
``scenario run|compare|list`` and ``demo``.

Each group of subcommands is a module of its own (``_cli_live``, ``_cli_tone``, ``_cli_trace``,
``_cli_explain``, ``_cli_scenario``) with an ``add_parsers(commands)`` that registers them and sets ``run``, the coroutine
that carries one out; a new group is one more module in :data:`COMMAND_GROUPS`. Modules are imported here
cheaply; what a command needs beyond them it imports when it runs.

A user's mistake or an environment problem ends with one line on stderr naming it and exit status 2; a
closed pipe (``audiolab scenario list | head``) ends quietly; Ctrl-C ends with 130.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__, _cli_explain, _cli_live, _cli_scenario, _cli_tone, _cli_trace
from ._cli_common import CliError, Parser
from ._exceptions import AudiolabError

if sys.version_info < (3, 11):  # pragma: no cover - the backport anyio brings on 3.10
    from exceptiongroup import BaseExceptionGroup

COMMAND_GROUPS = (_cli_live, _cli_tone, _cli_trace, _cli_explain, _cli_scenario)
EXIT_ERROR = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader went away
EXIT_INTERRUPTED = 130

EPILOG = """\
examples:
  audiolab sessions                      # the sessions of a real server if one answers, else the simulation
  audiolab tone 440 --role navigation    # a test tone in a session of its own
  audiolab scenario run music-call       # a focus story on virtual time, with its checks
  audiolab demo                          # the demo stories

backend: every command that talks to an audio service takes --backend and defaults to auto: a PulseAudio/
PipeWire (or Windows) server if one answers, else the simulated service. Each process gets a simulated
service of its own: a tone played by one `audiolab` command on the simulation is not seen by another.
Run `audiolab <command> --help` for a command's options and examples.
"""


def _parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser of every command, or, when ``argv`` starts with a command, of its group only (a cold start
    saves building the rest; nothing else differs, since the other groups' arguments are never looked at, and
    ``audiolab --help ...`` still lists every command)."""
    word = argv[0] if argv else None
    groups = [group for group in COMMAND_GROUPS if word in group.COMMANDS] or COMMAND_GROUPS
    parser = Parser(prog="audiolab", description="Audio sessions and audio focus, visible.", epilog=EPILOG,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"audiolab-focus {__version__}",
                        help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser,
                                     help="one of these; `audiolab COMMAND --help` for its options")
    for group in groups:
        group.add_parsers(commands)
    for subparser in commands.choices.values():
        subparser.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``audiolab`` command; returns its exit status."""
    import anyio

    args = _parser(sys.argv[1:] if argv is None else argv).parse_args(argv)
    try:
        status = anyio.run(args.run, args)
        sys.stdout.flush()  # a closed pipe shows here for output still buffered
    except (BaseExceptionGroup, KeyboardInterrupt, BrokenPipeError, OSError, AudiolabError, CliError) as exc:
        return _ended_by(exc, args.command)
    return int(status)


def _ended_by(exc: BaseException, command: str) -> int:
    """The exit status for ``exc`` after printing its one line; re-raises what is a bug, not a user's problem."""
    if _find(exc, BrokenPipeError) is not None:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    if _find(exc, KeyboardInterrupt) is not None:
        return EXIT_INTERRUPTED
    problem = _find(exc, (CliError, AudiolabError, OSError))
    if problem is None:
        raise exc
    print(f"audiolab {command}: {_describe(problem)}", file=sys.stderr)
    return EXIT_ERROR


def _find(exc: BaseException, kinds: type[BaseException] | tuple[type[BaseException], ...]) -> BaseException | None:
    """``exc`` itself or the first exception of ``kinds`` inside it (task groups wrap them)."""
    if isinstance(exc, kinds):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find(inner, kinds)
            if found is not None:
                return found
    return None


def _describe(problem: BaseException) -> str:
    if isinstance(problem, OSError) and problem.strerror:
        where = f"{problem.filename}: " if problem.filename else ""
        return f"{where}{problem.strerror}"
    return str(problem)


def _silence_stdout() -> None:
    """The reader went away: point stdout at /dev/null so that the interpreter's final flush stays quiet."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):  # replaced by a test's capture: nothing to silence
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
