"""Checking on child processes from tests (Linux /proc)."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from typing import IO

import anyio


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie (an exited child nobody reaped yet is gone for us)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


async def gone_within(pid: int, seconds: float) -> bool:
    """Whether the process is gone (see :func:`alive`) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        await anyio.sleep(0.01)
    return True


class OutputLines:
    """Reads a child's output (stdout, or ``stream``) line by line in a thread, so a test waits for a line with a
    deadline."""

    def __init__(self, process: subprocess.Popen[str], stream: str = "stdout") -> None:
        pipe = getattr(process, stream)
        assert pipe is not None, f"the child's {stream} is not a pipe"
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()
        self.seen: list[str] = []

    def _read(self, stream: IO[str]) -> None:
        try:
            for line in stream:
                self._queue.put(line.rstrip("\n"))
        except (OSError, ValueError):  # the test closed the pipe after killing the child
            pass
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.seen:
                if text in line:
                    self.seen.remove(line)
                    return line
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} within {timeout} s; got {self.seen}") from None
            if line is None:
                raise AssertionError(f"the output ended before {text!r}; got {self.seen}")
            self.seen.append(line)
