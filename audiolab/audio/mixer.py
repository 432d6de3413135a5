"""`DeviceMixer`: sums the sessions playing on one endpoint device, with click-free gain ramps and meters.

Per block the caller passes every session's block and its *target* gain per channel (session volume x
channel volume x (0 if muted) x focus gain, computed by the caller). The mixer owns the ramps:

* a new session starts at its target gain (or ramps up from 0 with ``ramp_in_new_sessions=True``);
* when a target changes, the gain moves linearly from its current value to the target over exactly
  ``ramp_frames`` frames (a new change mid-ramp starts a new ramp from wherever the gain is);
* a session missing from a block is forgotten (its ramp state is dropped).

Discontinuity bound: the gain of a channel changes by at most ``|target - current| / ramp_frames`` between
consecutive samples, so a volume step adds at most ``|dg| * max|x| / ramp_frames`` to any sample-to-sample
difference of the output (``y[k+1] - y[k] = g[k+1] (x[k+1] - x[k]) + (g[k+1] - g[k]) x[k]``). With the
default 5 ms at 48 kHz (240 frames) a full-scale mute of a full-scale signal steps by at most 1/240.

Peaks are measured after the gain (as Windows' IAudioMeterInformation reports them after the session
volume): per session and channel, per session, and of the mixed device block. Nothing is clipped here;
sinks clip.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from .._by_fields import by_fields

__all__ = ("DeviceMixer", "MixResult")


@by_fields
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class MixResult:
    """One mixed block and its meters.

    ``block`` (frames, channels) float32 interleaved, unclipped; ``peaks`` (S, channels) and
    ``session_peaks`` (S,) float32 aligned with ``session_ids``; ``device_peaks`` (channels,);
    ``device_peak`` the overall maximum.
    """

    block: np.ndarray
    session_ids: tuple[Hashable, ...]
    peaks: np.ndarray
    session_peaks: np.ndarray
    device_peaks: np.ndarray
    device_peak: float

    def peak_of(self, session_id: Hashable) -> float:
        """The overall peak of one session (ValueError if it was not in this block)."""
        return float(self.session_peaks[self.session_ids.index(session_id)])

    def peaks_by_session(self) -> dict[Hashable, float]:
        return dict(zip(self.session_ids, self.session_peaks.tolist(), strict=True))


class DeviceMixer:
    """Mixer of one endpoint device. Not thread-safe: one engine task calls `mix` once per block."""

    def __init__(
        self,
        sample_rate: int = 48000,
        block_frames: int = 480,
        channels: int = 2,
        ramp_seconds: float = 0.005,
        *,
        ramp_in_new_sessions: bool = False,
    ) -> None:
        for name, value in (("sample_rate", sample_rate), ("block_frames", block_frames), ("channels", channels)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if isinstance(ramp_seconds, bool) or not isinstance(ramp_seconds, (int, float)) or not 0 <= ramp_seconds < 10:
            raise ValueError(f"ramp_seconds must be within 0..10, got {ramp_seconds!r}")
        self.sample_rate = int(sample_rate)
        self.block_frames = int(block_frames)
        self.channels = int(channels)
        self.ramp_seconds = float(ramp_seconds)
        self.ramp_frames = max(1, round(ramp_seconds * sample_rate))
        self.ramp_in_new_sessions = ramp_in_new_sessions
        self._ids: tuple[Hashable, ...] = ()
        self._index: dict[Hashable, int] = {}
        self._current = np.zeros((0, channels))  # gain reached at the end of the last block
        self._target = np.zeros((0, channels))
        self._step = np.zeros((0, channels))  # per-frame gain increment of the running ramp
        self._remaining = np.zeros(0, dtype=np.int64)  # frames left in the running ramp
        self._scratch = np.zeros(0, dtype=np.float32)

    @property
    def session_ids(self) -> tuple[Hashable, ...]:
        return self._ids

    def current_gains(self) -> dict[Hashable, np.ndarray]:
        """The gain each known session has reached (after the last block), per channel."""
        return {sid: self._current[i].copy() for sid, i in self._index.items()}

    def settle(self, session_ids: Sequence[Hashable], gains: np.ndarray) -> None:
        """Stand as if blocks had been mixed with ``gains`` (S, channels) until every ramp ended: what a
        caller that skipped blocks nobody listened to sets before it mixes again."""
        ids = tuple(session_ids)
        target = np.asarray(gains, dtype=np.float64).reshape(len(ids), self.channels)
        self._adopt(ids, target)
        self._current[:] = target
        self._target[:] = target
        self._step[:] = 0.0
        self._remaining[:] = 0

    def reset(self) -> None:
        """Forget every session's ramp state."""
        self._adopt(())

    def mix(self, session_ids: Sequence[Hashable], blocks: np.ndarray, gains: np.ndarray | Sequence[float]) -> MixResult:
        """Mix one block.

        ``blocks``: (S, channels, frames) float32, planar (as `ToneBank.render` returns it);
        ``gains``: target gains, (S,) or (S, channels), finite and >= 0; ``session_ids``: S distinct ids.
        """
        ids = session_ids if isinstance(session_ids, tuple) else tuple(session_ids)
        blocks = np.asarray(blocks, dtype=np.float32)
        s = len(ids)
        if blocks.ndim != 3 or blocks.shape[0] != s or blocks.shape[1] != self.channels:
            raise ValueError(f"blocks must have shape ({s}, {self.channels}, frames), got {blocks.shape}")
        n = blocks.shape[2]
        target = np.asarray(gains, dtype=np.float64)
        if target.shape == (s,):
            target = np.repeat(target[:, None], self.channels, axis=1)
        if target.shape != (s, self.channels):
            raise ValueError(f"gains must have shape ({s},) or ({s}, {self.channels}), got {target.shape}")
        if not np.all(np.isfinite(target)) or np.any(target < 0):
            raise ValueError("gains must be finite and >= 0")
        if ids is not self._ids and ids != self._ids:
            if len(set(ids)) != s:
                raise ValueError("session_ids must be distinct")
            self._adopt(ids, target)

        changed = np.any(target != self._target, axis=1)
        if changed.any():
            rows = np.flatnonzero(changed)
            self._target[rows] = target[rows]
            self._step[rows] = (target[rows] - self._current[rows]) / self.ramp_frames
            self._remaining[rows] = self.ramp_frames
        ramping = np.flatnonzero(self._remaining > 0)

        # Steady sessions have a constant gain over the block, so their peak is gain * max|x| and their
        # sum is one weighted reduction. einsum rather than matmul: BLAS threads would spin on other cores.
        steady_gain = self._current.astype(np.float32)
        steady_gain[ramping] = 0.0
        mixed = np.einsum("sc,scn->cn", steady_gain, blocks)
        if self._scratch.size < blocks.size:
            self._scratch = np.empty(blocks.size, dtype=np.float32)
        magnitude = np.abs(blocks, out=self._scratch[: blocks.size].reshape(blocks.shape))
        peaks = magnitude.max(axis=2, initial=0.0)
        peaks *= self._current.astype(np.float32)

        if len(ramping):
            k = np.minimum(np.arange(1, n + 1), self._remaining[ramping, None])  # (R, n) frames into the ramp
            g = self._current[ramping, :, None] + self._step[ramping, :, None] * k[:, None, :]
            y = blocks[ramping] * g.astype(np.float32)
            peaks[ramping] = np.abs(y).max(axis=2, initial=0.0)
            mixed += y.sum(axis=0)
            advance = np.minimum(self._remaining[ramping], n)
            self._current[ramping] = self._current[ramping] + self._step[ramping] * advance[:, None]
            self._remaining[ramping] -= advance
            finished = ramping[self._remaining[ramping] == 0]
            self._current[finished] = self._target[finished]  # land exactly on the target

        device_peaks = np.abs(mixed).max(axis=1, initial=0.0)
        return MixResult(
            block=np.ascontiguousarray(mixed.T),
            session_ids=ids,
            peaks=peaks,
            session_peaks=peaks.max(axis=1, initial=0.0),
            device_peaks=device_peaks,
            device_peak=float(device_peaks.max(initial=0.0)),
        )

    def _adopt(self, ids: tuple[Hashable, ...], target: np.ndarray | None = None) -> None:
        """Re-index the ramp state for a new set/order of sessions; new ones start at their target."""
        s = len(ids)
        old = np.fromiter((self._index.get(i, -1) for i in ids), dtype=np.int64, count=s)
        known = old >= 0
        current = np.zeros((s, self.channels))
        tgt = np.zeros((s, self.channels))
        step = np.zeros((s, self.channels))
        remaining = np.zeros(s, dtype=np.int64)
        current[known] = self._current[old[known]]
        tgt[known] = self._target[old[known]]
        step[known] = self._step[old[known]]
        remaining[known] = self._remaining[old[known]]
        if target is not None and not self.ramp_in_new_sessions:
            current[~known] = target[~known]
            tgt[~known] = target[~known]
        # with ramp_in_new_sessions new sessions start at 0 and the target comparison starts a ramp
        self._ids = ids
        self._index = {sid: i for i, sid in enumerate(ids)}
        self._current, self._target, self._step, self._remaining = current, tgt, step, remaining
