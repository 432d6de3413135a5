"""ctypes bindings for the part of libpipewire-0.3 the native meter uses (loaded on first use, never at import).

Only exported symbols are bound: pw_core's and pw_registry's methods are inline SPA interface calls in the
headers, so the meter learns everything it needs from its streams. The struct layouts are those of PipeWire 0.3's
stable ABI (checked against 0.3.65's headers, x86_64 and any LP64 ABI): ``pw_stream_events`` version 2 and
``spa_hook`` as ctypes structures; ``pw_buffer``, ``spa_buffer``, ``spa_data`` and ``spa_chunk`` read with
:mod:`struct` (:func:`audio_of`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import struct
import threading
from typing import Any

LIBRARY = "libpipewire-0.3.so.0"

STREAM_EVENTS_VERSION = 2
DIRECTION_INPUT = 0
ID_ANY = 0xFFFFFFFF
FLAG_AUTOCONNECT = 1 << 0
FLAG_MAP_BUFFERS = 1 << 2
FLAG_DONT_RECONNECT = 1 << 7
STATE_ERROR, STATE_UNCONNECTED, STATE_CONNECTING, STATE_PAUSED, STATE_STREAMING = -1, 0, 1, 2, 3


class NativeUnavailable(RuntimeError):
    """libpipewire-0.3 cannot be loaded or used here (the pulse-protocol meters are used instead)."""


class SpaHook(ctypes.Structure):
    """Filled in by pw_stream_add_listener; must stay alive (and unmoved) while the stream exists."""

    _fields_ = [("link_prev", ctypes.c_void_p), ("link_next", ctypes.c_void_p), ("funcs", ctypes.c_void_p),
                ("data", ctypes.c_void_p), ("removed", ctypes.c_void_p), ("priv", ctypes.c_void_p)]


DESTROY_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
STATE_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_char_p)
PROCESS_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class StreamEvents(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("destroy", DESTROY_CB), ("state_changed", STATE_CB),
                ("control_info", ctypes.c_void_p), ("io_changed", ctypes.c_void_p), ("param_changed", ctypes.c_void_p),
                ("add_buffer", ctypes.c_void_p), ("remove_buffer", ctypes.c_void_p), ("process", PROCESS_CB),
                ("drained", ctypes.c_void_p), ("command", ctypes.c_void_p), ("trigger_done", ctypes.c_void_p)]


_P = ctypes.c_void_p
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "pw_init": (None, [_P, _P]),
    "pw_get_library_version": (ctypes.c_char_p, []),
    "pw_properties_new_string": (_P, [ctypes.c_char_p]),
    "pw_thread_loop_new": (_P, [ctypes.c_char_p, _P]),
    "pw_thread_loop_get_loop": (_P, [_P]),
    "pw_thread_loop_start": (ctypes.c_int, [_P]),
    "pw_thread_loop_stop": (None, [_P]),
    "pw_thread_loop_destroy": (None, [_P]),
    "pw_thread_loop_lock": (None, [_P]),
    "pw_thread_loop_unlock": (None, [_P]),
    "pw_context_new": (_P, [_P, _P, ctypes.c_size_t]),
    "pw_context_destroy": (None, [_P]),
    "pw_context_connect": (_P, [_P, _P, ctypes.c_size_t]),
    "pw_core_disconnect": (ctypes.c_int, [_P]),
    "pw_stream_new": (_P, [_P, ctypes.c_char_p, _P]),
    "pw_stream_add_listener": (None, [_P, ctypes.POINTER(SpaHook), ctypes.POINTER(StreamEvents), _P]),
    "pw_stream_connect": (ctypes.c_int, [_P, ctypes.c_int, ctypes.c_uint32, ctypes.c_int, ctypes.POINTER(_P),
                                         ctypes.c_uint32]),
    "pw_stream_disconnect": (ctypes.c_int, [_P]),
    "pw_stream_destroy": (None, [_P]),
    "pw_stream_get_node_id": (ctypes.c_uint32, [_P]),
    "pw_stream_dequeue_buffer": (_P, [_P]),
    "pw_stream_queue_buffer": (ctypes.c_int, [_P, _P]),
}

_pointer = struct.Struct("P")
_datas = struct.Struct("4xIxxxxxxxxP")  # spa_buffer: n_metas, n_datas, metas, datas
_data = struct.Struct("16xxxxxIPP")  # spa_data: type, flags, fd, mapoffset, maxsize, data, chunk
_chunk = struct.Struct("II")  # spa_chunk: offset, size


def audio_of(buffer: int, channels: int) -> tuple[int, int]:
    """The address of a dequeued pw_buffer's interleaved F32 audio and its whole frames (0 frames: none).
    Read with struct from the raw memory: cheaper than ctypes structures on the meter's hot path."""
    (spa,) = _pointer.unpack(ctypes.string_at(buffer, _pointer.size))
    n_datas, datas = _datas.unpack(ctypes.string_at(spa, _datas.size))
    if n_datas < 1 or not datas:
        return 0, 0
    maxsize, data, chunk = _data.unpack(ctypes.string_at(datas, _data.size))
    if not data or not chunk:
        return 0, 0
    offset, size = _chunk.unpack(ctypes.string_at(chunk, _chunk.size))
    offset %= max(1, maxsize)
    return data + offset, min(size, maxsize - offset) // (4 * channels)


_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_failure: str | None = None


def load() -> ctypes.CDLL:
    """libpipewire-0.3, bound and initialised (pw_init) once per process; NativeUnavailable when it cannot be."""
    global _lib, _failure
    with _lock:
        if _lib is not None:
            return _lib
        if _failure is not None:
            raise NativeUnavailable(_failure)
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("pipewire-0.3") or LIBRARY)
            for name, (restype, argtypes) in _SIGNATURES.items():
                function = getattr(lib, name)
                function.restype = restype
                function.argtypes = argtypes
        except (OSError, AttributeError) as exc:
            _failure = f"libpipewire-0.3 cannot be loaded: {exc}"
            raise NativeUnavailable(_failure) from None
        lib.pw_init(None, None)
        _lib = lib
        return lib


def properties(values: dict[str, str]) -> int:
    """A new pw_properties (owned by whoever it is handed to) from ``values``."""
    lib = load()
    text = " ".join(f"{key}={_quote(value)}" for key, value in values.items())
    props = lib.pw_properties_new_string(text.encode())
    if not props:
        raise NativeUnavailable("pw_properties_new_string failed")
    return int(props)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
