"""Reading a file the user named without hanging on it: a FIFO, a device or a directory in its place is
refused at once (opened without blocking, checked with fstat) instead of blocking the reader for ever."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def read_regular_file(path: str | os.PathLike[str], max_bytes: int | None = None) -> bytes | None:
    """The bytes of ``path``, or None when it does not exist. OSError when it is not a regular file, cannot
    be read, or is larger than ``max_bytes``."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{Path(path)} is not a regular file")
        if max_bytes is not None and info.st_size > max_bytes:
            raise OSError(f"{Path(path)} is larger than {max_bytes} bytes")
        return f.read() if max_bytes is None else f.read(max_bytes + 1)


def read_text_file(path: str | os.PathLike[str]) -> str:
    """The UTF-8 text of a regular file; FileNotFoundError when it is missing, OSError/UnicodeDecodeError as
    :func:`read_regular_file` and the codec raise them."""
    raw = read_regular_file(path)
    if raw is None:
        raise FileNotFoundError(f"no such file: {Path(path)}")
    return raw.decode("utf-8")
