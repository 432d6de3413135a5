"""A sink for tests: keeps every mixed block the simulated service writes."""

from __future__ import annotations

import numpy as np


class RecordingSink:
    """Pass as ``output=`` to the simulated service; every block of its output device lands here."""

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []
        self.closed = False

    def write(self, block: np.ndarray) -> None:
        self.blocks.append(np.array(block, copy=True))

    def close(self) -> None:
        self.closed = True

    @property
    def signal(self) -> np.ndarray:
        """The whole recording, (frames, channels)."""
        return np.concatenate(self.blocks)

    def envelope(self) -> np.ndarray:
        """Peak of each block; block i covers [i*10 ms, (i+1)*10 ms) at the default block size."""
        return np.array([float(np.max(np.abs(b))) if b.size else 0.0 for b in self.blocks])
