"""The tone player process: one PulseAudio client with one playback stream, synthesizing its own tone.

Run by :mod:`audiolab.audio.player` as ``python -m audiolab.audio._player_child <parent pid> <json spec>``;
never import it for anything else. The tone is rendered *here*, in the libpulse thread's write callback,
so a busy parent (a notebook cell that blocks its event loop) never makes the tone stutter.

Orphan safety: the first thing it does is ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (the kernel kills it when its
parent dies, even by SIGKILL), then it checks that its parent is still the one that started it (closing the
race before the prctl). An EOF on stdin (the parent closed the pipe or died) also ends it.

Commands, one per line on stdin: ``pause``, ``resume``, ``amp <linear>``, ``stop``. Reports, one per line on
stdout: ``ready <sink-input index>``, ``corked <0|1>`` (the stream's cork state after any change, including
the ones a policy module asks for with request-cork / request-uncork, which it obeys like a well-behaved
player), ``finished`` (the tone's duration ran out and the stream drained), ``error <text>``.

Latency. The stream asks for ``latency_ms`` (30 ms: tlength with PA_STREAM_ADJUST_LATENCY) and gets it: on
PulseAudio 16 the sink then shows "configured 7500 usec" and the stream's buffer latency is ~22 ms. But a sink
that was idle with no latency request (module-null-sink in the tests: max latency 2 s) has already rendered up
to 2 s ahead when the stream arrives, and the rewind that would let the new stream in at once is clamped to the
new, small latency: the sink's latency falls from ~1.75 s to ~7 ms over the next ~2 s (measured with ``pactl
list sinks`` every 0.5 s), and until then the tone is mixed that much late. ``finished`` (after the drain) is
when the server has played the tone's last sample, so it comes that much later too (0.4 s tone on an idle null
sink: ~2.2 s after ready; with a low-latency stream already on the sink its latency stays at a few ms from the
start, measured the same way). Sinks that suspend
when idle (module-suspend-on-idle) start at the requested latency.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

from audiolab.audio._child_base import die_with_parent, say, serve

if __name__ == "__main__":
    die_with_parent(int(sys.argv[1]))

import json  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

_FLOAT32LE = 5
_CONTEXT_READY, _CONTEXT_FAILED, _CONTEXT_TERMINATED = 4, 5, 6
_STREAM_READY, _STREAM_FAILED, _STREAM_TERMINATED = 2, 3, 4
_ADJUST_LATENCY = 0x2000
_SEEK_RELATIVE = 0
_RAMP_SECONDS = 0.005
_MAX_BLOCK = 4096

_VP = ctypes.c_void_p
_WRITE_CB = ctypes.CFUNCTYPE(None, _VP, ctypes.c_size_t, _VP)
_EVENT_CB = ctypes.CFUNCTYPE(None, _VP, ctypes.c_char_p, _VP, _VP)
_SUCCESS_CB = ctypes.CFUNCTYPE(None, _VP, ctypes.c_int, _VP)
_NOTIFY_CB = ctypes.CFUNCTYPE(None, _VP, _VP)


class _SampleSpec(ctypes.Structure):
    _fields_ = [("format", ctypes.c_int), ("rate", ctypes.c_uint32), ("channels", ctypes.c_uint8)]


class _BufferAttr(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("maxlength", "tlength", "prebuf", "minreq", "fragsize")]


def _lib() -> ctypes.CDLL:
    lib = ctypes.CDLL(ctypes.util.find_library("pulse") or "libpulse.so.0")
    sig = {
        "pa_threaded_mainloop_new": ([], _VP),
        "pa_threaded_mainloop_get_api": ([_VP], _VP),
        "pa_threaded_mainloop_start": ([_VP], ctypes.c_int),
        "pa_threaded_mainloop_stop": ([_VP], None),
        "pa_threaded_mainloop_lock": ([_VP], None),
        "pa_threaded_mainloop_unlock": ([_VP], None),
        "pa_proplist_new": ([], _VP),
        "pa_proplist_sets": ([_VP, ctypes.c_char_p, ctypes.c_char_p], ctypes.c_int),
        "pa_proplist_free": ([_VP], None),
        "pa_context_new_with_proplist": ([_VP, ctypes.c_char_p, _VP], _VP),
        "pa_context_connect": ([_VP, ctypes.c_char_p, ctypes.c_int, _VP], ctypes.c_int),
        "pa_context_get_state": ([_VP], ctypes.c_int),
        "pa_context_errno": ([_VP], ctypes.c_int),
        "pa_strerror": ([ctypes.c_int], ctypes.c_char_p),
        "pa_context_disconnect": ([_VP], None),
        "pa_stream_new_with_proplist": ([_VP, ctypes.c_char_p, _VP, _VP, _VP], _VP),
        "pa_stream_set_write_callback": ([_VP, _WRITE_CB, _VP], None),
        "pa_stream_set_event_callback": ([_VP, _EVENT_CB, _VP], None),
        "pa_stream_set_state_callback": ([_VP, _NOTIFY_CB, _VP], None),
        "pa_stream_connect_playback": ([_VP, ctypes.c_char_p, _VP, ctypes.c_int, _VP, _VP], ctypes.c_int),
        "pa_stream_get_state": ([_VP], ctypes.c_int),
        "pa_stream_get_index": ([_VP], ctypes.c_uint32),
        "pa_stream_write": ([_VP, _VP, ctypes.c_size_t, _VP, ctypes.c_int64, ctypes.c_int], ctypes.c_int),
        "pa_stream_cork": ([_VP, ctypes.c_int, _SUCCESS_CB, _VP], _VP),
        "pa_stream_drain": ([_VP, _SUCCESS_CB, _VP], _VP),
        "pa_operation_unref": ([_VP], None),
    }
    for name, (args, res) in sig.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, res
    return lib


class Player:
    def __init__(self, spec: dict) -> None:  # type: ignore[type-arg]
        from audiolab.audio.synth import Tone

        self.tone = Tone.from_dict(spec["tone"])
        self.rate = int(spec["rate"])
        self.channels = int(spec["channels"])
        self.source = self.tone.with_amplitude(1.0).render(self.rate, self.channels)
        self.amplitude = self.tone.amplitude
        self.target = self.amplitude
        self.paused = False
        self.policy_corked = False
        self.done = threading.Event()
        self.draining = False
        self.lib = _lib()
        self.loop = self.lib.pa_threaded_mainloop_new()
        # Keep the C callbacks alive for the life of the process.
        self._write_cb = _WRITE_CB(self._on_write)
        self._event_cb = _EVENT_CB(self._on_event)
        self._cork_cb = _SUCCESS_CB(lambda s, ok, u: None)
        self._drain_cb = _SUCCESS_CB(self._on_drained)
        self._state_cb = _NOTIFY_CB(self._on_state)
        self.connected = False
        self.stream: int | None = None
        self.context = self._connect(spec)

    def _props(self, pairs: dict[str, str]) -> int:
        props = self.lib.pa_proplist_new()
        for key, value in pairs.items():
            if value:
                self.lib.pa_proplist_sets(props, key.encode(), value.encode())
        return int(props)

    def _connect(self, spec: dict) -> int:  # type: ignore[type-arg]
        lib = self.lib
        client_props = self._props(spec["client_props"])
        context = lib.pa_context_new_with_proplist(
            lib.pa_threaded_mainloop_get_api(self.loop), spec["client_props"]["application.name"].encode(), client_props
        )
        lib.pa_proplist_free(client_props)
        server = spec.get("server")
        if lib.pa_context_connect(context, server.encode() if server else None, 0, None) < 0:
            raise OSError("pa_context_connect failed")
        lib.pa_threaded_mainloop_start(self.loop)
        where = server or "the default address"
        self._wait(lambda: lib.pa_context_get_state(context), _CONTEXT_READY, (_CONTEXT_FAILED, _CONTEXT_TERMINATED),
                   context, f"could not connect to the PulseAudio server at {where}")
        spec_c = _SampleSpec(_FLOAT32LE, self.rate, self.channels)
        stream_props = self._props(spec["stream_props"])
        frame = 4 * self.channels
        latency = int(self.rate * spec["latency_ms"] / 1000) * frame
        attr = _BufferAttr(0xFFFFFFFF, latency, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        self._lock()
        try:
            stream = lib.pa_stream_new_with_proplist(
                context, spec["stream_props"]["media.name"].encode(), ctypes.byref(spec_c), None, stream_props
            )
            lib.pa_proplist_free(stream_props)
            if not stream:
                raise OSError("pa_stream_new failed")
            self.stream = stream
            lib.pa_stream_set_write_callback(stream, self._write_cb, None)
            lib.pa_stream_set_event_callback(stream, self._event_cb, None)
            lib.pa_stream_set_state_callback(stream, self._state_cb, None)
            device = spec.get("device")
            if lib.pa_stream_connect_playback(
                stream, device.encode() if device else None, ctypes.byref(attr), _ADJUST_LATENCY, None, None
            ) < 0:
                raise OSError("pa_stream_connect_playback failed")
        finally:
            self._unlock()
        self._wait(lambda: lib.pa_stream_get_state(stream), _STREAM_READY, (_STREAM_FAILED, _STREAM_TERMINATED),
                   context, f"could not play on the device {device!r}" if device else "could not open a playback stream")
        return int(context)

    def _wait(self, state, ready: int, failed: tuple[int, ...], context: int, what: str,  # type: ignore[no-untyped-def]
              timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._lock()
            try:
                now = state()
            finally:
                self._unlock()
            if now == ready:
                return
            if now in failed:
                reason = (self.lib.pa_strerror(self.lib.pa_context_errno(context)) or b"").decode(errors="replace")
                raise OSError(f"{what}: {reason}")
            if time.monotonic() > deadline:
                raise OSError(f"{what}: no answer within {timeout} s")
            time.sleep(0.002)

    def _lock(self) -> None:
        self.lib.pa_threaded_mainloop_lock(self.loop)

    def _unlock(self) -> None:
        self.lib.pa_threaded_mainloop_unlock(self.loop)

    # --- libpulse thread ------------------------------------------------------------------------------------

    def _on_write(self, stream: int, nbytes: int, userdata: object) -> None:
        if self.draining:
            return
        frames = min(nbytes // (4 * self.channels), _MAX_BLOCK)
        if frames <= 0:
            return
        block = self.source.read(frames)
        gain = np.full(frames, self.target, dtype=np.float32)
        if self.amplitude != self.target:
            ramp = min(frames, max(1, int(_RAMP_SECONDS * self.rate)))
            gain[:ramp] = np.linspace(self.amplitude, self.target, ramp, endpoint=False, dtype=np.float32)
            self.amplitude = self.target
        block *= gain[:, None]
        data = np.ascontiguousarray(block, dtype="<f4").tobytes()
        self.lib.pa_stream_write(stream, data, len(data), None, 0, _SEEK_RELATIVE)
        if self.source.finished:
            self.draining = True
            op = self.lib.pa_stream_drain(stream, self._drain_cb, None)
            if op:
                self.lib.pa_operation_unref(op)
            else:
                self.done.set()

    def _on_state(self, stream: int, userdata: object) -> None:
        state = self.lib.pa_stream_get_state(stream)
        if state == _STREAM_READY:
            self.connected = True
        elif state in (_STREAM_FAILED, _STREAM_TERMINATED) and self.connected:
            say("error the server went away")
            self.done.set()

    def _on_drained(self, stream: int, ok: int, userdata: object) -> None:
        self.done.set()

    def _on_event(self, stream: int, name: bytes, props: int, userdata: object) -> None:
        if name == b"request-cork":
            self.policy_corked = True
        elif name == b"request-uncork":
            self.policy_corked = False
        else:
            return
        self._apply_cork()

    def _apply_cork(self) -> None:
        """Cork when paused or when a policy asked; call with the mainloop lock held."""
        corked = self.paused or self.policy_corked
        op = self.lib.pa_stream_cork(self.stream, int(corked), self._cork_cb, None)
        if op:
            self.lib.pa_operation_unref(op)
        say(f"corked {int(corked)}")

    # --- main thread ----------------------------------------------------------------------------------------

    def command(self, line: str) -> bool:
        """Apply one command; False when the player should end."""
        word, _, arg = line.strip().partition(" ")
        self._lock()
        try:
            if word == "pause":
                self.paused = True
                self._apply_cork()
            elif word == "resume":
                self.paused = False
                self._apply_cork()
            elif word == "amp":
                self.target = min(1.0, max(0.0, float(arg)))
            elif word == "stop":
                return False
        finally:
            self._unlock()
        return True

    def played_out(self) -> bool:
        """Whether the tone's duration ran out and the stream drained (not stopped)."""
        return self.draining

    def index(self) -> int:
        self._lock()
        try:
            return int(self.lib.pa_stream_get_index(self.stream))
        finally:
            self._unlock()


def main() -> None:
    spec = json.loads(sys.argv[2])
    try:
        player = Player(spec)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises
        say(f"error {exc}")
        os._exit(2)
    serve(player, str(player.index()))


if __name__ == "__main__":
    main()
