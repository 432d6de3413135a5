"""Test material for the duck detector: pink noise, a music-like clip and speech, as WAV files or as the peaks a
30 Hz meter reads from them. All of it is made here (the speech by espeak-ng), deterministically."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

RATE = 48000
METER_RATE = 30


def pink_noise(seconds: float, peak: float = 0.5, seed: int = 7) -> np.ndarray:
    """Pink (1/f) noise, normalised to ``peak``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    spectrum = rng.normal(size=n // 2 + 1) + 1j * rng.normal(size=n // 2 + 1)
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    signal = np.fft.irfft(spectrum, n)
    return (signal / np.abs(signal).max() * peak).astype(np.float32)


def music_like(seconds: float, peak: float = 0.5, seed: int = 3) -> np.ndarray:
    """A music-like clip: a chord every half second with a plucked envelope, a bass line, a hi-hat on the
    off-beats, and a phrase-long swell of +-2 dB (16 s), so its peaks move like music's."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    out = np.zeros_like(t)
    chords = [(220.0, 277.2, 329.6), (196.0, 246.9, 293.7), (174.6, 220.0, 261.6), (196.0, 246.9, 329.6)]
    beat = 0.5
    for i in range(int(seconds / beat) + 1):
        start = i * beat
        mask = (t >= start) & (t < start + beat)
        local = t[mask] - start
        env = np.exp(-local * 5.0) * (1 - np.exp(-local * 200.0))
        for f in chords[(i // 2) % len(chords)]:
            out[mask] += 0.25 * env * np.sin(2 * np.pi * f * t[mask])
        out[mask] += 0.3 * np.exp(-local * 3.0) * np.sin(2 * np.pi * chords[(i // 2) % 4][0] / 2 * t[mask])
        hat = (local >= beat / 2) & (local < beat / 2 + 0.03)
        out[np.flatnonzero(mask)[hat]] += 0.15 * rng.normal(size=int(hat.sum()))
    swell = 10 ** ((2.0 * np.sin(2 * np.pi * t / 16.0)) / 20)
    out *= swell
    return (out / np.abs(out).max() * peak).astype(np.float32)


def speech(seconds: float, directory: Path, peak: float = 0.5) -> np.ndarray:
    """Speech from espeak-ng (a text read long enough), resampled to 48 kHz and normalised to ``peak``."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise RuntimeError("espeak-ng is not installed (make test installs it)")
    # one long breath of speech (no punctuation, so no sentence pauses): what a voice prompt or a podcast is
    text = ("the quick brown fox jumps over the lazy dog while the music plays on and the navigation says "
            "turn left in three hundred metres then keep right at the fork and follow the signs ") * 6
    path = directory / "speech-22k.wav"
    subprocess.run([espeak, "-s", "165", "-w", str(path), text], check=True, capture_output=True, timeout=60)
    with wave.open(str(path)) as f:
        rate, raw = f.getframerate(), f.readframes(f.getnframes())
    voice = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    resampled = np.interp(np.arange(int(len(voice) * RATE / rate)) / RATE, np.arange(len(voice)) / rate, voice)
    repeats = int(np.ceil(seconds * RATE / len(resampled)))
    out = np.tile(resampled, repeats)[: int(seconds * RATE)]
    return (out / np.abs(out).max() * peak).astype(np.float32)


def meter_peaks(signal: np.ndarray, gain: np.ndarray | float = 1.0) -> np.ndarray:
    """What a 30 Hz peak meter reads: the largest |sample| of each 1/30 s, after ``gain`` (per sample)."""
    shaped = np.abs(signal * gain)
    block = RATE // METER_RATE
    n = len(shaped) // block
    return shaped[: n * block].reshape(n, block).max(axis=1)


def write_wav(path: Path, signal: np.ndarray) -> Path:
    """A 48 kHz mono 16-bit WAV, for paplay."""
    pcm = np.clip(signal * 32767, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(RATE)
        f.writeframes(pcm.tobytes())
    return path
