"""The tone player process of the WASAPI backend: one PortAudio output stream (sounddevice), its own tone.

Run by :class:`audiolab.audio.player.ToneProcess` as
``python -m audiolab.audio._player_child_sd <parent pid> <json spec>``; never import it for anything else.
On Windows its stream goes through PortAudio's WASAPI host API, so the process is an audio session of its
own (the parent finds it by the pid this child reports). The tone is synthesized here, in PortAudio's
callback, so a busy parent never makes it stutter.

Spec keys: ``tone`` (the Tone's fields), ``channels``, ``rate`` (None: the device's default rate, which is
the shared-mode mix rate on WASAPI), ``device`` (an output device *name*, None for the default output of
``hostapi``), ``hostapi`` (a PortAudio host API name, e.g. "Windows WASAPI"; None: PortAudio's default),
``latency`` (seconds or "low"/"high"), ``output`` ("sounddevice", or "null": render blocks in real time and
throw them away, for tests where there is no audio device), ``parent_watch`` ("auto" or "poll").

Orphan safety, first thing, before numpy or PortAudio load:

- Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` then a check that the parent is still the one that started it;
- Windows (**never run on Windows**): a thread waits on a SYNCHRONIZE handle of the parent pid
  (``OpenProcess`` + ``WaitForSingleObject``) and exits when it is signalled. The parent pid is given on the
  command line, not read with getppid: a venv's ``python.exe`` is a launcher that starts the real
  interpreter as *its* child, so our parent process is the launcher, not audiolab. The parent also puts the
  child in a job object with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE (``audiolab.backends._wasapi.job``);
- elsewhere, or with ``parent_watch="poll"``: a thread polls every 0.1 s whether the parent pid still
  exists (and on POSIX that it is still our parent);
- EOF on stdin (the parent closed the pipe, or died) also ends it.

Commands, one per line on stdin: ``pause`` (the stream stops: on Windows the session goes Inactive),
``resume`` (it starts again: Active), ``amp <linear>`` (5 ms ramp), ``stop``. Reports, one per line on
stdout: ``ready <pid>`` (the pid of the process that opened the stream), ``corked <0|1>`` (after each pause
or resume took effect), ``finished`` (the tone's duration ran out and the stream played it out),
``error <text>``.
"""

from __future__ import annotations

import sys
import threading

from audiolab.audio._child_base import die_with_parent, say, serve

if __name__ == "__main__":
    import json as _json

    die_with_parent(int(sys.argv[1]), str(_json.loads(sys.argv[2]).get("parent_watch", "auto")))

import json  # noqa: E402 - the parent-death watch above starts before the slow imports
import os  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

_RAMP_SECONDS = 0.005
_NULL_BLOCK_SECONDS = 0.01


class _Render:
    """The tone, block by block, with a click-free amplitude ramp. Called from one audio thread only."""

    def __init__(self, spec: dict, rate: int, channels: int) -> None:  # type: ignore[type-arg]
        from audiolab.audio.synth import Tone

        tone = Tone.from_dict(spec["tone"])
        self.rate = rate
        self.source = tone.with_amplitude(1.0).render(rate, channels)
        self.amplitude = tone.amplitude
        self.target = tone.amplitude

    @property
    def finished(self) -> bool:
        return bool(self.source.finished)

    def fill(self, out: np.ndarray) -> None:
        frames = out.shape[0]
        block = self.source.read(frames)
        gain = np.full(frames, self.target, dtype=np.float32)
        if self.amplitude != self.target:
            ramp = min(frames, max(1, int(_RAMP_SECONDS * self.rate)))
            gain[:ramp] = np.linspace(self.amplitude, self.target, ramp, endpoint=False, dtype=np.float32)
            self.amplitude = self.target
        out[:] = block * gain[:, None]


class _Player:
    """Common control: pause/resume/amp/stop, and the end of the tone."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.finished = False
        self.paused = False
        self.render: _Render

    def set_amplitude(self, value: float) -> None:
        self.render.target = min(1.0, max(0.0, float(value)))

    def command(self, line: str) -> bool:
        word, _, arg = line.strip().partition(" ")
        if word == "pause":
            if not self.paused and not self.finished:
                self.paused = True
                self.stop_output()
            say("corked 1")
        elif word == "resume":
            if self.paused and not self.finished:
                self.paused = False
                self.start_output()
            say(f"corked {int(self.paused)}")
        elif word == "amp":
            try:
                self.set_amplitude(float(arg))
            except ValueError:
                say(f"error bad amplitude {arg!r}")
        elif word == "stop":
            return False
        return True

    def start_output(self) -> None:
        raise NotImplementedError

    def stop_output(self) -> None:
        raise NotImplementedError

    def tone_over(self) -> None:
        self.finished = True
        self.done.set()

    def played_out(self) -> bool:
        return self.finished


class _SoundDevicePlayer(_Player):
    def __init__(self, spec: dict) -> None:  # type: ignore[type-arg]
        super().__init__()
        import sounddevice as sd

        self.sd = sd
        device = self._device(spec.get("hostapi"), spec.get("device"))
        info = sd.query_devices(device, "output")
        channels = max(1, min(int(spec.get("channels") or 2), int(info["max_output_channels"])))
        rate = int(spec.get("rate") or info["default_samplerate"])
        self.render = _Render(spec, rate, channels)
        self._draining = False
        extra = None
        if sys.platform == "win32":  # pragma: no cover - Windows
            try:  # let PortAudio convert to the shared-mode mix format if it differs (sounddevice >= 0.4.6)
                extra = sd.WasapiSettings(auto_convert=True)
            except (TypeError, AttributeError):
                extra = None
        self.stream = sd.OutputStream(
            samplerate=rate,
            channels=channels,
            dtype="float32",
            device=device,
            latency=spec.get("latency", "low"),
            callback=self._callback,
            finished_callback=self._on_stream_finished,
            extra_settings=extra,
        )
        self.stream.start()

    def _device(self, hostapi: str | None, name: str | None) -> int | None:
        sd = self.sd
        apis = sd.query_hostapis()
        api_index = None
        if hostapi is not None:
            matches = [i for i, api in enumerate(apis) if api["name"] == hostapi]
            if not matches:
                raise OSError(f"no PortAudio host API {hostapi!r} (have: {', '.join(a['name'] for a in apis)})")
            api_index = matches[0]
        if name is None:
            if api_index is None:
                return None  # PortAudio's default output
            default = apis[api_index]["default_output_device"]
            if default < 0:
                raise OSError(f"{hostapi} has no default output device")
            return int(default)
        for index, device in enumerate(sd.query_devices()):
            if device["max_output_channels"] > 0 and device["name"] == name and (
                api_index is None or device["hostapi"] == api_index
            ):
                return index
        raise OSError(f"no output device named {name!r}" + (f" on {hostapi}" if hostapi else ""))

    def _callback(self, outdata: np.ndarray, frames: int, time_info: object, status: object) -> None:
        self.render.fill(outdata)
        if self.render.finished:
            self._draining = True
            raise self.sd.CallbackStop  # PortAudio plays out what it has, then calls finished_callback

    def _on_stream_finished(self) -> None:
        if self._draining:
            self.tone_over()

    def start_output(self) -> None:
        self.stream.start()

    def stop_output(self) -> None:
        self.stream.stop()  # IAudioClient::Stop on WASAPI: the session goes Inactive


class _NullPlayer(_Player):
    """No device: render blocks at real-time pace and discard them (the same control path, for tests)."""

    def __init__(self, spec: dict) -> None:  # type: ignore[type-arg]
        super().__init__()
        rate = int(spec.get("rate") or 48000)
        channels = int(spec.get("channels") or 2)
        self.render = _Render(spec, rate, channels)
        self._running = threading.Event()
        self._running.set()
        self._block = np.empty((max(1, int(rate * _NULL_BLOCK_SECONDS)), channels), dtype=np.float32)
        threading.Thread(target=self._pump, name="null-output", daemon=True).start()

    def _pump(self) -> None:
        period = self._block.shape[0] / self.render.rate
        next_at = time.monotonic()
        while True:
            self._running.wait()
            self.render.fill(self._block)
            if self.render.finished:
                self.tone_over()
                return
            next_at = max(next_at + period, time.monotonic() - period)
            time.sleep(max(0.0, next_at - time.monotonic()))

    def start_output(self) -> None:
        self._running.set()

    def stop_output(self) -> None:
        self._running.clear()


def main() -> None:
    spec = json.loads(sys.argv[2])
    try:
        player: _Player = _NullPlayer(spec) if spec.get("output") == "null" else _SoundDevicePlayer(spec)
    except Exception as exc:  # noqa: BLE001 - any failure to open the device is reported to the parent
        say(f"error {type(exc).__name__}: {exc}".replace("\n", " "))
        os._exit(2)
    serve(player, str(os.getpid()))


if __name__ == "__main__":
    main()
