"""`ToneBank`: many tones rendered together, one block for all of them in a few numpy operations.

Plain periodic tones (sine, square, sawtooth, triangle without dual tone or cadence; fades and durations
are fine) live in one structure-of-arrays group per waveform and are rendered vectorised. Every other tone
(noise, sweeps, DTMF, cadences, dual tones) is a `ToneSource` read one by one into its row.

    bank = ToneBank(48000, channels=2)
    bank.add("music", sine(440, amplitude=0.5))
    keys, blocks = bank.render(480)     # blocks: (len(keys), channels, 480) float32, planar
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from .patterns import EDGE_SECONDS
from .sources import (
    NO_END,
    ToneSource,
    _check_amplitude,
    _check_frames,
    check_format,
    check_nyquist,
    envelope,
    in_transition,
    make_source,
    pan_gains,
    periodic_into,
)
from .synth import PERIODIC_WAVEFORMS, Tone

__all__ = ("ToneBank",)


class _Group:
    """Structure of arrays for the batched tones of one periodic waveform; rows are swap-removed."""

    _FIELDS = ("phase", "inc", "amp", "t", "fade_in", "fade_out", "end")

    def __init__(self, kind: str, channels: int) -> None:
        self.kind = kind
        self.keys: list[Hashable] = []
        self.phase = np.zeros(0)
        self.inc = np.zeros(0)
        self.amp = np.zeros(0)
        self.t = np.zeros(0, dtype=np.int64)
        self.fade_in = np.zeros(0, dtype=np.int64)
        self.fade_out = np.zeros(0, dtype=np.int64)
        self.end = np.zeros(0, dtype=np.int64)
        self.pan = np.zeros((0, channels))

    def __len__(self) -> int:
        return len(self.keys)

    def _grow(self) -> None:
        cap = max(16, 2 * len(self.phase))
        for name in (*self._FIELDS, "pan"):
            old = getattr(self, name)
            new = np.zeros((cap, *old.shape[1:]), dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def append(self, key: Hashable, tone: Tone, sample_rate: int) -> int:
        i = len(self.keys)
        if i == len(self.phase):
            self._grow()
        self.keys.append(key)
        self.phase[i] = 0.0
        self.inc[i] = tone.frequency / sample_rate
        self.amp[i] = tone.amplitude
        self.t[i] = 0
        self.fade_in[i] = round(tone.fade_in * sample_rate)
        self.fade_out[i] = round(tone.fade_out * sample_rate)
        self.end[i] = NO_END if tone.duration is None else round(tone.duration * sample_rate)
        self.pan[i] = pan_gains(tone.pan, self.pan.shape[1])
        return i

    def remove(self, i: int) -> Hashable | None:
        """Remove row i by moving the last row into it; return the key that moved (or None)."""
        last = len(self.keys) - 1
        moved = None
        if i != last:
            for name in (*self._FIELDS, "pan"):
                arr = getattr(self, name)
                arr[i] = arr[last]
            moved = self.keys[last]
            self.keys[i] = moved
        self.keys.pop()
        return moved

    def render(self, out: np.ndarray, mono: np.ndarray) -> None:
        """Write the next block of every row into ``out`` (m, channels, n) using scratch ``mono`` (m, n)."""
        m, n = mono.shape
        self.phase[:m] = periodic_into(self.kind, self.phase[:m], self.inc[:m], mono)
        t, fi, fo, end = self.t[:m], self.fade_in[:m], self.fade_out[:m], self.end[:m]
        rows = np.flatnonzero(in_transition(t, n, fi, fo, end))
        if len(rows):
            mono[rows] *= envelope(t[rows], n, fi[rows], fo[rows], end[rows])
        gains = (self.amp[:m, None] * self.pan[:m]).astype(np.float32)
        np.multiply(mono[:, None, :], gains[:, :, None], out=out)
        t += n

    def skip(self, n: int) -> None:
        """Move every row on ``n`` frames as :meth:`render` would, without rendering."""
        m = len(self)
        self.phase[:m] = np.mod(self.phase[:m] + self.inc[:m] * n, 1.0)
        self.t[:m] += n


class ToneBank:
    """Many playing tones, keyed by any hashable (e.g. a session id), rendered block by block together.

    ``render(frames)`` returns ``(keys, blocks)``: ``blocks[i]`` is the (channels, frames) float32 block of
    ``keys[i]`` (planar layout, the layout `DeviceMixer.mix` takes). The array is reused by the next
    ``render``: consume or copy it first. Rows are grouped by waveform, so their order changes only when
    tones are added or removed; ``keys`` is the same tuple object until then.
    """

    def __init__(self, sample_rate: int = 48000, channels: int = 2) -> None:
        self.sample_rate, self.channels = check_format(sample_rate, channels)
        self._edge = max(1, round(EDGE_SECONDS * self.sample_rate))
        self._groups = {kind: _Group(kind, self.channels) for kind in PERIODIC_WAVEFORMS}
        self._other_keys: list[Hashable] = []
        self._other_sources: list[ToneSource] = []
        self._where: dict[Hashable, tuple[str | None, int]] = {}
        self._keys: tuple[Hashable, ...] | None = ()
        self._out = np.zeros(0, dtype=np.float32)
        self._mono = np.zeros(0, dtype=np.float32)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: object) -> bool:
        return key in self._where

    @property
    def keys(self) -> tuple[Hashable, ...]:
        """The keys in the row order of the next ``render``."""
        if self._keys is None:
            keys: list[Hashable] = []
            for group in self._groups.values():
                keys.extend(group.keys)
            keys.extend(self._other_keys)
            self._keys = tuple(keys)
        return self._keys

    def add(self, key: Hashable, tone: Tone | ToneSource) -> None:
        """Start playing ``tone`` under ``key`` (a `Tone`, or an already rendered `ToneSource`)."""
        if key in self._where:
            raise KeyError(f"{key!r} is already playing in this bank")
        if isinstance(tone, Tone):
            check_nyquist(tone, self.sample_rate)
            if tone.batchable:
                group = self._groups[tone.waveform]
                self._where[key] = (tone.waveform, group.append(key, tone, self.sample_rate))
                self._keys = None
                return
            tone = make_source(tone, self.sample_rate, self.channels)
        elif not isinstance(tone, ToneSource):
            raise TypeError(f"expected a Tone or ToneSource, got {type(tone).__name__}")
        elif (tone.sample_rate, tone.channels) != (self.sample_rate, self.channels):
            raise ValueError("the source's sample_rate/channels differ from the bank's")
        self._where[key] = (None, len(self._other_keys))
        self._other_keys.append(key)
        self._other_sources.append(tone)
        self._keys = None

    def remove(self, key: Hashable) -> None:
        """Stop rendering ``key`` at once (KeyError if absent). Use `stop` for a faded end."""
        kind, row = self._where.pop(key)
        self._keys = None
        if kind is not None:
            moved = self._groups[kind].remove(row)
            if moved is not None:
                self._where[moved] = (kind, row)
            return
        last = len(self._other_keys) - 1
        if row != last:
            self._other_keys[row] = self._other_keys[last]
            self._other_sources[row] = self._other_sources[last]
            self._where[self._other_keys[row]] = (None, row)
        self._other_keys.pop()
        self._other_sources.pop()

    def discard(self, key: Hashable) -> None:
        """`remove` if present."""
        if key in self._where:
            self.remove(key)

    def set_amplitude(self, key: Hashable, amplitude: float) -> None:
        """Change a tone's linear amplitude (0..1) from the next block on."""
        a = _check_amplitude(amplitude)
        kind, row = self._where[key]
        if kind is None:
            self._other_sources[row].set_amplitude(a)
        else:
            self._groups[kind].amp[row] = a

    def stop(self, key: Hashable) -> None:
        """Fade ``key`` out (its fade_out, at least 5 ms); it then reports finished."""
        kind, row = self._where[key]
        if kind is None:
            self._other_sources[row].stop()
            return
        g = self._groups[kind]
        g.fade_out[row] = max(g.fade_out[row], self._edge)
        if g.t[row] <= g.end[row] - g.fade_out[row]:
            g.end[row] = g.t[row] + g.fade_out[row]

    def frames_played(self, key: Hashable) -> int:
        kind, row = self._where[key]
        if kind is None:
            return self._other_sources[row].frames_played
        return int(self._groups[kind].t[row])

    def is_finished(self, key: Hashable) -> bool:
        kind, row = self._where[key]
        if kind is None:
            return self._other_sources[row].finished
        g = self._groups[kind]
        return bool(g.t[row] >= g.end[row])

    def pop_finished(self) -> list[Hashable]:
        """Remove every finished tone and return their keys."""
        done: list[Hashable] = []
        for g in self._groups.values():
            m = len(g)
            if m:
                done.extend(g.keys[i] for i in np.flatnonzero(g.t[:m] >= g.end[:m]))
        done.extend(k for k, s in zip(self._other_keys, self._other_sources, strict=True) if s.finished)
        for key in done:
            self.remove(key)
        return done

    def skip(self, frames: int) -> None:
        """Move every tone on ``frames`` frames without rendering them: the next ``render`` gives what it would
        have given after rendering them (fades, durations and cadences included)."""
        n = _check_frames(frames)
        for g in self._groups.values():
            if len(g):
                g.skip(n)
        for src in self._other_sources:
            src.skip(n)

    def frames_to_first_end(self) -> int | None:
        """Frames until the first tone that will end by itself (or was stopped) has ended; None if none will."""
        ends: list[int] = []
        for g in self._groups.values():
            m = len(g)
            if m:
                left = g.end[:m] - g.t[:m]
                ends.append(int(left.min()))
        for src in self._other_sources:
            if src.end_frame is not None:
                ends.append(src.end_frame - src.frames_played)
        finite = [e for e in ends if e < NO_END // 2]
        return max(0, min(finite)) if finite else None

    def render(self, frames: int) -> tuple[tuple[Hashable, ...], np.ndarray]:
        """Render the next ``frames`` frames of every tone: ``(keys, blocks)``, blocks (S, channels, frames)."""
        n = _check_frames(frames)
        keys = self.keys
        s, ch = len(keys), self.channels
        if self._out.size < s * ch * n:
            self._out = np.empty(2 * s * ch * n, dtype=np.float32)
        out = self._out[: s * ch * n].reshape(s, ch, n)
        biggest = max((len(g) for g in self._groups.values()), default=0)
        if self._mono.size < biggest * n:
            self._mono = np.empty(2 * biggest * n, dtype=np.float32)
        row = 0
        for g in self._groups.values():
            m = len(g)
            if m:
                g.render(out[row : row + m], self._mono[: m * n].reshape(m, n))
                row += m
        for src in self._other_sources:
            src.read_into(out[row])
            row += 1
        return keys, out
