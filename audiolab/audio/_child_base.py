"""What the tone player processes share: dying with their parent, the line protocol, and the main loop.

Both players (:mod:`._player_child` on libpulse, :mod:`._player_child_sd` on PortAudio) are run as
``python -m <module> <parent pid> <json spec>``. Commands, one per line on stdin: ``pause``, ``resume``,
``amp <linear>``, ``stop``. Reports, one per line on stdout: ``ready <id>``, ``corked <0|1>``, ``finished``,
``error <text>``. EOF on stdin (the parent closed the pipe or died) ends the player like ``stop``.

Standard library only: it runs before the players load numpy or an audio library, so that a player whose
parent dies while it starts never outlives it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, Protocol

_PR_SET_PDEATHSIG = 1
_SIGKILL = 9
_POLL_SECONDS = 0.1
_SYNCHRONIZE = 0x00100000
_WAIT_TIMEOUT = 0x00000102
_INFINITE = 0xFFFFFFFF


def die_with_parent(parent: int, mode: str = "auto") -> None:
    """End this process when ``parent`` ends: on Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` and a check that the
    parent is still the one that started us (closing the race before the prctl); on Windows a thread waiting on
    a handle of the parent (**never run on Windows**); elsewhere, or with ``mode="poll"``, a thread polling the
    parent every 0.1 s. The pid is given, not read with getppid: a venv's ``python.exe`` on Windows is a
    launcher whose child is the real interpreter."""
    if mode == "poll":
        _poll_parent(parent)
    elif sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the prctl took effect
            os._exit(1)
    elif sys.platform == "win32":  # pragma: no cover - Windows
        _watch_parent_windows(parent)
    else:  # pragma: no cover - macOS and other POSIX
        _poll_parent(parent)


def say(line: str) -> None:
    """Report one line to the parent; a parent that stopped reading ends this process."""
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError, OSError):
        os._exit(0)


class ChildPlayer(Protocol):
    """What :func:`serve` runs: a player that takes commands and says when it is done."""

    done: threading.Event
    """Set when the tone is over (or the player should end)."""

    def command(self, line: str) -> bool:
        """Apply one command line; False when the player should end."""
        ...

    def played_out(self) -> bool:
        """Whether the tone ran out by itself (then ``finished`` is reported)."""
        ...


def serve(player: ChildPlayer, ready: str) -> None:
    """Say ``ready <ready>``, apply commands until ``stop``, EOF or the tone's end, say ``finished`` if it ran
    out, and leave at once (the server or the OS drops the stream with the process; an orderly teardown of
    libpulse or PortAudio can hang)."""
    say(f"ready {ready}")

    def read_commands() -> None:
        for line in sys.stdin:
            if not player.command(line):
                break
        player.done.set()  # "stop" or EOF: the parent is done with us (or gone)

    threading.Thread(target=read_commands, name="commands", daemon=True).start()
    player.done.wait()
    if player.played_out():
        say("finished")
    os._exit(0)


def _poll_parent(parent: int) -> None:
    def alive() -> bool:
        if sys.platform == "win32":  # pragma: no cover - Windows
            return _windows_alive(parent)
        if os.getppid() != parent:
            return False
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def loop() -> None:
        while alive():
            time.sleep(_POLL_SECONDS)
        os._exit(1)

    if not alive():
        os._exit(1)
    threading.Thread(target=loop, name="parent-watch", daemon=True).start()


def _kernel32() -> Any:  # pragma: no cover - Windows only, never run
    if sys.platform != "win32":  # also tells type checkers that what follows is Windows code
        raise OSError("kernel32 exists on Windows only")
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.WaitForSingleObject.argtypes = [wintypes.HANDLE, wintypes.DWORD]
    kernel32.WaitForSingleObject.restype = wintypes.DWORD
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    return kernel32


def _windows_alive(pid: int) -> bool:  # pragma: no cover - Windows only, never run
    kernel32 = _kernel32()
    handle = kernel32.OpenProcess(_SYNCHRONIZE, False, pid)
    if not handle:
        return False
    try:
        return bool(kernel32.WaitForSingleObject(handle, 0) == _WAIT_TIMEOUT)  # still running
    finally:
        kernel32.CloseHandle(handle)


def _watch_parent_windows(parent: int) -> None:  # pragma: no cover - Windows only, never run
    """Wait on a handle of the parent process (immune to pid reuse once opened); exit when it ends."""
    kernel32 = _kernel32()
    handle = kernel32.OpenProcess(_SYNCHRONIZE, False, parent)
    if not handle:
        os._exit(1)  # the parent is already gone (or we may not see it: then the job object still covers us)

    def wait() -> None:
        kernel32.WaitForSingleObject(handle, _INFINITE)
        os._exit(1)

    threading.Thread(target=wait, name="parent-watch", daemon=True).start()
