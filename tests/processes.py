"""Checking on child processes from tests (Linux /proc)."""

from __future__ import annotations

import time

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
