"""Where the simulated service's mix goes: chosen by the ``output`` option."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ...model import Device

if TYPE_CHECKING:
    from .audio import SimAudio


def open_sink(output: object, device: Device, audio: SimAudio) -> object:
    """A sink for ``output``: a ``.wav`` path, "sounddevice" (the machine's sound card), or a ready object
    with ``write(block)`` and ``close()``."""
    from ...audio.sinks import SoundDeviceSink, WavSink

    if output == "sounddevice":
        return SoundDeviceSink(audio.sample_rate, device.channels, audio.block_frames)
    if isinstance(output, (str, os.PathLike)):
        path = os.fspath(output)
        if not path.lower().endswith(".wav"):
            raise ValueError(f"output must be a .wav path, 'sounddevice' or a sink object, got {path!r}")
        return WavSink(path, audio.sample_rate, device.channels)
    if callable(getattr(output, "write", None)) and callable(getattr(output, "close", None)):
        return output
    raise TypeError(f"output must be a .wav path, 'sounddevice' or an object with write() and close(), not {output!r}")
