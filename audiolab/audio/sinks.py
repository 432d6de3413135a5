"""Where mixed blocks go: `NullSink`, `WavSink` (16-bit PCM file) and `SoundDeviceSink` (a real device).

Every sink takes interleaved (frames, channels) float32 blocks through ``write(block)``, clips them to
-1..1, never blocks the caller, and reports counters through ``statistics()``.
"""

from __future__ import annotations

import os
import threading
import wave
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import numpy as np

from .._by_fields import by_fields

__all__ = ("NullSink", "Sink", "SinkStatistics", "SoundDeviceSink", "WavSink")


@by_fields
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class SinkStatistics:
    """Counters of a sink. ``overflows``: writes that found the buffer full (the oldest audio was dropped,
    ``dropped_frames`` in total); ``underflows``: device callbacks that found too little audio (silence was
    played); ``xruns``: underflows PortAudio itself reported."""

    blocks: int = 0
    frames: int = 0
    overflows: int = 0
    dropped_frames: int = 0
    underflows: int = 0
    xruns: int = 0


class Sink(Protocol):
    """Where a mix goes, one block at a time: a WAV file, a sound card, or anything with these methods."""

    def write(self, block: np.ndarray) -> None: ...
    def close(self) -> None: ...
    def statistics(self) -> SinkStatistics: ...


def _as_block(block: np.ndarray, channels: int) -> np.ndarray:
    block = np.asarray(block, dtype=np.float32)
    if block.ndim != 2 or block.shape[1] != channels:
        raise ValueError(f"a block must have shape (frames, {channels}), got {block.shape}")
    return block


class _Closing:
    def __enter__(self) -> Any:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class NullSink(_Closing):
    """Discards audio, counts it."""

    def __init__(self, channels: int = 2) -> None:
        self.channels = channels
        self._blocks = 0
        self._frames = 0

    def write(self, block: np.ndarray) -> None:
        block = _as_block(block, self.channels)
        self._blocks += 1
        self._frames += len(block)

    def close(self) -> None:
        pass

    def statistics(self) -> SinkStatistics:
        return SinkStatistics(blocks=self._blocks, frames=self._frames)


class WavSink(_Closing):
    """Writes 16-bit PCM to ``path + ".part"`` and renames it to ``path`` on `close`, so a file under the
    final name is always complete. Leaving a ``with`` block by an exception deletes the partial file."""

    def __init__(self, path: str | os.PathLike[str], sample_rate: int, channels: int) -> None:
        self.path = os.fspath(path)
        self.partial_path = self.path + ".part"
        self.sample_rate = sample_rate
        self.channels = channels
        self._wav: wave.Wave_write | None = wave.open(self.partial_path, "wb")
        self._wav.setnchannels(channels)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate)
        self._blocks = 0
        self._frames = 0

    def write(self, block: np.ndarray) -> None:
        if self._wav is None:
            raise ValueError("write to a closed WavSink")
        block = _as_block(block, self.channels)
        pcm = np.clip(block, -1.0, 1.0) * 32767.0
        self._wav.writeframes(np.round(pcm).astype("<i2").tobytes())
        self._blocks += 1
        self._frames += len(block)

    def close(self) -> None:
        """Finish the file and move it to its final name. Idempotent."""
        if self._wav is None:
            return
        self._wav.close()
        self._wav = None
        os.replace(self.partial_path, self.path)

    def abort(self) -> None:
        """Stop writing and delete the partial file; nothing appears under the final name."""
        if self._wav is None:
            return
        self._wav.close()
        self._wav = None
        os.unlink(self.partial_path)

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if et is None:
            self.close()
        else:
            self.abort()

    def statistics(self) -> SinkStatistics:
        return SinkStatistics(blocks=self._blocks, frames=self._frames)


def _import_sounddevice() -> Any:
    try:
        import sounddevice
    except ImportError as exc:  # sounddevice missing, or PortAudio not installed (OSError is raised as such)
        from .._exceptions import BackendUnavailable

        raise BackendUnavailable(
            "SoundDeviceSink needs the 'sounddevice' package (pip install 'audiolab-focus[audio]') "
            f"and the PortAudio library (Debian: apt install libportaudio2): {exc}"
        ) from exc
    except OSError as exc:
        from .._exceptions import BackendUnavailable

        raise BackendUnavailable(f"sounddevice could not load PortAudio (Debian: apt install libportaudio2): {exc}") from exc
    return sounddevice


class SoundDeviceSink(_Closing):
    """Plays blocks on a PortAudio output device through python-sounddevice (imported when constructed).

    ``write(block)`` (from the engine's thread or event loop) copies the block into a preallocated ring
    buffer of ``buffer_blocks`` blocks and returns at once; when the ring is full the oldest audio is dropped
    and an overflow is counted. PortAudio's callback thread copies out of the ring.

    Callback rules (as python-sounddevice spells them for its own callbacks): the callback runs on a
    real-time thread, so it must not block, wait, do I/O, print, or allocate arrays. Here it takes one lock
    whose holders only copy at most one block of samples, copies with ``np.copyto`` into slices of
    ``outdata`` and fills what is missing with silence (counting an underflow; silence before the first
    ``write`` is not counted). It never raises: counters are plain ints updated under the lock.
    """

    def __init__(
        self,
        sample_rate: int = 48000,
        channels: int = 2,
        block_frames: int = 480,
        device: int | str | None = None,
        latency: float | str = "low",
        buffer_blocks: int = 8,
    ) -> None:
        self._sd = _import_sounddevice()
        if buffer_blocks < 2:
            raise ValueError("buffer_blocks must be >= 2")
        self.sample_rate = sample_rate
        self.channels = channels
        self.block_frames = block_frames
        self._ring = np.zeros((buffer_blocks * block_frames, channels), dtype=np.float32)
        self._read = 0  # total frames consumed by the callback
        self._write = 0  # total frames written
        self._lock = threading.Lock()
        self._primed = False
        self._blocks = 0
        self._frames = 0
        self._overflows = 0
        self._dropped = 0
        self._underflows = 0
        self._xruns = 0
        self._stream = self._sd.OutputStream(
            samplerate=sample_rate,
            blocksize=block_frames,
            device=device,
            channels=channels,
            dtype="float32",
            latency=latency,
            callback=self._callback,
        )
        self._stream.start()

    @property
    def latency(self) -> float:
        """The output latency PortAudio reports, in seconds."""
        return float(self._stream.latency)

    @property
    def buffered_frames(self) -> int:
        """Frames written but not yet taken by the device; a producer can pace itself on this."""
        return self._write - self._read

    def write(self, block: np.ndarray) -> None:
        """Queue one (frames, channels) block for playback; never blocks (drops the oldest when full)."""
        block = _as_block(block, self.channels)
        cap = len(self._ring)
        if len(block) > cap:
            block = block[-cap:]
        n = len(block)
        with self._lock:
            excess = self._write - self._read + n - cap
            if excess > 0:
                self._read += excess
                self._overflows += 1
                self._dropped += excess
            start = self._write % cap
            first = min(n, cap - start)
            np.clip(block[:first], -1.0, 1.0, out=self._ring[start : start + first])
            np.clip(block[first:], -1.0, 1.0, out=self._ring[: n - first])
            self._write += n
            self._primed = True
            self._blocks += 1
            self._frames += n

    def _callback(self, outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        if status.output_underflow:
            self._xruns += 1
        cap = len(self._ring)
        with self._lock:
            n = min(frames, self._write - self._read)
            start = self._read % cap
            first = min(n, cap - start)
            np.copyto(outdata[:first], self._ring[start : start + first])
            np.copyto(outdata[first:n], self._ring[: n - first])
            self._read += n
            if n < frames:
                outdata[n:].fill(0.0)
                if self._primed:
                    self._underflows += 1

    def close(self) -> None:
        """Stop and close the stream (audio still in the ring is discarded). Idempotent."""
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None

    def statistics(self) -> SinkStatistics:
        with self._lock:
            return SinkStatistics(
                blocks=self._blocks,
                frames=self._frames,
                overflows=self._overflows,
                dropped_frames=self._dropped,
                underflows=self._underflows,
                xruns=self._xruns,
            )
