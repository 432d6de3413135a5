"""SPA POD bytes for the one format the native meter asks for: raw interleaved F32 audio.

Built by hand (no libspa headers at runtime). The layout is SPA's: every POD is a header of two uint32 (body
size, type) and a body padded to 8 bytes; an Object's body is its object type and param id, then properties,
each a key, flags and a POD. The constants are those of spa/param/format.h, spa/param/audio/raw.h and
spa/utils/type.h of PipeWire 0.3 (stable ABI); tests compare the bytes with libspa's own builder's output.
"""

from __future__ import annotations

import struct

TYPE_ID = 3
TYPE_INT = 4
TYPE_ARRAY = 13
TYPE_OBJECT = 15
OBJECT_FORMAT = 0x40003
PARAM_ENUM_FORMAT = 3
FORMAT_MEDIA_TYPE = 1
FORMAT_MEDIA_SUBTYPE = 2
FORMAT_AUDIO_FORMAT = 0x10001
FORMAT_AUDIO_RATE = 0x10003
FORMAT_AUDIO_CHANNELS = 0x10004
FORMAT_AUDIO_POSITION = 0x10005
MEDIA_TYPE_AUDIO = 1
MEDIA_SUBTYPE_RAW = 1
AUDIO_FORMAT_F32_LE = 283
CHANNEL_MONO, CHANNEL_FL, CHANNEL_FR, CHANNEL_FC, CHANNEL_LFE, CHANNEL_SL, CHANNEL_SR = 2, 3, 4, 5, 6, 7, 8
CHANNEL_RL, CHANNEL_RR = 12, 13
MAX_CHANNELS = 64

_POSITIONS = {
    1: (CHANNEL_MONO,),
    2: (CHANNEL_FL, CHANNEL_FR),
    3: (CHANNEL_FL, CHANNEL_FR, CHANNEL_LFE),
    4: (CHANNEL_FL, CHANNEL_FR, CHANNEL_RL, CHANNEL_RR),
    5: (CHANNEL_FL, CHANNEL_FR, CHANNEL_FC, CHANNEL_RL, CHANNEL_RR),
    6: (CHANNEL_FL, CHANNEL_FR, CHANNEL_FC, CHANNEL_LFE, CHANNEL_RL, CHANNEL_RR),
    8: (CHANNEL_FL, CHANNEL_FR, CHANNEL_FC, CHANNEL_LFE, CHANNEL_RL, CHANNEL_RR, CHANNEL_SL, CHANNEL_SR),
}
"""PulseAudio's default channel maps (the ones pipewire-pulse gives a stream that names none)."""


def _pod(pod_type: int, body: bytes) -> bytes:
    return struct.pack("<II", len(body), pod_type) + body + b"\0" * (-len(body) % 8)


def _prop(key: int, pod: bytes) -> bytes:
    return struct.pack("<II", key, 0) + pod


def default_positions(channels: int) -> tuple[int, ...] | None:
    """PulseAudio's default channel positions for ``channels`` channels, or None when it has none."""
    return _POSITIONS.get(channels)


def audio_f32_format(rate: int, channels: int) -> bytes:
    """An EnumFormat param: interleaved little-endian F32 at ``rate`` Hz with ``channels`` channels (positioned
    as PulseAudio would by default, when it has a default for that count)."""
    if isinstance(rate, bool) or not isinstance(rate, int) or not 1 <= rate <= 384000:
        raise ValueError(f"rate must be an int in 1..384000, not {rate!r}")
    if isinstance(channels, bool) or not isinstance(channels, int) or not 1 <= channels <= MAX_CHANNELS:
        raise ValueError(f"channels must be an int in 1..{MAX_CHANNELS}, not {channels!r}")
    props = [
        _prop(FORMAT_MEDIA_TYPE, _pod(TYPE_ID, struct.pack("<I", MEDIA_TYPE_AUDIO))),
        _prop(FORMAT_MEDIA_SUBTYPE, _pod(TYPE_ID, struct.pack("<I", MEDIA_SUBTYPE_RAW))),
        _prop(FORMAT_AUDIO_FORMAT, _pod(TYPE_ID, struct.pack("<I", AUDIO_FORMAT_F32_LE))),
        _prop(FORMAT_AUDIO_RATE, _pod(TYPE_INT, struct.pack("<i", rate))),
        _prop(FORMAT_AUDIO_CHANNELS, _pod(TYPE_INT, struct.pack("<i", channels))),
    ]
    positions = default_positions(channels)
    if positions is not None:
        child = struct.pack("<II", 4, TYPE_ID)  # an Array's body: its children's POD header, then their values
        props.append(_prop(FORMAT_AUDIO_POSITION, _pod(TYPE_ARRAY, child + struct.pack(f"<{channels}I", *positions))))
    return _pod(TYPE_OBJECT, struct.pack("<II", OBJECT_FORMAT, PARAM_ENUM_FORMAT) + b"".join(props))
