"""Where the simulated service keeps render sessions' volume and mute across restarts, the Windows way.

Only render sessions are kept (capture and loopback sessions are not), keyed by identity without the pid
(a new instance of the app inherits what the last instance to end left). Display names and icons are never
kept. Writes are atomic (temporary file, fsync, replace); temporary files that a killed writer left behind
are swept when the store is next read. A store that cannot be read (corrupt, an unknown version, not a
regular file, unreadable) is reported with a :class:`PersistenceWarning` and never overwritten: the service
runs with defaults, in memory, and another app's settings in that file stay as they were.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..._by_fields import by_fields
from ..._files import read_regular_file

try:
    import fcntl
except ImportError:  # Windows: abandoned temporaries are told by their age alone
    fcntl = None  # type: ignore[assignment]

FORMAT_VERSION = 1
MAX_BYTES = 16 * 1024 * 1024
"""A store larger than this is not read (it is not one this service wrote)."""
ABANDONED_AFTER = 1.0
"""A temporary file untouched this long, and locked by no writer, was left by a killed write."""


class PersistenceWarning(UserWarning):
    """The persisted session settings could not be read (or saved); the service runs with defaults in memory."""


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Stored:
    """One session's saved volume and mute."""

    volume: float
    muted: bool


class VolumeStore:
    """Persisted volume and mute by key; in memory only when ``path`` is None or the file cannot be read."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._entries: dict[str, Stored] = {}
        self.writes = 0
        self._batching = False
        self.in_memory = path is None
        """True when nothing is written: no path, or a file this store could not read (left untouched)."""
        self.reload()

    def reload(self) -> None:
        """Read the file again (what a restarted service does). A file that cannot be read is reported with
        a warning and left as it is; the store then keeps what it has in memory and writes nothing."""
        if self.path is None:
            return
        self._sweep_abandoned()
        try:
            raw = read_regular_file(self.path, MAX_BYTES)
        except OSError as exc:
            self._refuse(f"cannot read {self.path}: {exc.strerror or exc}")
            return
        if raw is None:
            self._entries, self.in_memory = {}, False
            return
        try:
            entries = _parse(raw.decode("utf-8"))
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            self._refuse(f"{self.path} is corrupt ({_reason(exc)})")
            return
        self._entries, self.in_memory = entries, False

    def _refuse(self, why: str) -> None:
        self.in_memory = True  # first: with warnings as errors, the warning below raises
        warnings.warn(f"{why}; using default volumes in memory and leaving the file as it is",
                      PersistenceWarning, stacklevel=3)

    def get(self, key: str) -> Stored | None:
        return self._entries.get(key)

    def put(self, key: str, volume: float, muted: bool) -> None:
        self._entries[key] = Stored(float(volume), bool(muted))
        if not self._batching:
            self._write()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Puts inside the block are written once, at its end (a restart ends many sessions at once)."""
        if self._batching:
            yield
            return
        self._batching = True
        try:
            yield
        finally:
            self._batching = False
            self._write()

    def keys(self) -> list[str]:
        return sorted(self._entries)

    def _write(self) -> None:
        """Write atomically; a failure is reported with a warning (the settings stay in memory), never raised:
        a session must be able to end even when its settings cannot be saved."""
        try:
            self._write_file()
        except OSError as exc:
            warnings.warn(f"cannot save session settings to {self.path}: {exc}", PersistenceWarning, stacklevel=3)

    def _write_file(self) -> None:
        if self.path is None or self.in_memory:
            return
        payload = {
            "version": FORMAT_VERSION,
            "sessions": {k: {"volume": v.volume, "muted": v.muted} for k, v in sorted(self._entries.items())},
        }
        import tempfile  # here, as glob below: a service that saves nothing starts without them

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                if fcntl is not None:
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # tells a sweeping reader that this write is alive
                json.dump(payload, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.writes += 1

    def _sweep_abandoned(self) -> None:
        """Remove the temporary files of writes that were killed before their rename."""
        import glob

        assert self.path is not None
        pattern = glob.escape(str(self.path.parent / self.path.name)) + ".*.tmp"
        for name in glob.glob(pattern):
            with contextlib.suppress(OSError):
                if _abandoned(name):
                    os.unlink(name)


def _abandoned(name: str) -> bool:
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or time.time() - info.st_mtime < ABANDONED_AFTER:
            return False
        if fcntl is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live writer holds it
        return True
    finally:
        os.close(fd)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, KeyError):
        return f"missing key {exc}"
    return str(exc)


def _parse(raw: str) -> dict[str, Stored]:
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise TypeError("the top level must be an object")
    if data.get("version") != FORMAT_VERSION:
        raise ValueError(f"version {data.get('version')!r} is not {FORMAT_VERSION}, the one this service knows")
    sessions = data["sessions"]
    if not isinstance(sessions, dict):
        raise TypeError("'sessions' must be an object")
    out = {}
    for key, entry in sessions.items():
        if not isinstance(entry, dict):
            raise TypeError(f"the entry for {key!r} must be an object")
        volume, muted = entry["volume"], entry["muted"]
        if isinstance(volume, bool) or not isinstance(volume, (int, float)) or not 0.0 <= volume <= 1.0:
            raise ValueError(f"bad volume for {key!r}: {volume!r}")
        if not isinstance(muted, bool):
            raise TypeError(f"bad mute flag for {key!r}: {muted!r}")
        out[key] = Stored(float(volume), muted)
    return out
