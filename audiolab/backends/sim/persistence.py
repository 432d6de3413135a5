"""Where the simulated service keeps render sessions' volume and mute across restarts, the Windows way.

Only render sessions are kept (capture and loopback sessions are not), keyed by identity without the pid
(a new instance of the app inherits what the last instance to end left). Display names and icons are never
kept. Writes are atomic (temporary file, fsync, replace); a corrupt or unreadable file is reported with a
:class:`PersistenceWarning` and replaced by defaults, never a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FORMAT_VERSION = 1


class PersistenceWarning(UserWarning):
    """The persisted session settings could not be read and were reset to defaults."""


@dataclass(frozen=True)
class Stored:
    volume: float
    muted: bool


class VolumeStore:
    """Persisted volume and mute by key; in memory only when ``path`` is None."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._entries: dict[str, Stored] = {}
        self.writes = 0
        self._batching = False
        self.reload()

    def reload(self) -> None:
        """Read the file again (what a restarted service does); a bad file gives a warning and defaults."""
        if self.path is None:
            return
        self._entries = {}
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            warnings.warn(f"cannot read {self.path}: {exc}; using default volumes", PersistenceWarning, stacklevel=2)
            return
        try:
            self._entries = _parse(raw)
        except (ValueError, TypeError, KeyError) as exc:
            warnings.warn(
                f"{self.path} is corrupt ({exc}); using default volumes and rewriting it",
                PersistenceWarning,
                stacklevel=2,
            )
            self._write()

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
        if self.path is None:
            return
        payload = {
            "version": FORMAT_VERSION,
            "sessions": {k: {"volume": v.volume, "muted": v.muted} for k, v in sorted(self._entries.items())},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(payload, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.writes += 1


def _parse(raw: str) -> dict[str, Stored]:
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise ValueError(f"expected a version {FORMAT_VERSION} object")
    sessions = data["sessions"]
    if not isinstance(sessions, dict):
        raise TypeError("'sessions' must be an object")
    out = {}
    for key, entry in sessions.items():
        volume, muted = entry["volume"], entry["muted"]
        if isinstance(volume, bool) or not isinstance(volume, (int, float)) or not 0.0 <= volume <= 1.0:
            raise ValueError(f"bad volume for {key!r}: {volume!r}")
        if not isinstance(muted, bool):
            raise TypeError(f"bad mute flag for {key!r}: {muted!r}")
        out[key] = Stored(float(volume), muted)
    return out
