"""A tone in its own process: one PulseAudio client and stream per tone (so its own session, role and name).

:class:`ToneProcess` starts :mod:`audiolab.audio._player_child` (Python + libpulse; it synthesizes the tone
itself, so a blocked parent event loop cannot make it stutter) and talks to it with lines over its stdin and
stdout. No orphans, ever:

- the child runs in its own process group; :meth:`ToneProcess.close` asks it to stop, then kills the group;
- the child sets ``PR_SET_PDEATHSIG=SIGKILL`` first thing (and checks its parent is still alive), so the
  kernel kills it if this process dies, even by SIGKILL; stdin EOF also ends it;
- an ``atexit`` hook kills every child still running when the interpreter exits.

PDEATHSIG fires when the *thread* that forked the child ends, so the child is always started from the event
loop's thread (never from a worker thread).

:meth:`ToneProcess.spawn` starts any child module that speaks the same line protocol (the WASAPI backend's
sounddevice player, :mod:`audiolab.audio._player_child_sd`). Where there are no process groups (Windows),
killing falls back to ``os.kill`` (TerminateProcess); that path has not been run on Windows.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

from .._exceptions import AudiolabError
from .synth import Tone

__all__ = ("ToneProcess", "kill", "live_pids")

RATE = 48000
START_TIMEOUT = 10.0
STOP_TIMEOUT = 1.0

_LIVE: set[int] = set()


def live_pids() -> frozenset[int]:
    """Pids of tone processes started here and not yet reaped."""
    return frozenset(_LIVE)


def _kill_group(pid: int) -> None:
    """SIGKILL the child's process group; without process groups (Windows) TerminateProcess the child."""
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        if hasattr(os, "killpg"):
            os.killpg(pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            os.kill(pid, signal.SIGTERM)


def kill(pid: int) -> None:
    """Kill a tone process started here (and its group) at once, e.g. one still starting; whoever awaits its
    start or watch then sees it gone and reaps it. Pids not started here are left alone."""
    if pid in _LIVE:
        _kill_group(pid)


@atexit.register
def _kill_all() -> None:
    for pid in list(_LIVE):
        _kill_group(pid)
    _LIVE.clear()


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


class ToneProcess:
    """A running tone player. Start with ``await ToneProcess.start(...)``; ``on_line`` gets every report line
    after ``ready`` (``corked 0|1``, ``finished``) while :meth:`watch` runs."""

    def __init__(self, process: Process, sink_input: int) -> None:
        self._process = process
        self.sink_input = sink_input
        self._closed = False

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def ready_value(self) -> int:
        """The number the child reported with ``ready`` (the pulse child: its sink-input index; the
        sounddevice child: the pid of the process that opened the audio stream)."""
        return self.sink_input

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    @classmethod
    async def start(
        cls,
        tone: Tone,
        *,
        app: str,
        media_name: str,
        role: str = "",
        server: str | None = None,
        device: str | None = None,
        channels: int = 2,
        latency_ms: int = 30,
        extra_stream_props: dict[str, str] | None = None,
        on_spawn: Callable[[int], None] | None = None,
    ) -> ToneProcess:
        """Start a player and wait until its stream plays; AudiolabError if it cannot connect. ``on_spawn(pid)``
        runs as soon as the process exists (so a caller can :func:`kill` it while it starts). A tone the
        player's rate cannot carry raises ValueError before any process starts."""
        from .sources import check_nyquist

        check_nyquist(tone, RATE)
        spec: dict[str, Any] = {
            "tone": tone.to_dict(),
            "rate": RATE,
            "channels": channels,
            "latency_ms": latency_ms,
            "server": server,
            "device": device,
            "client_props": {"application.name": app, "media.role": role},
            "stream_props": {"media.name": media_name or app, "media.role": role, **(extra_stream_props or {})},
        }
        return await cls.spawn("audiolab.audio._player_child", spec, on_spawn=on_spawn)

    @classmethod
    async def spawn(
        cls,
        module: str,
        spec: Mapping[str, Any],
        *,
        on_spawn: Callable[[int], None] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ToneProcess:
        """Start ``python -m <module> <this pid> <json spec>`` (a child speaking the protocol above) and wait
        for its ``ready <n>`` line; AudiolabError if it reports an error or exits first. ``on_spawn(pid)`` runs
        right after the process exists (e.g. to put it in a Windows job object); ``env`` adds variables."""
        command = [sys.executable, "-m", module, str(os.getpid()), json.dumps(dict(spec))]
        child_env = _child_env()
        child_env.update(env or {})
        process = await anyio.open_process(
            command, stdin=-1, stdout=-1, stderr=-3, env=child_env, start_new_session=True
        )
        _LIVE.add(process.pid)
        try:
            if on_spawn is not None:
                on_spawn(process.pid)
            assert process.stdout is not None
            reader = BufferedByteReceiveStream(process.stdout)
            with anyio.fail_after(START_TIMEOUT):
                line = (await reader.receive_until(b"\n", 4096)).decode(errors="replace")
            word, _, rest = line.partition(" ")
            if word != "ready":
                raise AudiolabError(f"the tone player could not start: {rest or line or 'no answer'}")
            player = cls(process, int(rest))
            player._reader = reader
            return player
        except BaseException as exc:
            # Cancelled, timed out or refused before ready: the child was never told to stop (and reads no
            # commands before ready), so kill it now instead of waiting STOP_TIMEOUT for it to leave.
            _kill_group(process.pid)
            with anyio.CancelScope(shield=True):
                await _reap(process)
            if isinstance(exc, (anyio.EndOfStream, anyio.IncompleteRead, TimeoutError)):
                raise AudiolabError("the tone player exited before its stream was ready") from exc
            raise

    _reader: BufferedByteReceiveStream

    async def watch(self, on_line: Callable[[str], None]) -> int | None:
        """Deliver report lines until the child's stdout closes, then reap it; its exit code."""
        try:
            while True:
                try:
                    line = await self._reader.receive_until(b"\n", 4096)
                except (anyio.EndOfStream, anyio.IncompleteRead, anyio.ClosedResourceError, anyio.BrokenResourceError):
                    break
                on_line(line.decode(errors="replace"))
        finally:
            with anyio.CancelScope(shield=True):
                await self.close()
        return self._process.returncode

    async def send(self, command: str) -> None:
        """Send one command line (``pause``, ``resume``, ``amp 0.3``); ignored once the child is gone."""
        if self._closed or self._process.stdin is None:
            return
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            await self._process.stdin.send(command.encode() + b"\n")

    async def close(self) -> None:
        """Stop the child and reap it (asks politely, then kills its process group). Idempotent."""
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            await self.send_eof()
            await _reap(self._process)

    async def send_eof(self) -> None:
        if self._process.stdin is not None:
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                await self._process.stdin.send(b"stop\n")
            with contextlib.suppress(OSError):
                await self._process.stdin.aclose()


async def _reap(process: Process) -> None:
    """Wait briefly for the child to exit, then SIGKILL its group; always wait for it and close the pipes."""
    with anyio.move_on_after(STOP_TIMEOUT):
        await process.wait()
    if process.returncode is None:
        _kill_group(process.pid)
        await process.wait()
    _LIVE.discard(process.pid)
    with contextlib.suppress(OSError):
        await process.aclose()
