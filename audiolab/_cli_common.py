"""What every ``audiolab`` subcommand shares: the one-line error, checked argument types, the backend option
and the check that an output file can be written before anything runs.

Kept free of heavy imports: ``audiolab sessions`` starts by importing this.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from .backends import BACKEND_NAMES

DEFAULT_BACKEND = "auto"
LIVE_BACKENDS = tuple(name for name in BACKEND_NAMES if name != "replay")
BACKEND_HELP = (
    "where the sessions live: auto (a PulseAudio/PipeWire or Windows server if one answers, else the "
    "simulated service), sim, pulse, pipewire or wasapi (default: auto)"
)


class CliError(Exception):
    """A user's mistake or an environment problem: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``audiolab tone: argument --seconds: ...``) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every add_argument, and without a width each one imports shutil (and
        # with it bz2, lzma, zlib) to ask the terminal's: two of the cold start's milliseconds. Ask os instead.
        kind = self.formatter_class
        if isinstance(kind, type) and issubclass(kind, argparse.HelpFormatter):
            return kind(prog=self.prog, width=_terminal_columns() - 2)
        return super()._get_formatter()


def _terminal_columns() -> int:
    """The terminal's width as shutil.get_terminal_size() finds it: $COLUMNS, else stdout's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def number(
    *, low: float, high: float = math.inf, low_open: bool = True, allow_zero: bool = False
) -> Callable[[str], float]:
    """An argparse type: a finite number in ``(low, high]`` (``[low, high]`` with ``low_open=False``), or 0
    when ``allow_zero``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if allow_zero and value == 0:
            return 0.0
        in_range = (value > low if low_open else value >= low) and value <= high
        if not math.isfinite(value) or not in_range:
            bounds = f"{'more than' if low_open else 'at least'} {low:g}"
            if math.isfinite(high):
                bounds += f" and at most {high:g}"
            raise argparse.ArgumentTypeError(f"must be {'0, or ' if allow_zero else ''}{bounds}, got {text}")
        return value

    return parse


def existing_file(text: str) -> str:
    """An argparse type: the name of a file that exists."""
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return text


def add_backend_option(parser: argparse.ArgumentParser, default: str | None = DEFAULT_BACKEND) -> None:
    """``--backend``: the live backends only (a trace is replayed with ``audiolab replay``)."""
    parser.add_argument("--backend", default=default, choices=("auto", *LIVE_BACKENDS), help=BACKEND_HELP)


def writable_file(path: str, *, suffixes: tuple[str, ...] = (), create_folders: bool = False) -> Path:
    """Check, before any work, that ``path`` can be written as a file; raise CliError naming the problem.

    With ``create_folders`` missing folders are allowed (the writer makes them); the nearest existing one
    must take files. Nothing is left behind by the check.
    """
    target = Path(path)
    if suffixes and target.suffix.lower() not in suffixes:
        raise CliError(f"{path}: the file name must end in {' or '.join(suffixes)}")
    if target.is_dir():
        raise CliError(f"{path} is a folder; give a file name")
    folder = target.parent
    while create_folders and not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.exists():
        raise CliError(f"{path}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise CliError(f"{path}: {folder} is not a folder")
    import tempfile  # here: the commands that write no file start without it

    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".audiolab-", suffix=".probe")
    except OSError as exc:
        raise CliError(f"{path}: cannot write files in {folder} ({exc.strerror or exc})") from None
    os.close(handle)
    os.unlink(probe)
    return target
