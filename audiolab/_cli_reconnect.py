"""``--reconnect`` for ``watch`` and ``explain --watch``: follow a PulseAudio/PipeWire server across a restart.

The pulse backend does the work (``reconnect=True``: when the server goes away it reports the end of every
session, tries again after 0.1, 0.2, 0.5 and then every 1 s, and reports the sessions it finds when the server
is back). This module picks that backend, and says when the connection goes and comes back: the backend's
statistics are read five times a second, and each change is one line (on stdout in a text log, on stderr beside
JSON lines, so stdout stays one event per line).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._cli_common import CliError

if TYPE_CHECKING:
    from .lab import Lab

RECONNECTING_BACKENDS = ("pulse", "pipewire")
POLL_SECONDS = 0.2


def add_reconnect_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--reconnect`` on a command that watches a live server."""
    parser.add_argument("--reconnect", action="store_true",
                        help=f"when a PulseAudio/PipeWire server goes away, wait for it and {what} again when it "
                             "is back (default: stop with exit status 2)")


async def backend_for(args: argparse.Namespace) -> tuple[str, dict[str, object]]:
    """The backend to open and its options: ``--reconnect`` needs a PulseAudio/PipeWire server (``auto`` picks
    it when one answers). CliError when there is none to follow."""
    if not args.reconnect:
        return args.backend, {}
    name = args.backend
    if name == "auto":
        from .backends import auto_candidates

        if "pulse" not in await auto_candidates():
            raise CliError("--reconnect follows a PulseAudio or PipeWire server, and none answered here "
                           "(start one, or leave out --reconnect)")
        name = "pulse"
    if name not in RECONNECTING_BACKENDS:
        raise CliError(f"--reconnect follows a PulseAudio or PipeWire server; --backend {name} has none to follow")
    return name, {"reconnect": True}


def notice_printer(*, json_lines: bool) -> Callable[[str], None]:
    """Print a line that is not an event: to stderr beside JSON lines (stdout stays one object a line), else
    to stdout with the log."""

    def say(line: str) -> None:
        print(line, file=sys.stderr if json_lines else sys.stdout, flush=True)

    return say


async def report_connection(lab: Lab, say: Callable[[str], None], when: Callable[[float], str]) -> None:
    """Say when the server goes away and when it is back, until cancelled."""
    import anyio

    statistics = getattr(lab.backend, "statistics", None)
    if not callable(statistics):
        return
    connected, address = True, statistics().server
    while True:
        await anyio.sleep(POLL_SECONDS)
        now = statistics()
        if now.connected == connected:
            continue
        connected, address = now.connected, now.server if now.connected else address
        stamp = when(lab.clock.now())
        if connected:
            say(f"{stamp} reconnected to the server at {address}; its sessions follow")
        else:
            say(f"{stamp} the server at {address} went away: its sessions ended; waiting for it to come back "
                "(--reconnect)")
